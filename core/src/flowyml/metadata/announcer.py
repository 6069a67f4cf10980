"""Marking a step ``running`` in the metadata store once it has run for a moment, not as it starts.

A step's row is written with the step's other records when it ends
(:meth:`flowyml.metadata.store.MetadataStore.one_transaction`). A step
that is still running after :data:`ANNOUNCE_AFTER` seconds is also written
``running`` by this background thread, so ``flowyml runs show`` of a live
run, and of a run killed in a long step, names the step it is in. A trivial
step (most of a long linear pipeline) thus costs no commit of its own.

The same thread also commits the records of ended steps the store holds
(:mod:`flowyml.metadata.pending`) once they are :data:`ANNOUNCE_AFTER`
seconds old, so other processes see a step soon after it ends even when the
next step runs long.

The announcement is an insert that does nothing when the step's row exists,
so it can never overwrite the step's outcome, in whichever order the two
commits land. A step killed within its first :data:`ANNOUNCE_AFTER` seconds
has no row: its run is shown ``crashed`` with the steps completed before it.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

log = logging.getLogger("flowyml.metadata")

#: Seconds a step runs before it is written ``running``.
ANNOUNCE_AFTER = 0.05


class StepAnnouncer:
    """``started(step, at)`` / ``ended(step)`` per step; ``stop()`` when the run ends. Never raises from its thread."""

    def __init__(self, metadata: Any, run_id: str, after: float = ANNOUNCE_AFTER) -> None:
        self.metadata, self.run_id, self.after = metadata, run_id, after
        self._pending: dict[str, float] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def started(self, step: str, at: float) -> None:
        with self._lock:
            if self._stopped:
                return
            self._pending[step] = at
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=f"flowyml-steps-{self.run_id}", daemon=True)
                self._thread.start()

    def ended(self, step: str) -> None:
        with self._lock:
            self._pending.pop(step, None)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._pending.clear()
            thread = self._thread
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._wake.wait(self.after / 2):
            self._commit_held()
            now = time.time()
            with self._lock:
                due = [(step, at) for step, at in self._pending.items() if now - at >= self.after]
                for step, _ in due:
                    del self._pending[step]
            for step, at in due:
                try:
                    self.metadata.announce_step(self.run_id, step, at)
                except Exception as exc:  # the step's own write, when it ends, reports a broken database
                    log.warning("could not record step %s of run %s as running: %s", step, self.run_id, exc)

    def _commit_held(self) -> None:
        """Commit the ended steps' records the store holds (flowyml.metadata.pending) once they have waited
        :attr:`after`: other processes see a step within about that long of its end."""
        flush = getattr(self.metadata, "flush_older_than", None)
        if flush is None:
            return
        try:
            flush(self.after)
        except Exception as exc:  # kept in the pending file; the run's next write reports a broken database
            log.warning("could not commit the records of run %s's ended steps: %s", self.run_id, exc)
