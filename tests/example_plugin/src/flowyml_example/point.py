"""A value type the core knows nothing about."""

from __future__ import annotations

from typing import NamedTuple


class Point(NamedTuple):
    x: float
    y: float
