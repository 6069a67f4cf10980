"""The helpers flowyml.testing gives plugin authors for their own tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flowyml.testing import (
    TRACKED_ROUTING,
    flowyml_project,  # noqa: F401 - a fixture (tests take it as a parameter)
    imported_modules,
    load_pipeline,
    make_project,
    tracked_stack,
)

LOCAL = {"orchestrator": {"type": "local"}, "artifact_store": {"type": "local", "path": "./artifacts"}}


def test_imported_modules_of_a_local_run(tmp_path: Path) -> None:
    loaded = imported_modules(tmp_path, {"local": LOCAL}, "local", run_pipeline=True, prefixes=["flowyml_local", "pandas"])
    assert "flowyml_local.artifact_store" in loaded
    assert not [m for m in loaded if m.split(".")[0] == "pandas"], loaded  # nothing in the probe uses pandas
    assert (tmp_path / "flowyml.yaml").read_text().startswith("# written by flowyml.testing")


def test_imported_modules_when_only_building_a_stack(tmp_path: Path) -> None:
    stacks = {"local": {**LOCAL, "model_registry": {"type": "local"}}}
    built = imported_modules(tmp_path, stacks, "local", run_pipeline=False, prefixes=["flowyml_local", "flowyml.core.pipeline"])
    assert {"flowyml_local.artifact_store", "flowyml_local.model_registry"} <= built


def test_imported_modules_leaves_out_what_a_bare_interpreter_has(tmp_path: Path) -> None:
    assert imported_modules(tmp_path, {"local": LOCAL}, "local", run_pipeline=False, prefixes=["sys", "builtins"]) == set()


def test_imported_modules_reports_a_failing_probe(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="no installed plugin provides artifact store type 'nosuchstore'"):
        imported_modules(tmp_path, {"s": {**LOCAL, "artifact_store": {"type": "nosuchstore"}}}, "s", run_pipeline=False, prefixes=["x"])


def test_tracked_stack_logs_metrics_and_parameters_to_the_tracker() -> None:
    stack = tracked_stack({"type": "local"}, routing={"Model": {"register": True}}, on_route_error="warn")
    assert stack["experiment_tracker"] == {"type": "local"} and stack["on_route_error"] == "warn"
    assert stack["artifact_routing"] == {**TRACKED_ROUTING, "Model": {"register": True}}


def test_tracked_pipeline_runs_on_a_tracked_local_stack(flowyml_project: Any) -> None:
    folder = flowyml_project({"s": tracked_stack({"type": "local"})})
    assert Path.cwd() == folder and (folder / "pipelines.py").exists()
    run = load_pipeline(folder).run(stack="s")
    assert run.status == "completed", run.error
    assert run.load("evaluate").data["accuracy"] == 0.75


def test_make_project_copies_the_given_pipelines(tmp_path: Path) -> None:
    source = tmp_path / "mine.py"
    source.write_text("from flowyml import pipeline\n\n@pipeline\ndef empty():\n    pass\n")
    folder = make_project(tmp_path / "p", {"local": LOCAL}, source)
    assert (folder / "pipelines.py").read_text() == source.read_text()
    assert load_pipeline(folder, "empty").name == "empty"
