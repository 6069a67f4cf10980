"""flowyml.Client: past runs, steps, artifacts, lineage and models, read back from the metadata store."""

from __future__ import annotations

from pathlib import Path

import pytest

import flowyml
from flowyml import Client, Dataset, Metrics, Model, pipeline, step
from flowyml.errors import ArtifactError, RunNotFoundError
from flowyml.runner.result import PipelineRun


@step
def load_rows(n: int = 3) -> Dataset:
    return Dataset({"x": list(range(n))}, name="rows")


@step
def train(rows: Dataset) -> Model:
    return Model({"w": sum(rows.data["x"])}, name="summer", metadata={"metrics": {"accuracy": 0.9}})


@step
def evaluate(model: Model, rows: Dataset) -> Metrics:
    return Metrics({"accuracy": 0.9, "w": model.data["w"]})


@pipeline
def summing(n: int = 3) -> None:
    rows = load_rows(n)
    evaluate(train(rows), rows)


def _fails_deep() -> None:
    raise RuntimeError("the last frame")


@step
def explode(rows: Dataset) -> int:
    _fails_deep()
    return 0


@pipeline
def exploding() -> None:
    explode(load_rows())


def test_client_is_reachable_from_the_package_and_models_too() -> None:
    assert flowyml.Client is Client
    assert flowyml.models.get_model is not None and Client().models is flowyml.models


def test_get_run_returns_the_same_pipeline_run_that_run_returned(project) -> None:
    made = summing.run(n=4)
    got = Client().get_run("latest")
    assert isinstance(got, PipelineRun) and type(got) is type(made)
    assert got.run_id == made.run_id and got.status == made.status == "completed"
    assert list(got.steps) == list(made.steps) == ["load_rows", "train", "evaluate"]
    assert got.params == made.params == {"n": 4}
    for name, step_run in made.steps.items():
        assert got.steps[name].status == step_run.status
        assert {k: a.artifact_id for k, a in got.steps[name].outputs.items()} == {k: a.artifact_id for k, a in step_run.outputs.items()}
        assert {k: a.artifact_id for k, a in got.steps[name].inputs.items()} == {k: a.artifact_id for k, a in step_run.inputs.items()}
    assert got.steps["train"].outputs["output"].load().data == {"w": 6}
    assert set(got.steps["evaluate"].inputs) == {"model", "rows"}
    assert [d.detail for d in got.decisions] == [d.detail for d in made.decisions] and got.decisions


def test_run_is_found_by_prefix_and_pipeline_narrows_latest(project) -> None:
    first = summing.run()
    other = exploding.run()
    client = Client()
    assert client.get_run(first.run_id[:-1]).run_id == first.run_id
    assert client.get_run(first.run_id).run_id == first.run_id
    assert client.get_run("latest").run_id == other.run_id
    assert client.get_run("latest", pipeline="summing").run_id == first.run_id
    with pytest.raises(RunNotFoundError, match="no pipeline named 'nosuch'.*exploding, summing"):
        client.get_run("latest", pipeline="nosuch")


def test_ambiguous_prefix_lists_the_candidates_and_unknown_id_is_clear(project) -> None:
    a, b = summing.run(), summing.run()
    common = next((a.run_id[:i] for i in range(len(a.run_id)) if a.run_id[i] != b.run_id[i]), a.run_id)
    with pytest.raises(RunNotFoundError, match="matches 2 runs") as info:
        Client().get_run(common)
    assert a.run_id in str(info.value) and b.run_id in str(info.value)
    with pytest.raises(RunNotFoundError, match="no run 'zz-not-a-run'"):
        Client().get_run("zz-not-a-run")
    assert Client().get_run(a.run_id[: len(common) + 1]).run_id == a.run_id


def test_list_runs_is_newest_first_and_filters(project) -> None:
    first = summing.run(n=1)
    failed = exploding.run()
    last = summing.run(n=2)
    client = Client()
    assert [r.run_id for r in client.list_runs()] == [last.run_id, failed.run_id, first.run_id]
    assert [r.run_id for r in client.list_runs(pipeline="summing")] == [last.run_id, first.run_id]
    assert [r.run_id for r in client.list_runs(status="failed")] == [failed.run_id]
    assert [r.run_id for r in client.list_runs(limit=1)] == [last.run_id]
    assert [r.run_id for r in client.list_runs(limit=1, offset=1)] == [failed.run_id]  # pages
    assert [r.run_id for r in client.list_runs(limit=None, offset=2)] == [first.run_id]
    light = client.list_runs(limit=1, steps=False)[0]
    assert (light.run_id, light.status, light.steps, light.params) == (last.run_id, "completed", {}, {"n": 2})
    with pytest.raises(RunNotFoundError, match="no pipeline named 'nosuch'"):
        client.list_runs(pipeline="nosuch")


def test_failed_step_keeps_its_message_and_the_whole_traceback(project) -> None:
    made = exploding.run()
    step_run = Client().get_run(made.run_id).steps["explode"]
    assert step_run.status == "failed"
    assert step_run.error == "RuntimeError: the last frame"
    assert step_run.traceback is not None and step_run.traceback.startswith("Traceback (most recent call last):")
    assert "_fails_deep" in step_run.traceback and 'raise RuntimeError("the last frame")' in step_run.traceback
    assert made.steps["explode"].traceback == step_run.traceback


def test_artifact_by_prefix_with_its_producer_and_consumers(project) -> None:
    run = summing.run()
    rows_id = run.steps["load_rows"].outputs["output"].artifact_id
    art = Client().get_artifact(rows_id[:10])
    assert art.artifact_id == rows_id and art.artifact_type == "Dataset"
    assert (art.producer.name, art.producer.run_id) == ("load_rows", run.run_id)
    assert sorted(c.name for c in art.consumers) == ["evaluate", "train"]
    assert art.load().data == {"x": [0, 1, 2]}
    with pytest.raises(ArtifactError, match="no artifact 'nothing-like-it'"):
        Client().get_artifact("nothing-like-it")


def test_get_model_through_the_registry_and_load_it(project) -> None:
    run = summing.run(n=5)
    mv = Client().get_model("summer")
    assert mv.run_id == run.run_id and mv.name == "summer"
    assert mv.load() == {"w": 10}
    assert [v.version for v in Client().list_models("summer")] == [mv.version]


def test_client_for_another_project_folder(project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project.write_config(
        "stacks:\n  here:\n    orchestrator: {type: local}\n    artifact_store: {type: local, path: ./store}\n"
    )
    made = summing.run()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    client = Client(project_dir=project.path)
    assert client.project_dir == project.path.resolve()
    run = client.get_run("latest")
    assert run.run_id == made.run_id and run.steps["train"].output.load().data == {"w": 3}


def test_a_run_whose_stack_is_gone_names_the_store_uri(project) -> None:
    project.write_config("stacks:\n  old:\n    orchestrator: {type: local}\n    artifact_store: {type: local, path: ./store}\n")
    made = summing.run()
    project.write_config("stacks:\n  new:\n    orchestrator: {type: local}\n    artifact_store: {type: local, path: ./store}\n")
    art = Client().get_run(made.run_id).steps["load_rows"].output
    with pytest.raises(ArtifactError, match="used stack 'old', which is no longer defined") as info:
        art.load()
    assert art.uri in str(info.value)


def test_list_artifacts_newest_first_or_of_one_run(project) -> None:
    first = summing.run(n=1)
    second = summing.run(n=2)
    client = Client()
    assert [a.artifact_id for a in client.list_artifacts(run=first.run_id)] == [a.artifact_id for a in first.artifacts]
    newest = client.list_artifacts(limit=3)
    assert [a.artifact_id for a in newest] == [a.artifact_id for a in reversed(second.artifacts)]
    assert newest[0].load() == second.steps["evaluate"].output.load()
