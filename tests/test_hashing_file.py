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
    thread.join(timeout=10)
    assert not thread.is_alive() and errors == []
