"""``flowyml artifacts list|show|download|lineage``."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from flowyml.cli.output import table
from flowyml.errors import ArtifactError, RunNotFoundError


def _client() -> Any:
    from flowyml.client import Client

    return Client()


@click.group()
def artifacts() -> None:
    """Stored artifacts."""


@artifacts.command("list")
@click.option("--run", "run_id", help="Only this run's artifacts (an id, a unique prefix or 'latest').")
@click.option("--limit", "-n", default=50, show_default=True)
def list_artifacts(run_id: str | None, limit: int) -> None:
    """Artifacts, newest first: type, size, hash and where they are stored."""
    from flowyml.metadata import queries

    client = _client()
    if run_id:
        run_id = queries.resolve_run_id(client.metadata, run_id)
    rows = client.metadata.list_artifacts(run_id, limit=limit)
    if not rows:
        click.echo("No artifacts yet.")
        return
    table(
        [(a["artifact_id"][:12], a["run_id"], a["out_step"], a["out_name"], a["artifact_type"], a["size"], a["uri"]) for a in rows],
        ("ID", "RUN", "STEP", "OUTPUT", "TYPE", "BYTES", "URI"),
    )


@contextmanager
def fetched(client: Any, artifact: Any) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The artifact's verified local directory and manifest, through the store of its run's stack."""
    from flowyml.runner.loading import expected_of
    from flowyml.serialization.artifact_io import read_manifest, verify

    stack = client.stack_for_artifact(artifact)
    scratch = Path(tempfile.mkdtemp(prefix="flowyml-show-"))
    try:
        local = stack.artifact_store.fetch(artifact.uri, scratch)
        manifest = read_manifest(local)
        verify(local, manifest, expected_of(artifact))
        yield local, manifest
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _where(step: Any) -> str:
    return f"{step.name} of run {step.run_id} ({step.status})"


def _producer(art: Any) -> str:
    try:
        return _where(art.producer)
    except RunNotFoundError:
        return f"{art.step_name} of run {art.run_id} (that run was deleted)"


@artifacts.command("show")
@click.argument("artifact_ref", metavar="ID")
@click.option("--no-preview", is_flag=True, help="Do not read the stored data.")
def show_artifact(artifact_ref: str, no_preview: bool) -> None:
    """Where ID is stored, what it is, who made and read it, and a preview of its value.

    ID is an artifact id or a unique prefix of one.
    """
    from flowyml.preview import preview_lines

    client = _client()
    art = client.get_artifact(artifact_ref)
    info = art.info or {}
    click.echo(f"Artifact {art.artifact_id}")
    click.echo(f"  type:       {art.artifact_type}" + (f" ({art.python_type})" if art.python_type else ""))
    click.echo(f"  uri:        {art.uri}")
    click.echo(f"  size:       {art.size} bytes")
    click.echo(f"  sha256:     {art.content_hash}")
    click.echo(f"  serializer: {art.serializer}")
    for key in ("name", "format", "framework", "version"):
        if info.get(key):
            click.echo(f"  {key + ':':<11} {info[key]}")
    for key in ("schema", "statistics", "input_schema", "metadata"):
        if info.get(key):
            click.echo(f"  {key + ':':<11} {json.dumps(info[key], default=str, sort_keys=True)}")
    click.echo(f"  produced by: {_producer(art)}, output {art.output_name!r}")
    consumers = art.consumers
    click.echo("  consumed by: " + (", ".join(_where(c) for c in consumers) if consumers else "(no step read it)"))
    if no_preview:
        return
    click.echo("\nPreview")
    try:
        with fetched(client, art) as (directory, manifest):
            lines = preview_lines(directory, manifest)
    except ArtifactError as exc:
        lines = [f"(not available: {exc.message})"]
    for line in lines:
        click.echo(f"  {line}")


@artifacts.command("download")
@click.argument("artifact_ref", metavar="ID")
@click.argument("dest", type=click.Path(path_type=Path))
def download_artifact(artifact_ref: str, dest: Path) -> None:
    """Copy ID's files (its data and flowyml.json manifest) out of its store into the folder DEST.

    The bytes are checked against the recorded sha256 first. DEST must not exist
    or be an empty folder.
    """
    client = _client()
    art = client.get_artifact(artifact_ref)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ArtifactError(f"{dest} already exists and is not an empty folder", hint="pick a new folder name")
    with fetched(client, art) as (directory, manifest):
        dest.mkdir(parents=True, exist_ok=True)
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                target = dest / path.relative_to(directory)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
    click.echo(f"Copied {art.artifact_id[:12]} ({len(manifest['files'])} file(s), {art.size} bytes) from {art.uri} to {dest}")


@artifacts.command("lineage")
@click.argument("artifact_ref", metavar="ID")
@click.option("--depth", default=10, show_default=True, help="How many steps up and down to follow.")
def lineage(artifact_ref: str, depth: int) -> None:
    """The tree of steps and artifacts upstream of ID (what it was made from) and downstream (what was made from it)."""
    client = _client()
    art = client.get_artifact(artifact_ref)
    click.echo(_label(art))
    click.echo("upstream (made from):")
    lines = list(_upstream(client, art, depth, "  ", set()))
    for line in lines or ["  (nothing)"]:
        click.echo(line)
    click.echo("downstream (made from it):")
    lines = list(_downstream(client, art, depth, "  ", set()))
    for line in lines or ["  (nothing)"]:
        click.echo(line)


def _label(art: Any) -> str:
    return f"{art.artifact_id[:12]} {art.artifact_type} {art.step_name}.{art.output_name} (run {art.run_id})"


def _upstream(client: Any, art: Any, depth: int, indent: str, seen: set[str]) -> Iterator[str]:
    try:
        producer = art.producer
    except RunNotFoundError:
        yield f"{indent}<- step {art.step_name} (run {art.run_id}, deleted)"
        return
    yield f"{indent}<- step {producer.name} (run {producer.run_id}, {producer.status})"
    if art.artifact_id in seen or depth <= 0:
        return
    seen.add(art.artifact_id)
    for name, parent in producer.inputs.items():
        yield f"{indent}   <- {name}: {_label(parent)}"
        yield from _upstream(client, parent, depth - 1, indent + "      ", seen)


def _downstream(client: Any, art: Any, depth: int, indent: str, seen: set[str]) -> Iterator[str]:
    if art.artifact_id in seen or depth <= 0:
        return
    seen.add(art.artifact_id)
    for consumer in art.consumers:
        yield f"{indent}-> step {consumer.name} (run {consumer.run_id}, {consumer.status})"
        for child in consumer.outputs.values():
            yield f"{indent}   -> {_label(child)}"
            yield from _downstream(client, child, depth - 1, indent + "      ", seen)
