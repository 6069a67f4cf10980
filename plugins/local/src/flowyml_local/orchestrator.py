"""The local orchestrator: runs steps in this process, independent ones concurrently."""

from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

import attrs

import flowyml
from flowyml.plugins.component import Component


@attrs.frozen
class LocalOrchestratorOptions:
    #: Steps run at once at most (default: the number of CPUs, at most 4).
    max_parallel_steps: int = attrs.field(default=0)


class LocalOrchestrator(Component):
    kind = "orchestrator"
    Options = LocalOrchestratorOptions

    @property
    def workers(self) -> int:
        return self.options.max_parallel_steps or min(4, os.cpu_count() or 1)

    @flowyml.hookimpl
    def flowyml_orchestrator_run(self, run: Any) -> bool:
        """Run the graph in dependency order; a failed step's dependents are skipped."""
        pending = set(run.steps)
        done: dict[str, str] = {}  # step -> status
        running: dict[Future[Any], str] = {}

        def ready(name: str) -> bool:
            return all(up in done for up in run.upstream(name))

        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="flowyml-step") as pool:
            while pending or running:
                for name in [n for n in run.steps if n in pending and ready(n)]:
                    pending.discard(name)
                    failed_up = [up for up in run.upstream(name) if done[up] in ("failed", "skipped")]
                    if failed_up:
                        done[name] = run.skip_step(name, f"upstream step {failed_up[0]!r} did not complete").status
                        continue
                    if self.workers == 1:
                        done[name] = run.execute_step(name).status
                    else:
                        running[pool.submit(run.execute_step, name)] = name
                if not running:
                    if pending and not any(ready(n) for n in pending):
                        raise RuntimeError(f"steps {sorted(pending)} can never become ready")
                    continue
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    name = running.pop(future)
                    done[name] = future.result().status
        return True
