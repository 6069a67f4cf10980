"""Building the gcsfs filesystem for a ``gcs`` store (gcsfs is imported here, on first use)."""

from __future__ import annotations

import functools
import os
from typing import Any
from urllib.parse import unquote

from flowyml_gcs.options import GcsStoreOptions

#: gcsfs reads this once, when imported; left at its default, gcsfs probes a gRPC
#: endpoint over TLS before each call, which an emulator never answers.
HNS_FLAG = "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"


def emulator_endpoint(options: GcsStoreOptions) -> str | None:
    """The emulator URL in use (the ``endpoint_url`` option or ``STORAGE_EMULATOR_HOST``), if any."""
    if options.endpoint_url:
        return options.endpoint_url
    env = os.environ.get("STORAGE_EMULATOR_HOST", "")
    if env and env != "default":
        return env if env.startswith(("http://", "https://")) else f"http://{env}"
    return None


def make_gcsfs(options: GcsStoreOptions) -> Any:
    """A ``gcsfs.GCSFileSystem`` for ``options``.

    Listings are not cached (a store must see objects written by other
    processes at once) and the instance is not shared with other callers.
    Against an emulator the default credentials are anonymous.
    """
    emulator = emulator_endpoint(options)
    if emulator:
        os.environ.setdefault(HNS_FLAG, "false")  # before gcsfs is imported (by _session_tracking_class)

    token = options.token
    if token is None and emulator:
        token = "anon"
    kwargs: dict[str, Any] = {
        "token": token,
        "requester_pays": options.requester_pays,
        "use_listings_cache": False,
        "skip_instance_cache": True,
    }
    if options.project:
        kwargs["project"] = options.project
    if options.endpoint_url:
        kwargs["endpoint_url"] = options.endpoint_url
    if options.request_timeout is not None:
        kwargs["requests_timeout"] = options.request_timeout
    return _session_tracking_class()(**kwargs)


@functools.cache
def _session_tracking_class() -> type:
    """A ``GCSFileSystem`` that remembers the resumable upload sessions it opens (``resumable_sessions``).

    GCS cannot list open resumable sessions, so the store cancels the ones a
    failed or interrupted save left open from this record (see
    :meth:`flowyml_gcs.store.GcsArtifactStore.abort_uploads`).
    """
    import gcsfs

    class SessionTrackingGCSFileSystem(gcsfs.GCSFileSystem):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            #: ``bucket/object`` -> session URI of each resumable upload opened and not yet forgotten.
            self.resumable_sessions: dict[str, str] = {}

        async def _call(self, method: str, path: str, *args: Any, **kwargs: Any) -> Any:
            out = await super()._call(method, path, *args, **kwargs)
            if method.upper() == "POST" and kwargs.get("uploadType") == "resumable" and isinstance(out, tuple):
                location = out[0].get("Location")
                bucket = unquote(path.split("/b/", 1)[-1].split("/", 1)[0])
                name = (kwargs.get("json") or {}).get("name")
                if location and name:
                    self.resumable_sessions[f"{bucket}/{name}"] = str(location)
            return out

    return SessionTrackingGCSFileSystem
