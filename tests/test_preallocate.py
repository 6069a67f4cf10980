"""Reserving a large file's blocks before writing it: a hint that keeps the file's size and never fails a write."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from flowyml.serialization import preallocate
from flowyml.serialization.hashing import SLICE, HashingFile

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fallocate is Linux's")


#: File systems whose fallocate reserves blocks (Linux): on these a refusal is a bug, not the file system's.
RESERVING = {"ext4", "xfs", "btrfs", "tmpfs"}


def _file_system(path) -> str:
    """The type of the file system ``path`` is on, from /proc/self/mounts (the longest mount point above it)."""
    best, kind = "", ""
    resolved = str(path.resolve())
    for line in Path("/proc/self/mounts").read_text(encoding="utf-8").splitlines():
        mount, fs_type = line.split()[1:3]
        if (resolved == mount or resolved.startswith(mount.rstrip("/") + "/")) and len(mount) >= len(best):
            best, kind = mount, fs_type
    return kind


def _reserving(tmp_path) -> None:
    """Skip where the file system under ``tmp_path`` may refuse: everywhere else a refusal fails the test."""
    kind = _file_system(tmp_path)
    if kind not in RESERVING:
        pytest.skip(f"{tmp_path} is on {kind or 'an unknown file system'}, which may not reserve blocks")


@pytest.fixture
def fresh_lookup():
    """Look the C function up again in this test (and forget that lookup after it)."""
    preallocate._function.cache_clear()
    yield
    preallocate._function.cache_clear()


def _stub(monkeypatch, fallocate) -> None:
    """The C function replaced by ``fallocate`` (a Python stand-in) for this test."""
    monkeypatch.setattr(preallocate, "_function", lambda: fallocate)


@linux_only
def test_a_reservation_holds_the_blocks_and_keeps_the_file_size(tmp_path, fresh_lookup) -> None:
    path = tmp_path / "big"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        _reserving(tmp_path)
        assert preallocate.reserve(fd, 0, 16 << 20) is True
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
        _reserving(tmp_path)
        # 5 GiB in, past what a 32-bit int holds: the offset is passed as a 64-bit off64_t
        assert preallocate.reserve(fd, 5 << 30, 8 << 20) is True
        found = os.fstat(fd)
        assert found.st_size == 6
        assert (8 << 20) <= found.st_blocks * 512 < (1 << 30)  # not from 0: what lies before it stays a hole
        os.pwrite(fd, b"x", 5 << 30)  # into the reserved blocks: none more is needed (not so at a truncated offset)
        assert os.fstat(fd).st_blocks == found.st_blocks
    finally:
        os.close(fd)


def test_a_small_write_makes_no_call(monkeypatch) -> None:
    calls = []
    _stub(monkeypatch, lambda *args: calls.append(args) or 0)
    assert preallocate.reserve(3, 0, preallocate.MIN_BYTES - 1) is False
    assert calls == []
    assert preallocate.reserve(3, 5, preallocate.MIN_BYTES) is True
    assert calls == [(3, preallocate.KEEP_SIZE, 5, preallocate.MIN_BYTES)]


def test_a_refused_reservation_is_reported_and_nothing_else(monkeypatch) -> None:
    _stub(monkeypatch, lambda *args: -1)  # EOPNOTSUPP, ENOSPC, ...
    assert preallocate.reserve(3, 0, 64 << 20) is False


def test_no_fallocate_outside_linux(monkeypatch, fresh_lookup) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert preallocate.reserve(3, 0, 64 << 20) is False
    assert preallocate._function() is False  # looked up once: later writes make no call either


@linux_only
@pytest.mark.parametrize("libc", [None, object()], ids=["no-libc", "no-fallocate"])
def test_a_libc_without_fallocate_means_no_reservation(monkeypatch, fresh_lookup, libc) -> None:
    import ctypes

    def load(name: object) -> object:
        if libc is None:
            raise OSError("no C library here")
        return libc  # has no fallocate64 attribute

    monkeypatch.setattr(ctypes, "CDLL", load)
    assert preallocate.reserve(3, 0, 64 << 20) is False
    assert preallocate._function() is False


@linux_only
def test_the_lookup_is_made_once(monkeypatch, fresh_lookup) -> None:
    import ctypes

    lookups = []

    class Fake:
        @staticmethod
        def fallocate(*args: object) -> int:
            return 0

        fallocate64 = fallocate

    def load(name: object) -> Fake:
        lookups.append(1)
        return Fake()

    monkeypatch.setattr(ctypes, "CDLL", load)
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
    _stub(monkeypatch, lambda *args: -1)
    data = os.urandom(SLICE + 7)
    with HashingFile(tmp_path / "data.bin", algorithm="blake3") as out:
        assert out.write_buffer(data) == len(data)
    assert (tmp_path / "data.bin").read_bytes() == data


@linux_only
def test_a_libc_with_only_fallocate_is_used_on_64_bit(tmp_path, monkeypatch, fresh_lookup) -> None:
    """musl 1.2.4 and later name the call fallocate only (off_t is 64 bits there)."""
    import ctypes

    real = ctypes.CDLL(None)

    class OnlyFallocate:
        fallocate = real.fallocate

    monkeypatch.setattr(ctypes, "CDLL", lambda name: OnlyFallocate())
    _reserving(tmp_path)
    fd = os.open(tmp_path / "big", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        assert preallocate.reserve(fd, 0, 16 << 20) is (ctypes.sizeof(ctypes.c_void_p) == 8)
    finally:
        os.close(fd)


@linux_only
def test_a_32_bit_build_asks_for_fallocate64(tmp_path, monkeypatch, fresh_lookup) -> None:
    """On 32 bits off_t may be 32 bits: the call taking 64-bit offsets (glibc's fallocate64) is the one used."""
    import ctypes

    real = ctypes.CDLL(None)
    if not hasattr(real, "fallocate64"):
        pytest.skip("this C library has no fallocate64 to stand in for a 32-bit one")
    real_sizeof = ctypes.sizeof

    class Only64:
        fallocate64 = real.fallocate64

    monkeypatch.setattr(ctypes, "CDLL", lambda name: Only64())
    monkeypatch.setattr(ctypes, "sizeof", lambda kind: 4 if kind is ctypes.c_void_p else real_sizeof(kind))
    _reserving(tmp_path)
    fd = os.open(tmp_path / "big", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        assert preallocate.reserve(fd, 0, 16 << 20) is True
    finally:
        os.close(fd)
