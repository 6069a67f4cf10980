"""One artifact: where it is, what it is, a preview, its lineage, and its files as a download."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from flowyml import Client
from flowyml.errors import ArtifactError, RunNotFoundError
from flowyml.runner.result import StoredArtifact
from flowyml_ui.previews import preview
from flowyml_ui.web import NotFound, check_id, page, render


def _artifact(client: Client, artifact_id: str) -> StoredArtifact:
    check_id(artifact_id, "artifact")
    try:
        return client.get_artifact(artifact_id)
    except ArtifactError as exc:  # unknown or ambiguous id
        raise NotFound(exc.message) from exc


@page
def artifact_page(request: Request, client: Client) -> Response:
    from flowyml.cli.artifacts import fetched

    art = _artifact(client, request.path_params["artifact_id"])
    try:
        producer, producer_gone = art.producer, None
    except RunNotFoundError as exc:
        producer, producer_gone = None, exc.message
    shown = None
    problem = None
    try:
        with fetched(client, art) as (directory, manifest):
            shown = preview(directory, manifest)
    except ArtifactError as exc:  # gone from the store, bytes not matching the record, stack no longer defined
        problem = exc.message
    info = {k: json.dumps(v, default=str, sort_keys=True, indent=1) if isinstance(v, (dict, list)) else str(v) for k, v in (art.info or {}).items() if v not in (None, "", {}, [])}
    return render(
        request,
        "artifact.html",
        title=f"Artifact {art.artifact_id[:12]}",
        art=art,
        info=info,
        producer=producer,
        producer_gone=producer_gone,
        consumers=art.consumers,
        preview=shown,
        problem=problem,
    )


@page
def download(request: Request, client: Client) -> Response:
    """The artifact's files (data and flowyml.json manifest) as a zip, after checking them against the record."""
    from flowyml.cli.artifacts import fetched

    art = _artifact(client, request.path_params["artifact_id"])
    buffer = io.BytesIO()
    with fetched(client, art) as (directory, _manifest), zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(Path(directory).rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(directory).as_posix())
    name = f"artifact-{art.artifact_id[:12]}.zip"  # ids are [A-Za-z0-9._-]: a safe header value
    return Response(buffer.getvalue(), media_type="application/zip", headers={"Content-Disposition": f'attachment; filename="{name}"'})
