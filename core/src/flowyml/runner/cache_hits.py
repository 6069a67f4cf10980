"""Finding the stored result that answers a step's cache key, and checking it is still there.

Two places know a cache key's result: the project's metadata store (the
runs it recorded; shared by everyone when the project's metadata lives in a
shared database) and the cache index in the artifact store
(:mod:`flowyml.runner.cache_index`, written by remote steps). The metadata
store is asked first. A candidate is served only when every output it names
is still in the artifact store, and, with ``verify``, when each one verifies
against its recorded content hash (manifest and bytes, as a read would check
them); a deleted or edited output makes the step run again, and a stale
index entry is removed so that the new result can take its place.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import attrs

from flowyml.errors import FlowymlError
from flowyml.metadata.store import MetadataStore
from flowyml.runner import cache_index
from flowyml.runner.loading import check_stored
from flowyml.runner.result import StoredArtifact
from flowyml.stacks.stack import Stack

log = logging.getLogger("flowyml.cache")


@attrs.frozen
class CacheHit:
    """The earlier step run whose outputs answer a cache key (``source``: ``metadata`` or ``index``)."""

    run_id: str
    step_name: str
    outputs: dict[str, StoredArtifact]
    source: str


def candidates(stack: Stack, metadata: MetadataStore, cache_key: str) -> Iterator[CacheHit]:
    """What the metadata store, then the artifact store's index, record for ``cache_key``."""
    row = metadata.find_cached(cache_key)
    if row is not None:
        rows = metadata.outputs_of(row["run_id"], row["step_name"])
        yield CacheHit(row["run_id"], row["step_name"], {r["out_name"]: StoredArtifact.from_row(r) for r in rows}, "metadata")
    entry = cache_index.read_entry(stack, cache_key)
    if entry is not None:
        yield CacheHit(entry.run_id, entry.step_name, dict(entry.outputs), "index")


def broken(stack: Stack, hit: CacheHit, *, verify: bool) -> str | None:
    """Why the outputs ``hit`` names cannot be served any more (None: they can)."""
    for out, stored in hit.outputs.items():
        if not stack.artifact_store.exists(stored.uri):
            return f"output {out!r} is no longer in the artifact store ({stored.uri})"
        if verify:
            try:
                check_stored(stack, stored)
            except FlowymlError as exc:
                return f"output {out!r} does not verify: {exc}"
    return None


def find_hit(stack: Stack, metadata: MetadataStore, cache_key: str, output_names: Sequence[str], *, verify: bool) -> CacheHit | None:
    """The first candidate for ``cache_key`` that can answer the step, or None (the step runs)."""
    for hit in candidates(stack, metadata, cache_key):
        if set(hit.outputs) != set(output_names):
            continue  # not this step's result (the key covers the output names)
        problem = broken(stack, hit, verify=verify)
        if problem is None:
            return hit
        log.warning("cached result of step %r in run %s not used (%s): the step runs again", hit.step_name, hit.run_id, problem)
        if hit.source == "index":
            cache_index.drop_entry(stack, cache_key)  # stale: the step's next result takes its place
    return None
