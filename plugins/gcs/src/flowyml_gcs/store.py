"""The ``gcs`` artifact store: artifacts as objects in a Google Cloud Storage bucket.

This is the entry-point module (``flowyml.artifact_stores: gcs``): it must
import without gcsfs. gcsfs is imported when the filesystem is first needed.

Saving follows :class:`flowyml.stores.FsspecArtifactStore`: stage locally,
upload the data files (``put_file`` streams from disk; files of 5 MB and more
go through GCS resumable uploads in ``upload_chunk_mb`` chunks), then upload
the ``flowyml.json`` manifest last, so an interrupted save never leaves a
loadable artifact at the final key.

Fetching lists the artifact's folder once: the listing both proves the
manifest is there and gives every file's size, so files below gcsfs'
concurrent-download threshold are fetched with one GET each, without the
metadata request gcsfs would otherwise make per file.
"""

from __future__ import annotations

import contextlib
import posixpath
from pathlib import Path
from typing import Any, ClassVar

import flowyml
from flowyml.errors import ArtifactError, FlowymlError, StoreError
from flowyml.plugins.component import OptionProblem
from flowyml.serialization.artifact_io import MANIFEST
from flowyml.stores import FsspecArtifactStore
from flowyml_gcs.errors import GcsErrorTranslator
from flowyml_gcs.options import GcsStoreOptions, problems

DEFAULT_ENDPOINT = "https://storage.googleapis.com"

MIB = 2**20

#: gcsfs downloads a file with several concurrent range requests only from this size
#: (``GCSFileSystem._get_threshold_for_disk_reads``); below it, it first asks for the
#: object's metadata and then makes one plain GET anyway.
CONCURRENT_DOWNLOAD_THRESHOLD = 100 * MIB


class GcsArtifactStore(FsspecArtifactStore):
    """Artifact store on ``gs://bucket/prefix``."""

    Options = GcsStoreOptions
    protocol: ClassVar[str] = "gs"

    def __init__(self, options: GcsStoreOptions, context: Any) -> None:
        super().__init__(options, context)
        self._bucket_checked = False
        self.max_attempts = options.max_attempts  # the base class's retry policy reads it

    @classmethod
    def check_options(cls, options: GcsStoreOptions) -> list[OptionProblem]:
        return problems(options)

    # -- what FsspecArtifactStore needs --------------------------------------------------

    def make_filesystem(self) -> Any:
        from flowyml_gcs.filesystem import make_gcsfs

        return make_gcsfs(self.options)

    def root(self) -> str:
        return str(self.options.root)

    def pack_limit(self) -> int:
        """0: every artifact stays a folder (data files, manifest last), unlike the s3 store's one-object saves.

        gcsfs could create an object only if none exists (``mode="create"``,
        ``ifGenerationMatch=0``), but the GCS emulator the tests run against
        ignores that precondition, so a one-object save's refusal to overwrite
        could not be tested here.
        """
        return 0

    def transfer_options(self, size: int) -> dict[str, Any]:
        """``put_file`` keywords: resumable uploads in ``upload_chunk_mb`` chunks."""
        return {"chunksize": int(self.options.upload_chunk_mb) * MIB}

    def abort_uploads(self, dest: str) -> list[str]:
        """Cancel the resumable upload sessions this store opened under ``dest`` (a DELETE to each session URI).

        Sessions of files that finished uploading are forgotten as each file
        completes, so what is left here belongs to the failed save. GCS answers
        a cancelled session with 499 and a finished or unknown one with 404:
        both mean the session is no longer open; any other answer is raised.
        """
        sessions = getattr(self.fs, "resumable_sessions", {})
        ended: list[str] = []
        for name in [n for n in sessions if n.startswith(dest.rstrip("/") + "/")]:
            location = sessions.pop(name)
            with contextlib.suppress(FileNotFoundError):  # 404: the session had finished or expired
                self.fs.call("DELETE", location)  # gcsfs takes 499 (cancelled) as success
            ended.append(f"gs://{name}")
        return ended

    def _put(self, local: Path, remote: str) -> None:
        super()._put(local, remote)
        getattr(self.fs, "resumable_sessions", {}).pop(remote, None)  # complete: nothing to cancel

    def download_options(self, size: int) -> dict[str, Any]:
        """``get_file`` keywords for a file of ``size`` bytes (known from the listing).

        Below gcsfs' concurrent-download threshold, ``concurrency=1`` sends the one
        GET straight away instead of first fetching the object's metadata to learn
        its size. Older gcsfs (no concurrent downloads) would pass an unknown keyword
        on as a query parameter, so nothing is added there.
        """
        if size < CONCURRENT_DOWNLOAD_THRESHOLD and hasattr(self.fs, "_get_file_concurrent"):
            return {"concurrency": 1}
        return {}

    def _listing(self, path: str) -> dict[str, Any]:
        """``{object path: info}`` of every object under ``path`` (empty when the bucket is missing)."""
        try:
            return dict(self.fs.find(path, detail=True))
        except FileNotFoundError:
            return {}

    def path_of_uri(self, uri: str) -> str:
        # gs:// is what Google tools print; gcsfs also accepts gcs://
        if uri.startswith("gcs://"):
            uri = "gs://" + uri[len("gcs://") :]
        return super().path_of_uri(uri)

    def endpoint(self) -> str:
        from flowyml_gcs.filesystem import emulator_endpoint

        return emulator_endpoint(self.options) or DEFAULT_ENDPOINT

    def describe(self) -> str:
        where = self.endpoint()
        suffix = "" if where == DEFAULT_ENDPOINT else f" via {where}"
        return f"Google Cloud Storage gs://{self.root()}{suffix}"

    @property
    def errors(self) -> GcsErrorTranslator:
        return GcsErrorTranslator(self.options.bucket, self.context.stack_name, self.endpoint())

    def translate_error(self, exc: Exception, action: str) -> FlowymlError:
        missing: bool | None = None
        if isinstance(exc, FileNotFoundError) and not action.startswith(("downloading", "reading")):
            missing = self._bucket_missing()
        return self.errors.translate(exc, action, bucket_missing=missing)

    # -- the bucket -----------------------------------------------------------------------

    def _bucket_missing(self) -> bool | None:
        """True when the bucket certainly does not exist; None when that cannot be told."""
        try:
            self.fs.info(self.options.bucket)
        except FileNotFoundError:
            return True
        except Exception:
            return None
        return False

    def ensure_bucket(self) -> None:
        """Fail with a clear error, once per store, when the bucket does not exist."""
        if self._bucket_checked:
            return
        try:
            self.attempt(f"looking up bucket gs://{self.options.bucket}", self.fs.info, self.options.bucket)
        except StoreError as exc:
            if "not found" in exc.message:
                raise self.errors.missing_bucket() from exc
            raise
        self._bucket_checked = True

    # -- hooks ------------------------------------------------------------------------------

    @flowyml.hookimpl
    def flowyml_artifact_store_save(self, key: str, write: Any) -> str:
        self.ensure_bucket()
        return super().flowyml_artifact_store_save(key, write)

    @flowyml.hookimpl
    def flowyml_artifact_store_fetch(self, uri: str, scratch: Path) -> Path:
        """Download the artifact at ``uri`` into ``scratch``: one listing, then one GET per file.

        Same contract as the base class (an artifact without its manifest is not
        fetched), but the manifest check comes from the listing rather than from a
        separate ``exists`` call.
        """
        path = self.path_of_uri(uri)
        listing = self.attempt(f"listing {uri}", self._listing, path)
        if posixpath.join(path, MANIFEST) not in {name.split("://", 1)[-1] for name in listing}:
            raise ArtifactError(
                f"no complete artifact at {uri} (its {MANIFEST} is missing)",
                hint="the artifact was deleted or its upload was interrupted; re-run the step that produced it",
            )
        for remote in sorted(listing):
            rel = posixpath.relpath(remote.split("://", 1)[-1], path)
            local = Path(scratch) / rel
            local.parent.mkdir(parents=True, exist_ok=True)
            kwargs = self.download_options(int(listing[remote].get("size") or 0))
            self.attempt(f"downloading {remote}", self.fs.get_file, remote, str(local), **kwargs)
        return Path(scratch)

    @flowyml.hookimpl
    def flowyml_component_check(self) -> list[str]:
        self.ensure_bucket()
        super().flowyml_component_check()
        return [f"bucket gs://{self.options.bucket} exists", f"gs://{self.root()} is writable and readable ({self.describe()})"]

    def close(self) -> None:
        self._fs = None
