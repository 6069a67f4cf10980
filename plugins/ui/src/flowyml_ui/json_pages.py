"""The JSON twin of the pages (datasette style): the same URL with ``.json``, the same Client objects.

``/runs.json``, ``/runs/<id>.json``, ``/artifacts/<id>.json`` and
``/models/<name>.json`` answer what their page shows, as data: the same
filters and ids, the same 404 and 500 rules (the error as
``{"error", "hint", "status"}``), the same access token, secrets masked.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import attrs
from starlette.requests import Request
from starlette.responses import Response

from flowyml import Client
from flowyml.plugins.types import ModelVersion
from flowyml.runner.result import PipelineRun, RouteEvent, StepRun, StoredArtifact
from flowyml_ui.artifact_pages import artifact_view
from flowyml_ui.masking import masked
from flowyml_ui.model_pages import model_view
from flowyml_ui.run_pages import get_run, listing
from flowyml_ui.web import json_page, json_response

__all__ = ["artifact_json", "model_json", "run_json", "runs_json"]


def artifact_data(art: StoredArtifact) -> dict[str, Any]:
    data = art.to_row()
    data["info"] = masked(art.info or {})
    return data


def _step_ref(step: StepRun) -> dict[str, Any]:
    return {"run_id": step.run_id, "step": step.name}


def step_data(step: StepRun) -> dict[str, Any]:
    return {
        "name": step.name,
        "status": step.status,
        "cached": step.cached,
        "started_at": step.started_at,
        "ended_at": step.ended_at,
        "duration": step.duration,
        "error": step.error,
        "traceback": step.traceback,
        "inputs": {name: artifact_data(a) for name, a in step.inputs.items()},
        "outputs": {name: artifact_data(a) for name, a in step.outputs.items()},
    }


def _event(event: RouteEvent) -> dict[str, Any]:
    return attrs.asdict(event)


def run_data(run: PipelineRun, *, steps: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "run_id": run.run_id,
        "pipeline_name": run.pipeline_name,
        "stack_name": run.stack_name,
        "status": run.status,
        "user": run.user,
        "host": run.host,
        "error": run.error,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "params": masked(run.params),
    }
    if steps:
        data["steps"] = [step_data(s) for s in run.steps.values()]
        data["events"] = [_event(e) for e in run.events]
        data["tracker_links"] = [attrs.asdict(link) | {"is_url": link.is_url} for link in run.tracker_links]
    return data


def version_data(version: ModelVersion) -> dict[str, Any]:
    data = {f.name: getattr(version, f.name) for f in attrs.fields(ModelVersion)}
    for key in ("metrics", "metadata", "serving_config"):
        if data[key] is not None:
            data[key] = masked(data[key])
    return data


@json_page
def runs_json(request: Request, client: Client) -> Response:
    found = listing(request, client)
    filters = {k: v for k, v in (("pipeline", found.pipeline), ("status", found.status)) if v}
    older = "/runs.json?" + urlencode({**filters, "page": found.page + 1}) if found.more else None
    return json_response(
        {"runs": [run_data(r, steps=False) for r in found.runs], **filters, "page": found.page, "next": older, "problem": found.problem}
    )


@json_page
def run_json(request: Request, client: Client) -> Response:
    return json_response(run_data(get_run(client, request.path_params["run_id"])))


@json_page
def artifact_json(request: Request, client: Client) -> Response:
    view = artifact_view(client, request.path_params["artifact_id"])
    return json_response(
        {
            **artifact_data(view.art),
            "info": view.info,
            "producer": _step_ref(view.producer) if view.producer else None,
            "producer_gone": view.producer_gone,
            "consumers": [_step_ref(c) for c in view.consumers],
            "preview": attrs.asdict(view.preview) if view.preview else None,
            "preview_problem": view.problem,
        }
    )


@json_page
def model_json(request: Request, client: Client) -> Response:
    view = model_view(request, client)
    versions = []
    for version in view.versions:
        served = view.serving.get((version.name, str(version.version)), [])
        versions.append(version_data(version) | {"serving": [d.to_dict() | {"details": masked(d.details)} for d in served]})
    return json_response({"name": view.name, "stack": view.stack, "versions": versions, "serving_problem": view.serving_problem})
