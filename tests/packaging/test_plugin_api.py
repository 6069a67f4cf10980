"""A plugin written for another plugin API version is refused when its stack is built."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import flowyml
from flowyml.errors import PluginIncompatibleError
from flowyml.plugins.api_version import ATTRIBUTE, PLUGIN_API, check_plugin_api

HERE = Path(__file__).parent

CONFIG = """
stacks:
  local:
    orchestrator: { type: local }
    artifact_store: { type: local, path: ./artifacts }
  newer:
    orchestrator: { type: oldapi }
    artifact_store: { type: local, path: ./artifacts }
active_stack: local
"""

PIPELINE = """
from flowyml import pipeline, step


@step
def one() -> int:
    return 1


@pipeline
def tiny() -> None:
    one()
"""


@pytest.fixture(scope="module")
def incompatible_plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build and install tests/packaging/incompatible_plugin into a private folder (no index, no network)."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--no-build-isolation", "--target", str(target), str(HERE / "incompatible_plugin")],
        check=True,
        capture_output=True,
    )
    return target


def test_plugin_api_is_the_core_minor_series() -> None:
    assert ".".join(flowyml.__version__.split(".")[:2]) == PLUGIN_API


def test_every_installed_first_party_plugin_declares_this_plugin_api() -> None:
    packages = {ep.value.split(":")[0].split(".")[0] for dist in importlib.metadata.distributions() for ep in dist.entry_points if ep.group.startswith("flowyml.") and ep.value.startswith("flowyml_")}
    assert "flowyml_local" in packages
    for name in sorted(packages):
        module = __import__(name)
        assert getattr(module, ATTRIBUTE, None) == PLUGIN_API, f"{name}/__init__.py must set {ATTRIBUTE} = {PLUGIN_API!r}"


def test_a_plugin_built_for_another_plugin_api_is_refused_when_its_stack_is_built(project, incompatible_plugin: Path) -> None:
    project.write_config(CONFIG)
    project.write("tiny.py", PIPELINE)
    path = os.pathsep.join(p for p in (str(incompatible_plugin), os.environ.get("PYTHONPATH", "")) if p)
    listed = project.cli("plugins", "list", env={"PYTHONPATH": path}, check=True).stdout
    assert "flowyml-oldapi" in listed  # listing reads metadata only: it is shown, not refused

    done = project.cli("run", "tiny.py", env={"PYTHONPATH": path, "FLOWYML_STACK": "newer"}, check=False)
    err = done.stderr
    assert "Traceback" not in err, err
    assert "plugin flowyml-oldapi 0.2.0 targets plugin API '0.2'" in err, err
    assert f"flowyml {flowyml.__version__} (plugin API {PLUGIN_API})" in err, err
    assert "install a release of flowyml-oldapi built for flowyml 0.1.x" in err and "FLOWYML_DISABLE_PLUGINS=flowyml-oldapi" in err, err
    assert "ComponentV2" not in err  # refused before its module was imported

    ok = project.cli("run", "tiny.py", env={"PYTHONPATH": path}, check=True)  # the other stacks still work
    assert "completed" in ok.stdout.lower() or ok.returncode == 0


def test_only_a_declared_other_plugin_api_is_refused() -> None:
    check_plugin_api(_declaring(PLUGIN_API), "flowyml-fine", "1.0.0")
    check_plugin_api(ModuleType("flowyml_undeclared"), "flowyml-undeclared", "1.0.0")  # declares nothing: loaded as before
    with pytest.raises(PluginIncompatibleError, match=r"flowyml-older 1\.0\.0 targets plugin API '0\.0'"):
        check_plugin_api(_declaring("0.0"), "flowyml-older", "1.0.0")


def _declaring(api: str) -> ModuleType:
    module = ModuleType("flowyml_fine")
    setattr(module, ATTRIBUTE, api)
    return module
