"""The cache index kept in the artifact store itself: which stored outputs answer a cache key.

A project's metadata store knows the cache of the runs it recorded; a fresh
remote container, or a second checkout of the project, has an empty one.
So every remote step that completes also writes one small JSON entry at
``<artifact store>/.flowyml-cache/<cache_key>``::

    {"cache_key": "9f2c…", "run_id": "20261201-120102-4be1c2", "step_name": "train_model",
     "created_at": 1796126462.1, "outputs": {"output": {"artifact_id": "…", "uri": "gs://…", "content_hash": "…", …}}}

Entries go through the artifact-store facade like any artifact: the store
uploads the manifest last, so an interrupted write leaves no entry, and a
store never overwrites one (a second writer of the same key keeps the first).
An entry is read as a JSON artifact (its manifest and bytes checked), its
shape and its own key checked, and it is trusted no further than the
outputs it names: :mod:`flowyml.runner.cache_hits` verifies each against the
content hash recorded here before a step is answered from it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any

import attrs

from flowyml.errors import FlowymlError
from flowyml.runner import records
from flowyml.runner.result import StoredArtifact
from flowyml.stacks.stack import Stack

log = logging.getLogger("flowyml.cache")

INDEX_PREFIX = ".flowyml-cache"
_ROW_FIELDS = ("artifact_id", "run_id", "step_name", "output_name", "artifact_type", "uri", "content_hash")


@attrs.frozen
class IndexEntry:
    """One entry of the index: the step run whose stored outputs answer ``cache_key``."""

    cache_key: str
    run_id: str
    step_name: str
    outputs: dict[str, StoredArtifact]


def entry_key(cache_key: str) -> str:
    """The artifact-store key of an entry (cache keys are sha256 hex digests)."""
    return f"{INDEX_PREFIX}/{cache_key}"


def write_entry(stack: Stack, cache_key: str, run_id: str, step_name: str, outputs: Mapping[str, StoredArtifact]) -> bool:
    """Record that ``run_id``'s ``step_name`` answers ``cache_key``; False when an entry was already there."""
    store = stack.artifact_store
    if store.exists(store.uri(entry_key(cache_key))):
        return False
    entry = {
        "cache_key": cache_key,
        "run_id": run_id,
        "step_name": step_name,
        "created_at": time.time(),
        "outputs": {out: stored.to_row() for out, stored in outputs.items()},
    }
    try:
        records.save_json(stack, entry_key(cache_key), entry)
    except FlowymlError:
        if store.exists(store.uri(entry_key(cache_key))):
            return False  # another process wrote the same key meanwhile: its entry stands
        raise
    return True


def read_entry(stack: Stack, cache_key: str) -> IndexEntry | None:
    """The entry for ``cache_key``, or None when there is none or it cannot be trusted (logged)."""
    try:
        data = records.read_json(stack, entry_key(cache_key))
    except FlowymlError as exc:
        log.warning("cache index entry %s is unreadable, ignored: %s", cache_key[:16], exc)
        return None
    if data is None:
        return None
    problem = _problem(data, cache_key)
    if problem:
        log.warning("cache index entry %s is malformed, ignored: %s", cache_key[:16], problem)
        return None
    outputs = {out: StoredArtifact.from_row({"python_type": None, "size": None, "serializer": None, **row, "info": json.dumps(row.get("info") or {})}) for out, row in data["outputs"].items()}
    return IndexEntry(cache_key, data["run_id"], data["step_name"], outputs)


def drop_entry(stack: Stack, cache_key: str) -> bool:
    """Delete the entry for ``cache_key`` (its outputs are gone or edited), so the step's next result can take its place.

    False when the store cannot delete (the stale entry is then ignored on every read, and logged).
    """
    store = stack.artifact_store
    if not store.can_delete:
        return False
    try:
        return store.delete(store.uri(entry_key(cache_key)))
    except FlowymlError as exc:
        log.warning("could not delete the stale cache index entry %s: %s", cache_key[:16], exc)
        return False


def _problem(data: Any, cache_key: str) -> str | None:
    if not isinstance(data, dict):
        return "not a JSON object"
    if data.get("cache_key") != cache_key:
        return f"it is stored under {cache_key[:16]}… but names the key {str(data.get('cache_key'))[:16]}…"
    if not isinstance(data.get("run_id"), str) or not isinstance(data.get("step_name"), str):
        return "it names no run or step"
    outputs = data.get("outputs")
    if not isinstance(outputs, dict) or not outputs:
        return "it lists no output"
    for out, row in outputs.items():
        if not isinstance(row, dict) or any(not isinstance(row.get(f), str) for f in _ROW_FIELDS):
            return f"output {out!r} is not an artifact record"
    return None
