"""One artifact: where it is, what it is, a preview, its lineage, and its files as a download."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import attrs
from starlette.requests import Request
from starlette.responses import Response

from flowyml import Client
from flowyml.errors import ArtifactError, RunNotFoundError
from flowyml.runner.result import StepRun, StoredArtifact
from flowyml_ui.masking import masked
from flowyml_ui.previews import Preview, preview
from flowyml_ui.web import NotFound, check_id, page, render


def get_artifact(client: Client, artifact_id: str) -> StoredArtifact:
    """The artifact of a URL's id (checked first); an unknown or ambiguous id is a 404."""
    check_id(artifact_id, "artifact")
    try:
        return client.get_artifact(artifact_id)
    except ArtifactError as exc:  # unknown or ambiguous id
        raise NotFound(exc.message) from exc


@attrs.frozen
class ArtifactView:
    """What the artifact page shows (and its JSON twin gives)."""

    art: StoredArtifact
    #: The artifact's recorded info (schema, statistics, ...), secrets masked.
    info: dict[str, Any]
    producer: StepRun | None
    #: Why the producer is not shown (its run was deleted).
    producer_gone: str | None
    consumers: list[StepRun]
    preview: Preview | None
    #: Why there is no preview (gone from the store, bytes not matching the record, stack no longer defined).
    problem: str | None


def artifact_view(client: Client, artifact_id: str) -> ArtifactView:
    from flowyml.cli.artifacts import fetched

    art = get_artifact(client, artifact_id)
    try:
        producer, producer_gone = art.producer, None
    except RunNotFoundError as exc:
        producer, producer_gone = None, exc.message
    shown = None
    problem = None
    try:
        with fetched(client, art) as (directory, manifest):
            shown = preview(directory, manifest)
    except ArtifactError as exc:
        problem = exc.message
    info = {k: v for k, v in masked(art.info or {}).items() if v not in (None, "", {}, [])}
    return ArtifactView(art, info, producer, producer_gone, art.consumers, shown, problem)


def _text(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True, indent=1) if isinstance(value, dict | list) else str(value)


@page
def artifact_page(request: Request, client: Client) -> Response:
    view = artifact_view(client, request.path_params["artifact_id"])
    return render(
        request,
        "artifact.html",
        title=f"Artifact {view.art.artifact_id[:12]}",
        art=view.art,
        info={k: _text(v) for k, v in view.info.items()},
        producer=view.producer,
        producer_gone=view.producer_gone,
        consumers=view.consumers,
        preview=view.preview,
        problem=view.problem,
        json_url=f"/artifacts/{view.art.artifact_id}.json",
    )


@page
def download(request: Request, client: Client) -> Response:
    """The artifact's files (data and flowyml.json manifest) as a zip, after checking them against the record."""
    from flowyml.cli.artifacts import fetched

    art = get_artifact(client, request.path_params["artifact_id"])
    buffer = io.BytesIO()
    with fetched(client, art) as (directory, _manifest), zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(Path(directory).rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(directory).as_posix())
    name = f"artifact-{art.artifact_id[:12]}.zip"  # ids are [A-Za-z0-9._-]: a safe header value
    return Response(buffer.getvalue(), media_type="application/zip", headers={"Content-Disposition": f'attachment; filename="{name}"'})
