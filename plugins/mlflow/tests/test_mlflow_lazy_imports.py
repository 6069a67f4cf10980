"""Lazy loading: mlflow is imported only when an mlflow component works, never by a stack that does not name it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

VENDOR = ("mlflow", "wandb", "tensorboardX")
PROBE = """
import json, sys
from flowyml import Metrics, Parameters, pipeline, step

@step
def hp() -> Parameters:
    return Parameters({"lr": 0.1})

@step
def score(p: Parameters) -> Metrics:
    return Metrics({"acc": 0.9})

@pipeline
def tiny():
    score(hp())

STACK = sys.argv[1]
if STACK == "local":
    run = tiny.run(stack="local")
    assert run.success, run.error
else:
    from flowyml.runner.engine import prepare_stack
    prepare_stack(STACK)  # builds every component from its options, as a run does first
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("mlflow", "wandb", "tensorboardX", "flowyml_mlflow", "flowyml_wandb", "flowyml_tensorboard"))))
"""


def loaded_modules(project: Path, stack: str) -> list[str]:
    stacks = {
        "local": {"orchestrator": {"type": "local"}, "artifact_store": {"type": "local", "path": "./artifacts"},
                  "experiment_tracker": {"type": "local"},
                  "artifact_routing": {"Metrics": {"log_to_tracker": True}, "Parameters": {"log_to_tracker": True}}},
        "ml": {"orchestrator": {"type": "local"}, "artifact_store": {"type": "local"},
               "experiment_tracker": {"type": "mlflow", "tracking_uri": "http://127.0.0.1:9"},
               "model_registry": {"type": "mlflow_model_registry", "tracking_uri": "http://127.0.0.1:9"}},
    }
    (project / "flowyml.yaml").write_text(yaml.safe_dump({"stacks": stacks}))
    done = subprocess.run([sys.executable, "-c", PROBE, stack], cwd=project, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_local_run_imports_no_tracker_sdk(tmp_path: Path) -> None:
    assert loaded_modules(tmp_path, "local") == []


def test_building_an_mlflow_stack_imports_the_plugin_but_not_mlflow(tmp_path: Path) -> None:
    loaded = loaded_modules(tmp_path, "ml")
    assert {"flowyml_mlflow.tracker", "flowyml_mlflow.registry"} <= set(loaded)
    assert not [m for m in loaded if m.split(".")[0] in VENDOR]
    assert "flowyml_mlflow.connection" not in loaded and "flowyml_mlflow.session" not in loaded
