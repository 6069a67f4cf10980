"""A short look at a stored artifact: a DataFrame's dtypes and first rows as a table, else the core's preview lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs

__all__ = ["Preview", "preview"]

ROWS = 10
MAX_CELL = 80


@attrs.frozen
class Preview:
    lines: tuple[str, ...] = ()
    #: a table preview (a DataFrame): the shape, (column, dtype) pairs and the first rows as text
    shape: tuple[int, int] | None = None
    columns: tuple[tuple[str, str], ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _parquet(path: Path) -> Preview:
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path)
    columns = tuple((field.name, str(field.type)) for field in file.schema_arrow)
    batch = next(file.iter_batches(batch_size=ROWS), None)
    rows: list[tuple[str, ...]] = []
    if batch is not None:
        for row in batch.to_pylist()[:ROWS]:
            rows.append(tuple(_cell(row.get(name)) for name, _ in columns))
    return Preview(shape=(file.metadata.num_rows, file.metadata.num_columns), columns=columns, rows=tuple(rows))


def preview(directory: Path, manifest: dict[str, Any]) -> Preview:
    """The preview of the artifact in ``directory`` (verified against ``manifest`` already); pickles are never loaded."""
    from flowyml.preview import preview_lines

    if manifest.get("serializer") == "parquet" and "data.parquet" in manifest.get("files", {}):
        return _parquet(directory / "data.parquet")
    return Preview(lines=tuple(preview_lines(directory, manifest)))
