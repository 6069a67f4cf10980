"""Fixtures for the packaging tests: the built distributions.

These tests install or resolve for real, from the package index (nothing in a
fresh venv is faked): they are marked slow and run in `.ci/run` with the rest.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging_helpers import build_dists


@pytest.fixture(scope="session")
def built_dists(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every distribution built as `nox -s build` builds it (sdist, then the wheel from it), into one folder."""
    out = tmp_path_factory.mktemp("dist")
    build_dists.build_all(out, isolation=False)
    return out
