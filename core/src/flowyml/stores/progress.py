"""Transfer progress in the log, as an :class:`fsspec.callbacks.Callback` (imported only for large transfers)."""

from __future__ import annotations

import logging
from typing import Any

from fsspec.callbacks import Callback

log = logging.getLogger("flowyml.stores")


class TransferProgress(Callback):
    """Logs every 10% of a large transfer; fsspec drives it through ``set_size`` and the updates."""

    def __init__(self, label: str, size: int) -> None:
        super().__init__(size=size)
        self.label = label
        self.next_mark = 10

    def set_size(self, size: int) -> None:
        super().set_size(size or self.size)  # a filesystem that does not know the size keeps ours

    def call(self, *args: Any, **kwargs: Any) -> None:
        if not self.size:
            return
        pct = int(100 * self.value / self.size)
        while pct >= self.next_mark and self.next_mark <= 100:
            log.info("%s: %d%% of %.1f MB", self.label, self.next_mark, self.size / 1e6)
            self.next_mark += 10
