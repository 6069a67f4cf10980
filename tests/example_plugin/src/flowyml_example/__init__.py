"""Example FlowyML plugin."""

from flowyml_example.point import Point

__all__ = ["Point"]
