"""Build hook: declare the core's runtime dependencies.

The core distribution pulls in ``flowyml-local`` so that a plain install gives
a working local stack. In a repository checkout that dependency must come from
``../plugins/local`` (the package index holds an unrelated project named
``flowyml`` and no ``flowyml-local``), so it is a direct reference there; a
release build (``FLOWYML_RELEASE=1``) pins the released version instead, and
so does a development install (``FLOWYML_DEV_INSTALL=1``) that installs
``-e plugins/local`` in the same pip command (pip refuses an editable install
and a direct reference to the same project together).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hatchling.metadata.plugin.interface import MetadataHookInterface

BASE_DEPENDENCIES = [
    "pluggy>=1.3",
    "importlib-metadata>=6",
    "pyyaml>=6",
    "attrs>=23.1",
    "cattrs>=23.2",
    "fsspec>=2023.6",
    "click>=8.1",
]


class FlowymlDependencies(MetadataHookInterface):
    def update(self, metadata: dict[str, Any]) -> None:
        version = metadata["version"]
        local_plugin = Path(self.root).parent / "plugins" / "local"
        pinned = os.environ.get("FLOWYML_RELEASE") or os.environ.get("FLOWYML_DEV_INSTALL")
        if pinned or not (local_plugin / "pyproject.toml").exists():
            local = f"flowyml-local=={version}"
        else:
            local = f"flowyml-local @ {local_plugin.resolve().as_uri()}"
        metadata["dependencies"] = [*BASE_DEPENDENCIES, local]
