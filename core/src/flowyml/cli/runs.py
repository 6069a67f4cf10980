"""``flowyml runs list|show`` and ``flowyml artifacts list``."""

from __future__ import annotations

import json
from typing import Any

import click

from flowyml.cli.output import duration, table, when
from flowyml.errors import RunNotFoundError


def _metadata() -> Any:
    from flowyml.config.loader import load_project
    from flowyml.metadata.store import MetadataStore

    return MetadataStore.for_project(load_project().project_dir)


@click.group()
def runs() -> None:
    """Past pipeline runs."""


@runs.command("list")
@click.option("--limit", "-n", default=20, show_default=True)
@click.option("--pipeline", help="Only runs of this pipeline.")
def list_runs(limit: int, pipeline: str | None) -> None:
    """Recent runs, newest first."""
    rows = _metadata().list_runs(limit=limit, pipeline=pipeline)
    if not rows:
        click.echo("No runs yet. Start one with: flowyml run PIPELINE.py")
        return
    table(
        [(r["run_id"], r["pipeline_name"], r["stack_name"], r["status"], when(r["started_at"]), duration(r["started_at"], r["ended_at"])) for r in rows],
        ("RUN", "PIPELINE", "STACK", "STATUS", "STARTED", "DURATION"),
    )


@runs.command("show")
@click.argument("run_id")
def show_run(run_id: str) -> None:
    """Steps, artifacts, routing actions, deployment decisions and tracked metrics of RUN_ID."""
    db = _metadata()
    run = db.get_run(run_id)
    if run is None:
        raise RunNotFoundError(f"no run {run_id!r} in this project", hint="list runs with: flowyml runs list")
    rid = run["run_id"]
    click.echo(f"Run {rid}")
    click.echo(f"  pipeline: {run['pipeline_name']}")
    click.echo(f"  stack:    {run['stack_name']} (chosen by {run['stack_reason']})")
    click.echo(f"  status:   {run['status']}")
    click.echo(f"  started:  {when(run['started_at'])}  duration: {duration(run['started_at'], run['ended_at'])}")
    if run["params"] and json.loads(run["params"]):
        click.echo(f"  params:   {run['params']}")
    if run["error"]:
        click.echo(f"  error:    {run['error']}")
    click.echo("\nSteps")
    table(
        [(s["step_name"], s["status"], duration(s["started_at"], s["ended_at"]), s["cached_from"] or "", (s["error"] or "").splitlines()[0] if s["error"] else "") for s in db.steps_of(rid)],
        ("STEP", "STATUS", "DURATION", "CACHED FROM", "ERROR"),
    )
    click.echo("\nArtifacts")
    table(
        [(a["out_step"], a["out_name"], a["artifact_type"], a["serializer"], a["size"], a["content_hash"][:12], a["uri"]) for a in db.outputs_of(rid)],
        ("STEP", "OUTPUT", "TYPE", "FORMAT", "BYTES", "SHA256", "URI"),
    )
    events = [e for e in db.route_events(rid) if e["action"] != "store"]
    if events:
        click.echo("\nRouting")
        table([(e["step_name"] or "", e["action"], e["status"], e["target"] or "", e["detail"]) for e in events], ("STEP", "ACTION", "STATUS", "TARGET", "DETAIL"))
    metrics = db.query("SELECT * FROM tracker_metrics WHERE run_id=? ORDER BY rowid", (rid,))
    params = db.query("SELECT * FROM tracker_params WHERE run_id=? ORDER BY rowid", (rid,))
    if metrics or params:
        click.echo("\nTracked (local experiment tracker)")
        rows = [(m["step_name"], "metric", m["key"], f"{m['value']:g}", "" if m["step"] is None else m["step"]) for m in metrics]
        rows += [(p["step_name"], "param", p["key"], p["value"], "") for p in params]
        table(rows, ("STEP", "KIND", "NAME", "VALUE", "AT STEP"))


@click.group()
def artifacts() -> None:
    """Stored artifacts."""


@artifacts.command("list")
@click.option("--run", "run_id", help="Only this run's artifacts.")
@click.option("--limit", "-n", default=50, show_default=True)
def list_artifacts(run_id: str | None, limit: int) -> None:
    """Artifacts, newest first: type, size, hash and where they are stored."""
    db = _metadata()
    if run_id:
        run = db.get_run(run_id)
        if run is None:
            raise RunNotFoundError(f"no run {run_id!r} in this project", hint="list runs with: flowyml runs list")
        run_id = run["run_id"]
    rows = db.list_artifacts(run_id, limit=limit)
    if not rows:
        click.echo("No artifacts yet.")
        return
    table(
        [(a["artifact_id"][:12], a["run_id"], a["out_step"], a["out_name"], a["artifact_type"], a["size"], a["uri"]) for a in rows],
        ("ID", "RUN", "STEP", "OUTPUT", "TYPE", "BYTES", "URI"),
    )
