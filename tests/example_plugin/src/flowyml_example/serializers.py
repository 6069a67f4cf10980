"""Stores Point values as a two-line text file instead of a pickle."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import flowyml
from flowyml.serialization import Serializer
from flowyml_example.point import Point


class PointSerializer(Serializer):
    name = "example-point"

    def can_save(self, value: Any) -> bool:
        return isinstance(value, Point)

    def save(self, value: Point, directory: Path) -> None:
        (directory / "point.txt").write_text(f"{value.x}\n{value.y}\n")

    def load(self, directory: Path, info: dict[str, Any]) -> Point:
        x, y = (directory / "point.txt").read_text().split()
        return Point(float(x), float(y))


@flowyml.hookimpl
def flowyml_register_serializers(register: Callable[[Serializer], None]) -> None:
    register(PointSerializer())
