"""The old-runs part of ``flowyml gc``: runs beyond ``--keep-last`` or older than ``--older-than``.

Selected runs are deleted like ``flowyml runs delete`` deletes them (their
records; with ``--artifacts`` the artifacts only they use, never one another
run or a registered model version still uses). Running runs are never
selected. Without ``--keep-last`` or ``--older-than`` no run is touched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

__all__ = ["collect_old_runs", "old_run_options"]


def old_run_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options of ``flowyml gc`` that select old runs."""
    for option in reversed(
        (
            click.option("--keep-last", type=click.IntRange(min=0), help="Delete the runs of each pipeline beyond its newest N."),
            click.option("--older-than", "older_than_days", type=click.FloatRange(min=0), metavar="DAYS", help="Delete runs started more than DAYS days ago."),
            click.option("--pipeline", help="Only runs of this pipeline (with --keep-last/--older-than)."),
            click.option("--artifacts", "with_artifacts", is_flag=True, help="Also delete the stored artifacts only those runs use."),
            click.option("--dry-run", is_flag=True, help="Only list what would be deleted."),
        )
    ):
        command = option(command)
    return command


def collect_old_runs(
    *, keep_last: int | None, older_than_days: float | None, pipeline: str | None, with_artifacts: bool, dry_run: bool
) -> int:
    """Delete (or with ``dry_run`` list) the selected old runs; returns how many were selected."""
    if keep_last is None and older_than_days is None:
        if pipeline or with_artifacts:
            raise click.UsageError("--pipeline and --artifacts select old runs only with --keep-last or --older-than")
        return 0
    from flowyml.cli.runs import report_deletion
    from flowyml.client import Client
    from flowyml.metadata.deletion import old_run_ids

    client = Client()
    run_ids = old_run_ids(client, older_than_days=older_than_days, keep_last=keep_last, pipeline=pipeline)
    if not run_ids:
        click.echo("runs: none selected")
        return 0
    report_deletion(client, run_ids, with_artifacts, dry_run)
    return len(run_ids)
