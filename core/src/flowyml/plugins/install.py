"""The command that installs a plugin, worded for where FlowyML runs.

Everywhere: the published distribution (``pip install flowyml-vertex``). When
this ``flowyml`` comes from a repository checkout (imported from its
``core/src``, or installed from its ``core/`` folder), also the command that
works there before anything is published: the plugin's folder, with the core
in the same command (``pip install ./core ./plugins/vertex``), since the index
holds an unrelated project called ``flowyml``.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlparse

import flowyml
from flowyml.plugins.kinds import FIRST_PARTY, Kind


def _is_checkout(root: Path) -> bool:
    return (root / "core" / "pyproject.toml").is_file() and (root / "plugins").is_dir()


def _installed_from() -> Path | None:
    """The folder pip installed ``flowyml`` from (PEP 610 ``direct_url.json``), if it was a local folder."""
    try:
        text = importlib.metadata.distribution("flowyml").read_text("direct_url.json")
    except importlib.metadata.PackageNotFoundError:
        return None
    url = (json.loads(text) if text else {}).get("url", "")
    return Path(unquote(urlparse(url).path)) if url.startswith("file:") else None


@functools.cache
def checkout_root() -> Path | None:
    """The repository checkout (``core/`` beside ``plugins/``) this flowyml comes from, or None."""
    candidates = [Path(flowyml.__file__).resolve().parents[3]]  # <root>/core/src/flowyml/__init__.py
    source = _installed_from()
    if source is not None:
        candidates.append(source.parent)  # <root>/core
    return next((root for root in candidates if _is_checkout(root)), None)


def _shown(path: Path) -> str:
    """``path`` as the user would type it from the working directory (relative inside the checkout)."""
    root = checkout_root()
    cwd = Path.cwd().resolve()
    if root is None or not cwd.is_relative_to(root):
        return str(path)
    rel = os.path.relpath(path, cwd)
    return rel if rel.startswith("..") else f"./{rel}"


def install_command(distributions: Iterable[str]) -> str:
    """``pip install D1 D2`` and, from a checkout, ``(from this checkout: pip install ./core ./plugins/...)``."""
    dists = list(dict.fromkeys(distributions))
    published = "pip install " + " ".join(dists)
    root = checkout_root()
    if root is None:
        return published
    folders = [root / "plugins" / d.removeprefix("flowyml-") for d in dists]
    if not all((f / "pyproject.toml").is_file() for f in folders):
        return published
    local = " ".join(_shown(p) for p in [root / "core", *folders] if p.name != "local")
    return f"{published} (from this checkout: pip install {local})"


def missing_plugins_line(components: Iterable[tuple[Kind, str]]) -> str | None:
    """``Not installed here: ...; install them with: ...`` for the first-party types of ``components`` that no
    installed plugin provides (None when every one is installed or none is first-party)."""
    from flowyml.plugins.loader import iter_backends

    installed = {(b.kind, b.type) for b in iter_backends()}
    missing = [(kind, name) for kind, name in components if (kind, name) not in installed and (kind, name) in FIRST_PARTY]
    if not missing:
        return None
    types = ", ".join(f"{kind.value} {name}" for kind, name in missing)
    return f"Not installed here: {types}; install with: {install_command(FIRST_PARTY[c] for c in missing)}"
