"""`pip install flowyml-vertex` as it will work once published: from the built wheels, in a fresh venv.

``--find-links`` stands in for the package index's copy of our distributions;
the plugin's own dependencies (google-cloud-aiplatform) come from the index,
where the unrelated ``flowyml`` 2.x also lives: it must not be picked.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from packaging_helpers import PIP_TIMEOUT, ROOT, clean_env, make_venv

pytestmark = pytest.mark.slow

GCS_STACK = """
stacks:
  cloud:
    orchestrator: { type: local }
    artifact_store: { type: gcs, bucket: b }
active_stack: cloud
"""


def flowyml_cli(venv: Path, *args: str, cwd: Path) -> str:
    done = subprocess.run([str(venv / "bin" / "flowyml"), *args], cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_pip_install_find_links_dist_flowyml_vertex_gives_our_core_local_and_vertex(built_dists: Path, tmp_path: Path) -> None:
    python = make_venv(tmp_path / "venv")
    env = clean_env()
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--find-links", str(built_dists), "flowyml-vertex"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=PIP_TIMEOUT,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    listed = subprocess.run([str(python), "-m", "pip", "list", "--format", "json"], env=env, capture_output=True, text=True, check=True).stdout
    versions = {p["name"].lower(): p["version"] for p in json.loads(listed)}
    assert versions.get("flowyml") == "0.1.0", f"pip installed flowyml {versions.get('flowyml')}, not ours"
    assert versions.get("flowyml-local") == "0.1.0" and versions.get("flowyml-vertex") == "0.1.0", versions

    summary = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.metadata('flowyml')['Summary'])"], env=env, capture_output=True, text=True, check=True).stdout
    assert "routes it to the infrastructure" in summary

    plugins = flowyml_cli(tmp_path / "venv", "plugins", "list", cwd=tmp_path)
    for type_name in ("vertex_ai", "vertex_model_registry", "vertex_endpoint", "local"):
        assert type_name in plugins, plugins
    # not a checkout: the hints name the published distributions only
    assert "  flowyml-gcs: pip install flowyml-gcs\n" in plugins and "checkout" not in plugins, plugins
    (tmp_path / "flowyml.yaml").write_text(GCS_STACK)
    shown = flowyml_cli(tmp_path / "venv", "stack", "show", cwd=tmp_path)
    assert "Not installed here: artifact_store gcs; install with: pip install flowyml-gcs\n" in shown, shown


def test_pip_install_core_from_the_checkout_brings_local_and_hints_the_checkout_folders(tmp_path: Path) -> None:
    """The Quickstart's install (without the extras): flowyml-local comes from ../plugins/local."""
    python = make_venv(tmp_path / "venv")
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "./core"], cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=PIP_TIMEOUT)
    assert done.returncode == 0, done.stderr[-4000:]
    project = tmp_path / "project"
    project.mkdir()
    (project / "flowyml.yaml").write_text(GCS_STACK)
    shown = flowyml_cli(tmp_path / "venv", "stack", "show", cwd=project)
    assert f"install with: pip install flowyml-gcs (from this checkout: pip install {ROOT / 'core'} {ROOT / 'plugins' / 'gcs'})" in shown, shown
    assert "flowyml-local" in flowyml_cli(tmp_path / "venv", "plugins", "list", cwd=project)
