"""``flowyml runs list|show|compare|delete``."""

from __future__ import annotations

import json
from typing import Any

import click

from flowyml.cli.output import duration, table, when
from flowyml.metadata.status import STATUSES, effective_status


def _client() -> Any:
    from flowyml.client import Client

    return Client()


@click.group()
def runs() -> None:
    """Past pipeline runs."""


@runs.command("list")
@click.option("--limit", "-n", default=20, show_default=True)
@click.option("--pipeline", help="Only runs of this pipeline.")
@click.option("--status", type=click.Choice(STATUSES), help="Only runs with this status (running: only live runs).")
def list_runs(limit: int, pipeline: str | None, status: str | None) -> None:
    """Recent runs, newest first. A run whose process died shows as crashed."""
    from flowyml.metadata import queries

    client = _client()
    rows = queries.list_run_rows(client.metadata, pipeline=pipeline, status=status, limit=limit)
    if not rows:
        if pipeline and pipeline not in queries.pipeline_names(client.metadata):
            raise queries.no_runs_error(client.metadata, pipeline)
        click.echo(f"No {status} runs." if status else "No runs yet. Start one with: flowyml run PIPELINE.py")
        return
    table(
        [
            (
                r["run_id"], r["pipeline_name"], r["stack_name"], effective_status(r), when(r["started_at"]),
                duration(r["started_at"], r["ended_at"]), r["user"] or "", r["host"] or "",
            )
            for r in rows
        ],
        ("RUN", "PIPELINE", "STACK", "STATUS", "STARTED", "DURATION", "USER", "HOST"),
    )


def last_frame(traceback_text: str) -> list[str]:
    """The innermost ``File ..., line N, in fn`` line of a traceback and the source line after it."""
    lines = traceback_text.rstrip("\n").splitlines()
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].lstrip().startswith('File "'):
            frame = [lines[i].strip()]
            if i + 1 < len(lines) and lines[i + 1].startswith("    ") and not lines[i + 1].lstrip().startswith("^"):
                frame.append(lines[i + 1].strip())
            return frame
    return []


@runs.command("show")
@click.argument("run_ref", metavar="RUN", default="latest")
@click.option("--pipeline", help="With RUN 'latest' (the default): the latest run of this pipeline.")
@click.option("--traceback", "full_traceback", is_flag=True, help="Print the whole traceback of a failed step.")
def show_run(run_ref: str, pipeline: str | None, full_traceback: bool) -> None:
    """Steps (in execution order), artifacts, routing, deployment decisions and tracked metrics of RUN.

    RUN is a run id, a unique prefix of one, or 'latest' (the default).
    """
    client = _client()
    run = client.get_run(run_ref, pipeline=pipeline)
    db = client.metadata
    rid = run.run_id
    row = db.get_run(rid)
    assert row is not None  # get_run above found it
    click.echo(f"Run {rid}")
    click.echo(f"  pipeline: {run.pipeline_name}")
    click.echo(f"  stack:    {run.stack_name} (chosen by {row['stack_reason']})")
    click.echo(f"  status:   {run.status}" + ("  (its process is gone: killed or crashed before the run ended)" if run.status == "crashed" else ""))
    click.echo(f"  started:  {when(run.started_at)}  duration: {duration(run.started_at, run.ended_at)}")
    if run.user or run.host:
        click.echo(f"  by:       {run.user or '?'} on {run.host or '?'}")
    if run.params:
        click.echo(f"  params:   {json.dumps(run.params, sort_keys=True, default=str)}")
    if run.error:
        click.echo(f"  error:    {run.error.splitlines()[0]}")
    cached_from = {s["step_name"]: s["cached_from"] for s in db.step_rows(rid)}
    click.echo("\nSteps")
    table(
        [
            (s.name, s.status, duration(s.started_at, s.ended_at), cached_from.get(s.name) or "", (s.error or "").splitlines()[0] if s.error else "")
            for s in run.steps.values()
        ],
        ("STEP", "STATUS", "DURATION", "CACHED FROM", "ERROR"),
    )
    attempts = [(s.name, a) for s in run.steps.values() for a in s.attempts]
    if attempts:
        click.echo("\nAttempts (steps with retries or a timeout)")
        table(
            [(name, a.attempt, a.status, when(a.started_at), duration(a.started_at, a.ended_at), (a.error or "").splitlines()[0] if a.error else "")
             for name, a in attempts],
            ("STEP", "ATTEMPT", "STATUS", "STARTED", "DURATION", "ERROR"),
        )
    for failed in (s for s in run.steps.values() if s.status == "failed"):
        click.echo(f"\nStep {failed.name!r} failed: {failed.error}")
        if failed.traceback and full_traceback:
            click.echo(failed.traceback.rstrip("\n"))
        elif failed.traceback:
            for line in last_frame(failed.traceback):
                click.echo(f"  {line}")
            click.echo(f"  (the whole traceback: flowyml runs show {rid} --traceback)")
    click.echo("\nArtifacts")
    table(
        [
            (step, out, a.artifact_type, a.serializer, a.size, a.artifact_id[:12], a.uri)
            for step, s in run.steps.items()
            for out, a in s.outputs.items()
        ],
        ("STEP", "OUTPUT", "TYPE", "FORMAT", "BYTES", "ID", "URI"),
    )
    events = [e for e in run.events if e.action != "store"]
    if events:
        click.echo("\nRouting")
        table([(e.step_name or "", e.action, e.status, e.target or "", e.detail) for e in events], ("STEP", "ACTION", "STATUS", "TARGET", "DETAIL"))
    metrics = db.tracked_metrics(rid)
    params = db.tracked_params(rid)
    if metrics or params:
        click.echo("\nTracked (local experiment tracker)")
        rows = [(m["step_name"], "metric", m["key"], f"{m['value']:g}", "" if m["step"] is None else m["step"]) for m in metrics]
        rows += [(p["step_name"], "param", p["key"], p["value"], "") for p in params]
        table(rows, ("STEP", "KIND", "NAME", "VALUE", "AT STEP"))


@runs.command("compare")
@click.argument("run_a", metavar="A")
@click.argument("run_b", metavar="B")
@click.option("--all", "show_all", is_flag=True, help="Also list the values that are the same.")
def compare_runs(run_a: str, run_b: str, show_all: bool) -> None:
    """Parameters and metrics of runs A and B side by side; differences are marked with *.

    A and B are run ids, unique prefixes or 'latest'.
    """
    from flowyml.metadata.comparison import compare

    client = _client()
    a, b = client.get_run(run_a), client.get_run(run_b)
    result = compare(client, a, b)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    rows = [("*" if r.differs else "", r.kind, r.name, _cell(r.a), _cell(r.b)) for r in result.rows if show_all or r.differs]
    click.echo(f"A: {a.run_id} ({a.pipeline_name}, {a.status})\nB: {b.run_id} ({b.pipeline_name}, {b.status})\n")
    if not rows:
        click.echo("No differences in parameters or metrics." + ("" if show_all else " (--all lists them)"))
        return
    table(rows, ("", "KIND", "NAME", "A", "B"))
    same = sum(1 for r in result.rows if not r.differs)
    if same and not show_all:
        click.echo(f"\n{same} more are the same (--all lists them)")


def _cell(value: Any) -> str:
    from flowyml.metadata.comparison import MISSING

    if value is MISSING:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return value if isinstance(value, str) else json.dumps(value, default=str)


@runs.command("delete")
@click.argument("run_refs", metavar="RUN...", nargs=-1, required=True)
@click.option("--artifacts", "with_artifacts", is_flag=True, help="Also delete the stored artifacts only these runs use.")
@click.option("--dry-run", is_flag=True, help="Only list what would be deleted.")
def delete_runs(run_refs: tuple[str, ...], with_artifacts: bool, dry_run: bool) -> None:
    """Delete the records of RUN (ids, unique prefixes or 'latest'), and with --artifacts their artifacts.

    An artifact another run still uses, or that a registered model version
    points to, is kept (and the reason printed).
    """
    from flowyml.metadata import queries

    client = _client()
    run_ids = [queries.resolve_run_id(client.metadata, ref) for ref in run_refs]
    running = [r for r in run_ids if effective_status(queries.run_row(client.metadata, r)) == "running"]  # a crashed run may go
    if running:
        from flowyml.errors import FlowymlError

        raise FlowymlError(f"run {running[0]} is still running; it cannot be deleted", hint="wait for it to end")
    report_deletion(client, run_ids, with_artifacts, dry_run)


def report_deletion(client: Any, run_ids: list[str], with_artifacts: bool, dry_run: bool) -> None:
    """Plan, print and (unless ``dry_run``) carry out the deletion of ``run_ids`` (shared with ``flowyml gc``)."""
    from flowyml.metadata.deletion import delete, plan_deletion

    plan = plan_deletion(client, run_ids, artifacts=with_artifacts)
    verb = "Would delete" if dry_run else "Deleting"
    click.echo(f"{verb} {len(plan.runs)} run record(s): {', '.join(plan.runs)}")
    for artifact in plan.artifacts:
        click.echo(f"  {'would delete' if dry_run else 'delete'} artifact {artifact.artifact_id[:12]} ({artifact.step_name}.{artifact.output_name}) at {artifact.uri}")
    for kept in plan.kept:
        click.echo(f"  keep artifact {kept.artifact.artifact_id[:12]} ({kept.artifact.step_name}.{kept.artifact.output_name}): {kept.reason}")
    if not with_artifacts and plan.artifact_records:
        click.echo(f"  the {len(plan.artifact_records)} artifact(s) they stored stay in their stores (--artifacts deletes them)")
    if dry_run:
        return
    delete(client, plan)
    click.echo(f"Deleted {len(plan.runs)} run(s)" + (f" and {len(plan.artifacts)} artifact(s)" if with_artifacts else ""))
