"""Waiting for a SageMaker resource to reach a state, with progress in the log and a timeout."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("flowyml.sagemaker")


def wait_for(
    what: str,
    poll: Callable[[], dict[str, Any]],
    status_key: str,
    done: set[str],
    *,
    timeout: float,
    interval: float,
    on_timeout: Callable[[float], Exception],
) -> dict[str, Any]:
    """Call ``poll()`` until its ``status_key`` is in ``done``; log each status change with the elapsed time."""
    started = time.monotonic()
    last: str | None = None
    while True:
        answer = poll()
        status = str(answer.get(status_key))
        elapsed = time.monotonic() - started
        if status != last:
            log.info("%s: %s (%.0fs)", what, status, elapsed)
            last = status
        if status in done:
            return answer
        if elapsed >= timeout:
            raise on_timeout(elapsed)
        time.sleep(min(interval, max(0.0, timeout - elapsed)) or interval)
