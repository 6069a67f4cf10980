"""Find and import backends through entry points, by (kind, type).

Only entry-point *metadata* is read to list or find backends; a backend's
module is imported the first time a stack names its type, after its package's
plugin API version is checked (:mod:`flowyml.plugins.api_version`).
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import os
from collections.abc import Iterator
from typing import Any

import attrs

from flowyml.errors import PluginError, PluginLoadError, PluginNotInstalledError
from flowyml.plugins.kinds import FIRST_PARTY, GENERAL_GROUP, Kind

#: Comma-separated distribution names (or types) that must not be loaded.
DISABLE_ENV = "FLOWYML_DISABLE_PLUGINS"


@attrs.frozen
class BackendInfo:
    """An installed backend, read from metadata without importing it."""

    kind: Kind
    type: str
    distribution: str
    version: str
    target: str
    disabled: bool


@functools.cache
def entry_points_in(group: str) -> tuple[Any, ...]:
    """Entry points of ``group`` (metadata only), read once per process (see :func:`forget_installed`)."""
    return tuple(importlib.metadata.entry_points(group=group))


def forget_installed() -> None:
    """Read the installed distributions again on next use (after one was installed or removed in this process).

    Clears :func:`entry_points_in` and the standard library's own cache of
    each ``sys.path`` folder's listing. That cache is keyed only by the
    folder's modification time, and on Python 3.11
    ``importlib.invalidate_caches()`` does not reset it (3.11's
    ``MetadataPathFinder.invalidate_caches`` lacks ``@classmethod`` and the
    path finder never calls it; 3.12 does): a distribution written into a
    folder within the same clock tick as an earlier read of that folder (by
    any code, in any thread) stays invisible without this.
    """
    entry_points_in.cache_clear()
    _name_and_version.cache_clear()
    importlib.metadata.MetadataPathFinder().invalidate_caches()  # an instance: 3.11 declares no classmethod
    importlib.invalidate_caches()


def disabled_plugins() -> set[str]:
    raw = os.environ.get(DISABLE_ENV, "")
    return {part.strip() for part in raw.split(",") if part.strip()}


def _dist_of(ep: Any) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return ("<unknown>", "?")
    return _name_and_version(dist)


@functools.cache
def _name_and_version(dist: Any) -> tuple[str, str]:
    """A distribution's name and version, its METADATA parsed once per process (the entry points are cached too)."""
    return (dist.metadata.get("Name") or "<unknown>", dist.metadata.get("Version") or "?")


def iter_backends() -> Iterator[BackendInfo]:
    """Every backend entry point installed, for every kind (metadata only)."""
    off = disabled_plugins()
    for kind in Kind:
        seen: set[str] = set()
        for ep in entry_points_in(kind.entry_point_group):
            if ep.name in seen:
                continue
            seen.add(ep.name)
            dist, version = _dist_of(ep)
            yield BackendInfo(kind, ep.name, dist, version, ep.value, dist in off or ep.name in off)


def install_hint(kind: Kind, type_name: str) -> str:
    dist = FIRST_PARTY.get((kind, type_name))
    if dist:
        from flowyml.plugins.install import install_command

        return f"install it with: {install_command([dist])}"
    known = sorted({t for (k, t) in FIRST_PARTY if k is kind})
    return (
        f"no first-party backend is called {type_name!r}; first-party {kind.label} types are "
        f"{', '.join(known)}. A third-party backend must be installed in this environment "
        f"and register an entry point in group {kind.entry_point_group!r}"
    )


def load_component_class(kind: Kind, type_name: str, *, stack: str | None = None) -> type[Any]:
    """Import and return the class registered for ``type_name`` under ``kind``."""
    where = f"stack {stack!r} " if stack else ""
    matches = [ep for ep in entry_points_in(kind.entry_point_group) if ep.name == type_name]
    if not matches:
        raise PluginNotInstalledError(
            f"{where}{kind.value}: no installed plugin provides {kind.label} type {type_name!r}",
            hint=install_hint(kind, type_name),
        )
    providers = {_dist_of(ep)[0] for ep in matches}
    if len(providers) > 1:
        raise PluginError(
            f"{kind.label} type {type_name!r} is registered by several distributions: {', '.join(sorted(providers))}",
            hint="uninstall all but one of them",
        )
    ep = matches[0]
    dist, version = _dist_of(ep)
    off = disabled_plugins()
    if dist in off or type_name in off:
        raise PluginError(
            f"{where}{kind.value}: plugin {dist} (type {type_name!r}) is disabled by {DISABLE_ENV}",
            hint=f"remove it from {DISABLE_ENV} to use this stack",
        )
    loaded = _load_checked(ep, dist, version, f"its {kind.label} {type_name!r} ({ep.value})")
    if not isinstance(loaded, type):
        raise PluginLoadError(
            f"plugin {dist}: entry point {type_name!r} in {kind.entry_point_group} must name a component class, "
            f"got {loaded!r}"
        )
    return loaded


def iter_general_plugins() -> Iterator[tuple[str, str, Any]]:
    """Import the general plugins (group ``flowyml``); yield (name, distribution, module)."""
    off = disabled_plugins()
    for ep in entry_points_in(GENERAL_GROUP):
        dist, version = _dist_of(ep)
        if dist in off or ep.name in off:
            continue
        yield ep.name, dist, _load_checked(ep, dist, version, f"({ep.value})")


def _load_checked(ep: Any, dist: str, version: str, what: str) -> Any:
    """Import the plugin's top-level package, check its plugin API version, then load ``ep``."""
    from flowyml.plugins.api_version import check_plugin_api

    package_name = ep.value.split(":")[0].strip().split(".")[0]
    try:
        package = importlib.import_module(package_name)
    except Exception as exc:
        raise _load_error(dist, version, what, exc) from exc
    check_plugin_api(package, dist, version)
    try:
        return ep.load()
    except Exception as exc:
        raise _load_error(dist, version, what, exc) from exc


def _load_error(dist: str, version: str, what: str, exc: Exception) -> PluginLoadError:
    return PluginLoadError(
        f"plugin {dist} {version} failed to import {what}: {type(exc).__name__}: {exc}",
        hint=f"reinstall {dist} (pip install --force-reinstall {dist}) or disable it with {DISABLE_ENV}={dist}",
    )
