"""Reserving a large file's blocks before writing it: a hint that keeps the file's size and never fails a write."""

from __future__ import annotations

import os
import sys

import pytest

from flowyml.serialization import preallocate
from flowyml.serialization.hashing import SLICE, HashingFile

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fallocate is Linux's")


@pytest.fixture
def fresh_lookup(monkeypatch):
    """Look the C function up again in this test (and restore the cached lookup after it)."""
    monkeypatch.setattr(preallocate, "_fallocate", None)


@linux_only
def test_a_reservation_holds_the_blocks_and_keeps_the_file_size(tmp_path, fresh_lookup) -> None:
    path = tmp_path / "big"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        if not preallocate.reserve(fd, 0, 16 << 20):
            pytest.skip(f"the file system under {tmp_path} does not reserve blocks")
        found = os.fstat(fd)
        assert found.st_size == 0  # KEEP_SIZE: a write cut short leaves no zero-filled tail
        assert found.st_blocks * 512 >= 16 << 20
        os.write(fd, b"x" * 1000)  # what is written is all the file holds
    finally:
        os.close(fd)
    assert path.read_bytes() == b"x" * 1000


@linux_only
def test_the_reservation_starts_at_the_given_offset(tmp_path, fresh_lookup) -> None:
    path = tmp_path / "big"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, b"header")
        if not preallocate.reserve(fd, 1 << 30, 8 << 20):  # 1 GiB in: a hole before it
            pytest.skip(f"the file system under {tmp_path} does not reserve blocks")
        found = os.fstat(fd)
        assert found.st_size == 6
        assert (8 << 20) <= found.st_blocks * 512 < (1 << 30)  # not from 0: the first GiB stays a hole
    finally:
        os.close(fd)


def test_a_small_write_makes_no_call(monkeypatch) -> None:
    calls = []
    monkeypatch.setattr(preallocate, "_fallocate", lambda *args: calls.append(args) or 0)
    assert preallocate.reserve(3, 0, preallocate.MIN_BYTES - 1) is False
    assert calls == []
    assert preallocate.reserve(3, 5, preallocate.MIN_BYTES) is True
    assert calls == [(3, preallocate.KEEP_SIZE, 5, preallocate.MIN_BYTES)]


def test_a_refused_reservation_is_reported_and_nothing_else(monkeypatch) -> None:
    monkeypatch.setattr(preallocate, "_fallocate", lambda *args: -1)  # EOPNOTSUPP, ENOSPC, ...
    assert preallocate.reserve(3, 0, 64 << 20) is False


def test_no_fallocate_outside_linux(monkeypatch, fresh_lookup) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert preallocate.reserve(3, 0, 64 << 20) is False
    assert preallocate._fallocate is False  # looked up once: later writes make no call either


def test_the_lookup_is_made_once(monkeypatch, fresh_lookup) -> None:
    lookups = []

    def look_up() -> object:
        lookups.append(1)
        return lambda *args: 0

    monkeypatch.setattr(preallocate, "_look_up", look_up)
    assert preallocate.reserve(3, 0, 64 << 20) and preallocate.reserve(3, 0, 64 << 20)
    assert lookups == [1]


def test_write_buffer_reserves_the_buffer_after_what_was_written(tmp_path, monkeypatch) -> None:
    asked = []
    real = preallocate.reserve

    def spy(fd: int, offset: int, length: int) -> bool:
        asked.append((offset, length))
        return real(fd, offset, length)

    monkeypatch.setattr(preallocate, "reserve", spy)
    data = os.urandom(2 * SLICE + 123)
    path = tmp_path / "data.npy"
    with HashingFile(path, algorithm="blake3") as out:
        out.write(b"H" * 128)  # a .npy header, still in the file object's buffer
        out.write_buffer(data)
    assert asked == [(128, len(data))]
    assert path.read_bytes() == b"H" * 128 + data  # the size is what was written, not more


def test_write_buffer_writes_the_same_file_when_the_reservation_is_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(preallocate, "_fallocate", lambda *args: -1)
    data = os.urandom(SLICE + 7)
    with HashingFile(tmp_path / "data.bin", algorithm="blake3") as out:
        assert out.write_buffer(data) == len(data)
    assert (tmp_path / "data.bin").read_bytes() == data
