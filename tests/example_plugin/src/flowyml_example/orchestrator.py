"""An orchestrator that runs every step in a fresh process, as a remote orchestrator's containers would."""

from __future__ import annotations

import os
import subprocess

import attrs

import flowyml
from flowyml.plugins.component import Component
from flowyml.plugins.types import RunHandle


@attrs.frozen
class SubprocessOptions:
    #: Seconds a step may take.
    timeout: float = 300.0


class SubprocessOrchestrator(Component):
    kind = "orchestrator"
    Options = SubprocessOptions

    @flowyml.hookimpl
    def flowyml_orchestrator_run(self, run: RunHandle) -> bool:
        run.prepare_remote()
        env = {**os.environ, **run.step_env()}
        failed: set[str] = set()
        for name in run.steps_to_run:  # the steps the cache did not answer
            if any(up in failed for up in run.upstream(name)):
                failed.add(name)
                continue
            done = subprocess.run(run.step_command(name), env=env, timeout=self.options.timeout, check=False)
            if done.returncode != 0:
                failed.add(name)
        run.collect_remote_results()
        return True
