"""The ``s3`` artifact store: artifacts as objects under ``s3://bucket/prefix/KEY/``.

A flat artifact (not a Model) that fits in one request (:func:`flowyml_s3.transfer.pack_limit`)
is ONE object, ``KEY/flowyml.json`` holding its packed form (:mod:`flowyml.stores.packed`),
written by one PUT with ``If-None-Match: *``: S3 refuses it (412) when anything is
stored at the key, so that one request is both the existence check and the write,
and a single PUT is atomic (a reader sees all of it or nothing). A save + fetch
is two requests, as a raw put + get.

Any other artifact is a folder: its data files are uploaded first (in one
request up to the memory budget, part size x concurrency; above it in parts
streamed from disk: see :mod:`flowyml_s3.transfer`) and its ``flowyml.json``
manifest last, so a reader never takes an interrupted upload for a complete
artifact. s3fs and botocore are imported only when the store is first used.
"""

from __future__ import annotations

import posixpath
import uuid
from typing import Any

from flowyml.errors import FlowymlError
from flowyml.plugins.component import OptionProblem
from flowyml.stores import FsspecArtifactStore
from flowyml_s3.options import S3ArtifactStoreOptions, problems
from flowyml_s3.transfer import PACK_MAX, TransferPlan, pack_limit, plan_transfer

PROGRESS_THRESHOLD = 64 * 2**20
#: User metadata naming the save that wrote an object (``x-amz-meta-flowyml-save``): a conditional PUT
#: retried after a lost answer finds its own first try stored, and must not take it for a conflict.
SAVE_TOKEN = "flowyml-save"


class S3ArtifactStore(FsspecArtifactStore):
    """Artifact store on Amazon S3 (or any S3-compatible server), through s3fs."""

    Options = S3ArtifactStoreOptions
    options: S3ArtifactStoreOptions
    protocol = "s3"

    def __init__(self, options: S3ArtifactStoreOptions, context: Any) -> None:
        super().__init__(options, context)
        self.max_attempts = options.max_attempts
        self.backoff = options.retry_backoff

    @classmethod
    def check_options(cls, options: S3ArtifactStoreOptions) -> list[OptionProblem]:
        return problems(options)

    # -- what FsspecArtifactStore needs -----------------------------------------------------

    def make_filesystem(self) -> Any:
        from flowyml_s3.filesystem import make_s3_filesystem

        return make_s3_filesystem(self.options)

    def root(self) -> str:
        prefix = self.options.prefix.strip("/")
        return posixpath.join(self.options.bucket, prefix) if prefix else self.options.bucket

    @property
    def endpoint(self) -> str:
        return self.options.endpoint_url or "the default AWS endpoint" + (f" in {self.options.region}" if self.options.region else "")

    def describe(self) -> str:
        where = f" via {self.options.endpoint_url}" if self.options.endpoint_url else ""
        region = f", region {self.options.region}" if self.options.region else ""
        profile = f", profile {self.options.profile}" if self.options.profile else ""
        return f"s3://{self.root()}{where}{region}{profile}"

    def translate_error(self, exc: Exception, action: str) -> FlowymlError:
        from flowyml_s3.errors import error_code, translate

        code = error_code(exc)
        if code in ("403", "Forbidden"):
            # HEAD answers carry no body, so no error code: ask again with a GET to learn why.
            exc = self._diagnose(exc)
        return translate(
            exc,
            action,
            bucket=self.options.bucket,
            root_uri=f"s3://{self.root()}",
            stack=self.context.stack_name,
            endpoint=self.endpoint,
        )

    def _diagnose(self, exc: Exception) -> Exception:
        """The error a bucket listing gets (it names the S3 error code), or ``exc`` when it gets none."""
        try:
            self.fs.call_s3("list_objects_v2", Bucket=self.options.bucket, MaxKeys=1)
        except Exception as probe:
            return probe
        return exc

    def abort_uploads(self, dest: str) -> list[str]:
        """Abort every multipart upload still open under ``dest`` (ListMultipartUploads, then AbortMultipartUpload).

        ``dest`` is one artifact's own prefix, written by one save at a time, so an
        open upload there belongs to this save: a part that failed, a first try
        that was retried, or an upload cut short by Ctrl-C.
        """
        bucket, _, key = dest.partition("/")
        prefix = key.rstrip("/") + "/"
        ended: list[str] = []
        markers: dict[str, str] = {}
        while True:
            page = self.fs.call_s3("list_multipart_uploads", Bucket=bucket, Prefix=prefix, **markers)
            for upload in page.get("Uploads", []):
                self.fs.call_s3("abort_multipart_upload", Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
                ended.append(f"s3://{bucket}/{upload['Key']} (upload {upload['UploadId']})")
            if not page.get("IsTruncated"):
                return ended
            markers = {"KeyMarker": page.get("NextKeyMarker", ""), "UploadIdMarker": page.get("NextUploadIdMarker", "")}

    def pack_limit(self) -> int:
        """Packs up to one request's size go as one object (:func:`flowyml_s3.transfer.pack_limit`)."""
        return pack_limit(self.options.multipart_chunk_mb, self.options.max_concurrency)

    def pack_read_limit(self) -> int:
        """Any pack an s3 store writes, whatever its options: :data:`flowyml_s3.transfer.PACK_MAX`."""
        return PACK_MAX

    def put_new(self, data: bytes | bytearray, remote: str) -> bool:
        """One PUT with ``If-None-Match: *``; ``False`` when S3 answers 412 (another object is there).

        A PUT may be sent twice with only the second answer seen (the store's
        retry, or aiohttp's own resend on a dropped keep-alive connection): a
        412 is then this save's own first try. So a 412 is followed by one HEAD
        (on that path only): the object is ours when it carries this save's token.
        """
        token = uuid.uuid4().hex
        kwargs = {"chunksize": self.plan(len(data)).part_size, "mode": "create", "Metadata": {SAVE_TOKEN: token}}

        def put() -> bool:
            from flowyml_s3.errors import error_code

            try:
                self.fs.pipe_file(remote, data, **kwargs)
            except FileExistsError:  # s3fs' name for 412 PreconditionFailed on If-None-Match
                return False
            except OSError as exc:
                if error_code(exc) == "PreconditionFailed":
                    return False
                raise
            return True

        if self.attempt(f"uploading {remote}", put):
            return True
        bucket, _, key = remote.partition("/")

        def token_stored() -> str | None:
            try:
                head = self.fs.call_s3("head_object", Bucket=bucket, Key=key)
            except FileNotFoundError:  # deleted since: it was not ours either
                return None
            return (head.get("Metadata") or {}).get(SAVE_TOKEN)

        return bool(self.attempt(f"checking {remote}", token_stored) == token)

    def object_exists(self, remote: str) -> bool:
        """One HEAD (s3fs' ``exists`` follows a 404 with a listing, in case ``remote`` is a folder: never here)."""
        bucket, _, key = remote.partition("/")
        try:
            self.fs.call_s3("head_object", Bucket=bucket, Key=key)
        except FileNotFoundError as exc:
            if self.is_missing_object(exc):
                return False
            raise
        return True

    def is_missing_object(self, exc: FileNotFoundError) -> bool:
        """A GET of a missing key is NoSuchKey; NoSuchBucket is reported as such (translate_error)."""
        from flowyml_s3.errors import error_code

        return error_code(exc) != "NoSuchBucket"

    def plan(self, size: int) -> TransferPlan:
        """How an object of ``size`` bytes is transferred (:func:`flowyml_s3.transfer.plan_transfer`)."""
        return plan_transfer(size, self.options.multipart_chunk_mb, self.options.max_concurrency)

    def transfer_options(self, size: int) -> dict[str, Any]:
        """One PUT up to the memory budget, else parts streamed from disk, a bounded number at once."""
        return self.plan(size).upload_kwargs()

    def download_options(self, size: int) -> dict[str, Any]:
        """One streamed GET up to the memory budget, else ranged GETs, a bounded number at once."""
        return self.plan(size).download_kwargs()

    def close(self) -> None:
        self._fs = None
