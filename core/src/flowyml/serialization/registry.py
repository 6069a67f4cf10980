"""Choosing a serializer for a value, and finding one by name."""

from __future__ import annotations

from typing import Any

from flowyml.errors import SerializationError
from flowyml.serialization.base import Serializer, type_path
from flowyml.serialization.builtin import EXPLICIT_ONLY


class SerializerRegistry:
    """Serializers in order of preference: plugins' first, the built-ins last."""

    def __init__(self) -> None:
        self._items: list[Serializer] = []

    def register(self, serializer: Serializer) -> None:
        if not isinstance(serializer, Serializer) or not serializer.name:
            raise SerializationError(f"{serializer!r} is not a named flowyml Serializer")
        self._items.append(serializer)

    def serializers(self) -> list[Serializer]:
        return list(self._items)

    def names(self) -> list[str]:
        return [s.name for s in self._items]

    def by_name(self, name: str) -> Serializer:
        for serializer in self._items:
            if serializer.name == name:
                return serializer
        raise SerializationError(
            f"no serializer named {name!r} is installed",
            hint=f"installed serializers: {', '.join(dict.fromkeys(self.names()))}; "
            "install the plugin that wrote this artifact",
        )

    def for_value(self, value: Any, format: str | None = None) -> Serializer:
        if format:
            for serializer in self._items:
                if serializer.name == format and serializer.can_save(value):
                    return serializer
            raise SerializationError(
                f"format {format!r} cannot store a {type_path(value)}",
                hint=f"formats installed: {', '.join(dict.fromkeys(self.names()))}; omit format= to pick one automatically",
            )
        for serializer in self._items:
            if serializer.name not in EXPLICIT_ONLY and serializer.can_save(value):
                return serializer
        raise SerializationError(f"no serializer can store a {type_path(value)}")


_registry: SerializerRegistry | None = None


def get_registry() -> SerializerRegistry:
    global _registry
    if _registry is None:
        from flowyml.plugins.manager import get_plugin_manager

        registry = SerializerRegistry()
        get_plugin_manager().hook.flowyml_register_serializers(register=registry.register)
        _registry = registry
    return _registry

