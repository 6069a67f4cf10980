"""The contract suites fail on broken components (a contract a broken backend passes protects nobody).

Each broken component below is a real, installed plugin (a dist-info with entry points in a private
folder) with one realistic bug. A generated test module runs the contract suites against them, and
against the working local components as a control, in a pytest subprocess; each bug must make the
named contract tests fail, and the control must pass.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

BROKEN = '''
"""Deliberately broken components, one bug each."""
import shutil
from pathlib import Path

import flowyml
from flowyml.errors import RegistryError
from flowyml.plugins.component import Component, NoOptions
from flowyml.plugins.types import Deployment
from flowyml.serialization.artifact_io import MANIFEST
from flowyml_local.artifact_store import LocalArtifactStore
from flowyml_local.model_registry import LocalModelRegistry
from flowyml_local.tracker import LocalExperimentTracker


class OverwritingStore(LocalArtifactStore):
    @flowyml.hookimpl
    def flowyml_artifact_store_save(self, key, write):
        target = self.base / key  # bug: replaces what is there (a packed file or a folder)
        target.unlink() if target.is_file() else shutil.rmtree(target, ignore_errors=True)
        return super().flowyml_artifact_store_save(key, write)


class UnplannedStore(LocalArtifactStore):
    @flowyml.hookimpl
    def flowyml_artifact_store_save(self, key, write):
        return super().flowyml_artifact_store_save("elsewhere/" + key, write)  # bug: not where the URI was planned


class BitrotStore(LocalArtifactStore):
    @flowyml.hookimpl
    def flowyml_artifact_store_fetch(self, uri, scratch):
        source = super().flowyml_artifact_store_fetch(uri, scratch)
        copy = Path(scratch) / "copy"
        shutil.copytree(source, copy)
        for path in sorted(copy.rglob("*")):
            if path.is_file() and path.name != MANIFEST:
                data = bytearray(path.read_bytes())
                data[-1] ^= 1  # bug: one flipped bit on the way back
                path.write_bytes(bytes(data))
                break
        return copy


class AlwaysThereStore(LocalArtifactStore):
    @flowyml.hookimpl
    def flowyml_artifact_store_exists(self, uri):
        return True  # bug: says yes without looking


class GreedyDeleteStore(LocalArtifactStore):
    @flowyml.hookimpl
    def flowyml_artifact_store_delete(self, uri):
        super().flowyml_artifact_store_delete(uri)
        shutil.rmtree(self.base)  # bug: takes every other artifact with it
        return True


class NoCheckStore(LocalArtifactStore):
    @flowyml.hookimpl
    def flowyml_component_check(self):
        return ["everything is fine"]  # bug: checks nothing


class ForgetfulRegistry(LocalModelRegistry):
    @flowyml.hookimpl
    def flowyml_model_registry_set_status(self, name, version, status):
        current = self.flowyml_model_registry_get(name, version)
        if current is None:
            return None  # bug: no error for an unknown version
        return current.evolve(status=status)  # bug: never saved


class OverwritingRegistry(LocalModelRegistry):
    @flowyml.hookimpl
    def flowyml_model_registry_register(self, model):
        try:
            return super().flowyml_model_registry_register(model)
        except RegistryError:
            return self.flowyml_model_registry_get(model.name, model.version)  # bug: a conflict passes silently


class ShuffledRegistry(LocalModelRegistry):
    @flowyml.hookimpl
    def flowyml_model_registry_list(self, name):
        return list(reversed(super().flowyml_model_registry_list(name)))  # bug: newest first

    @flowyml.hookimpl
    def flowyml_model_registry_get(self, name, version):
        if version is None:
            versions = super().flowyml_model_registry_list(name)
            return versions[0] if versions else None  # bug: "latest" is the oldest
        return super().flowyml_model_registry_get(name, version)


class PaperDeployer(Component):
    """Records deployments but serves nothing."""

    kind = "model_deployer"
    Options = NoOptions
    endpoints = {}

    @flowyml.hookimpl
    def flowyml_model_deployer_deploy(self, model, endpoint_name, config):
        if endpoint_name not in self.endpoints:  # bug (for StickyDeployer): a redeploy keeps the old version
            self.endpoints[endpoint_name] = Deployment(endpoint_name, model.name, model.version, url="http://127.0.0.1:9")
        elif not getattr(self, "sticky", False):
            self.endpoints[endpoint_name] = Deployment(endpoint_name, model.name, model.version, url="http://127.0.0.1:9")
        return self.endpoints[endpoint_name]

    @flowyml.hookimpl
    def flowyml_model_deployer_undeploy(self, endpoint_name):
        return self.endpoints.pop(endpoint_name, None) is not None

    @flowyml.hookimpl
    def flowyml_model_deployer_list(self):
        return list(self.endpoints.values())


class StickyDeployer(PaperDeployer):
    sticky = True


class SteplessTracker(LocalExperimentTracker):
    @flowyml.hookimpl
    def flowyml_tracker_log_metrics(self, metrics, step, metadata, step_name):
        return super().flowyml_tracker_log_metrics(metrics, None, metadata, step_name)  # bug: the step is dropped


class StatuslessTracker(LocalExperimentTracker):
    @flowyml.hookimpl
    def flowyml_tracker_end_run(self, status):
        return None  # bug: the run never ends
'''

ENTRY_POINTS = """
[flowyml.artifact_stores]
overwriting = flowyml_brokenparts:OverwritingStore
unplanned = flowyml_brokenparts:UnplannedStore
bitrot = flowyml_brokenparts:BitrotStore
alwaysthere = flowyml_brokenparts:AlwaysThereStore
nocheck = flowyml_brokenparts:NoCheckStore
greedydelete = flowyml_brokenparts:GreedyDeleteStore

[flowyml.model_registries]
forgetful = flowyml_brokenparts:ForgetfulRegistry
overwriting = flowyml_brokenparts:OverwritingRegistry
shuffled = flowyml_brokenparts:ShuffledRegistry

[flowyml.model_deployers]
paper = flowyml_brokenparts:PaperDeployer
sticky = flowyml_brokenparts:StickyDeployer

[flowyml.experiment_trackers]
stepless = flowyml_brokenparts:SteplessTracker
statusless = flowyml_brokenparts:StatuslessTracker
"""

SUITES = '''
import json
import urllib.request
from pathlib import Path

import pytest

from flowyml.plugins.kinds import Kind
from flowyml.plugins.types import ModelVersion
from flowyml.testing import ArtifactStoreContract, ModelDeployerContract, ModelRegistryContract, TrackerContract


def store(type_name):
    class Suite(ArtifactStoreContract):
        @pytest.fixture
        def component_config(self, tmp_path):
            return {"type": type_name, "path": str(tmp_path / "store")}

        @pytest.fixture
        def unusable_component_config(self, tmp_path):
            occupied = tmp_path / "a-file"
            occupied.write_text("not a folder")
            return {"type": type_name, "path": str(occupied)}

    return Suite


TestStore_local = store("local")
TestStore_overwriting = store("overwriting")
TestStore_unplanned = store("unplanned")
TestStore_bitrot = store("bitrot")
TestStore_alwaysthere = store("alwaysthere")
TestStore_nocheck = store("nocheck")
TestStore_greedydelete = store("greedydelete")


def registry(type_name):
    class Suite(ModelRegistryContract):
        @pytest.fixture
        def component_config(self):
            return {"type": type_name}

    return Suite


TestRegistry_local = registry("local")
TestRegistry_forgetful = registry("forgetful")
TestRegistry_overwriting = registry("overwriting")
TestRegistry_shuffled = registry("shuffled")


class _Deployer(ModelDeployerContract):
    @pytest.fixture
    def deployable_models(self, stack):
        return ModelVersion(name="m", version="1", uri="file:///m/1"), ModelVersion(name="m", version="2", uri="file:///m/2")


class TestDeployer_paper_without_check_serving(_Deployer):
    """The suite's own default: a deployer is never taken on its word."""

    @pytest.fixture
    def component_config(self):
        return {"type": "paper"}


class TestDeployer_paper(_Deployer):
    @pytest.fixture
    def component_config(self):
        return {"type": "paper"}

    def check_serving(self, deployment):
        request = urllib.request.Request(f"{deployment.url}/predict", data=b'{"instances": [[0.0]]}', headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert json.loads(response.read())["predictions"]


class TestDeployer_sticky(_Deployer):
    @pytest.fixture
    def component_config(self):
        return {"type": "sticky"}

    def check_serving(self, deployment):
        pass  # serving is checked above; this one is about the version


def tracker(type_name):
    class Suite(TrackerContract):
        @pytest.fixture
        def component_config(self):
            return {"type": type_name}

        def read_back(self, stack, run):
            db = stack.component(Kind.EXPERIMENT_TRACKER).context.metadata
            metrics = {}
            for row in db.query("SELECT * FROM tracker_metrics WHERE run_id=? ORDER BY rowid", (run.run_id,)):
                metrics.setdefault(row["key"], []).append((row["step"], row["value"]))
            params = {r["key"]: json.loads(r["value"]) for r in db.query("SELECT * FROM tracker_params WHERE run_id=?", (run.run_id,))}
            status = db.query("SELECT status FROM tracker_runs WHERE run_id=?", (run.run_id,))[0]["status"]
            return {"metrics": metrics, "params": params, "status": status}

    return Suite


TestTracker_local = tracker("local")
TestTracker_stepless = tracker("stepless")
TestTracker_statusless = tracker("statusless")
'''

#: suite class -> contract tests that its bug must fail (a parametrized test fails if any case fails)
EXPECTED_FAILURES = {
    "TestStore_overwriting": {"test_refuses_to_overwrite"},
    "TestStore_unplanned": {"test_uri_is_planned_before_saving"},
    # bitrot also fails the delete test: the artifact that must survive a neighbour's delete is read back
    "TestStore_bitrot": {"test_round_trip", "test_round_trip_typed_artifact", "test_round_trip_dataframe", "test_flowyml_artifact_store_delete_removes_the_artifact_only"},
    "TestStore_alwaysthere": {"test_interrupted_write_leaves_no_complete_artifact", "test_fetch_missing_is_a_clear_error", "test_flowyml_artifact_store_delete_removes_the_artifact_only"},
    "TestStore_greedydelete": {"test_flowyml_artifact_store_delete_removes_the_artifact_only"},
    "TestStore_nocheck": {"test_check_reports_what_it_verified", "test_check_fails_on_an_unusable_store"},
    "TestRegistry_forgetful": {"test_pending_then_approved", "test_unknown_version_status_change_is_a_clear_error"},
    "TestRegistry_overwriting": {"test_same_content_is_idempotent_other_content_is_refused"},
    "TestRegistry_shuffled": {"test_register_get_list"},
    "TestDeployer_paper_without_check_serving": {"test_deploy_serve_undeploy", "test_redeploy_replaces_the_served_version"},
    "TestDeployer_paper": {"test_deploy_serve_undeploy", "test_redeploy_replaces_the_served_version"},
    "TestDeployer_sticky": {"test_redeploy_replaces_the_served_version"},
    "TestTracker_stepless": {"test_logs_metrics_with_steps_params_and_status"},
    "TestTracker_statusless": {"test_logs_metrics_with_steps_params_and_status"},
}
CONTROLS = ("TestStore_local", "TestRegistry_local", "TestTracker_local")


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, dict[str, str]]:
    """Run every suite once in a subprocess; return {class: {test name: passed|failed|skipped}}."""
    base = tmp_path_factory.mktemp("contracts")
    site = base / "site"
    dist = site / "flowyml_brokenparts-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: flowyml-brokenparts\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(ENTRY_POINTS)
    (site / "flowyml_brokenparts.py").write_text(BROKEN)
    tests = base / "suites"
    tests.mkdir()
    (tests / "test_suites.py").write_text(SUITES)
    report = base / "report.xml"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(tests), "-q", "-p", "no:randomly", "-p", "no:cacheprovider", f"--junitxml={report}", "--rootdir", str(tests)],
        cwd=tests,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert report.is_file(), done.stdout + done.stderr
    found: dict[str, dict[str, str]] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        cls = case.get("classname", "").rsplit(".", 1)[-1]
        name = case.get("name", "").split("[", 1)[0]
        failure = case.find("failure") if case.find("failure") is not None else case.find("error")
        outcome = "failed" if failure is not None else "skipped" if case.find("skipped") is not None else "passed"
        previous = found.setdefault(cls, {}).get(name)
        if previous != "failed":  # one failing parametrized case fails the test
            found[cls][name] = outcome
        if failure is not None:
            found[cls]["message:" + name] = (failure.get("message") or "") + (failure.text or "")
    assert found, done.stdout + done.stderr
    return found


@pytest.mark.parametrize("suite", CONTROLS)
def test_the_working_local_components_pass(outcomes, suite: str) -> None:
    assert outcomes[suite] and all(o == "passed" for o in outcomes[suite].values()), outcomes[suite]  # no message: entries either


@pytest.mark.parametrize("suite", sorted(EXPECTED_FAILURES))
def test_each_broken_component_fails_the_contract_tests_its_bug_breaks(outcomes, suite: str) -> None:
    failed = {name for name, outcome in outcomes[suite].items() if outcome == "failed" and not name.startswith("message:")}
    missing = EXPECTED_FAILURES[suite] - failed
    assert not missing, f"{suite}: these contract tests passed against a broken component: {sorted(missing)} (failed: {sorted(failed)})"
    # and nothing else failed: the component loaded and its working parts pass
    assert failed == EXPECTED_FAILURES[suite], f"{suite}: unexpected failures {sorted(failed - EXPECTED_FAILURES[suite])}"


def test_a_deployer_suite_without_check_serving_fails_by_default(outcomes) -> None:
    messages = outcomes["TestDeployer_paper_without_check_serving"]
    texts = [m for n, m in messages.items() if n.startswith("message:")]
    assert len(texts) == 2 and all("override check_serving" in m for m in texts), messages


def test_every_contract_suite_is_run_against_a_broken_component(outcomes) -> None:
    from flowyml import testing

    contracts = {name for name in testing.__all__ if name.endswith("Contract")}
    prefixes = {"ArtifactStoreContract": "TestStore_", "ModelRegistryContract": "TestRegistry_", "ModelDeployerContract": "TestDeployer_", "TrackerContract": "TestTracker_"}
    # suites whose broken components live in their own test module
    elsewhere = {"OrchestratorContract": Path(__file__).parent / "test_orchestrator_contract.py"}
    for contract, module in elsewhere.items():
        assert "broken" in module.read_text(encoding="utf-8").lower(), f"{module} must run {contract} against broken orchestrators"
    missing = contracts - set(prefixes) - set(elsewhere)
    assert not missing, f"a new contract suite needs broken components here: {sorted(missing)}"
    for contract, prefix in prefixes.items():
        assert any(s.startswith(prefix) and s not in CONTROLS for s in EXPECTED_FAILURES), contract
