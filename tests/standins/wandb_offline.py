"""Pytest plugin and reader for Weights & Biases offline runs.

Load it with ``-p standins.wandb_offline`` (with ``tests`` on ``PYTHONPATH``).

* ``wandb_env`` (function fixture): offline mode, every wandb directory under
  ``tmp_path``, no API key, no error reporting, no system metrics, no code or git
  capture, and a loopback ``WANDB_BASE_URL`` as a safety net.
* :func:`find_offline_runs` lists the ``run-*.wandb`` files below a directory.
* :func:`read_offline_run` decodes one such file into an :class:`OfflineRun`.

The ``.wandb`` file is a LevelDB-style log: a 7-byte file header (``:W&B``, the
little-endian magic ``0xBEE1`` and a version byte), then 32 KiB blocks of records,
each with a 7-byte header (little-endian CRC-32 of type byte + payload, uint16
payload length, type byte). A payload is split into FIRST/MIDDLE/LAST fragments
when it crosses a block boundary, and a block tail shorter than a header is zero
padding. Each reassembled payload is a ``wandb.proto.wandb_internal_pb2.Record``.

Only the standard library and pytest are imported at module level; the protobuf
classes come from ``wandb`` inside :func:`read_offline_run`.
"""

from __future__ import annotations

import json
import struct
import sys
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

FILE_MAGIC = b":W&B"
FILE_IDENT = 0xBEE1
FILE_HEADER = struct.Struct("<4sHB")  # magic, ident, version
RECORD_HEADER = struct.Struct("<IHB")  # crc32, length, type
BLOCK_SIZE = 32 * 1024

RECORD_ZERO, RECORD_FULL, RECORD_FIRST, RECORD_MIDDLE, RECORD_LAST = range(5)

#: Keys wandb adds for its own bookkeeping; dropped from config and summary.
INTERNAL_KEY = "_wandb"

#: Environment that keeps a wandb run offline, local and quiet.
OFFLINE_ENV = {
    "WANDB_MODE": "offline",
    "WANDB_SILENT": "true",
    "WANDB_QUIET": "true",
    "WANDB_CONSOLE": "off",
    "WANDB_DISABLE_CODE": "true",
    "WANDB_DISABLE_GIT": "true",
    "WANDB_SAVE_CODE": "false",
    "WANDB_ERROR_REPORTING": "false",  # wandb-core runs with --no-observability
    "WANDB__DISABLE_STATS": "true",  # settings.x_disable_stats
    "WANDB__DISABLE_META": "true",  # settings.x_disable_meta
    "WANDB__DISABLE_MACHINE_INFO": "true",  # settings.x_disable_machine_info
    "WANDB_BASE_URL": "http://127.0.0.1:9",  # anything that slips through stays local
}

#: Variables that could attach a run to an account, a server or another run.
CLEARED_ENV = (
    "WANDB_API_KEY",
    "WANDB_IDENTITY_TOKEN_FILE",
    "WANDB_CREDENTIALS_FILE",
    "WANDB_ENTITY",
    "WANDB_RUN_ID",
    "WANDB_RESUME",
    "WANDB_RUN_GROUP",
    "WANDB_TAGS",
    "WANDB_NAME",
    "WANDB_NOTES",
    "WANDB_SWEEP_ID",
    "WANDB_APP_URL",
    "WANDB_SERVICE",
)


class OfflineRunFormatError(ValueError):
    """The file is not a well-formed wandb offline run log."""


@dataclass
class OfflineRun:
    """What an offline run recorded, as decoded from its ``.wandb`` file.

    ``config`` and ``summary`` are nested dicts (wandb's own ``_wandb`` entry
    removed); each ``history`` row is flat, with nested logged dicts under dotted
    keys (``{"a": {"b": 1}}`` becomes ``"a.b"``) and wandb's ``_step``,
    ``_runtime`` and ``_timestamp``. ``exit_code`` is ``None`` if the run never
    finished.
    """

    path: Path
    run_id: str = ""
    project: str = ""
    name: str = ""
    group: str = ""
    job_type: str = ""
    notes: str = ""
    tags: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    exit_code: int | None = None
    record_counts: dict[str, int] = field(default_factory=dict)

    def metric(self, key: str) -> list[tuple[int, Any]]:
        """``(step, value)`` pairs of one history key, in logged order."""
        return [(row["_step"], row[key]) for row in self.history if key in row]


def _teardown_wandb() -> None:
    """Finish leaked runs and stop the wandb-core service, if wandb was imported."""
    wandb = sys.modules.get("wandb")
    if wandb is not None and hasattr(wandb, "teardown"):
        wandb.teardown()


@pytest.fixture
def wandb_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Configure wandb for an offline run under ``tmp_path``; returns ``WANDB_DIR``.

    Runs land in ``<returned dir>/wandb/offline-run-*/run-<id>.wandb``. Config,
    cache, data and artifact directories also live under ``tmp_path`` so the test
    neither reads ``~/.config/wandb`` (where a base URL or key could hide) nor
    writes to the home directory. At teardown ``wandb.teardown()`` finishes any
    run the test left open and stops the ``wandb-core`` service process.
    """
    wandb_dir = tmp_path / "wandb-root"
    dirs = {
        "WANDB_DIR": wandb_dir,
        "WANDB_CONFIG_DIR": tmp_path / "wandb-config",
        "WANDB_CACHE_DIR": tmp_path / "wandb-cache",
        "WANDB_DATA_DIR": tmp_path / "wandb-data",
        "WANDB_ARTIFACT_DIR": tmp_path / "wandb-artifacts",
    }
    for key, path in dirs.items():
        path.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(key, str(path))
    for key, value in OFFLINE_ENV.items():
        monkeypatch.setenv(key, value)
    for key in CLEARED_ENV:
        monkeypatch.delenv(key, raising=False)
    # ~/.netrc may hold an api.wandb.ai key; point netrc lookups at an empty file.
    netrc = tmp_path / "wandb-config" / "netrc"
    netrc.touch()
    monkeypatch.setenv("NETRC", str(netrc))
    try:
        yield wandb_dir
    finally:
        _teardown_wandb()


def find_offline_runs(wandb_dir: Path | str) -> list[Path]:
    """All ``run-*.wandb`` files below ``wandb_dir``, oldest run directory first."""
    root = Path(wandb_dir)
    return sorted(root.rglob("run-*.wandb"), key=lambda p: (p.parent.name, p.name))


def iter_log_payloads(data: bytes) -> Iterator[bytes]:
    """Yield the reassembled record payloads of a wandb LevelDB-style log.

    Checks the file header, each record's CRC-32 and fragment order. A torn
    final record (a run still being written or killed) ends iteration quietly.
    """
    if len(data) < FILE_HEADER.size:
        raise OfflineRunFormatError("file shorter than its 7-byte header")
    magic, ident, _version = FILE_HEADER.unpack_from(data, 0)
    if magic != FILE_MAGIC or ident != FILE_IDENT:
        raise OfflineRunFormatError(f"bad file header {data[: FILE_HEADER.size]!r}")
    pos = FILE_HEADER.size
    pending: list[bytes] | None = None
    while pos < len(data):
        block_left = BLOCK_SIZE - pos % BLOCK_SIZE
        if block_left < RECORD_HEADER.size:
            pos += block_left  # zero padding at the end of a block
            continue
        if pos + RECORD_HEADER.size > len(data):
            return
        crc, length, kind = RECORD_HEADER.unpack_from(data, pos)
        start = pos + RECORD_HEADER.size
        end = start + length
        if kind == RECORD_ZERO and length == 0:
            pos += block_left  # preallocated / padded rest of a block
            continue
        if end > len(data):
            return
        payload = data[start:end]
        if zlib.crc32(payload, zlib.crc32(bytes([kind]))) != crc:
            raise OfflineRunFormatError(f"CRC mismatch in record at offset {pos}")
        pos = end
        if kind == RECORD_FULL:
            if pending is not None:
                raise OfflineRunFormatError(f"FULL record inside a fragmented one at {pos}")
            yield payload
        elif kind == RECORD_FIRST:
            if pending is not None:
                raise OfflineRunFormatError(f"FIRST record inside a fragmented one at {pos}")
            pending = [payload]
        elif kind in (RECORD_MIDDLE, RECORD_LAST):
            if pending is None:
                raise OfflineRunFormatError(f"fragment without FIRST at offset {pos}")
            pending.append(payload)
            if kind == RECORD_LAST:
                yield b"".join(pending)
                pending = None
        else:
            raise OfflineRunFormatError(f"unknown record type {kind} at offset {pos}")


def _item_path(item: Any) -> list[str]:
    """The key path of a config, summary or history item."""
    return list(item.nested_key) if item.nested_key else [item.key]


def _history_value(item: Any) -> Any:
    """Decode a HistoryItem: ``value_json`` if set, else its typed ``value`` field."""
    if item.value_json:
        return json.loads(item.value_json)
    kind = item.WhichOneof("value") if hasattr(item, "WhichOneof") else None
    if kind is None or kind == "none":
        return None
    value = getattr(item, kind)
    return json.loads(value) if kind == "json" else value


def _set_nested(target: dict[str, Any], path: list[str], value: Any) -> None:
    """``target[p0][p1]... = value``, creating intermediate dicts."""
    for part in path[:-1]:
        child = target.get(part)
        if not isinstance(child, dict):
            child = target[part] = {}
        target = child
    target[path[-1]] = value


def _remove_nested(target: dict[str, Any], path: list[str]) -> None:
    """Delete ``target[p0][p1]...`` if present."""
    node: Any = target
    for part in path[:-1]:
        node = node.get(part)
        if not isinstance(node, dict):
            return
    node.pop(path[-1], None)


def _apply_updates(target: dict[str, Any], updates: Iterable[Any], removes: Iterable[Any]) -> None:
    """Apply a ConfigRecord/SummaryRecord's ``update`` and ``remove`` items."""
    for item in updates:
        _set_nested(target, _item_path(item), json.loads(item.value_json))
    for item in removes:
        _remove_nested(target, _item_path(item))


def _unwrap_config(config: dict[str, Any]) -> dict[str, Any]:
    """Drop ``_wandb``; unwrap legacy ``{"value": v, "desc": d}`` entries."""
    result: dict[str, Any] = {}
    for key, value in config.items():
        if key == INTERNAL_KEY:
            continue
        if isinstance(value, dict) and set(value) == {"value", "desc"}:
            value = value["value"]
        result[key] = value
    return result


def read_offline_run(run_dir_or_file: Path | str) -> OfflineRun:
    """Decode a wandb offline run (its ``.wandb`` file or the run directory)."""
    from wandb.proto import wandb_internal_pb2  # vendor import only when reading

    path = Path(run_dir_or_file)
    if path.is_dir():
        candidates = sorted(path.glob("run-*.wandb")) or find_offline_runs(path)
        if len(candidates) != 1:
            raise FileNotFoundError(f"expected one run-*.wandb under {path}, found {candidates}")
        path = candidates[0]

    run = OfflineRun(path=path)
    config: dict[str, Any] = {}
    for payload in iter_log_payloads(path.read_bytes()):
        record = wandb_internal_pb2.Record()  # type: ignore[attr-defined]
        record.ParseFromString(payload)
        kind = record.WhichOneof("record_type")
        if kind is None:
            continue
        run.record_counts[kind] = run.record_counts.get(kind, 0) + 1
        if kind == "run":
            info = record.run
            run.run_id, run.project = info.run_id, info.project
            run.name, run.group, run.job_type = info.display_name, info.run_group, info.job_type
            run.notes, run.tags = info.notes, list(info.tags)
            _apply_updates(config, info.config.update, info.config.remove)
            _apply_updates(run.summary, info.summary.update, info.summary.remove)
        elif kind == "config":
            _apply_updates(config, record.config.update, record.config.remove)
        elif kind == "summary":
            _apply_updates(run.summary, record.summary.update, record.summary.remove)
        elif kind == "history":
            row = {".".join(_item_path(item)): _history_value(item) for item in record.history.item}
            if "_step" not in row and record.history.HasField("step"):
                row["_step"] = record.history.step.num
            run.history.append(row)
        elif kind == "exit":
            run.exit_code = record.exit.exit_code
    run.config = _unwrap_config(config)
    run.summary.pop(INTERNAL_KEY, None)
    return run
