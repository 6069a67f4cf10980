"""``flowyml gc``: remove what interrupted or killed runs left behind.

One function per kind of garbage, each returning what it removed; the command
runs them all and prints one line per kind. Today: staging folders of dead
processes (:func:`collect_staging`); old runs, when asked
(:func:`flowyml.cli.gc_runs.collect_old_runs`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from flowyml.cli.gc_runs import collect_old_runs, old_run_options
from flowyml.config.schema import ProjectConfig
from flowyml.plugins.kinds import Kind
from flowyml.stores.staging import TEMP_PREFIX, Swept, sweep

#: Where the local artifact store keeps its staging folders, under its root.
LOCAL_STAGING = ".staging"
DEFAULT_LOCAL_ROOT = "./artifacts"


def staging_folders(project: ProjectConfig) -> list[tuple[Path, str]]:
    """``(folder, prefix)`` of every place the project's stores stage artifacts.

    The local store's ``ROOT/.staging`` of each stack (a ``path`` holding a
    ``${VAR}`` is read with the variable from the environment, and skipped when
    it is unset), and the system temp folder the other stores stage in.
    """
    places: dict[Path, str] = {}
    for stack in project.stacks.values():
        store = stack.component(Kind.ARTIFACT_STORE)
        if store is None or store.type != "local":
            continue
        raw = os.path.expandvars(str(store.options.get("path") or DEFAULT_LOCAL_ROOT))
        if "$" in raw:
            continue
        root = Path(os.path.expanduser(raw))
        root = root if root.is_absolute() else project.project_dir / root
        places[(root / LOCAL_STAGING).resolve()] = ""
    places[Path(tempfile.gettempdir())] = TEMP_PREFIX
    return sorted(places.items())


def collect_staging(project: ProjectConfig) -> Swept:
    """Remove staging folders whose process is dead (and, untouched for an hour, ones that name no owner)."""
    swept = Swept()
    for folder, prefix in staging_folders(project):
        swept.add(sweep(folder, prefix, unowned=True))
    return swept


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size} bytes"


@click.command("gc")
@click.option("--verbose", "-v", is_flag=True, help="Also list what was kept, and why.")
@old_run_options
def gc(
    verbose: bool, keep_last: int | None, older_than_days: float | None, pipeline: str | None, with_artifacts: bool, dry_run: bool
) -> None:
    """Remove what killed or interrupted runs left behind, and report the space reclaimed.

    With --keep-last N or --older-than DAYS, also delete old runs (as `flowyml
    runs delete` does; --artifacts for their artifacts, --dry-run to list them).
    """
    from flowyml.config.loader import load_project

    collect_old_runs(keep_last=keep_last, older_than_days=older_than_days, pipeline=pipeline, with_artifacts=with_artifacts, dry_run=dry_run)
    if dry_run:
        click.echo("staging: not swept (--dry-run)")
        return
    project = load_project()
    staging = collect_staging(project)
    click.echo(f"staging: removed {staging.folders} folder(s) of dead processes, {_mb(staging.bytes)} reclaimed")
    if staging.kept:
        click.echo(f"staging: kept {len(staging.kept)} folder(s)" + ("" if verbose else " (--verbose lists them)"))
        if verbose:
            for path, why in staging.kept:
                click.echo(f"  {path}: {why}")
