"""Writing a file and computing its hash (sha256 or BLAKE3) in the same pass.

Serializers that stream large data (Parquet, .npy, pickle) write through
:class:`HashingFile`; the digest is computed on a second thread while the
writer produces the next chunk (hashlib and blake3 release the GIL on large
buffers), so recording the hash of an artifact costs no extra read of the file.
``HashingFile(path)`` computes a sha256 (:attr:`HashingFile.sha256`, what a
serializer's ``save`` returns by default); the built-in serializers pass
``algorithm="blake3"`` and return :attr:`HashingFile.file_hash`
(:mod:`flowyml.serialization.digests`).

Two ways in: :meth:`HashingFile.write` copies what it is given (the caller may
reuse its buffer), and at most :data:`MAX_PENDING` copied bytes wait for the
hasher, so memory stays bounded however fast the writer is.
:meth:`HashingFile.write_buffer` writes a large buffer the caller keeps
unchanged until it returns (an array's memory, a ``bytes`` value) with no copy
at all: slices of it go to the file and to the hasher (the writer never waits
for the hasher: a queued slice holds no memory of its own), and it returns once
they are all hashed; the file's blocks for it are reserved first
(:mod:`flowyml.serialization.preallocate`).
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from flowyml.serialization import digests, preallocate

_DONE = object()
#: Bytes copied by :meth:`HashingFile.write` that may wait for the hasher at once.
MAX_PENDING = 32 << 20
#: How :meth:`HashingFile.write_buffer` slices a buffer between the file and the hasher.
SLICE = 8 << 20


class HashingFile:
    """A write-only binary file that hashes what is written. Use as a context manager."""

    def __init__(self, path: Path, algorithm: str = "sha256") -> None:
        self._digest = digests.new(algorithm)  # an unknown name fails before the file is created
        self.algorithm = algorithm
        self.path = Path(path)
        self._fh = open(self.path, "wb", buffering=1 << 20)  # noqa: SIM115 - closed in close()
        self._queue: queue.Queue[Any] = queue.Queue()
        self._pending = 0  # bytes queued and not hashed yet
        self._hashed = threading.Condition()
        self._size = 0
        self._thread = threading.Thread(target=self._hash, name=f"flowyml-{algorithm}", daemon=True)
        self._thread.start()
        self._hex: str | None = None

    @property
    def hexdigest(self) -> str:
        """The hex digest of everything written (available once closed)."""
        if self._hex is None:
            raise RuntimeError("HashingFile's digest is known once the file is closed")
        return self._hex

    @property
    def sha256(self) -> str:
        """The sha256 hex digest of everything written (available once closed; a sha256 HashingFile only)."""
        if self.algorithm != "sha256":
            raise RuntimeError(f"this HashingFile computes {self.algorithm}, not sha256: use .file_hash")
        return self.hexdigest

    @property
    def file_hash(self) -> str:
        """The digest as a serializer's ``save`` returns it: plain hex for sha256, ``ALG:HEX`` otherwise."""
        return self.hexdigest if self.algorithm == "sha256" else f"{self.algorithm}:{self.hexdigest}"

    def _hash(self) -> None:
        while (chunk := self._queue.get()) is not _DONE:
            self._digest.update(chunk)
            with self._hashed:
                self._pending -= len(chunk)
                self._hashed.notify_all()

    def _to_hasher(self, chunk: bytes | memoryview, *, wait: bool = True) -> None:
        """Queue ``chunk`` for hashing, first waiting (``wait``) while too many copied bytes are queued already."""
        with self._hashed:
            while wait and self._pending and self._pending + len(chunk) > MAX_PENDING:
                self._hashed.wait()
            self._pending += len(chunk)
        self._queue.put(chunk)

    def write(self, data: Any) -> int:
        chunk = bytes(data)  # a stable copy: the caller may reuse its buffer
        self._fh.write(chunk)
        self._to_hasher(chunk)
        self._size += len(chunk)
        return len(chunk)

    def write_buffer(self, data: Any) -> int:
        """Write all of ``data`` (any buffer) without copying it; the caller must not change it until this returns."""
        view = memoryview(data).cast("B")
        preallocate.reserve(self._fh.fileno(), self._size, len(view))  # its blocks in one call (a hint)
        for start in range(0, len(view), SLICE):
            piece = view[start : start + SLICE]
            self._fh.write(piece)
            # A slice is a view of the caller's memory, not a copy: queuing it costs nothing, so
            # the writer never waits for the hasher (the two run side by side until the end).
            self._to_hasher(piece, wait=False)
        with self._hashed:  # every slice hashed: the caller may reuse its buffer now
            while self._pending:
                self._hashed.wait()
        self._size += len(view)
        return len(view)

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
        self._hex = str(self._digest.hexdigest())

    def __enter__(self) -> HashingFile:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
