"""The plugin system: hookspecs documented and tested, loading by (kind, type), failures reported."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.example_plugin import python, site_path

from flowyml import pipeline, step
from flowyml.errors import PluginError
from flowyml.plugins import hookspecs
from flowyml.plugins.kinds import Kind
from flowyml.plugins.loader import load_component_class
from flowyml.runner.engine import prepare_stack

TESTS = Path(__file__).parent
ROOT = TESTS.parent
HOOKS = sorted(name for name, fn in vars(hookspecs).items() if name.startswith("flowyml_") and inspect.isfunction(fn))


def test_every_hookspec_has_a_docstring() -> None:
    assert len(HOOKS) >= 15
    for name in HOOKS:
        assert (getattr(hookspecs, name).__doc__ or "").strip(), name


def test_every_hookspec_is_exercised_by_a_test() -> None:
    """Like datasette's meta-test: each hook name appears in a test (here or in flowyml.testing's contracts)."""
    sources = [p.read_text() for p in TESTS.rglob("test_*.py")]
    sources.append((ROOT / "core" / "src" / "flowyml" / "testing" / "contracts.py").read_text())
    text = "\n".join(sources)
    missing = [name for name in HOOKS if name not in text]
    assert not missing, f"hooks without a test: {missing}"


def test_every_hookspec_is_in_the_plugin_guide() -> None:
    guide = (ROOT / "docs" / "writing-a-plugin.md").read_text()
    missing = [name for name in HOOKS if name not in guide]
    assert not missing, f"hooks missing from docs/writing-a-plugin.md: {missing}"


HIDDEN = """
import json, os, sys, sysconfig
view = sys.argv[1]
site = os.path.realpath(sysconfig.get_paths()["purelib"])
sys.path[:] = [view if os.path.realpath(p) == site else p for p in sys.path]
from flowyml.errors import PluginNotInstalledError
from flowyml.plugins.kinds import FIRST_PARTY
from flowyml.plugins.loader import load_component_class
found = {}
for (kind, type_name), dist in FIRST_PARTY.items():
    try:
        load_component_class(kind, type_name, stack="s")
        found[f"{kind.value}:{type_name}"] = ["loaded", dist]
    except PluginNotInstalledError as exc:
        found[f"{kind.value}:{type_name}"] = [exc.message, exc.hint]
print(json.dumps(found))
"""


def _environment_without_plugins(tmp_path: Path) -> Path:
    """This environment's site-packages with every flowyml-* distribution but core and local uninstalled.

    Built as a folder of links (the metadata of the hidden distributions is left out), so the
    loader sees an environment where those plugins were never installed, whatever is installed here.
    """
    import sysconfig

    site = Path(sysconfig.get_paths()["purelib"])
    view = tmp_path / "site-view"
    view.mkdir()
    for entry in site.iterdir():
        name = entry.name.lower()
        hidden = name.startswith("flowyml_") and name.endswith(".dist-info") and not name.startswith("flowyml_local-")
        if not hidden:
            (view / entry.name).symlink_to(entry)
    return view


def test_loading_a_first_party_type_that_is_not_installed_names_its_distribution(tmp_path: Path) -> None:
    """Runs against an environment where the plugins are not installed (even when they are, as in ``nox -s tests``)."""
    import json

    view = _environment_without_plugins(tmp_path)
    done = subprocess.run([sys.executable, "-c", HIDDEN, str(view)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    message, hint = found.pop("experiment_tracker:wandb")
    assert message == "stack 's' experiment_tracker: no installed plugin provides experiment tracker type 'wandb'"
    # run from a checkout, the hint adds the folder form (tests/packaging/test_install_hints.py)
    assert hint.startswith("install it with: pip install flowyml-wandb"), hint
    for key, (message, hint) in found.items():
        kind, type_name = key.split(":")
        if type_name == "local":
            assert message == "loaded", key  # the built-in backend stays installed
        else:
            assert f"no installed plugin provides {kind.replace('_', ' ')} type {type_name!r}" in message, key
            assert hint.startswith("install it with: pip install flowyml-"), key


def test_an_unknown_third_party_type_names_the_entry_point_group() -> None:
    with pytest.raises(PluginError, match="no installed plugin provides experiment tracker type 'nosuchtracker'") as info:
        load_component_class(Kind.EXPERIMENT_TRACKER, "nosuchtracker", stack="s")
    assert "no first-party backend is called 'nosuchtracker'" in info.value.hint
    assert "'flowyml.experiment_trackers'" in info.value.hint and "wandb" in info.value.hint


def test_disabling_a_plugin(project, monkeypatch) -> None:
    monkeypatch.setenv("FLOWYML_DISABLE_PLUGINS", "flowyml-local")
    with pytest.raises(PluginError, match="disabled by FLOWYML_DISABLE_PLUGINS"):
        prepare_stack(None)


# -- a third-party plugin, installed for real ------------------------------------------------------


PIPELINE = '''
from flowyml import pipeline, step
from flowyml_example import Point


@step
def make_point() -> Point:
    return Point(1.5, -2.0)


@step
def norm(p: Point) -> float:
    return (p.x ** 2 + p.y ** 2) ** 0.5


@pipeline
def geometry() -> None:
    norm(make_point())
'''

CONFIG = """
stacks:
  local:
    orchestrator: { type: local }
    artifact_store: { type: local, path: ./artifacts }
  sub:
    orchestrator: { type: subprocess, timeout: 120 }
    artifact_store: { type: local, path: ./artifacts }
active_stack: local
"""


def test_example_plugin_is_discovered_through_its_entry_point(project, example_plugin: Path) -> None:
    project.write_config(CONFIG)
    out = project.cli("plugins", "list", env={"PYTHONPATH": site_path(example_plugin)}, check=True).stdout
    assert re.search(r"orchestrator\s+subprocess\s+flowyml-example\s+0\.3\.0", out)


def test_example_plugin_is_loaded_only_when_named_and_used_flowyml_register_serializers(project, example_plugin: Path) -> None:
    project.write_config(CONFIG)
    project.write("geometry.py", PIPELINE)
    code = (
        "import sys\nfrom geometry import geometry\n"
        "run = geometry.run(stack='local')\n"
        "print('loaded-on-local', 'flowyml_example.orchestrator' in sys.modules)\n"
        "print('serializer', run.artifact('make_point').serializer)\n"
        "run = geometry.run(stack='sub', cache=False)\n"
        "print('status', run.status, run.error)\n"
        "print('loaded-on-sub', 'flowyml_example.orchestrator' in sys.modules)\n"
        "print('norm', run.load('norm'))\n"
    )
    done = python(code, project.path, example_plugin)
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(" ", 1) for line in done.stdout.strip().splitlines())
    assert lines["loaded-on-local"] == "False"
    assert lines["serializer"] == "example-point"  # the plugin's serializer beat pickle
    assert lines["status"].startswith("completed")
    assert lines["loaded-on-sub"] == "True"
    assert float(lines["norm"]) == pytest.approx(2.5)


def test_flowyml_register_commands_adds_a_plugin_command_and_refuses_a_clash(project, example_plugin: Path) -> None:
    env = {"PYTHONPATH": site_path(example_plugin)}
    done = project.cli("example-hello", "ada", env=env, check=True)
    assert done.stdout.strip() == "hello ada from flowyml-example"
    helped = project.cli("--help", env=env, check=True)
    assert "example-hello" in helped.stdout
    assert "flowyml-example tried to add command 'run', which exists already; not added" in helped.stderr
    # the core's `run` is still the core's
    assert "Run the pipeline in TARGET" in project.cli("run", "--help", env=env, check=True).stdout


def test_a_general_plugin_that_fails_to_import_leaves_the_command_line_working(project, tmp_path: Path) -> None:
    site = tmp_path / "site"
    dist = site / "flowyml_badcmd-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: flowyml-badcmd\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[flowyml]\nbadcmd = flowyml_badcmd\n")
    (site / "flowyml_badcmd.py").write_text("raise ImportError('web stack missing')\n")
    done = project.cli("runs", "--help", env={"PYTHONPATH": site_path(site)}, check=True)
    assert "Past pipeline runs" in done.stdout
    assert "flowyml-badcmd 1.0 failed to import" in done.stderr and "web stack missing" in done.stderr
    assert "Traceback" not in done.stderr


def test_flowyml_orchestrator_run_remote_step_runner_records_the_run_like_a_local_one(project, example_plugin: Path) -> None:
    """The subprocess orchestrator runs each step as `flowyml step run` in a fresh process."""
    project.write_config(CONFIG)
    project.write("geometry.py", PIPELINE)
    code = (
        "from geometry import geometry\nfrom flowyml.metadata.store import MetadataStore\nfrom pathlib import Path\n"
        "run = geometry.run(stack='sub')\n"
        "db = MetadataStore.for_project(Path('.'))\n"
        "print([s['status'] for s in db.steps_of(run.run_id)])\n"
        "print(sorted(r['out_step'] for r in db.outputs_of(run.run_id)))\n"
        "print(db.consumers_of(run.run_id, run.artifact('make_point').artifact_id))\n"
    )
    done = python(code, project.path, example_plugin)
    assert done.returncode == 0, done.stderr
    statuses, outputs, consumers = done.stdout.strip().splitlines()[-3:]
    assert statuses == "['completed', 'completed']"
    assert outputs == "['make_point', 'norm']"
    assert consumers == "['norm']"


def test_a_plugin_that_fails_to_import_is_reported_with_its_distribution(project, tmp_path: Path) -> None:
    site = tmp_path / "site"
    dist = site / "flowyml_broken-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: flowyml-broken\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[flowyml.artifact_stores]\nbroken = flowyml_broken:Store\n")
    (site / "flowyml_broken.py").write_text("raise ImportError('vendor SDK missing: install libfoo')\n")
    project.write_config("stacks:\n  b:\n    orchestrator: { type: local }\n    artifact_store: { type: broken }\n")
    done = project.cli("stack", "check", "b", env={"PYTHONPATH": site_path(site)}, check=False)
    assert "flowyml-broken 1.0 failed to import" in done.stderr
    assert "vendor SDK missing: install libfoo" in done.stderr
    assert "hint:" in done.stderr and "Traceback" not in done.stderr


def test_component_missing_a_hookimpl_is_reported(project, tmp_path: Path) -> None:
    site = tmp_path / "site"
    dist = site / "flowyml_lazy-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: flowyml-lazy\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[flowyml.experiment_trackers]\nlazy = flowyml_lazy:Tracker\n")
    (site / "flowyml_lazy.py").write_text(
        "from flowyml.plugins.component import Component\n"
        "class Tracker(Component):\n"
        "    kind = 'experiment_tracker'\n"
        "    def flowyml_tracker_start_run(self, run):\n"
        "        pass\n"
    )
    project.write_config("stacks:\n  t:\n    orchestrator: { type: local }\n    artifact_store: { type: local }\n    experiment_tracker: { type: lazy }\n")
    done = project.cli("stack", "check", "t", env={"PYTHONPATH": site_path(site)}, check=False)
    assert "does not implement flowyml_tracker_start_run" in done.stderr
    assert "@flowyml.hookimpl" in done.stderr


def test_unused_plugin_module_is_never_imported(project) -> None:
    @step
    def one() -> int:
        return 1

    @pipeline
    def p() -> None:
        one()

    project.write_config(CONFIG)
    p.run(stack="local")
    assert "flowyml_example.orchestrator" not in sys.modules
