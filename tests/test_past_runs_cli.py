"""The CLI views of past runs: runs show/list/compare/delete, artifacts show/download/lineage, model list serving."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from flowyml import Client, Dataset, Metrics, Model, Parameters, pipeline, step
from flowyml.cli.main import cli

np = pytest.importorskip("numpy")
pd = pytest.importorskip("pandas")


@step
def make_frame(rows: int = 40) -> Dataset:
    return Dataset(pd.DataFrame({"a": range(rows), "b": [f"r{i}" for i in range(rows)]}), name="frame")


@step
def make_array(frame: Dataset) -> Dataset:
    return Dataset(np.arange(12.0).reshape(3, 4))


@step
def hyper(lr: float = 0.1) -> Parameters:
    return Parameters({"lr": lr, "depth": 3})


@step
def score(frame: Dataset, array: Dataset, lr: float = 0.1) -> Metrics:
    return Metrics({"accuracy": 0.5 + lr, "rows": len(frame.data)})


@pipeline
def frames(lr: float = 0.1, rows: int = 40) -> None:
    frame = make_frame(rows)
    hyper(lr)
    score(frame, make_array(frame), lr)


def _innermost() -> None:
    raise KeyError("column 'price' is missing")


@step
def broken(frame: Dataset) -> int:
    _innermost()
    return 1


@pipeline
def failing() -> None:
    broken(make_frame())


def flowyml(*args: str, ok: bool = True) -> str:
    done = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert (done.exit_code == 0) is ok, done.output
    return done.output


def test_runs_show_takes_latest_and_a_prefix_and_lists_steps_in_execution_order(project) -> None:
    first = frames.run()
    out = flowyml("runs", "show")  # latest by default
    assert f"Run {first.run_id}" in out
    section = out.split("\nSteps\n", 1)[1].split("\nArtifacts\n", 1)[0]
    shown = re.findall(r"^(make_frame|hyper|make_array|score) ", section, re.M)
    assert shown == [s.name for s in sorted(first.steps.values(), key=lambda s: s.started_at)]
    assert len(shown) == 4
    assert f"Run {first.run_id}" in flowyml("runs", "show", first.run_id[:-2])


def test_runs_show_gives_the_failed_steps_last_frame_and_traceback_on_request(project) -> None:
    run = failing.run()
    out = flowyml("runs", "show", "latest")
    assert "Step 'broken' failed: KeyError: \"column 'price' is missing\"" in out
    assert re.search(r'File ".*test_past_runs_cli.py", line \d+, in _innermost', out)
    assert "raise KeyError(\"column 'price' is missing\")" in out
    assert "in broken" not in out  # only the last frame without --traceback
    full = flowyml("runs", "show", run.run_id, "--traceback")
    assert "Traceback (most recent call last):" in full and "in broken" in full and "in _innermost" in full


def test_runs_list_names_an_unknown_pipeline(project) -> None:
    assert "No runs yet" in flowyml("runs", "list")
    frames.run()
    out = flowyml("runs", "list", "--pipeline", "nosuch", ok=False)
    assert "no pipeline named 'nosuch'" in out and "frames" in out and "No runs yet" not in out
    assert "No failed runs." in flowyml("runs", "list", "--status", "failed")


def test_artifacts_show_previews_a_dataframe_an_array_and_json(project) -> None:
    run = frames.run()
    frame_id = run.steps["make_frame"].output.artifact_id
    out = flowyml("artifacts", "show", frame_id[:8])
    assert f"Artifact {frame_id}" in out and "serializer: parquet" in out
    assert '"num_rows": 40' in out and "produced by: make_frame of run" in out
    assert "make_array of run" in out and "score of run" in out  # consumers
    assert "shape: 40 rows x 2 columns" in out and "first 5 rows:" in out and "r4" in out and "r5" not in out
    array = flowyml("artifacts", "show", run.steps["make_array"].output.artifact_id)
    assert "shape: (3, 4)  dtype: float64" in array
    metrics = flowyml("artifacts", "show", run.steps["score"].output.artifact_id)
    assert '"accuracy": 0.6' in metrics and "(no step read it)" in metrics


def test_artifacts_download_copies_the_verified_files(project, tmp_path: Path) -> None:
    run = frames.run()
    art = run.steps["make_frame"].output
    dest = tmp_path / "copy"
    assert "Copied" in flowyml("artifacts", "download", art.artifact_id[:10], str(dest))
    assert sorted(p.name for p in dest.iterdir()) == ["data.parquet", "flowyml.json"]
    assert "not an empty folder" in flowyml("artifacts", "download", art.artifact_id, str(dest), ok=False)
    stored = Path(art.uri) if Path(art.uri).is_file() else Path(art.uri) / "data.parquet"  # packed: the data file ends the pack
    stored.write_bytes(stored.read_bytes()[:-10] + b"0123456789")
    assert "no longer matches its recorded blake3" in flowyml("artifacts", "download", art.artifact_id, str(tmp_path / "again"), ok=False)


def test_artifacts_lineage_prints_upstream_and_downstream(project) -> None:
    run = frames.run()
    array_id = run.steps["make_array"].output.artifact_id
    out = flowyml("artifacts", "lineage", array_id[:10])
    upstream, downstream = out.split("downstream (made from it):")
    assert "<- step make_array" in upstream and "<- frame:" in upstream and "<- step make_frame" in upstream
    assert "-> step score" in downstream and "Metrics score.output" in downstream


def test_runs_compare_marks_the_differences(project) -> None:
    a = frames.run(lr=0.1)
    b = frames.run(lr=0.3)
    out = flowyml("runs", "compare", a.run_id, b.run_id)
    rows = {line.split()[2]: line for line in out.splitlines() if line.startswith("*")}
    assert set(rows) == {"lr", "hyper.lr", "accuracy"}, out
    assert "0.1" in rows["lr"] and "0.3" in rows["lr"]
    assert "more are the same" in out
    same = flowyml("runs", "compare", a.run_id, b.run_id, "--all")
    assert re.search(r"^\s+metric\s+rows\s+40\s+40$", same, re.M)


def test_runs_delete_dry_run_then_delete_keeping_what_another_run_uses(project) -> None:
    first = frames.run()
    second = frames.run(lr=0.2)  # reuses make_frame and make_array from the cache
    shared = first.steps["make_frame"].output
    own = first.steps["score"].output
    dry = flowyml("runs", "delete", first.run_id, "--artifacts", "--dry-run")
    assert f"would delete artifact {own.artifact_id[:12]}" in dry
    assert f"keep artifact {shared.artifact_id[:12]} (make_frame.output): run {second.run_id} still uses it" in dry
    assert Client().get_run(first.run_id) and Path(own.uri).exists()
    flowyml("runs", "delete", first.run_id, "--artifacts")
    assert [r.run_id for r in Client().list_runs()] == [second.run_id]
    assert not Path(own.uri).exists() and Path(shared.uri).exists()
    kept = Client().get_run(second.run_id).steps["make_frame"].output
    assert kept.load().data.shape == (40, 2)  # through the stack of the run that still uses it
    assert f"make_frame of run {first.run_id} (that run was deleted)" in flowyml("artifacts", "show", shared.artifact_id)


def test_runs_delete_never_deletes_what_a_registered_model_points_to(project) -> None:
    @step
    def fit() -> Model:
        return Model({"w": 1}, name="kept_model", version="1")

    @pipeline
    def modelling() -> None:
        fit()

    run = modelling.run()
    model_art = run.steps["fit"].output
    out = flowyml("runs", "delete", run.run_id, "--artifacts")
    assert f"keep artifact {model_art.artifact_id[:12]} (fit.output): registered model kept_model version 1 points to it" in out
    assert Path(model_art.uri).exists()
    assert Client().get_model("kept_model").load() == {"w": 1}


AUTO_DEPLOY = """
stacks:
  local:
    orchestrator: { type: local }
    artifact_store: { type: local, path: "./artifacts" }
    model_registry: { type: local }
    model_deployer: { type: local }
    experiment_tracker: { type: local }
    artifact_routing:
      Model: { register: true, deploy: true, deploy_condition: auto, deploy_min_metrics: { accuracy: 0.5 }, endpoint_name: production-model }
      Metrics: { log_to_tracker: true }
active_stack: local
"""


def test_cached_rerun_leaves_the_serving_version_alone_and_model_list_says_where(project) -> None:
    pytest.importorskip("sklearn")
    project.write_config(AUTO_DEPLOY)
    project.copy("spec_pipeline.py")
    first = project.cli("run", "spec_pipeline.py", check=True).stdout
    url = re.search(r"deployed to endpoint production-model at (http://127\.0\.0\.1:\d+)", first).group(1)
    again = project.cli("run", "spec_pipeline.py", check=True).stdout
    assert "decision: fraud_detector version 1.0.0: already serving at endpoint production-model" in again, again
    assert "deployed to endpoint" not in again
    endpoints = project.cli("model", "endpoints", check=True).stdout
    assert url in endpoints and len(re.findall(r"http://127", endpoints)) == 1  # same server, same URL
    listed = project.cli("model", "list", check=True).stdout
    assert re.search(rf"fraud_detector\s+1\.0\.0\s+approved.*production-model \({re.escape(url)}\)", listed), listed
    decisions = Client().get_run("latest").decisions
    assert any("already serving" in d.detail for d in decisions)
