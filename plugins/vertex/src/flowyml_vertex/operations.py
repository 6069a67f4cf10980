"""Waiting on Vertex long-running operations with progress lines and a timeout."""

from __future__ import annotations

import logging
import time
from typing import Any

from flowyml.errors import FlowymlError
from flowyml_vertex.errors import vertex_message

log = logging.getLogger("flowyml.vertex")


def wait(operation: Any, what: str, timeout: float, error_cls: type[FlowymlError], *, every: float = 30.0) -> Any:
    """Poll ``operation`` (a ``google.api_core.operation.Operation``) until done; return its result.

    Logs a progress line every ``every`` seconds. Raises ``error_cls`` with
    Vertex's own message when the operation fails, or when ``timeout`` passes
    (the operation keeps running in Vertex; its name is in the message).
    """
    started = time.monotonic()
    next_report = started + every
    delay = 0.2
    name = getattr(getattr(operation, "operation", None), "name", "") or "?"
    while not operation.done():
        now = time.monotonic()
        if now - started > timeout:
            raise error_cls(
                f"{what}: still running after {timeout:g}s (Vertex operation {name})",
                hint="raise the component's timeout option, or follow the operation in the Cloud console",
            )
        if now >= next_report:
            log.info("%s: waiting (%.0fs so far)", what, now - started)
            next_report = now + every
        time.sleep(delay)
        delay = min(delay * 2, 10.0)
    error = operation.exception()
    if error is not None:
        raise error_cls(f"{what} failed: {vertex_message(error)}", hint="see Vertex's message") from error
    log.info("%s: done in %.1fs", what, time.monotonic() - started)
    return operation.result()
