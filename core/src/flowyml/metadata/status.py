"""A run's effective status: what its stored row says, corrected for owners that died.

A run is stored ``running`` when it starts and gets its final status when it
ends. A process killed in between (SIGKILL, OOM, power loss) never writes the
final status, so readers ask :func:`effective_status` instead of reading the
column: a ``running`` run whose owner is gone is ``crashed``.

- same host, boot and pid namespace: the owner's pid is checked (with its start
  time, so a reused pid is not mistaken for the owner);
- anywhere else (another machine or container, or a run written before owners
  were recorded): the run is crashed once its heartbeat is older than
  :data:`STALE_AFTER` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from flowyml.metadata.owner import Owner

#: Seconds between two heartbeats of a live run.
HEARTBEAT_INTERVAL = 30.0
#: A run whose owner cannot be checked from here is crashed when its heartbeat is older than this.
STALE_AFTER = 4 * HEARTBEAT_INTERVAL

#: Statuses a run ends with.
FINAL = ("completed", "failed", "interrupted")
#: Every status a reader may see (``crashed`` is never stored: it is derived).
STATUSES = ("running", "completed", "failed", "interrupted", "crashed")


def _get(row: Any, key: str) -> Any:
    try:
        return row[key]
    except (KeyError, IndexError):
        return None


def owner_of(row: Mapping[str, Any] | Any) -> Owner | None:
    """The owner recorded on a run row, or None (a row written before owners were recorded)."""
    pid = _get(row, "owner_pid")
    if pid is None:
        return None
    return Owner(_get(row, "owner_host") or "", int(pid), _get(row, "owner_started") or "", _get(row, "owner_scope") or "")


def effective_status(row: Mapping[str, Any] | Any, now: float | None = None) -> str:
    """The status to show for a stored run row (``crashed`` for a ``running`` run whose owner is gone)."""
    status = str(_get(row, "status"))
    if status != "running":
        return status
    owner = owner_of(row)
    alive = owner.alive() if owner is not None else None
    if alive is not None:
        return "running" if alive else "crashed"
    last = _get(row, "heartbeat_at") or _get(row, "started_at") or 0.0
    now = time.time() if now is None else now
    return "running" if now - float(last) <= STALE_AFTER else "crashed"


def effective_step_status(step_status: str, run_status: str) -> str:
    """A step stored ``running`` inside a run that crashed or was interrupted did not finish."""
    if step_status == "running" and run_status in ("crashed", "interrupted"):
        return run_status
    return step_status
