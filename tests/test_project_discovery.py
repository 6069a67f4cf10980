"""The project of a run is found from the pipeline file's folder upwards, and `flowyml run` says which flowyml.yaml it uses."""

from __future__ import annotations

PIPELINE = """
from flowyml import pipeline, step

@step
def one() -> int:
    return 1

@pipeline
def tiny() -> None:
    one()
"""

CONFIG = "stacks:\n  mine:\n    orchestrator: {type: local}\n    artifact_store: {type: local, path: ./store}\nactive_stack: mine\n"


def test_flowyml_run_of_a_file_in_another_project_uses_that_projects_config(project) -> None:
    (project.path / "example").mkdir()
    project.write("example/flowyml.yaml", CONFIG)
    project.write("example/pipeline.py", PIPELINE)
    out = project.cli("run", "example/pipeline.py", check=True).stdout
    assert "Running pipeline 'tiny' (using example/flowyml.yaml)" in out
    assert "on stack 'mine'" in out and "Details: cd example && flowyml runs show" in out
    assert (project.path / "example" / ".flowyml").is_dir() and (project.path / "example" / "store").is_dir()
    assert not (project.path / ".flowyml").exists() and not (project.path / "artifacts").exists()


def test_pipeline_run_from_python_uses_the_pipeline_files_project_too(project) -> None:
    from flowyml.runner.targets import load_target

    (project.path / "example").mkdir()
    project.write("example/flowyml.yaml", CONFIG)
    project.write("example/pipeline.py", PIPELINE)
    run = load_target("example/pipeline.py").run()
    assert run.stack_name == "mine" and (project.path / "example" / "store").is_dir()
    assert not (project.path / "artifacts").exists()


def test_without_a_config_beside_the_pipeline_the_working_directory_decides(project) -> None:
    project.write("pipeline.py", PIPELINE)
    out = project.cli("run", "pipeline.py", check=True).stdout
    assert "no flowyml.yaml found: the built-in local stack, state in" in out
    assert (project.path / ".flowyml").is_dir()
