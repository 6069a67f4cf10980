"""Build hook: declare the core's runtime dependencies.

The core distribution pulls in ``flowyml-local`` so that a plain install gives
a working local stack. Three cases:

* ``pip install ./core`` from a repository checkout: the index has no
  ``flowyml-local`` (and an unrelated project named ``flowyml``), so the
  dependency is a direct reference to ``../plugins/local``.
* a release build (``FLOWYML_RELEASE=1``, which ``nox -s build`` /
  ``tools/build_dists.py`` set), or a build from the sdist (no
  ``../plugins/local`` beside it): ``flowyml-local==<version>``. A wheel meant
  for anyone else must never carry a ``file://`` reference;
  tests/packaging/test_distributions.py reads every built wheel to check it.
* a development install (``FLOWYML_DEV_INSTALL=1``) that installs
  ``-e plugins/local`` in the same pip command (pip refuses an editable install
  and a direct reference to the same project together): the pinned version too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hatchling.metadata.plugin.interface import MetadataHookInterface

BASE_DEPENDENCIES = [
    "pluggy>=1.3",
    "pyyaml>=6",
    "attrs>=23.1",
    "cattrs>=23.2",
    "fsspec>=2023.6",
    "click>=8.1",
    "sqlalchemy>=2.0",  # the metadata store (SQLite and PostgreSQL through one code path)
    "blake3>=0.4",  # hashing large artifacts while they are written, twice as fast as sha256 (flowyml.serialization.digests)
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
