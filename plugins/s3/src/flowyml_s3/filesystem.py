"""Building the s3fs filesystem from the store's options (imports s3fs: load lazily)."""

from __future__ import annotations

from typing import Any

import s3fs

from flowyml_s3.options import S3ArtifactStoreOptions

MIB = 2**20


def s3fs_kwargs(options: S3ArtifactStoreOptions) -> dict[str, Any]:
    """Keyword arguments for :class:`s3fs.S3FileSystem` (pure; tested on its own)."""
    extra: dict[str, Any] = {}
    if options.server_side_encryption:
        extra["ServerSideEncryption"] = options.server_side_encryption
    if options.kms_key_id:
        extra["SSEKMSKeyId"] = options.kms_key_id
    if options.storage_class:
        extra["StorageClass"] = options.storage_class
    # One retry layer: the store retries transient failures max_attempts times (flowyml.retries);
    # botocore and s3fs make one attempt each, so their retries do not multiply the store's.
    config: dict[str, Any] = {
        "connect_timeout": options.connect_timeout,
        "read_timeout": options.read_timeout,
        "retries": {"mode": "standard", "total_max_attempts": 1},  # botocore's max_attempts counts retries only
    }
    if options.path_style:
        config["s3"] = {"addressing_style": "path"}
    client: dict[str, Any] = {}
    if options.region:
        client["region_name"] = options.region
    if not options.verify_tls:
        client["verify"] = False
    kwargs: dict[str, Any] = {
        "endpoint_url": options.endpoint_url,
        "client_kwargs": client,
        "config_kwargs": config,
        "s3_additional_kwargs": extra,
        "requester_pays": options.requester_pays,
        "default_block_size": options.multipart_chunk_mb * MIB,
        "max_concurrency": options.max_concurrency,
        # Every stack gets its own client; listings are never cached, so a
        # manifest written by another process is seen at once.
        "skip_instance_cache": True,
        "use_listings_cache": False,
    }
    if options.profile:
        kwargs["profile"] = options.profile
    return kwargs


#: s3fs' own tries per call (its class attribute ``retries``, 5 by default): one, the store retries.
S3FS_TRIES = 1


def make_s3_filesystem(options: S3ArtifactStoreOptions) -> Any:
    fs = s3fs.S3FileSystem(**s3fs_kwargs(options))
    fs.retries = S3FS_TRIES  # not an __init__ argument; the instance is never shared (skip_instance_cache)
    return fs
