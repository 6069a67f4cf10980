"""The part size and concurrency of a transfer follow the object's size, within the store's memory budget."""

from __future__ import annotations

from typing import Any

import pytest

from flowyml.plugins.kinds import Kind
from flowyml.testing import make_stack
from flowyml_s3.transfer import MAX_PARTS, MAX_SINGLE_PUT, plan_transfer

MIB = 2**20
GIB = 2**30


@pytest.mark.parametrize(
    ("size", "single", "part", "concurrency"),
    [
        (0, True, 1, 1),
        (1 * MIB, True, 1 * MIB, 1),
        (10 * MIB, True, 10 * MIB, 1),
        (200 * MIB, True, 200 * MIB, 1),  # the whole budget (50 MiB x 4) in one request
        (200 * MIB + 1, False, 50 * MIB, 4),
        (1 * GIB, False, 50 * MIB, 4),
        (600 * GIB, False, 62 * MIB, 3),  # 10,000 parts of 50 MiB are too few: larger parts, fewer at once
    ],
)
def test_the_default_plan_follows_the_size(size: int, single: bool, part: int, concurrency: int) -> None:
    plan = plan_transfer(size, part_mb=50, max_concurrency=4)
    assert (plan.single, plan.part_size, plan.concurrency) == (single, part, concurrency)
    assert plan.memory <= 200 * MIB  # never more than today's 50 MiB x 4 in flight
    assert plan.single or -(-size // plan.part_size) <= MAX_PARTS


@pytest.mark.parametrize("size", [1, 7 * MIB, 39 * MIB, 41 * MIB, 5 * GIB, 5 * GIB + 1, 3 * 2**40])
@pytest.mark.parametrize(("part_mb", "concurrency"), [(5, 1), (5, 8), (50, 4), (100, 2), (5120, 1)])
def test_every_plan_is_within_s3_limits_and_the_budget(size: int, part_mb: int, concurrency: int) -> None:
    plan = plan_transfer(size, part_mb=part_mb, max_concurrency=concurrency)
    budget = part_mb * MIB * concurrency
    if plan.single:
        assert size <= MAX_SINGLE_PUT and plan.concurrency == 1
        assert size <= budget or size < 2 * part_mb * MIB  # one request holds the object: within the budget, or under two parts as before
        # s3fs sends one PUT below twice chunksize, and streams one GET when the object is not above chunksize
        assert size < 2 * plan.upload_kwargs()["chunksize"] and size <= plan.download_kwargs()["chunksize"]
    else:
        assert plan.part_size >= 5 * MIB and -(-size // plan.part_size) <= MAX_PARTS
        assert plan.memory <= max(budget, plan.part_size)
        assert size >= 2 * plan.upload_kwargs()["chunksize"] or plan.concurrency == 1


def test_the_store_uses_the_plan_both_ways(tmp_path: Any) -> None:
    stack = make_stack(tmp_path, {"artifact_store": {"type": "s3", "bucket": "plans", "multipart_chunk_mb": 5, "max_concurrency": 2}})
    store = stack.component(Kind.ARTIFACT_STORE)
    assert store.transfer_options(9 * MIB) == {"chunksize": 9 * MIB, "max_concurrency": 1}
    assert store.download_options(9 * MIB) == {"chunksize": 9 * MIB, "max_concurrency": 1}
    assert store.transfer_options(120 * MIB) == {"chunksize": 5 * MIB, "max_concurrency": 2}
    assert store.download_options(120 * MIB) == {"chunksize": 5 * MIB, "max_concurrency": 2}
