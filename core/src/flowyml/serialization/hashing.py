"""Writing a file and computing its sha256 in the same pass.

Serializers that stream large data (Parquet, .npy, pickle) write through
:class:`HashingFile`; the digest is computed on a second thread while the
writer produces the next chunk (hashlib releases the GIL on large buffers), so
recording the sha256 of an artifact costs no extra read of the file.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

_DONE = object()


class HashingFile:
    """A write-only binary file that hashes what is written. Use as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fh = open(self.path, "wb", buffering=1 << 20)  # noqa: SIM115 - closed in close()
        self._digest = hashlib.sha256()
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=32)
        self._size = 0
        self._thread = threading.Thread(target=self._hash, name="flowyml-sha256", daemon=True)
        self._thread.start()
        self._sha256: str | None = None

    @property
    def sha256(self) -> str:
        """The hex digest of everything written (available once closed)."""
        if self._sha256 is None:
            raise RuntimeError("HashingFile.sha256 is known once the file is closed")
        return self._sha256

    def _hash(self) -> None:
        while (chunk := self._queue.get()) is not _DONE:
            self._digest.update(chunk)

    def write(self, data: Any) -> int:
        chunk = bytes(data)  # a stable copy: the caller may reuse its buffer
        self._fh.write(chunk)
        self._queue.put(chunk)
        self._size += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._size

    def flush(self) -> None:
        self._fh.flush()

    @property
    def closed(self) -> bool:
        return self._fh.closed

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readable(self) -> bool:
        return False

    def close(self) -> None:
        if self._fh.closed:
            return
        self._queue.put(_DONE)
        self._thread.join()
        self._fh.close()
        self._sha256 = self._digest.hexdigest()

    def __enter__(self) -> HashingFile:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
