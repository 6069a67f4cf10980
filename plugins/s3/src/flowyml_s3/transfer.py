"""How one object is transferred, chosen from its size: one request, or parts and how many at once.

The memory a transfer may hold is the store's budget, ``multipart_chunk_mb``
x ``max_concurrency`` (200 MiB by default): s3fs reads a single-request upload
whole, and holds every part of a batch at once. Within that budget:

* an object up to the budget, or under two parts (as before), and within
  S3's 5 GiB single-PUT limit goes in one PUT and comes back in one streamed
  GET: no parts to assemble, one request each way;
* a larger one goes in parts of ``multipart_chunk_mb``, ``max_concurrency``
  at a time, both ways; an object that would need more than S3's 10,000
  parts gets larger parts, and then fewer of them in flight, so the memory
  stays within the budget.

An artifact whose packed form fits in one request is saved as one object
(:func:`pack_limit`).

Pure (no s3fs import): ``tests`` check the rule on its own.
"""

from __future__ import annotations

import math

import attrs

MIB = 2**20
#: S3's limits: a single PUT, and the parts of one multipart upload.
MAX_SINGLE_PUT = 5 * 2**30
MAX_PARTS = 10_000
#: The largest pack: a pack is held in memory when saved and when fetched, and above this size the
#: requests it saves are a few percent of the transfer (measured on moto, docs/backends/s3.md).
PACK_MAX = 32 * MIB


@attrs.frozen
class TransferPlan:
    """``part_size`` bytes per request, ``concurrency`` requests at once; ``single`` for one request."""

    part_size: int
    concurrency: int
    single: bool

    @property
    def memory(self) -> int:
        """Bytes of the object the transfer may hold at once."""
        return self.part_size * self.concurrency

    def upload_kwargs(self) -> dict[str, int]:
        """Keyword arguments for ``S3FileSystem.put_file``: s3fs sends one PUT below twice ``chunksize``."""
        return {"chunksize": self.part_size, "max_concurrency": self.concurrency}

    def download_kwargs(self) -> dict[str, int]:
        """Keyword arguments for ``S3FileSystem.get_file``: ranged GETs above ``chunksize``, else one stream."""
        return {"chunksize": self.part_size, "max_concurrency": self.concurrency}


def plan_transfer(size: int, part_mb: int, max_concurrency: int) -> TransferPlan:
    """The plan for an object of ``size`` bytes under the budget ``part_mb`` MiB x ``max_concurrency``."""
    budget = part_mb * MIB * max_concurrency
    if size <= MAX_SINGLE_PUT and (size <= budget or size < 2 * part_mb * MIB):  # under two parts: s3fs's own rule
        return TransferPlan(part_size=max(size, 1), concurrency=1, single=True)
    part = max(part_mb * MIB, math.ceil(size / MAX_PARTS / MIB) * MIB)
    return TransferPlan(part_size=part, concurrency=max(1, min(max_concurrency, budget // part)), single=False)


def single_request_limit(part_mb: int, max_concurrency: int) -> int:
    """The largest object :func:`plan_transfer` sends in one request."""
    return min(MAX_SINGLE_PUT, max(part_mb * MIB * max_concurrency, 2 * part_mb * MIB - 1))


def pack_limit(part_mb: int, max_concurrency: int) -> int:
    """The largest packed artifact (manifest + data, bytes) the s3 store saves as one object.

    At most one request's worth (:func:`single_request_limit`): the pack goes
    in one PUT and comes back in one GET, holding no more memory than a
    single-request upload of the data file did; and at most :data:`PACK_MAX`.
    """
    return min(PACK_MAX, single_request_limit(part_mb, max_concurrency))
