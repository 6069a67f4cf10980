"""Reading back what the mlflow plugins recorded, through MLflow's own client."""

from __future__ import annotations

from typing import Any

from mlflow import MlflowClient


def runs_of(client: MlflowClient, experiment_name: str, flowyml_run_id: str) -> list[Any]:
    experiment = client.get_experiment_by_name(experiment_name)
    assert experiment is not None, f"no experiment {experiment_name!r}"
    return list(client.search_runs([experiment.experiment_id], filter_string=f"tags.`flowyml.run_id` = '{flowyml_run_id}'"))


def history(client: MlflowClient, run_id: str, key: str) -> list[tuple[int, float]]:
    points = sorted(client.get_metric_history(run_id, key), key=lambda m: (m.step, m.timestamp))
    return [(m.step, m.value) for m in points]


def read_run(client: MlflowClient, run: Any) -> dict[str, Any]:
    return {
        "metrics": {key: history(client, run.info.run_id, key) for key in run.data.metrics},
        "params": dict(run.data.params),
        "status": run.info.status,
        "tags": dict(run.data.tags),
        "name": run.info.run_name,
        "run_id": run.info.run_id,
        "experiment_id": run.info.experiment_id,
    }


def read_pipeline_run(tracking_uri: str, experiment_name: str, flowyml_run_id: str) -> dict[str, Any]:
    """The pipeline's MLflow run, with ``children`` (step name -> the same shape) for nested runs."""
    client = MlflowClient(tracking_uri)
    runs = runs_of(client, experiment_name, flowyml_run_id)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1, f"expected one pipeline run, found {len(parents)}"
    got = read_run(client, parents[0])
    got["children"] = {
        r.data.tags["flowyml.step"]: read_run(client, r)
        for r in runs
        if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id
    }
    return got


def merged(got: dict[str, Any]) -> dict[str, Any]:
    """Parent and nested runs folded into one view (the TrackerContract's shape)."""
    out = {"metrics": dict(got["metrics"]), "params": dict(got["params"]), "status": got["status"], "tags": got["tags"]}
    for child in got["children"].values():
        for key, points in child["metrics"].items():
            out["metrics"].setdefault(key, []).extend(points)
        out["params"].update(child["params"])
    return out
