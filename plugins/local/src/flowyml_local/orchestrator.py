"""The local orchestrator: runs steps in this process, independent ones concurrently."""

from __future__ import annotations

import functools
import graphlib
import os
from collections import deque
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

import attrs

import flowyml
from flowyml.core.settings import StepSettings
from flowyml.plugins.component import Component, SettingProblem
from flowyml.plugins.types import RunHandle
from flowyml.stacks.options import at_least


@attrs.frozen
class LocalOrchestratorOptions:
    #: Steps run at once at most (not set: the number of CPUs, at most 4).
    max_parallel_steps: int | None = attrs.field(default=None, validator=at_least(1))


class LocalOrchestrator(Component):
    kind = "orchestrator"
    Options = LocalOrchestratorOptions

    def check_step_settings(self, step: str, settings: StepSettings) -> Iterable[SettingProblem]:
        """Retries and timeout are enforced here (by the core's step runner); resources are ignored with a note."""
        given = settings.resources.given()
        if given:
            written = ", ".join(f"{k}={v}" for k, v in given.items())
            yield SettingProblem("resources", f"not applied by the local orchestrator ({written}): steps run in this process", ignored=True)
        for option in settings.section("local"):
            yield SettingProblem(
                f"local.{option}", f"the local orchestrator takes no per-step option {option!r}", hint="remove the local: section of this step"
            )

    @functools.cached_property
    def workers(self) -> int:
        return self.options.max_parallel_steps or min(4, os.cpu_count() or 1)  # read once: the scheduler asks per step

    @flowyml.hookimpl
    def flowyml_orchestrator_run(self, run: RunHandle) -> bool:
        """Run the graph in dependency order (graphlib schedules it); a failed step's dependents are skipped.

        When only one step can run, it runs on the calling thread (no hand-off
        cost for linear pipelines); independent steps go to a thread pool.
        """
        position = {name: i for i, name in enumerate(run.steps)}
        upstream = {name: list(run.upstream(name)) for name in run.steps}
        sorter = graphlib.TopologicalSorter(upstream)
        sorter.prepare()
        status: dict[str, str] = {}
        ready: deque[str] = deque()
        running: dict[Future[Any], str] = {}

        def finish(name: str, result_status: str) -> None:
            status[name] = result_status
            sorter.done(name)

        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="flowyml-step") as pool:
            try:
                while sorter.is_active():
                    ready.extend(sorted(sorter.get_ready(), key=position.__getitem__))
                    progressed = False
                    while ready and len(running) < self.workers:
                        name = ready.popleft()
                        failed_up = [up for up in upstream[name] if status[up] in ("failed", "skipped")]
                        if failed_up:
                            finish(name, run.skip_step(name, f"upstream step {failed_up[0]!r} did not complete").status)
                            progressed = True
                        elif self.workers == 1 or (not running and not ready):
                            finish(name, run.execute_step(name).status)
                            progressed = True
                        else:
                            running[pool.submit(run.execute_step, name)] = name
                    if progressed:
                        continue  # steps finished here may have made others ready
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        finish(running.pop(future), future.result().status)
            except BaseException:  # Ctrl-C: start no further step; the ones running end on their own
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        return True
