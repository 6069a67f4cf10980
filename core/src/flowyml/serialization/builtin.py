"""The serializers FlowyML ships.

Heavy libraries (pandas, pyarrow, numpy) are imported only inside ``save``
and ``load``, so a pipeline that never produces a DataFrame never imports them.
"""

from __future__ import annotations

import json
import math
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowyml.core.frameworks import detect_framework
from flowyml.errors import SerializationError
from flowyml.plugins.markers import hookimpl
from flowyml.serialization import digests
from flowyml.serialization.base import Serializer, module_root, type_path
from flowyml.serialization.frameworks import FRAMEWORK_SERIALIZERS
from flowyml.serialization.hashing import HashingFile
from flowyml.serialization.inmemory import encode_within


class ParquetSerializer(Serializer):
    """pandas / polars DataFrames and pyarrow Tables, as Parquet through pyarrow."""

    name = "parquet"
    hash_algorithm = digests.STREAMING  # large values: hashed as fast as they are written

    def can_save(self, value: Any) -> bool:
        cls = type(value).__name__
        root = module_root(value)
        return (root in ("pandas", "polars") and cls == "DataFrame") or (root == "pyarrow" and cls == "Table")

    def save(self, value: Any, directory: Path) -> dict[str, str]:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise SerializationError(
                "storing a DataFrame needs pyarrow", hint="pip install 'flowyml[pandas]'"
            ) from exc
        root = module_root(value)
        if root == "pandas":
            table = pa.Table.from_pandas(value)
        elif root == "polars":
            table = value.to_arrow()
        else:
            table = value
        with HashingFile(directory / "data.parquet", algorithm=self.hash_algorithm) as out:
            pq.write_table(table, out)
        return {"data.parquet": out.file_hash}

    def load(self, directory: Path, info: dict[str, Any]) -> Any:
        import pyarrow.parquet as pq

        table = pq.read_table(directory / "data.parquet")
        origin = info.get("python_type", "")
        if origin.startswith("pandas."):
            return table.to_pandas()
        if origin.startswith("polars."):
            import polars

            return polars.from_arrow(table)
        return table


class NumpySerializer(Serializer):
    """numpy arrays (not of dtype object), as .npy without pickle."""

    name = "npy"
    hash_algorithm = digests.STREAMING  # large values: hashed as fast as they are written

    def can_save(self, value: Any) -> bool:
        return module_root(value) == "numpy" and type(value).__name__ == "ndarray" and value.dtype.kind != "O"

    def save(self, value: Any, directory: Path) -> dict[str, str]:
        import numpy as np

        with HashingFile(directory / "data.npy", algorithm=self.hash_algorithm) as out:
            parts = _npy_parts(value)
            if parts is None:  # not contiguous in memory: numpy copies it out in chunks
                np.save(out, value, allow_pickle=False)
            else:
                out.write(parts[0])
                out.write_buffer(parts[1])
        return {"data.npy": out.file_hash}

    def load(self, directory: Path, info: dict[str, Any]) -> Any:
        import numpy as np

        return np.load(directory / "data.npy", allow_pickle=False)


def _npy_parts(array: Any) -> tuple[bytes, Any] | None:
    """The .npy header ``np.save`` writes for ``array`` and its data as a buffer over the array's own memory.

    None when the data cannot be handed over without a copy (an array that is
    neither C- nor Fortran-contiguous, or a header only format 3.0 can hold).
    """
    import io

    import numpy as np
    from numpy.lib import format as npy

    header = npy.header_data_from_array_1_0(array)
    ordered = array.T if header["fortran_order"] else array  # np.save writes a Fortran array's transpose, in C order
    if array.dtype.hasobject or not ordered.flags.c_contiguous or array.dtype.itemsize == 0:
        return None
    head = io.BytesIO()
    for write_header in (npy.write_array_header_1_0, npy.write_array_header_2_0):
        try:
            write_header(head, header)
            break
        except ValueError:  # too long for 1.0; names only UTF-8 encodes (UnicodeEncodeError) need 3.0
            head = io.BytesIO()
    else:
        return None
    return head.getvalue(), ordered.reshape(-1).view(np.uint8)


def _jsonable(value: Any, depth: int = 0) -> bool:
    if depth > 50:
        return False
    if value is None or isinstance(value, bool | int | str):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_jsonable(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _jsonable(v, depth + 1) for k, v in value.items())
    return False


class JsonSerializer(Serializer):
    """Plain JSON values: dicts with string keys, lists, strings, numbers, booleans, None."""

    name = "json"

    def can_save(self, value: Any) -> bool:
        return _jsonable(value)

    def save(self, value: Any, directory: Path) -> None:
        (directory / "data.json").write_text(json.dumps(value), encoding="utf-8")

    def encode(self, value: Any, limit: int) -> dict[str, bytes] | None:
        # One C-speed dumps, whatever the size: files over the limit are written as they are (see Serializer.encode).
        return {"data.json": json.dumps(value).encode("utf-8")}

    def load(self, directory: Path, info: dict[str, Any]) -> Any:
        return json.loads((directory / "data.json").read_text(encoding="utf-8"))


class TextSerializer(Serializer):
    name = "text"

    def can_save(self, value: Any) -> bool:
        return isinstance(value, str)

    def save(self, value: Any, directory: Path) -> None:
        (directory / "data.txt").write_text(value, encoding="utf-8")

    def encode(self, value: Any, limit: int) -> dict[str, bytes] | None:
        if len(value) > limit:  # at least one byte per character
            return None
        data = value.encode("utf-8")
        return {"data.txt": data} if len(data) <= limit else None

    def load(self, directory: Path, info: dict[str, Any]) -> Any:
        return (directory / "data.txt").read_text(encoding="utf-8")


class BytesSerializer(Serializer):
    name = "binary"
    hash_algorithm = digests.STREAMING  # large values: hashed as fast as they are written

    def can_save(self, value: Any) -> bool:
        return isinstance(value, bytes | bytearray)

    def save(self, value: Any, directory: Path) -> dict[str, str]:
        with HashingFile(directory / "data.bin", algorithm=self.hash_algorithm) as out:
            out.write_buffer(value)  # no copy: the value's own memory, hashed as it is written
        return {"data.bin": out.file_hash}

    def load(self, directory: Path, info: dict[str, Any]) -> Any:
        return (directory / "data.bin").read_bytes()

    def encode(self, value: Any, limit: int) -> dict[str, bytes] | None:
        return {"data.bin": bytes(value)} if len(value) <= limit else None


class CsvSerializer(Serializer):
    """pandas DataFrames as CSV, only when a Dataset asks for ``format="csv"``."""

    name = "csv"

    def can_save(self, value: Any) -> bool:
        return module_root(value) == "pandas" and type(value).__name__ == "DataFrame"

    def save(self, value: Any, directory: Path) -> None:
        value.to_csv(directory / "data.csv", index=False)

    def load(self, directory: Path, info: dict[str, Any]) -> Any:
        import pandas as pd

        return pd.read_csv(directory / "data.csv")


class PickleSerializer(Serializer):
    """Anything picklable: the last resort. Loaded only when its sha256 still matches."""

    name = "pickle"
    hash_algorithm = digests.STREAMING  # large values: hashed as fast as they are written
    safe = False

    def can_save(self, value: Any) -> bool:
        return True

    def save(self, value: Any, directory: Path) -> dict[str, str]:
        # Framework models are written as model.pkl, the name the prebuilt serving
        # containers of Vertex AI and SageMaker look for.
        name = "model.pkl" if detect_framework(value) else "data.pkl"
        try:
            with HashingFile(directory / name, algorithm=self.hash_algorithm) as out:
                pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
            return {name: out.file_hash}
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise SerializationError(
                f"cannot store a {type_path(value)}: no serializer handles it and it cannot be pickled ({exc})",
                hint="return a picklable value, or register a serializer for this type (see docs/writing-a-plugin.md)",
            ) from exc

    def encode(self, value: Any, limit: int) -> dict[str, bytes] | None:
        name = "model.pkl" if detect_framework(value) else "data.pkl"
        try:
            data = encode_within(limit, lambda fh: pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL))
        except (pickle.PicklingError, TypeError, AttributeError):
            return None  # save() raises the error that says so
        return None if data is None else {name: data}

    def load(self, directory: Path, info: dict[str, Any]) -> Any:
        name = "model.pkl" if "model.pkl" in info.get("files", {}) else "data.pkl"
        with open(directory / name, "rb") as fh:
            return pickle.load(fh)


# Most specific first; pickle stays last.
BUILTIN_SERIALIZERS: tuple[Serializer, ...] = (
    *FRAMEWORK_SERIALIZERS,
    ParquetSerializer(),
    NumpySerializer(),
    JsonSerializer(),
    TextSerializer(),
    BytesSerializer(),
    CsvSerializer(),
    PickleSerializer(),
)

#: Serializers only chosen when a Dataset names them with ``format=``.
EXPLICIT_ONLY = {"csv"}


@hookimpl(trylast=True)
def flowyml_register_serializers(register: Callable[[Serializer], None]) -> None:
    # Called after every plugin's implementation, so plugins' serializers take precedence.
    for serializer in BUILTIN_SERIALIZERS:
        register(serializer)
