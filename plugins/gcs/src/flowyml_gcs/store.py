"""The ``gcs`` artifact store: artifacts as objects in a Google Cloud Storage bucket.

This is the entry-point module (``flowyml.artifact_stores: gcs``): it must
import without gcsfs. gcsfs is imported when the filesystem is first needed.

Saving follows :class:`flowyml.stores.FsspecArtifactStore`: stage locally,
upload the data files (``put_file`` streams from disk; files of 5 MB and more
go through GCS resumable uploads in 50 MB chunks), then upload the
``flowyml.json`` manifest last, so an interrupted save never leaves a
loadable artifact at the final key.
"""

from __future__ import annotations

from typing import Any, ClassVar

import flowyml
from flowyml.errors import ConfigError, FlowymlError, StoreError
from flowyml.stores import FsspecArtifactStore
from flowyml_gcs.errors import GcsErrorTranslator
from flowyml_gcs.options import GcsStoreOptions, problems

DEFAULT_ENDPOINT = "https://storage.googleapis.com"


class GcsArtifactStore(FsspecArtifactStore):
    """Artifact store on ``gs://bucket/prefix``."""

    Options = GcsStoreOptions
    protocol: ClassVar[str] = "gs"
    backoff: ClassVar[float] = 0.5

    def __init__(self, options: GcsStoreOptions, context: Any) -> None:
        super().__init__(options, context)
        self._bucket_checked = False
        for option, message in problems(options):
            raise ConfigError(
                message,
                path=f"stacks.{context.stack_name}.artifact_store.{option}",
                hint="fix it in flowyml.yaml",
            )

    # -- what FsspecArtifactStore needs --------------------------------------------------

    @property  # type: ignore[override]
    def max_attempts(self) -> int:  # the base class reads self.max_attempts
        return int(self.options.max_attempts)

    def make_filesystem(self) -> Any:
        from flowyml_gcs.filesystem import make_gcsfs

        return make_gcsfs(self.options)

    def root(self) -> str:
        return str(self.options.root)

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
    def flowyml_component_check(self) -> list[str]:
        self.ensure_bucket()
        super().flowyml_component_check()
        return [f"bucket gs://{self.options.bucket} exists", f"gs://{self.root()} is writable and readable ({self.describe()})"]

    def close(self) -> None:
        self._fs = None
