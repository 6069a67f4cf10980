"""Install hints name the published distribution and, from a checkout, the folders that work there."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging_helpers import ROOT

from flowyml.plugins.install import checkout_root, install_command, missing_plugins_line
from flowyml.plugins.kinds import Kind
from flowyml.plugins.loader import install_hint


def test_this_flowyml_is_recognised_as_running_from_the_checkout() -> None:
    assert checkout_root() == ROOT


@pytest.mark.parametrize(
    ("cwd", "local"),
    [
        (".", "./core ./plugins/vertex"),
        ("examples/quickstart", "../../core ../../plugins/vertex"),
    ],
)
def test_checkout_form_is_relative_to_where_the_user_is(monkeypatch: pytest.MonkeyPatch, cwd: str, local: str) -> None:
    monkeypatch.chdir(ROOT / cwd)
    assert install_hint(Kind.ORCHESTRATOR, "vertex_ai") == f"install it with: pip install flowyml-vertex (from this checkout: pip install {local})"


def test_outside_the_checkout_the_folders_are_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert install_command(["flowyml-s3", "flowyml-sagemaker"]) == (
        f"pip install flowyml-s3 flowyml-sagemaker (from this checkout: pip install {ROOT / 'core'} {ROOT / 'plugins' / 's3'} {ROOT / 'plugins' / 'sagemaker'})"
    )


def test_flowyml_local_comes_with_the_core(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert install_command(["flowyml-local"]) == "pip install flowyml-local (from this checkout: pip install ./core)"


def test_missing_plugins_line_lists_only_first_party_types_not_installed() -> None:
    assert missing_plugins_line([(Kind.ORCHESTRATOR, "local"), (Kind.ARTIFACT_STORE, "hdfs")]) is None


def test_docs_index_and_every_backend_page_give_both_install_forms() -> None:
    index = (ROOT / "docs" / "index.md").read_text()
    for folder in sorted(p for p in (ROOT / "plugins").iterdir() if (p / "pyproject.toml").is_file()):
        page = (ROOT / "docs" / "backends" / f"{folder.name}.md").read_text()
        if folder.name == "local":
            assert "pip install ./core" in page and "flowyml-local" in page
            continue
        for text, where in ((page, f"docs/backends/{folder.name}.md"), (index, "docs/index.md")):
            assert f"pip install flowyml-{folder.name}" in text, f"{where}: no published install of flowyml-{folder.name}"
            assert f"pip install ./core ./plugins/{folder.name}" in text, f"{where}: no checkout install of plugins/{folder.name}"
