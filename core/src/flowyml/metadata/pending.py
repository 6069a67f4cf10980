"""Step records held in a file of their own until the SQLite database commits them, several steps at a time.

A trivial step's rows cost one SQLite commit, and on a real disk that commit
(about 18 WAL pages) is most of what the step costs. So on SQLite the store
commits a run's step records in batches instead
(:meth:`flowyml.metadata.store.MetadataStore.one_transaction`), and keeps them
safe in between in a *pending file*: each step's writes are appended to it as
one line when the step ends, before the step is taken as recorded. A process
killed between two commits therefore loses no completed step: its pending
file is committed by the next process that uses the database.

The files live in ``<database>.pending/`` (``.flowyml/metadata.db.pending/``),
one per process and store, named by a random id. Each line is

    <crc32 of the JSON, 8 hex digits> <JSON: [sequence number, [[statement name, values], ...]]>

A commit writes the records and, in the same transaction, the sequence number
of the last one under ``journal:<id>`` in the ``meta`` table; the file is then
emptied. Whoever commits the file of a dead process skips the records at or
below that number, so a record is never applied twice, even when the writer
died between the commit and emptying its file.

The writer holds an exclusive ``flock`` on its file for as long as it lives
(the kernel drops it when the process dies, however it dies), so a reader
takes over only the files it can lock. The file is created under a temporary
name, locked and only then renamed to ``<id>.jsonl``: no reader can take a new
file for a dead one's.

A last line without its newline is a write the process was killed in: that
step had not ended, and its line is dropped. Any other line that does not
check (a wrong CRC, JSON that is not a record, a statement the store does not
write per step, a value that is not a number, a text or null) stops the replay
there: the lines before it are committed, and the file is kept as
``<id>.unreadable`` with a warning, never deleted.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger("flowyml.metadata")

__all__ = ["FLUSH_AFTER", "MAX_PENDING", "PendingFile", "Record", "folder_for", "read_records", "take_over"]

#: Seconds the oldest held record may wait before the next step's end commits the batch. A step still
#: running after flowyml.metadata.announcer.ANNOUNCE_AFTER commits it too (its announcement is a write).
FLUSH_AFTER = 0.1
#: Held records (one per step) that make the next step's end commit the batch.
MAX_PENDING = 100

SUFFIX = ".jsonl"
#: A file being created: locked, then renamed to its SUFFIX name.
UNNAMED = ".new"
UNREADABLE = ".unreadable"
MARK_PREFIX = "journal:"
#: Seconds after which a file still unnamed is taken for the leftover of a writer that died creating it.
UNBORN_AFTER = 60.0

#: One record: (sequence number, [(statement name, values), ...]).
Record = tuple[int, list[tuple[str, dict[str, Any]]]]

_SCALARS = (str, int, float, type(None))


def folder_for(database: Path) -> Path:
    """The folder of pending files beside a SQLite ``database``."""
    return database.with_name(database.name + ".pending")


def _hold(fd: int) -> None:
    """Take the exclusive lock a writer holds on its file for as long as it lives."""
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_EX)


def _lock(fd: int) -> bool:
    """Take the exclusive lock if no one holds it (its writer is dead); whether it was taken."""
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


_ENCODER = json.JSONEncoder(separators=(",", ":"))  # one instance: json.dumps builds one per call for these options


def _encode(seq: int, writes: Iterable[tuple[str, Mapping[str, Any]]]) -> bytes:
    body = _ENCODER.encode([seq, [[name, values] for name, values in writes]]).encode()
    return b"%08x %s\n" % (zlib.crc32(body), body)


class PendingFile:
    """This store's pending file: :meth:`append` a step's writes, :meth:`emptied` once they are committed."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.id = uuid.uuid4().hex
        self.path = folder / (self.id + SUFFIX)
        self._fd: int | None = None
        #: The sequence number of the last record appended.
        self.seq = 0

    @property
    def mark_key(self) -> str:
        return MARK_PREFIX + self.id

    def _open(self) -> int:
        if self._fd is None:
            self.folder.mkdir(exist_ok=True)  # beside the database, whose folder exists
            temporary = self.folder / (self.id + UNNAMED)
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)  # private, as the rows
            try:
                _hold(fd)
                os.replace(temporary, self.path)
            except BaseException:
                os.close(fd)
                temporary.unlink()  # still there: nothing after the rename can fail
                raise
            self._fd = fd
        return self._fd

    def append(self, writes: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        """Write one step's writes as the next record.

        Raises TypeError for a value JSON cannot hold, OSError when the line
        cannot be written whole (a full disk: what was written of it is cut
        off again, so the file stays a sequence of whole lines).
        """
        line = _encode(self.seq + 1, writes)
        fd = self._open()
        written = os.write(fd, line)
        if written != len(line):
            os.ftruncate(fd, os.fstat(fd).st_size - written)  # appended: the part written is the file's end
            raise OSError(errno.ENOSPC, f"{os.strerror(errno.ENOSPC)}: {written} of {len(line)} bytes written to {self.path}")
        self.seq += 1

    def emptied(self) -> None:
        """Every record appended so far is committed: empty the file (its lock stays held)."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)

    def close(self) -> None:
        """Remove the file (every record is committed) and drop the lock."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                self.path.unlink(missing_ok=True)
            finally:
                os.close(fd)

    def forget(self) -> None:
        """In a forked child: let go of the parent's file without touching it."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # the parent's descriptor keeps the lock


def read_records(data: bytes, known: Callable[[str], bool]) -> tuple[list[Record], str | None]:
    """The records in a pending file's ``data``, and what is wrong with the first line that does not check."""
    records: list[Record] = []
    lines = data.split(b"\n")[:-1]  # the part after the final newline: empty, or the line a kill cut short
    for number, line in enumerate(lines, 1):
        problem = None
        try:
            crc, _, body = line.partition(b" ")
            if len(crc) != 8 or int(crc, 16) != zlib.crc32(body):
                problem = "its checksum does not match"
            else:
                record = _record(json.loads(body), known)
                if record is None:
                    problem = "it is not a record of step writes"
                elif records and record[0] <= records[-1][0]:
                    problem = "its sequence number does not follow the previous line's"
                else:
                    records.append(record)
        except ValueError as exc:
            problem = f"it does not parse ({exc})"
        if problem is not None:
            return records, f"line {number}: {problem}"
    return records, None


def _record(value: Any, known: Callable[[str], bool]) -> Record | None:
    if not (isinstance(value, list) and len(value) == 2 and type(value[0]) is int and isinstance(value[1], list)):
        return None
    writes: list[tuple[str, dict[str, Any]]] = []
    for write in value[1]:
        if not (isinstance(write, list) and len(write) == 2 and isinstance(write[0], str) and known(write[0])):
            return None
        values = write[1]
        if not (isinstance(values, dict) and all(isinstance(v, _SCALARS) and not isinstance(v, bool) for v in values.values())):
            return None
        writes.append((write[0], values))
    return value[0], writes


def take_over(
    folder: Path,
    known: Callable[[str], bool],
    commit: Callable[[str, Sequence[Record]], None],
    done: Callable[[str], None],
) -> None:
    """Commit the pending file of every dead process in ``folder``.

    ``commit(mark_key, records)`` applies the records above the file's mark and
    moves the mark, in one transaction; ``done(mark_key)`` drops the mark once
    the file is gone. A live writer's file (this store's own included) cannot
    be locked and is left alone.
    """
    for path in _candidates(folder):
        fd = _open_dead(path)
        if fd is None:
            continue
        try:
            with open(fd, "rb", closefd=False) as file:
                records, problem = read_records(file.read(), known)
            key = MARK_PREFIX + path.name.removesuffix(SUFFIX)
            commit(key, records)
            if problem is None:
                path.unlink()
                done(key)
            else:
                kept = path.with_suffix(UNREADABLE)
                os.replace(path, kept)
                log.warning(
                    "the pending step records %s are damaged (%s); the %d records before it were committed, "
                    "and the file is kept as %s", path, problem, len(records), kept,
                )
        finally:
            os.close(fd)


def _open_dead(path: Path) -> int | None:
    """``path`` opened and locked, if its writer is dead and no other reader took it meanwhile; else None."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:  # taken by another reader since the folder was listed
        return None
    try:
        if _lock(fd) and os.fstat(fd).st_ino == os.stat(path).st_ino:
            return fd
    except FileNotFoundError:  # taken and removed by another reader between our open and our lock
        pass
    os.close(fd)
    return None


def _candidates(folder: Path) -> list[Path]:
    """The pending files in ``folder``, in name order (removing the unnamed files of writers long dead)."""
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        return []
    for name in names:
        if name.endswith(UNNAMED):
            _drop_unborn(folder / name)
    return [folder / name for name in names if name.endswith(SUFFIX)]


def _drop_unborn(path: Path) -> None:
    """Remove a file whose writer died between creating and naming it (it holds nothing yet).

    Only after :data:`UNBORN_AFTER` seconds: a live writer locks and renames its new file within microseconds.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        if time.time() - os.fstat(fd).st_mtime > UNBORN_AFTER and _lock(fd):
            path.unlink(missing_ok=True)  # another reader may have removed it before we got the lock
    finally:
        os.close(fd)
