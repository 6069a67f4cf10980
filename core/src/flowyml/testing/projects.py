"""A project folder with a flowyml.yaml and a pipelines.py, for end-to-end tests of a backend."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from flowyml.testing.stacks import write_config

#: The spec-like pipeline ``tracked`` (see :mod:`flowyml.testing.tracked_pipeline`).
TRACKED_PIPELINE = Path(__file__).with_name("tracked_pipeline.py")

#: Routing that sends every Metrics and Parameters artifact to the experiment tracker.
TRACKED_ROUTING: dict[str, Any] = {"Metrics": {"log_to_tracker": True}, "Parameters": {"log_to_tracker": True}}


def tracked_stack(tracker: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """A local stack (one step at a time, store in ./artifacts) whose experiment tracker is ``tracker``.

    Metrics and Parameters are logged to the tracker (:data:`TRACKED_ROUTING`);
    ``routing={...}`` adds or overrides routing rules, any other keyword is a
    stack key (``model_registry={...}``, ``on_route_error="warn"``)::

        tracked_stack({"type": "mytracker", "url": url}, model_registry={"type": "myregistry"})
    """
    return {
        "orchestrator": {"type": "local", "max_parallel_steps": 1},
        "artifact_store": {"type": "local", "path": "./artifacts"},
        "experiment_tracker": dict(tracker),
        "artifact_routing": {**TRACKED_ROUTING, **extra.pop("routing", {})},
        **extra,
    }


def make_project(folder: Path, stacks: Mapping[str, Any], pipelines: Path = TRACKED_PIPELINE) -> Path:
    """Create ``folder`` with a flowyml.yaml holding ``stacks`` and a copy of ``pipelines`` as pipelines.py.

    Calling it again on the same folder rewrites both files. Returns ``folder``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_config(folder, stacks)
    shutil.copy(pipelines, folder / "pipelines.py")
    return folder


def load_pipeline(folder: Path, name: str = "tracked") -> Any:
    """The pipeline ``name`` of ``folder``/pipelines.py, loaded as ``flowyml run pipelines.py:name`` would."""
    from flowyml.runner.targets import load_target

    return load_target(f"{Path(folder) / 'pipelines.py'}:{name}")


@pytest.fixture
def flowyml_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """``flowyml_project(stacks, pipelines=TRACKED_PIPELINE)``: :func:`make_project` in ``tmp_path/project``, entered.

    Import it into your test module (or conftest) to use it::

        from flowyml.testing import flowyml_project, load_pipeline, tracked_stack  # noqa: F401

        def test_run_is_recorded(flowyml_project):
            folder = flowyml_project({"s": tracked_stack({"type": "mytracker"})})
            run = load_pipeline(folder).run(stack="s")
    """

    def make(stacks: Mapping[str, Any], pipelines: Path = TRACKED_PIPELINE) -> Path:
        folder = make_project(tmp_path / "project", stacks, pipelines)
        monkeypatch.chdir(folder)
        return folder

    return make
