"""Decision paths the suite used to leave open: each test names the one-line bug it exists to catch.

Found by planting realistic bugs one at a time (issue #17): thresholds exactly met, ``manual`` with
thresholds, booleans as thresholds, routed URIs through a real run, configs that must pass, the
unsafe-load gate, the local store's atomic commit, broken general plugins, edited step sources.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from flowyml import Dataset, Metrics, Model, pipeline, step
from flowyml.config.loader import load_project
from flowyml.config.schema import RoutingRule
from flowyml.errors import ConfigError, IntegrityError, PluginLoadError
from flowyml.routing.decisions import decide
from flowyml.routing.validate import validate_stack
from flowyml.serialization.artifact_io import MANIFEST, read_artifact, write_artifact
from flowyml.stores.packed import is_packed, unpack


def gated(**kw) -> RoutingRule:
    return RoutingRule(register=True, deploy=True, **kw)


# -- deploy_condition ------------------------------------------------------------------------------


def test_a_metric_exactly_at_its_min_threshold_deploys() -> None:
    """Bug caught: ``value <= threshold`` (or ``<``) treated as failing for deploy_min_metrics."""
    decision = decide(gated(deploy_condition="auto", deploy_min_metrics={"accuracy": 0.9}), {"accuracy": 0.9})
    assert decision.deploy and decision.status == "approved"
    assert decision.reason == "thresholds met (accuracy=0.9)"


def test_a_metric_exactly_at_its_max_threshold_deploys() -> None:
    """Bug caught: ``value >= threshold`` treated as failing for deploy_max_metrics."""
    decision = decide(gated(deploy_condition="auto", deploy_max_metrics={"loss": 0.1}), {"loss": 0.1})
    assert decision.deploy and decision.status == "approved"


def test_min_and_max_thresholds_are_both_applied() -> None:
    """Bug caught: only the first threshold mapping is checked."""
    rule = gated(deploy_condition="auto", deploy_min_metrics={"accuracy": 0.9}, deploy_max_metrics={"loss": 0.1})
    assert decide(rule, {"accuracy": 0.95, "loss": 0.05}).deploy
    too_lossy = decide(rule, {"accuracy": 0.95, "loss": 0.5})
    assert not too_lossy.deploy and too_lossy.reason == "not deployed: loss=0.5 is above 0.1"
    both = decide(rule, {"accuracy": 0.5, "loss": 0.5})
    assert both.reason == "not deployed: accuracy=0.5 is below 0.9; loss=0.5 is above 0.1"
    missing = decide(rule, {"accuracy": 0.95})
    assert not missing.deploy and missing.reason == "not deployed: metric 'loss' is missing"


@pytest.mark.parametrize("metrics", [{"accuracy": 1.0}, {"accuracy": 0.1}, {}])
def test_manual_with_thresholds_never_deploys(metrics: dict) -> None:
    """Bug caught: thresholds consulted before the condition, so a met threshold deploys a manual model."""
    decision = decide(gated(deploy_condition="manual", deploy_min_metrics={"accuracy": 0.5}), metrics, "m", "2")
    assert not decision.deploy and decision.status == "registered"
    assert decision.reason == "deploy_condition is manual: deploy with `flowyml model deploy m --version 2`"


def test_on_approval_with_thresholds_met_still_waits() -> None:
    decision = decide(gated(deploy_condition="on_approval", deploy_min_metrics={"accuracy": 0.5}), {"accuracy": 1.0}, "m", "2")
    assert not decision.deploy and decision.status == "pending_approval"


def test_decisions_without_a_name_use_placeholders_and_say_false() -> None:
    """Bugs caught: wrong default placeholders in the commands a reason suggests; a falsy non-bool ``deploy``."""
    manual = decide(gated(), {})
    assert manual.deploy is False and manual.reason == "deploy_condition is manual: deploy with `flowyml model deploy NAME --version V`"
    pending = decide(gated(deploy_condition="on_approval"), {})
    assert pending.deploy is False and pending.reason == "deploy_condition is on_approval: waiting for `flowyml model approve NAME --version V`"
    off = decide(RoutingRule(register=True), {})
    assert (off.deploy, off.status, off.reason) == (False, "registered", "deploy is not enabled for Model on this stack")
    below = decide(gated(deploy_condition="auto", deploy_min_metrics={"a": 0.5}), {"a": 0.1})
    assert (below.deploy, below.status) == (False, "registered")
    met = decide(gated(deploy_condition="auto", deploy_min_metrics={"a": 0.5}, deploy_max_metrics={"b": 2}), {"a": 0.75, "b": 1})
    assert (met.deploy, met.status, met.reason) == (True, "approved", "thresholds met (a=0.75, b=1)")


def test_named_puts_the_registered_name_and_version_into_the_suggested_command() -> None:
    """Bug caught: the reason a user reads keeping ``NAME --version V`` after registration gave the real ones."""
    pending = decide(gated(deploy_condition="on_approval"), {}).named("churn", "4")
    assert (pending.deploy, pending.status) == (False, "pending_approval")
    assert pending.reason == "deploy_condition is on_approval: waiting for `flowyml model approve churn --version 4`"
    manual = decide(gated(), {}).named("churn", "4")
    assert manual.reason == "deploy_condition is manual: deploy with `flowyml model deploy churn --version 4`"
    met = decide(gated(deploy_condition="auto"), {})
    assert met.named("churn", "4") == met  # a reason without the command is left as it is


def test_deploy_disabled_never_deploys_even_with_met_thresholds() -> None:
    decision = decide(RoutingRule(register=True, deploy=False, deploy_condition="auto", deploy_min_metrics={"a": 0.0}), {"a": 1.0})
    assert not decision.deploy and decision.status == "registered" and "not enabled" in decision.reason


@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_metric_is_not_a_number(value: bool) -> None:
    """Bug caught: ``True`` read as 1.0 (float(True)), so a flag passes an accuracy threshold."""
    decision = decide(gated(deploy_condition="auto", deploy_min_metrics={"accuracy": 0.5}), {"accuracy": value})
    assert not decision.deploy and decision.reason == "not deployed: metric 'accuracy' is not a number"
    decision = decide(gated(deploy_condition="auto", deploy_max_metrics={"loss": 0.5}), {"loss": value})
    assert not decision.deploy and decision.reason == "not deployed: metric 'loss' is not a number"
    decision = decide(gated(deploy_condition="auto", deploy_max_metrics={"loss": 0.5}), {})
    assert decision.reason == "not deployed: metric 'loss' is missing"


@pytest.mark.parametrize("field", ["deploy_min_metrics", "deploy_max_metrics"])
@pytest.mark.parametrize("threshold", ["true", "false"])
def test_a_boolean_threshold_is_refused(project, field: str, threshold: str) -> None:
    """Bug caught: a YAML ``true`` accepted as the threshold 1.0."""
    project.write_config(
        "stacks:\n  s:\n    orchestrator: { type: local }\n    artifact_store: { type: local }\n"
        "    model_registry: { type: local }\n    model_deployer: { type: local }\n"
        "    artifact_routing:\n"
        f"      Model: {{ register: true, deploy: true, deploy_condition: auto, {field}: {{ accuracy: {threshold} }} }}\n"
    )
    with pytest.raises(ConfigError, match=f"threshold for 'accuracy' must be a number, got {threshold.title()}") as info:
        load_project().stack("s")
    assert f"{field}.accuracy" in str(info.value)


def test_integer_thresholds_are_numbers(project) -> None:
    project.write_config(
        "stacks:\n  s:\n    orchestrator: { type: local }\n    artifact_store: { type: local }\n"
        "    model_registry: { type: local }\n    model_deployer: { type: local }\n"
        "    artifact_routing:\n"
        "      Model: { register: true, deploy: true, deploy_condition: auto, deploy_min_metrics: { accuracy: 1 }, deploy_max_metrics: { loss: 0 } }\n"
    )
    rule = load_project().stack("s").rule_for("Model")
    assert rule.deploy_min_metrics == {"accuracy": 1.0} and rule.deploy_max_metrics == {"loss": 0.0}
    assert decide(rule, {"accuracy": 1, "loss": 0}).deploy


# -- valid configs must pass -------------------------------------------------------------------------

VALID = {
    "store referred to by its name: alias": (
        "    artifact_store: { type: local, name: warehouse }\n",
        "      Dataset: { store: warehouse, path: '{run_id}/data/{step_name}' }\n      Model: { store: local }\n",
    ),
    "store referred to by its type": ("    artifact_store: { type: local }\n", "      Dataset: { store: local }\n"),
    "every placeholder": (
        "    artifact_store: { type: local }\n",
        "      Model: { path: '{pipeline_name}/{run_id}/{step_name}/{artifact_name}/{name}/{version}' }\n",
    ),
    "full Model rule, auto with both threshold kinds": (
        "    artifact_store: { type: local }\n    model_registry: { type: local }\n    model_deployer: { type: local }\n",
        "      Model: { register: true, deploy: true, deploy_condition: auto, deploy_min_metrics: { accuracy: 0.9 },"
        " deploy_max_metrics: { loss: 0.2 }, endpoint_name: ep }\n",
    ),
    "manual with thresholds": (
        "    artifact_store: { type: local }\n    model_registry: { type: local }\n    model_deployer: { type: local }\n",
        "      Model: { register: true, deploy: true, deploy_condition: manual, deploy_min_metrics: { accuracy: 0.9 } }\n",
    ),
    "on_approval without thresholds": (
        "    artifact_store: { type: local }\n    model_registry: { type: local }\n    model_deployer: { type: local }\n",
        "      Model: { register: true, deploy: true, deploy_condition: on_approval }\n",
    ),
    "register without deploy": ("    artifact_store: { type: local }\n    model_registry: { type: local }\n", "      Model: { register: true }\n"),
    "tracked Metrics and Parameters": (
        "    artifact_store: { type: local }\n    experiment_tracker: { type: local }\n",
        "      Metrics: { log_to_tracker: true }\n      Parameters: { log_to_tracker: true }\n",
    ),
    "an empty rule and a Value rule": ("    artifact_store: { type: local }\n", "      Dataset:\n      Value: { path: 'values/{run_id}/{step_name}' }\n"),
    "literal braces": ("    artifact_store: { type: local }\n", "      Dataset: { path: '{{literal}}/{run_id}' }\n"),
}


@pytest.mark.parametrize("case", sorted(VALID))
def test_valid_configs_pass_validation(project, case: str) -> None:
    """Bug caught: a validation check that refuses what it should accept (e.g. a store's name: alias)."""
    components, rules = VALID[case]
    project.write_config("stacks:\n  s:\n    orchestrator: { type: local }\n" + components + "    artifact_routing:\n" + rules)
    config = load_project()
    validate_stack(config, config.stack("s"))  # raises on any problem


def test_a_store_name_alias_routes_a_real_run(project) -> None:
    project.write_config(
        "stacks:\n  s:\n    orchestrator: { type: local }\n    artifact_store: { type: local, path: ./store, name: warehouse }\n"
        "    artifact_routing:\n      Dataset: { store: warehouse, path: 'data/{run_id}' }\nactive_stack: s\n"
    )

    @step
    def rows() -> Dataset:
        return Dataset([1, 2], name="rows")

    @pipeline
    def aliased() -> None:
        rows()

    run = aliased.run()
    assert run.success, run.error
    assert Path(run.artifact("rows").uri) == (project.path / "store" / "data" / run.run_id).resolve()


# -- routed paths through a real run -------------------------------------------------------------------


def test_routed_uris_fill_name_version_and_artifact_name(project) -> None:
    """Bug caught: a placeholder filled from the wrong value (the output name for {name}, the step for {artifact_name}...)."""
    project.write_config(
        "stacks:\n  s:\n    orchestrator: { type: local }\n    artifact_store: { type: local, path: ./store }\n"
        "    artifact_routing:\n"
        "      Model: { path: 'models/{name}/{version}/{artifact_name}/{run_id}' }\n"
        "      Dataset: { path: '{pipeline_name}/{step_name}/{artifact_name}/{name}' }\n"
        "      Value: { path: 'values/{artifact_name}/{name}/{run_id}' }\n"
        "active_stack: s\n"
    )

    @step(outputs=["train_out", "plain"])
    def fit() -> tuple[Model, int]:
        return Model({"w": 1}, name="fraud", version="1.2.0"), 7

    @step(outputs=["rows_out"])
    def prepare() -> Dataset:
        return Dataset([1, 2, 3], name="customers")

    @pipeline(name="routed_paths")
    def routed() -> None:
        fit()
        prepare()

    run = routed.run()
    assert run.success, run.error
    store = (project.path / "store").resolve()
    assert Path(run.artifact("fit", "train_out").uri) == store / "models" / "fraud" / "1.2.0" / "model" / run.run_id
    assert Path(run.artifact("prepare", "rows_out").uri) == store / "routed_paths" / "prepare" / "dataset" / "customers"
    # a plain value has no name of its own: the output's name
    assert Path(run.artifact("fit", "plain").uri) == store / "values" / "value" / "plain" / run.run_id
    assert run.load("fit", "train_out").data == {"w": 1}


def test_unrouted_outputs_use_the_default_layout(project) -> None:
    """Bug caught: the default template filled {name} with the artifact's name instead of the output's."""
    project.write_config("stacks:\n  s:\n    orchestrator: { type: local }\n    artifact_store: { type: local, path: ./store }\nactive_stack: s\n")

    @step(outputs=["the_model"])
    def fit() -> Model:
        return Model({"w": 1}, name="fraud", version="1")

    @pipeline(name="default_layout")
    def p() -> None:
        fit()

    run = p.run()
    assert Path(run.artifact("fit").uri) == (project.path / "store").resolve() / "default_layout" / run.run_id / "fit" / "the_model"


# -- the unsafe-load gate ----------------------------------------------------------------------------


class Opaque:
    """Only pickle can store this."""

    def __init__(self, value: int) -> None:
        self.value = value


def test_a_manifest_claiming_safe_does_not_open_the_pickle_gate(tmp_path: Path) -> None:
    """Bug caught: the gate trusted the manifest's ``"safe"`` field instead of the serializer's own."""
    folder = tmp_path / "art"
    folder.mkdir()
    manifest = write_artifact(Opaque(3), folder)
    assert manifest["serializer"] == "pickle" and manifest["safe"] is False
    forged = json.loads((folder / MANIFEST).read_text())
    forged["safe"] = True
    (folder / MANIFEST).write_text(json.dumps(forged))
    with pytest.raises(IntegrityError, match="can run code when loaded"):
        read_artifact(folder)  # no recorded hash vouches for it
    assert read_artifact(folder, expected_hash=manifest["content_hash"]).value == 3  # the run's record does


def test_a_safe_format_loads_without_a_recorded_hash(tmp_path: Path) -> None:
    """Bug caught: the gate refusing every artifact without a hash (safe formats need none)."""
    write_artifact({"a": [1, 2]}, tmp_path)
    assert read_artifact(tmp_path) == {"a": [1, 2]}


# -- the local store's commit --------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [3, 2000], ids=["packed", "folder"])
def test_the_local_store_commits_with_one_rename_of_a_complete_folder(tmp_path: Path, monkeypatch, rows: int) -> None:
    """Bug caught: copy-then-delete (the destination exists half-written while it is copied).

    A tiny artifact is committed as one packed file, a larger one as a folder: each in one rename.
    """
    from flowyml.testing.stacks import make_stack

    stack = make_stack(tmp_path, {"artifact_store": {"type": "local", "path": str(tmp_path / "store")}})
    key = "runs/r1/step/out"
    dest = (tmp_path / "store" / key).resolve()
    renames: list[tuple[Path, Path, bool]] = []
    real_replace, real_rename = os.replace, os.rename

    def recording(real):
        def primitive(src, dst, *args, **kwargs):
            # what the destination looks like just before the rename, and whether the source is complete
            renames.append((Path(src).resolve(), Path(dst).resolve(), dest.exists()))
            complete = (Path(src) / MANIFEST).is_file() or is_packed(Path(src))  # a folder, or a tiny artifact's one file
            assert complete or Path(dst).resolve() != dest, "renamed an incomplete artifact into place"
            return real(src, dst, *args, **kwargs)

        return primitive

    monkeypatch.setattr(os, "replace", recording(real_replace))
    monkeypatch.setattr(os, "rename", recording(real_rename))

    def copy_refused(*args, **kwargs):
        raise AssertionError("the local store copied the artifact instead of renaming it into place")

    monkeypatch.setattr(shutil, "copytree", copy_refused)
    monkeypatch.setattr(shutil, "copy2", copy_refused)
    monkeypatch.setattr(shutil, "move", copy_refused)

    def write(directory: Path) -> None:
        assert not dest.exists(), "the destination exists before the artifact is written"
        write_artifact({"rows": list(range(rows))}, Path(directory))

    try:
        uri = stack.hook.flowyml_artifact_store_save(key=key, write=write)
    finally:
        stack.close()
    commits = [r for r in renames if r[1] == dest]
    assert len(commits) == 1, renames
    src, _, existed = commits[0]
    assert not existed and src != dest and not src.exists()
    assert Path(uri).resolve() == dest and (is_packed(dest) if rows == 3 else (dest / MANIFEST).is_file())
    folder = unpack(dest.read_bytes(), tmp_path / "unpacked", uri) if rows == 3 else dest
    assert read_artifact(folder) == {"rows": list(range(rows))}


# -- a broken general plugin -----------------------------------------------------------------------


def test_a_broken_general_plugin_is_reported_with_its_distribution(project, tmp_path: Path) -> None:
    """Bug caught: a general plugin's import error swallowed (the run goes on without its serializers)."""
    site = tmp_path / "site"
    dist = site / "flowyml_brokengeneral-2.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: flowyml-brokengeneral\nVersion: 2.0\n")
    (dist / "entry_points.txt").write_text("[flowyml]\nbrokengeneral = flowyml_brokengeneral\n")
    (site / "flowyml_brokengeneral.py").write_text("raise ImportError('needs libbar: pip install libbar')\n")
    project.write_config("stacks:\n  s:\n    orchestrator: { type: local }\n    artifact_store: { type: local }\nactive_stack: s\n")
    project.write("one.py", "from flowyml import pipeline, step\n\n@step\ndef one() -> int:\n    return 1\n\n@pipeline\ndef p() -> None:\n    one()\n")
    done = project.cli("run", "one.py", env={"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}, check=False)
    said = done.stdout + done.stderr
    assert "flowyml-brokengeneral 2.0 failed to import (flowyml_brokengeneral): ImportError: needs libbar: pip install libbar" in said
    assert "FLOWYML_DISABLE_PLUGINS=flowyml-brokengeneral" in said
    assert "Traceback" not in said
    # the fix the hint names works
    ok = project.cli(
        "run", "one.py",
        env={"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]), "FLOWYML_DISABLE_PLUGINS": "flowyml-brokengeneral"},
        check=True,
    )
    assert "completed" in ok.stdout


def test_a_broken_general_plugin_raises_plugin_load_error_in_process(tmp_path: Path, monkeypatch) -> None:
    from flowyml.plugins import loader

    site = tmp_path / "site"
    dist = site / "flowyml_brokengeneral-2.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: flowyml-brokengeneral\nVersion: 2.0\n")
    (dist / "entry_points.txt").write_text("[flowyml]\nbrokengeneral = flowyml_brokengeneral_mod\n")
    (site / "flowyml_brokengeneral_mod.py").write_text("raise RuntimeError('broken at import')\n")
    monkeypatch.syspath_prepend(str(site))
    loader.forget_installed()
    try:
        with pytest.raises(PluginLoadError) as info:
            list(loader.iter_general_plugins())
        # the message names the entry point's target, so a user can find what is broken
        assert info.value.message == "plugin flowyml-brokengeneral 2.0 failed to import (flowyml_brokengeneral_mod): RuntimeError: broken at import"
        assert "FLOWYML_DISABLE_PLUGINS=flowyml-brokengeneral" in (info.value.hint or "")
        monkeypatch.setenv("FLOWYML_DISABLE_PLUGINS", "flowyml-brokengeneral")
        assert "brokengeneral" not in [name for name, _, _ in loader.iter_general_plugins()]
    finally:
        monkeypatch.undo()
        loader.forget_installed()
        sys.modules.pop("flowyml_brokengeneral_mod", None)


# -- an edited step source re-runs the step ------------------------------------------------------------

EDITABLE = '''
from flowyml import pipeline, step


@step
def const() -> int:
    return {value}


@step
def double(x: int) -> int:
    return 2 * x


@pipeline
def editable() -> None:
    double(const())
'''


def test_editing_a_step_source_reruns_it_through_the_real_cli(project) -> None:
    """Bug caught: the cache key ignoring the step's source (stale results after an edit)."""
    project.write_config("stacks:\n  s:\n    orchestrator: { type: local }\n    artifact_store: { type: local }\nactive_stack: s\n")
    project.write("editable.py", EDITABLE.format(value=1))
    first = project.cli("run", "editable.py", check=True).stdout
    again = project.cli("run", "editable.py", check=True).stdout
    project.write("editable.py", EDITABLE.format(value=5))
    edited = project.cli("run", "editable.py", check=True).stdout

    from flowyml.metadata.store import MetadataStore

    db = MetadataStore.for_project(project.path)
    runs = [r["run_id"] for r in db.list_runs(limit=3)][::-1]  # oldest first
    assert len(runs) == 3, (first, again, edited)
    statuses = [{s["step_name"]: s["status"] for s in db.steps_of(r)} for r in runs]
    assert statuses[0] == {"const": "completed", "double": "completed"}
    assert statuses[1] == {"const": "cached", "double": "cached"}  # nothing changed: all cached
    assert statuses[2] == {"const": "completed", "double": "completed"}  # edited const, so its output (and double) changed
    values = {r: {a["out_step"]: a for a in db.outputs_of(r)} for r in runs}
    assert values[runs[2]]["double"]["content_hash"] != values[runs[0]]["double"]["content_hash"]


# -- route planning (in process: what `flowyml route plan` prints) -------------------------------------


def test_route_plan_follows_declared_types_per_output(project) -> None:
    """Bugs caught: a tuple annotation's types not split per output, unannotated outputs not flagged."""
    from flowyml.routing.plan import declared_type, plan_routes

    project.write_config(
        "stacks:\n  s:\n    orchestrator: { type: local }\n    artifact_store: { type: local, path: ./store }\n"
        "    model_registry: { type: local }\n    model_deployer: { type: local }\n    experiment_tracker: { type: local }\n"
        "    artifact_routing:\n"
        "      Model: { register: true, deploy: true, deploy_condition: auto, deploy_min_metrics: { accuracy: 0.9 }, endpoint_name: ep }\n"
        "      Dataset: { path: '{run_id}/datasets/{step_name}' }\n"
        "      Metrics: { log_to_tracker: true }\n"
        "      Value: { path: 'values/{run_id}/{step_name}' }\n"
    )

    @step(outputs=["train", "test"])
    def split() -> tuple[Dataset, Dataset]:
        return [1], [2]

    @step
    def fit(train: Dataset) -> Model:
        return Model({"w": 1})

    @step
    def untyped(model):
        return 1

    @step
    def score(model: Model) -> Metrics:
        return {"accuracy": 1.0}

    @step
    def pair(model: Model) -> tuple[Model, int]:  # one output holding a tuple: a plain value
        return model, 1

    @pipeline(name="planned")
    def planned() -> None:
        train, _ = split()
        model = fit(train)
        untyped(model)
        score(model)
        pair(model)

    config = load_project().stack("s")
    rows = {(r["step"], r["output"]): r for r in plan_routes(planned.build({}), config)}
    assert list(rows) == [("split", "train"), ("split", "test"), ("fit", "output"), ("untyped", "output"), ("score", "output"), ("pair", "output")]
    assert rows[("pair", "output")]["type"] == "Value" and rows[("pair", "output")]["store"] == "local ./store/values/{run_id}/{step_name}"
    assert rows[("split", "train")]["type"] == "Dataset" and rows[("split", "test")]["type"] == "Dataset"
    assert rows[("split", "test")]["store"] == "local ./store/{run_id}/datasets/{step_name}"
    assert rows[("fit", "output")] == {
        "step": "fit", "output": "output", "type": "Model", "store": "local ./store/{pipeline_name}/{run_id}/{step_name}/output",
        "register": "local", "deploy": "local auto (accuracy>=0.9) -> ep", "tracker": "-",
    }
    assert rows[("untyped", "output")]["type"] == "Value (unannotated)"
    assert rows[("untyped", "output")]["store"] == "local ./store/values/{run_id}/{step_name}"  # planned with the Value rule
    assert rows[("score", "output")]["type"] == "Metrics" and rows[("score", "output")]["tracker"] == "local"
    assert declared_type(None) is None and declared_type(type(None)) is None
    assert declared_type(int) == "Value" and declared_type("flowyml.Parameters") == "Parameters" and declared_type("list[int]") == "Value"
    for name in ("Model", "Dataset", "Metrics", "Parameters"):
        assert declared_type(name) == name and declared_type(f"flowyml.core.artifacts.{name}") == name
    assert declared_type("model") == "Value" and declared_type("a.b.Other") == "Value"
