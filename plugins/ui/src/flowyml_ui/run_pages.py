"""Runs, one run (graph, timeline, parameters, routing), a step, a run's metrics, runs side by side."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import attrs
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from flowyml import Client
from flowyml.errors import RunNotFoundError
from flowyml.runner.result import PipelineRun
from flowyml_ui import graph
from flowyml_ui.masking import masked
from flowyml_ui.metrics import run_metrics, shown
from flowyml_ui.web import NotFound, check_id, check_name, json_twin, page, render

PER_PAGE = 50
LIVE = ("running", "pending", "started")


def _int(value: str | None, default: int) -> int:
    try:
        return max(1, int(value)) if value else default
    except ValueError:
        return default


@attrs.frozen
class Listing:
    """One page of the runs list: the runs, the filters, and whether an older page follows."""

    runs: list[PipelineRun]
    pipeline: str
    status: str
    page: int
    more: bool
    #: Why the list is empty when the filter names a pipeline without runs.
    problem: str | None


def listing(request: Request, client: Client) -> Listing:
    """The runs page's runs (``?pipeline=``, ``?status=``, ``?page=``): for the page and its JSON twin."""
    pipeline = request.query_params.get("pipeline") or None
    status = request.query_params.get("status") or None
    number = _int(request.query_params.get("page"), 1)
    problem = None
    try:
        runs = client.list_runs(pipeline=pipeline, status=status, limit=PER_PAGE + 1, offset=(number - 1) * PER_PAGE, steps=False)
    except RunNotFoundError as exc:  # an unknown pipeline in the filter: an empty list that says why
        runs, problem = [], exc.message
    return Listing(runs[:PER_PAGE], pipeline or "", status or "", number, len(runs) > PER_PAGE, problem)


@page
def runs_page(request: Request, client: Client) -> Response:
    found = listing(request, client)
    return render(
        request,
        "runs.html",
        title="Runs",
        runs=found.runs,
        pipelines=client.pipeline_names(),
        pipeline=found.pipeline,
        status=found.status,
        page=found.page,
        more=found.more,
        problem=found.problem,
        live=any(r.status in LIVE for r in found.runs),
        json_url=json_twin(request, "/runs.json"),
    )


def get_run(client: Client, run_id: str) -> PipelineRun:
    """The run of a URL's id (checked first: an invalid id is a 404)."""
    return client.get_run(check_id(run_id, "run"))


def _edges(run: PipelineRun) -> list[tuple[str, str, str, str]]:
    """(producer step, consumer step, input name, artifact id) for every artifact passed inside the run."""
    made_by = {a.artifact_id: s.name for s in run.steps.values() for a in s.outputs.values()}
    edges = []
    for s in run.steps.values():
        for input_name, art in s.inputs.items():
            producer = made_by.get(art.artifact_id)
            if producer is not None:
                edges.append((producer, s.name, input_name, art.artifact_id))
    return edges


def _timeline(run: PipelineRun) -> list[dict[str, Any]]:
    started = [s.started_at for s in run.steps.values() if s.started_at]
    if not started:
        return []
    t0 = min(started)
    t1 = max([s.ended_at or s.started_at or t0 for s in run.steps.values()] + [run.ended_at or t0])
    span = max(t1 - t0, 1e-6)
    return [
        {
            "name": s.name,
            "status": s.status,
            "left": 100 * ((s.started_at or t0) - t0) / span,
            "width": max(0.5, 100 * ((s.ended_at or t1) - (s.started_at or t0)) / span),
            "start": s.started_at,
            "end": s.ended_at,
        }
        for s in run.steps.values()
        if s.started_at
    ]


@page
def run_page(request: Request, client: Client) -> Response:
    run = get_run(client, request.path_params["run_id"])
    edges = _edges(run)
    drawn = graph.layout([(s.name, s.status) for s in run.steps.values()], [(a, b, label) for a, b, label, _ in edges])
    artifact_of = {(a, b, label): art for a, b, label, art in edges}
    return render(
        request,
        "run.html",
        title=f"Run {run.run_id}",
        run=run,
        graph=drawn,
        artifact_of=artifact_of,
        timeline=_timeline(run),
        params={k: shown(v) for k, v in masked(run.params).items()},
        live=run.status in LIVE,
        json_url=f"/runs/{quote(run.run_id, safe='')}.json",
    )


@page
def run_status(request: Request, client: Client) -> Response:
    """A run's status and its steps' (polled by a running run's page)."""
    run = get_run(client, request.path_params["run_id"])
    return JSONResponse({"run_id": run.run_id, "status": run.status, "steps": {s.name: s.status for s in run.steps.values()}})


@page
def step_page(request: Request, client: Client) -> Response:
    run_id = check_id(request.path_params["run_id"], "run")
    name = check_name(request.path_params["step"], "step")
    step = client.get_step(run_id, name)  # the full id of the URL; an unknown run or step is RunNotFoundError: 404
    return render(request, "step.html", title=f"Step {name}", step=step)


@page
def metrics_page(request: Request, client: Client) -> Response:
    run = get_run(client, request.path_params["run_id"])
    found = run_metrics(run)
    charts = [{"key": key, "x": [p[0] for p in points], "y": [p[1] for p in points]} for key, points in sorted(found.series.items())]
    return render(
        request,
        "metrics.html",
        title=f"Metrics of {run.run_id}",
        run=run,
        values=[(v, shown(v.value)) for v in found.values],
        charts=charts,
    )


@page
def compare_page(request: Request, client: Client) -> Response:
    ids = [check_id(r, "run") for r in request.query_params.getlist("run") if r]
    if len(ids) < 2:
        raise NotFound("pick two or more runs to compare (tick them on the runs page)")
    runs = [client.get_run(r) for r in ids]
    params = [{k: shown(v) for k, v in masked(r.params).items()} for r in runs]
    metrics = [{k: shown(v) for k, v in run_metrics(r).latest().items()} for r in runs]
    param_keys = sorted({k for p in params for k in p})
    metric_keys = sorted({k for m in metrics for k in m})
    return render(
        request, "compare.html", title="Compare runs", runs=runs, params=params, metrics=metrics, param_keys=param_keys, metric_keys=metric_keys
    )
