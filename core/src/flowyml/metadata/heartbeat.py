"""A light background thread that tells readers on other hosts a run is still alive.

One update of ``runs.heartbeat_at`` every :data:`~flowyml.metadata.status.HEARTBEAT_INTERVAL`
seconds, nothing per step. Readers on the run's own host do not need it (they
check the owner's pid); readers elsewhere call a run whose heartbeat stopped
``crashed`` (see :mod:`flowyml.metadata.status`).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flowyml.metadata.status import HEARTBEAT_INTERVAL

log = logging.getLogger("flowyml.metadata")


class Heartbeat:
    """``start()`` beats for ``run_id`` until ``stop()``; a failed beat is logged, never raised."""

    def __init__(self, metadata: Any, run_id: str, interval: float = HEARTBEAT_INTERVAL) -> None:
        self.metadata, self.run_id, self.interval = metadata, run_id, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"flowyml-heartbeat-{run_id}", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.metadata.heartbeat(self.run_id)
            except Exception as exc:  # a busy or vanished database must not break the run
                log.warning("heartbeat of run %s failed: %s", self.run_id, exc)
