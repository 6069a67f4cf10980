"""The local orchestrator: runs steps in this process, independent ones concurrently."""

from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

import attrs

import flowyml
from flowyml.plugins.component import Component
from flowyml.plugins.types import RunHandle
from flowyml.stacks.options import at_least


@attrs.frozen
class LocalOrchestratorOptions:
    #: Steps run at once at most (not set: the number of CPUs, at most 4).
    max_parallel_steps: int | None = attrs.field(default=None, validator=at_least(1))


class LocalOrchestrator(Component):
    kind = "orchestrator"
    Options = LocalOrchestratorOptions

    @property
    def workers(self) -> int:
        return self.options.max_parallel_steps or min(4, os.cpu_count() or 1)

    @flowyml.hookimpl
    def flowyml_orchestrator_run(self, run: RunHandle) -> bool:
        """Run the graph in dependency order; a failed step's dependents are skipped.

        When only one step can run, it runs on the calling thread (no hand-off
        cost for linear pipelines); independent steps go to a thread pool.
        """
        order = run.steps
        upstream = {name: run.upstream(name) for name in order}
        waiting_on = {name: len(ups) for name, ups in upstream.items()}
        dependents: dict[str, list[str]] = {name: [] for name in order}
        for name, ups in upstream.items():
            for up in ups:
                dependents[up].append(name)
        status: dict[str, str] = {}
        ready = [name for name in order if waiting_on[name] == 0]
        running: dict[Future[Any], str] = {}

        def finish(name: str, result_status: str) -> None:
            status[name] = result_status
            for child in dependents[name]:
                waiting_on[child] -= 1
                if waiting_on[child] == 0:
                    ready.append(child)

        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="flowyml-step") as pool:
            try:
                while ready or running:
                    while ready:
                        name = ready.pop(0)
                        failed_up = [up for up in upstream[name] if status[up] in ("failed", "skipped")]
                        if failed_up:
                            finish(name, run.skip_step(name, f"upstream step {failed_up[0]!r} did not complete").status)
                        elif (not running and len(ready) == 0) or self.workers == 1:
                            finish(name, run.execute_step(name).status)
                        else:
                            running[pool.submit(run.execute_step, name)] = name
                        if len(running) >= self.workers:
                            break
                    if running:
                        done, _ = wait(running, return_when=FIRST_COMPLETED)
                        for future in done:
                            finish(running.pop(future), future.result().status)
            except BaseException:  # Ctrl-C: start no further step; the ones running end on their own
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        return True
