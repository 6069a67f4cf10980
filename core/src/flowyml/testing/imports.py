"""Which modules a stack imports, measured in a fresh interpreter: tests of lazy loading."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from flowyml.testing.stacks import write_config

#: Runs in a fresh interpreter: argv is the stack name, "run" or "build", and the prefixes.
#: The last line it prints is the JSON list of imported modules under the prefixes.
PROBE = '''
import json, sys

from flowyml import Dataset, Metrics, Model, Parameters, pipeline, step


@step
def hyperparameters() -> Parameters:
    return Parameters({"lr": 0.1})


@step
def load() -> Dataset:
    return Dataset({"x": [1, 2, 3]}, name="probe_data")


@step
def train(data: Dataset, hp: Parameters) -> Model:
    return Model({"w": [hp.data["lr"]]}, name="probe_model", version="1")


@step
def score(model: Model, data: Dataset) -> Metrics:
    return Metrics({"acc": 0.9, "n": len(data.data["x"])})


@pipeline
def probe():
    data = load()
    score(train(data, hyperparameters()), data)


stack_name, mode, prefixes = sys.argv[1], sys.argv[2], sys.argv[3:]
if mode == "run":
    run = probe.run(stack=stack_name)
    assert run.success, run.error
else:
    from flowyml.plugins.kinds import Kind
    from flowyml.runner.engine import prepare_stack

    stack = prepare_stack(stack_name)  # builds every component from its options, as a run does first
    for kind in Kind:
        component = stack.component(kind)
        if component is not None:
            component.describe()
print(json.dumps(sorted(m for m in sys.modules if any(m == p or m.startswith(p + ".") for p in prefixes))))
'''

BARE = "import json, sys; print(json.dumps(sorted(sys.modules)))"


def imported_modules(
    project_dir: Path,
    stacks: Mapping[str, Any],
    stack: str,
    *,
    run_pipeline: bool,
    prefixes: Iterable[str],
) -> set[str]:
    """The modules under ``prefixes`` that using ``stack`` imports, measured in a fresh interpreter.

    Writes a flowyml.yaml with ``stacks`` into ``project_dir`` (with
    :func:`~flowyml.testing.write_config`), then, in a new ``sys.executable``
    run in that folder:

    - ``run_pipeline=True``: runs a small probe pipeline on ``stack`` whose steps
      produce Parameters, a Dataset, a Model and Metrics (so routing rules for
      those types, a registry and a tracker all take part);
    - ``run_pipeline=False``: only builds the stack as a run does first
      (:func:`flowyml.runner.engine.prepare_stack`) and calls ``describe()`` on
      each component.

    Returns the names in ``sys.modules`` equal to or below one of ``prefixes``
    (``"google.cloud.storage"`` matches ``google.cloud.storage.blob``), minus
    those a bare interpreter already has (a ``*-nspkg.pth`` can pre-import the
    ``google`` namespace). ``FLOWYML_*`` variables are not passed on, so only
    the written flowyml.yaml decides the stack. A failing probe fails the test
    with the probe's stderr::

        loaded = imported_modules(tmp_path, {"s": {"orchestrator": {"type": "local"},
                                                   "artifact_store": {"type": "mystore"}}},
                                  "s", run_pipeline=False, prefixes=["mysdk", "flowyml_mystore"])
        assert "flowyml_mystore.store" in loaded
        assert not {m for m in loaded if m.split(".")[0] == "mysdk"}
    """
    project_dir = Path(project_dir)
    names = list(prefixes)
    write_config(project_dir, stacks)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWYML_")}
    mode = "run" if run_pipeline else "build"
    probed = set(_python_json(["-c", PROBE, stack, mode, *names], project_dir, env))
    bare = set(_python_json(["-c", BARE], project_dir, env))
    return probed - bare


def _python_json(args: list[str], cwd: Path, env: Mapping[str, str]) -> list[str]:
    done = subprocess.run([sys.executable, *args], cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=180, check=False)
    if done.returncode != 0:
        raise AssertionError(f"the import probe failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    lines = done.stdout.strip().splitlines()
    if not lines:
        raise AssertionError(f"the import probe printed nothing:\n{done.stderr[-3000:]}")
    return list(json.loads(lines[-1]))
