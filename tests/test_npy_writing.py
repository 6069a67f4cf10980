"""numpy arrays and bytes are written from their own memory: the same file np.save writes, its hash (BLAKE3), no copy."""

from __future__ import annotations

import hashlib
import io
import threading

import pytest
from blake3 import blake3

from flowyml.serialization import hashing
from flowyml.serialization.builtin import BytesSerializer, NumpySerializer, _npy_parts
from flowyml.serialization.hashing import HashingFile

np = pytest.importorskip("numpy")


def _np_save_bytes(array) -> bytes:
    out = io.BytesIO()
    np.save(out, array, allow_pickle=False)
    return out.getvalue()


ARRAYS = {
    "C order": np.arange(24.0).reshape(2, 3, 4),
    "Fortran order": np.asfortranarray(np.arange(12, dtype=np.int32).reshape(3, 4)),
    "big-endian": np.arange(10, dtype=">i8"),
    "datetime": np.array(["2026-12-01", "2026-12-02"], dtype="datetime64[D]"),
    "structured": np.array([(1, 2.5), (3, 4.5)], dtype=[("a", "<i4"), ("b", "<f8")]),
    "0-d": np.array(7.5),
    "empty": np.zeros((0, 3)),
    "bool": np.array([True, False, True]),
    "header needs format 2.0": np.zeros(2, dtype=[(f"field_{i:05d}", "<i1") for i in range(7000)]),
    "strided (numpy copies it)": np.arange(100.0)[::3],
}


@pytest.mark.filterwarnings("ignore:Stored array in format 2.0")
@pytest.mark.parametrize("name", list(ARRAYS))
def test_the_file_is_the_one_np_save_writes_and_its_hash_is_right(tmp_path, name: str) -> None:
    array = ARRAYS[name]
    hashed = NumpySerializer().save(array, tmp_path)
    written = (tmp_path / "data.npy").read_bytes()
    assert written == _np_save_bytes(array)
    assert hashed == {"data.npy": "blake3:" + blake3(written).hexdigest()}
    if name.startswith("header needs"):
        return  # np.load refuses headers this large without allow_pickle (as before)
    back = NumpySerializer().load(tmp_path, {})
    assert back.dtype == array.dtype and back.shape == array.shape and np.array_equal(back, array)


def test_contiguous_data_is_handed_over_as_the_arrays_memory_not_a_copy() -> None:
    for array in (np.arange(1000.0), np.asfortranarray(np.arange(1000.0).reshape(10, 100))):
        _, data = _npy_parts(array)
        assert np.shares_memory(data, array)
    assert _npy_parts(np.arange(100.0)[::3]) is None  # strided: np.save's chunked copy instead


def test_an_array_holding_objects_is_still_refused(tmp_path) -> None:
    mixed = np.array([(1, "x")], dtype=[("a", "<i4"), ("b", "O")])
    assert _npy_parts(mixed) is None
    with pytest.raises(ValueError, match="allow_pickle"):
        NumpySerializer().save(mixed, tmp_path)


def test_bytes_and_bytearray_are_written_with_their_hash(tmp_path) -> None:
    for value in (b"abc" * 5_000_000, bytearray(b"xyz" * 1000), b""):
        hashed = BytesSerializer().save(value, tmp_path)
        assert (tmp_path / "data.bin").read_bytes() == bytes(value)
        assert hashed == {"data.bin": "blake3:" + blake3(bytes(value)).hexdigest()}


def test_write_buffer_slices_a_large_buffer_and_mixes_with_write(tmp_path) -> None:
    big = np.random.default_rng(0).integers(0, 255, 3 * hashing.SLICE + 12345, dtype=np.uint8)
    with HashingFile(tmp_path / "f") as fh:
        fh.write(b"head")
        assert fh.write_buffer(big) == big.nbytes
        fh.write(b"tail")
        assert fh.tell() == big.nbytes + 8
    expected = b"head" + big.tobytes() + b"tail"
    assert (tmp_path / "f").read_bytes() == expected
    assert fh.sha256 == hashlib.sha256(expected).hexdigest()


class _HeldDigest:
    """A sha256 whose updates wait until released: a hasher that has fallen behind."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self._digest = hashlib.sha256()

    def update(self, data) -> None:
        self.release.wait()
        self._digest.update(data)

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def test_copies_waiting_for_a_slow_hasher_stay_bounded(tmp_path) -> None:
    fh = HashingFile(tmp_path / "f")
    held = _HeldDigest()
    fh._digest = held
    chunk = b"z" * (1 << 20)
    writer = threading.Thread(target=lambda: [fh.write(chunk) for _ in range(3 * hashing.MAX_PENDING // len(chunk))])
    writer.start()
    writer.join(timeout=3)
    assert writer.is_alive(), "the writer ran ahead of a stalled hasher without waiting"
    assert fh._pending <= hashing.MAX_PENDING
    held.release.set()
    writer.join()
    fh.close()
    assert fh.sha256 == hashlib.sha256(chunk * (3 * hashing.MAX_PENDING // len(chunk))).hexdigest()
