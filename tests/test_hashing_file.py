"""HashingFile: the sha256 computed while writing is the file's, whatever the chunking."""

from __future__ import annotations

import hashlib

import pytest

from flowyml.serialization.hashing import HashingFile


def test_digest_size_and_file_match_what_was_written(tmp_path) -> None:
    chunks = [b"a" * 10, bytearray(b"b" * (1 << 20)), memoryview(b"tail"), b""]
    path = tmp_path / "data.bin"
    with HashingFile(path) as fh:
        assert fh.writable() is True and fh.seekable() is False and fh.readable() is False
        assert fh.closed is False
        total = 0
        for chunk in chunks:
            assert fh.write(chunk) == len(chunk)
            total += len(chunk)
            assert fh.tell() == total
        with pytest.raises(RuntimeError, match="known once the file is closed"):
            _ = fh.sha256
        fh.flush()
    data = b"".join(bytes(c) for c in chunks)
    assert fh.closed is True
    assert path.read_bytes() == data
    assert fh.sha256 == hashlib.sha256(data).hexdigest()
    fh.close()  # closing twice is harmless
    assert fh.sha256 == hashlib.sha256(data).hexdigest()


def test_a_reused_buffer_is_hashed_as_it_was_when_written(tmp_path) -> None:
    buf = bytearray(b"first")
    fh = HashingFile(tmp_path / "f")
    fh.write(buf)
    buf[:] = b"XXXXX"  # the caller reuses its buffer at once
    fh.write(b"second")
    fh.close()
    assert fh.sha256 == hashlib.sha256(b"firstsecond").hexdigest()
    assert (tmp_path / "f").read_bytes() == b"firstsecond"


def test_an_empty_file_has_the_empty_digest(tmp_path) -> None:
    fh = HashingFile(tmp_path / "empty")
    fh.close()
    assert fh.sha256 == hashlib.sha256(b"").hexdigest() and fh.tell() == 0


def test_the_hashing_thread_ends_cleanly_and_never_blocks_exit(tmp_path, monkeypatch) -> None:
    """Bugs caught: a close() that ends the thread by crashing it; a non-daemon thread keeping a process alive."""
    import threading

    errors: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: errors.append(args.exc_value))
    fh = HashingFile(tmp_path / "f")
    thread = fh._thread
    assert thread.is_alive() and thread.name == "flowyml-sha256"  # named in thread dumps
    assert thread.daemon is True  # a HashingFile nobody closed cannot keep the interpreter from exiting
    fh.write(b"data")
    fh.close()
    thread.join(timeout=60)
    assert not thread.is_alive() and errors == []


class _GatedDigest:
    """A sha256 whose update() waits until the test opens the gate: the hasher falls behind on demand."""

    def __init__(self) -> None:
        import threading

        self.gate = threading.Event()
        self._real = hashlib.sha256()

    def update(self, chunk) -> None:
        self.gate.wait(timeout=30)
        self._real.update(chunk)

    def hexdigest(self) -> str:
        return self._real.hexdigest()


def _in_thread(call):
    import threading

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    return thread


def test_write_waits_once_more_than_max_pending_bytes_would_be_queued(tmp_path, monkeypatch) -> None:
    """Bugs caught: write() never waiting for the hasher (memory unbounded), waiting at exactly the limit, a wrong sum."""
    import flowyml.serialization.hashing as hashing

    monkeypatch.setattr(hashing, "MAX_PENDING", 12)
    fh = HashingFile(tmp_path / "f")
    digest = fh._digest = _GatedDigest()
    fh.write(b"123456")  # queued; the hasher is stuck on it
    exactly = _in_thread(lambda: fh.write(b"abcdef"))  # 6 + 6 = 12 bytes pending: at the limit, not over it
    exactly.join(timeout=60)
    assert not exactly.is_alive(), "write() waited although the pending bytes did not exceed MAX_PENDING"
    over = _in_thread(lambda: fh.write(b"x"))  # 13 > 12: must wait for the hasher
    over.join(timeout=0.5)
    assert over.is_alive(), "write() queued more than MAX_PENDING bytes for the hasher"
    digest.gate.set()
    over.join(timeout=60)
    assert not over.is_alive()
    fh.close()
    assert fh.sha256 == hashlib.sha256(b"123456abcdefx").hexdigest()


def test_write_buffer_queues_every_slice_without_waiting_for_the_hasher(tmp_path, monkeypatch) -> None:
    """Bug caught: write_buffer() waiting for the hasher between slices (the file write stalls behind the hash)."""
    import flowyml.serialization.hashing as hashing

    monkeypatch.setattr(hashing, "MAX_PENDING", 4)
    monkeypatch.setattr(hashing, "SLICE", 4)
    fh = HashingFile(tmp_path / "f")
    digest = fh._digest = _GatedDigest()
    data = bytes(range(40))  # 10 slices of 4 bytes, each alone already at MAX_PENDING
    writer = _in_thread(lambda: fh.write_buffer(data))
    for _ in range(1000):  # the hasher holds the first slice; the other 9 must all be queued
        if fh._queue.qsize() == 9:
            break
        writer.join(timeout=0.01)
    assert fh._queue.qsize() == 9, "write_buffer() waited for the hasher before queuing the next slice"
    assert writer.is_alive()  # ...and it returns only once every slice is hashed
    digest.gate.set()
    writer.join(timeout=60)
    assert not writer.is_alive()
    fh.close()
    assert fh.sha256 == hashlib.sha256(data).hexdigest() and (tmp_path / "f").read_bytes() == data


def test_tell_counts_every_write_buffer(tmp_path) -> None:
    fh = HashingFile(tmp_path / "f")
    assert fh.write_buffer(b"abc") == 3 and fh.write_buffer(bytearray(b"defg")) == 4
    assert fh.tell() == 7
    fh.write(b"h")
    assert fh.tell() == 8
    fh.close()
