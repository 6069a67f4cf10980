"""An artifact store over any fsspec filesystem (the base of local, s3 and gcs).

Saving stages the artifact in a local temporary directory, uploads its data
files, and uploads the ``flowyml.json`` manifest last: an interrupted save
leaves no manifest, so nothing at the final key loads as a complete artifact.
A store whose backend can create an object only if none is there
(:meth:`FsspecArtifactStore.put_new`; S3) saves a flat artifact up to
:meth:`FsspecArtifactStore.pack_limit` bytes as ONE object instead: its
packed form (:mod:`flowyml.stores.packed`) at ``KEY/flowyml.json``, written
by one conditional request that is both the "nothing stored here yet" check
and the write. Readers GET ``KEY/flowyml.json`` first and unpack it when it is
a pack; otherwise it is a folder artifact's manifest, and the rest is listed
and downloaded. ``exists`` and ``delete`` look at the same key for both.
Transient failures are retried with backoff; permanent ones fail at once.
A save that fails or is interrupted (Ctrl-C) also ends the unfinished uploads
it started (:meth:`FsspecArtifactStore.abort_uploads`: S3 multipart uploads,
GCS resumable sessions), and so does a save whose upload was retried.
"""

from __future__ import annotations

import logging
import posixpath
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, ClassVar

from flowyml.errors import ArtifactError, FlowymlError, StoreError
from flowyml.plugins.component import Component
from flowyml.plugins.markers import hookimpl
from flowyml.serialization.artifact_io import MANIFEST
from flowyml.stores.packed import MAGIC, pack_folder, unpack
from flowyml.stores.staging import TEMP_PREFIX, new_temp_staging, sweep_once

log = logging.getLogger("flowyml.stores")

#: Files at least this large report upload/download progress in the log.
PROGRESS_THRESHOLD = 64 * 1024 * 1024
#: A fetch reads at most this much of ``flowyml.json`` in its first GET when the store packs nothing.
MANIFEST_READ = 2**20


class FsspecArtifactStore(Component):
    """Artifact store over an fsspec filesystem. Subclasses give the filesystem and the root.

    Override :meth:`make_filesystem`, :meth:`root` (``bucket/prefix`` without
    the protocol), ``protocol`` and, for clear errors, :meth:`translate_error`.
    """

    kind = "artifact_store"
    protocol: ClassVar[str] = "file"
    #: Artifact types always saved as a folder, never packed: the model deployers and serving
    #: containers (SageMaker's ModelDataUrl, Vertex's artifact_uri) read a Model's folder.
    keep_as_folder: ClassVar[frozenset[str]] = frozenset({"Model"})
    #: Attempts per transfer (transient errors only); backends may set it per instance from their options.
    max_attempts: int = 4
    backoff: float = 0.5

    def __init__(self, options: Any, context: Any) -> None:
        super().__init__(options, context)
        self._fs: Any = None
        #: Failed attempts retried so far (a retried upload may have left an unfinished upload behind).
        self.retries = 0

    # -- what subclasses provide ------------------------------------------------------

    def make_filesystem(self) -> Any:
        raise NotImplementedError

    def root(self) -> str:
        raise NotImplementedError

    def abort_uploads(self, dest: str) -> list[str]:
        """End the unfinished uploads under ``dest`` (a failed save's); return what was ended.

        Backends whose uploads can be left open override it: S3 aborts multipart
        uploads, GCS cancels resumable sessions. The default has nothing to end.
        """
        return []

    def pack_limit(self) -> int:
        """The largest packed artifact (bytes) saved as one object; 0 (the default): every artifact is a folder.

        A backend returning more than 0 must implement :meth:`put_new`.
        """
        return 0

    def pack_read_limit(self) -> int:
        """The most a fetch reads of ``KEY/flowyml.json`` in its first GET: any pack this store may have written.

        Backends whose pack limit depends on options return the largest it can be.
        """
        return max(self.pack_limit(), MANIFEST_READ)

    def put_new(self, data: bytes | bytearray, remote: str) -> bool:
        """Upload ``data`` to ``remote`` only if no object is there, in one conditional request.

        Return ``False`` when an object is already there (nothing written).
        Needed by backends whose :meth:`pack_limit` is above 0.
        """
        raise NotImplementedError

    def object_exists(self, remote: str) -> bool:
        """Whether the object (a file, not a folder) ``remote`` exists. Backends may answer it in fewer requests."""
        return bool(self.fs.exists(remote))

    def translate_error(self, exc: Exception, action: str) -> FlowymlError:
        """Turn a filesystem exception into a StoreError (``transient=True`` to retry)."""
        transient = isinstance(exc, ConnectionError | TimeoutError)
        return StoreError(f"{self.type} store: {action} failed: {type(exc).__name__}: {exc}", transient=transient)

    # -- helpers -------------------------------------------------------------------------------

    @property
    def fs(self) -> Any:
        if self._fs is None:
            self._fs = self.make_filesystem()
        return self._fs

    def path_of(self, key: str) -> str:
        return posixpath.join(self.root(), key)

    def uri_of_path(self, path: str) -> str:
        return f"{self.protocol}://{path}" if self.protocol != "file" else path

    def path_of_uri(self, uri: str) -> str:
        prefix = f"{self.protocol}://"
        path = uri[len(prefix) :] if uri.startswith(prefix) else uri
        root = self.root().rstrip("/")
        if not (path == root or path.startswith(root + "/")):
            raise ArtifactError(
                f"{uri} is not inside the {self.type} artifact store of stack {self.context.stack_name!r} ({self.uri_of_path(root)})",
                hint="load it with the stack that stored it",
            )
        return path

    def attempt(self, action: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Call ``fn``; its failures become :meth:`translate_error`'s errors, the transient ones retried (flowyml.retries)."""
        from flowyml.retries import RetryPolicy, call_with_retries

        return call_with_retries(
            lambda: fn(*args, **kwargs),
            f"{self.type} store: {action}",
            policy=RetryPolicy(attempts=self.max_attempts, backoff=self.backoff),
            translate=lambda exc: self.translate_error(exc, action),
            sleep=self._before_retry,
        )

    def _before_retry(self, delay: float) -> None:
        self.retries += 1  # a retried upload may have left its first try open: see flowyml_artifact_store_save
        time.sleep(delay)

    def transfer_options(self, size: int) -> dict[str, Any]:
        """Extra keyword arguments for ``fs.put_file`` (part size, concurrency...). Override per backend."""
        return {}

    def download_options(self, size: int) -> dict[str, Any]:
        """Extra keyword arguments for ``fs.get_file`` of an object of ``size`` bytes. Override per backend."""
        return {}

    def put_kwargs(self, local: Path, remote: str) -> dict[str, Any]:
        """Keyword arguments for ``fs.put_file`` of ``local``: the transfer plan, and a progress log for large files."""
        size = local.stat().st_size
        kwargs = self.transfer_options(size)
        if size >= PROGRESS_THRESHOLD:
            from flowyml.stores.progress import TransferProgress

            kwargs.setdefault("callback", TransferProgress(f"upload {self.uri_of_path(remote)}", size))
        return kwargs

    def _put(self, local: Path, remote: str) -> None:
        self.attempt(f"uploading {remote}", self.fs.put_file, str(local), remote, **self.put_kwargs(local, remote))

    def _refusal(self, dest: str) -> StoreError:
        return StoreError(
            f"an artifact already exists at {self.uri_of_path(dest)}; refusing to overwrite it",
            hint="make the routing path template unique per run (include {run_id})",
        )

    def _refuse_if_stored(self, dest: str) -> None:
        if self.attempt(f"checking {dest}", self.object_exists, posixpath.join(dest, MANIFEST)):
            raise self._refusal(dest)

    # -- hooks ------------------------------------------------------------------------------------

    @hookimpl
    def flowyml_artifact_store_uri(self, key: str) -> str:
        return self.uri_of_path(self.path_of(key))

    @hookimpl
    def flowyml_artifact_store_save(self, key: str, write: Any) -> str:
        dest = self.path_of(key)
        limit = self.pack_limit()
        if not limit:  # fail before serializing; a packing store learns it from its one conditional PUT
            self._refuse_if_stored(dest)
        sweep_once(Path(tempfile.gettempdir()), TEMP_PREFIX)  # staging left by killed processes
        # A small value packed in memory (flowyml.serialization.writer) goes up as it is: no local staging
        # folder to write, read back and delete. Other writers (plain functions) stage a folder first.
        in_memory = getattr(write, "packed", None) if limit else None
        packed = in_memory(limit, self.keep_as_folder) if in_memory is not None else None
        work = new_temp_staging() if packed is None else None
        staging = work / "artifact" if work is not None else None
        retries = self.retries
        created = True
        try:
            if staging is not None:
                staging.mkdir()
                write(staging)
                packed = pack_folder(staging, limit, self.keep_as_folder) if limit else None
            if packed is not None:
                created = self.put_new(packed, posixpath.join(dest, MANIFEST))  # one object, one request
            else:
                if limit:
                    self._refuse_if_stored(dest)
                assert staging is not None  # only a staged artifact is left unpacked
                self._put_folder(staging, dest, retries)
        except BaseException:
            self._end_uploads(dest)
            raise
        finally:
            if work is not None:
                shutil.rmtree(work, ignore_errors=True)
        if not created:
            raise self._refusal(dest)
        return self.uri_of_path(dest)

    def _put_folder(self, staging: Path, dest: str, retries: int) -> None:
        """The folder layout: every data file, then the manifest last (it marks the artifact complete)."""
        files = sorted(p for p in staging.rglob("*") if p.is_file() and p.relative_to(staging).as_posix() != MANIFEST)
        for local in files:
            self._put(local, posixpath.join(dest, local.relative_to(staging).as_posix()))
        if self.retries != retries:  # a retried upload may have left its first try open
            self._end_uploads(dest)
        self._put(staging / MANIFEST, posixpath.join(dest, MANIFEST))

    def _end_uploads(self, dest: str) -> None:
        """:meth:`abort_uploads`, never raising: the save's own error is the one to report."""
        try:
            ended = self.abort_uploads(dest)
        except Exception as exc:
            log.warning(
                "could not end the unfinished uploads under %s: %s: %s (the storage service may keep "
                "their parts until a lifecycle rule removes them)", self.uri_of_path(dest), type(exc).__name__, exc,
            )
            return
        if ended:
            log.info("ended %d unfinished upload(s) under %s", len(ended), self.uri_of_path(dest))

    @hookimpl
    def flowyml_artifact_store_fetch(self, uri: str, scratch: Path) -> Path:
        """GET ``flowyml.json``: a pack is unpacked (one request in all); a folder's manifest is followed by one listing and a GET per file.

        The first GET reads at most :meth:`pack_read_limit` bytes (+1, to tell
        a longer object): memory stays bounded whatever is stored at the key.
        """
        path = self.path_of_uri(uri)
        scratch = Path(scratch)
        scratch.mkdir(parents=True, exist_ok=True)
        manifest = scratch / MANIFEST
        remote_manifest = posixpath.join(path, MANIFEST)
        limit = self.pack_read_limit()
        head = self.attempt(f"downloading {self.uri_of_path(remote_manifest)}", self._read_start, remote_manifest, limit)
        if head is None:
            raise ArtifactError(
                f"no complete artifact at {uri} (its {MANIFEST} is missing)",
                hint="the artifact was deleted or its upload was interrupted; re-run the step that produced it",
            )
        if head.startswith(MAGIC):  # one object: checked and unpacked (a longer one fails the size check)
            return unpack(head, scratch, uri)
        if len(head) <= limit:
            manifest.write_bytes(head)
        else:  # a folder's manifest longer than one read: fetch it whole
            self.attempt(f"downloading {self.uri_of_path(remote_manifest)}", self.fs.get_file, remote_manifest, str(manifest))
        listed = self.attempt(f"listing {uri}", self.fs.find, path, detail=True)  # one request: files and sizes
        for remote, info in sorted(listed.items()):
            rel = posixpath.relpath(remote.split("://", 1)[-1], path)
            if rel == MANIFEST:  # already here
                continue
            local = scratch / rel
            local.parent.mkdir(parents=True, exist_ok=True)
            kwargs = self.download_options(int(info.get("size") or 0))
            self.attempt(f"downloading {remote}", self.fs.get_file, remote, str(local), **kwargs)
        return scratch

    def _read_start(self, remote: str, limit: int) -> bytes | None:
        """The first ``limit`` + 1 bytes of ``remote`` (one ranged GET), or ``None`` when nothing is there."""
        try:
            return bytes(self.fs.cat_file(remote, start=0, end=limit + 1))
        except FileNotFoundError as exc:
            if self.is_missing_object(exc):
                return None
            raise

    def is_missing_object(self, exc: FileNotFoundError) -> bool:
        """Whether ``exc`` (from reading ``flowyml.json``) says the object is not there, rather than e.g. its bucket."""
        return True

    @hookimpl
    def flowyml_artifact_store_exists(self, uri: str) -> bool:
        try:
            path = self.path_of_uri(uri)
        except ArtifactError:
            return False
        return bool(self.attempt(f"checking {uri}", self.object_exists, posixpath.join(path, MANIFEST)))

    @hookimpl
    def flowyml_artifact_store_delete(self, uri: str) -> bool:
        path = self.path_of_uri(uri)
        stored = {remote.split("://", 1)[-1] for remote in self.attempt(f"listing {uri}", self.fs.find, path)}
        if not stored:
            return False
        manifest = posixpath.join(path, MANIFEST)
        if manifest in stored:  # first: the artifact is no longer complete (a pack is that one object)
            self.attempt(f"deleting {manifest}", self.fs.rm_file, manifest)
            stored.discard(manifest)
        if stored:
            self.attempt(f"deleting {uri}", self.fs.rm, sorted(stored))
        return True

    @hookimpl
    def flowyml_component_check(self) -> list[str]:
        probe = posixpath.join(self.root(), f".flowyml-check-{uuid.uuid4().hex[:8]}")
        self.attempt(f"writing {self.uri_of_path(probe)}", self.fs.pipe_file, probe, b"flowyml")
        data = self.attempt(f"reading {self.uri_of_path(probe)}", self.fs.cat_file, probe)
        self.attempt(f"deleting {self.uri_of_path(probe)}", self.fs.rm_file, probe)
        if data != b"flowyml":
            raise StoreError(f"{self.uri_of_path(probe)} read back different bytes than were written")
        return [f"{self.uri_of_path(self.root())} is writable and readable"]
