"""A short look at a stored artifact without loading all of it.

A DataFrame shows its shape, dtypes and first rows (read from the Parquet
file's first record batch); an array its shape and dtype (memory-mapped);
a small JSON value or text itself. Pickled values are never unpickled for a
preview. The bytes are verified against the manifest first, like any load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["MAX_INLINE_BYTES", "preview_lines"]

#: JSON or text up to this size is shown whole; larger is cut.
MAX_INLINE_BYTES = 4096
_ROWS = 5


def preview_lines(directory: Path, manifest: dict[str, Any]) -> list[str]:
    """Lines describing the value stored in ``directory`` (already verified against ``manifest``)."""
    serializer = manifest.get("serializer")
    files = manifest.get("files", {})
    if serializer == "parquet" and "data.parquet" in files:
        return _parquet(directory / "data.parquet")
    if serializer == "npy" and "data.npy" in files:
        return _npy(directory / "data.npy")
    if serializer in ("json", "text") and files:
        name = "data.json" if serializer == "json" else "data.txt"
        return _text(directory / name, as_json=serializer == "json")
    return [f"({serializer} data: no preview; load it with the client to see it)"]


def _parquet(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path)
    rows, cols = file.metadata.num_rows, file.metadata.num_columns
    lines = [f"shape: {rows} rows x {cols} columns"]
    lines += [f"  {field.name}: {field.type}" for field in file.schema_arrow]
    batch = next(file.iter_batches(batch_size=_ROWS), None)
    if batch is not None and batch.num_rows:
        lines.append(f"first {min(_ROWS, batch.num_rows)} rows:")
        try:
            frame = batch.to_pandas()
            lines += ["  " + line for line in frame.head(_ROWS).to_string().splitlines()]
        except ImportError:
            lines += ["  " + json.dumps(row, default=str) for row in batch.to_pylist()[:_ROWS]]
    return lines


def _npy(path: Path) -> list[str]:
    import numpy as np

    array = np.load(path, mmap_mode="r", allow_pickle=False)
    lines = [f"shape: {tuple(array.shape)}  dtype: {array.dtype}"]
    if array.size:
        flat = np.asarray(array.reshape(-1)[:_ROWS])
        lines.append(f"first values: {flat.tolist()}")
    return lines


def _text(path: Path, *, as_json: bool) -> list[str]:
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(MAX_INLINE_BYTES)
    text = head.decode("utf-8", errors="replace")
    if size > MAX_INLINE_BYTES:
        return [f"({size} bytes; the first {MAX_INLINE_BYTES}:)", text + "…"]
    if as_json:
        return json.dumps(json.loads(text), indent=2, default=str).splitlines()
    return text.splitlines() or [""]
