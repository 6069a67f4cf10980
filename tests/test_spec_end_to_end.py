"""The spec, end to end through the real CLI (subprocesses): stacks, routing, gated deployment, model commands."""

from __future__ import annotations

import importlib.metadata
import json
import re
import urllib.request

import pytest

LOCAL_GATED = """
stacks:
  local:
    orchestrator: { type: local }
    artifact_store: { type: local, path: "./artifacts" }
    model_registry: { type: local }
    model_deployer: { type: local }
    experiment_tracker: { type: local }
    artifact_routing:
      Model:
        store: local
        register: true
        deploy: true
        deploy_condition: {condition}
{thresholds}
        endpoint_name: production-model
      Dataset:
        store: local
        path: "{run_id}/datasets/{step_name}"
      Metrics:
        log_to_tracker: true
      Parameters:
        log_to_tracker: true
active_stack: local
"""


def gated(condition: str, thresholds: str = "") -> str:
    return LOCAL_GATED.replace("{condition}", condition).replace("{thresholds}", thresholds)


def run_id_of(output: str) -> str:
    match = re.search(r"Run (\S+) on stack", output)
    assert match, output
    return match.group(1)


def predict(url: str, rows: list[list[float]]) -> list:
    request = urllib.request.Request(f"{url}/predict", data=json.dumps({"instances": rows}).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["predictions"]


def vertex_installed() -> bool:
    return any(ep.name == "vertex_ai" for ep in importlib.metadata.entry_points(group="flowyml.orchestrators"))


@pytest.fixture
def spec_project(project, spec_config: str):
    project.write_config(spec_config)
    project.copy("spec_pipeline.py")
    return project


def test_spec_pipeline_runs_on_the_spec_local_stack(spec_project) -> None:
    out = spec_project.cli("run", "spec_pipeline.py", check=True).stdout
    run_id = run_id_of(out)
    assert "on stack 'local': completed" in out
    shown = spec_project.cli("runs", "show", run_id, check=True).stdout
    assert "stack:    local (chosen by file)" in shown
    for step in ("load", "preprocess", "train_model", "evaluate"):
        assert step in shown
    listed = spec_project.cli("artifacts", "list", "--run", run_id, check=True).stdout
    assert "Model" in listed and "Dataset" in listed and "Metrics" in listed
    assert (spec_project.path / "artifacts").is_dir()


def test_spec_cloud_stacks_can_be_shown_and_planned_without_their_plugins(spec_project, monkeypatch) -> None:
    monkeypatch.delenv("GCP_PROJECT", raising=False)
    shown = spec_project.cli("stack", "show", "gcp-prod", check=True).stdout
    assert "project=${GCP_PROJECT}" in shown and "tracking_uri=${MLFLOW_URI}" in shown
    assert re.search(r"Model\s+gcs gs://my-ml-artifacts/", shown)
    assert "vertex_endpoint manual -> production-model" in shown
    plan = spec_project.cli("route", "plan", "spec_pipeline.py", "--stack", "aws-staging", check=True).stdout
    assert re.search(r"train_model\s+output\s+Model\s+s3 s3://my-s3-bucket/.*\s+sagemaker_model_registry", plan)
    assert re.search(r"preprocess\s+output\s+Dataset\s+s3 s3://my-s3-bucket/", plan)
    plan = spec_project.cli("route", "plan", "spec_pipeline.py", "--stack", "gcp-prod", check=True).stdout
    assert re.search(r"preprocess\s+output\s+Dataset\s+gcs gs://my-ml-artifacts/\{run_id\}/datasets/\{step_name\}", plan)
    assert re.search(r"evaluate\s+output\s+Metrics.*mlflow", plan)


def test_running_a_cloud_stack_fails_before_any_step_with_the_fix(spec_project, monkeypatch) -> None:
    monkeypatch.delenv("GCP_PROJECT", raising=False)
    done = spec_project.cli("run", "spec_pipeline.py", "--stack", "gcp-prod", env={"FLOWYML_STACK": "local"}, check=False)
    if vertex_installed():
        assert "GCP_PROJECT is not set" in done.stderr and "gcp-prod" in done.stderr and "flowyml.yaml:7" in done.stderr
    else:
        assert "pip install flowyml-vertex" in done.stderr and "gcp-prod" in done.stderr
    assert "Traceback" not in done.stderr
    assert "No runs yet" in spec_project.cli("runs", "list", check=True).stdout  # nothing ran half-way


def test_auto_deploys_when_thresholds_are_met_and_serves_predictions(project) -> None:
    project.write_config(gated("auto", "        deploy_min_metrics:\n          accuracy: 0.9\n          f1: 0.9"))
    project.copy("spec_pipeline.py")
    out = project.cli("run", "spec_pipeline.py", check=True).stdout
    assert "deploy: fraud_detector version 1.0.0 deployed to endpoint production-model at http://127.0.0.1:" in out
    assert "thresholds met (accuracy=" in out
    endpoints = project.cli("model", "endpoints", check=True).stdout
    url = re.search(r"(http://127\.0\.0\.1:\d+)", endpoints).group(1)
    assert len(predict(url, [[0.0] * 30, [1.0] * 30])) == 2
    project.cli("model", "undeploy", "production-model", check=True)
    assert "Nothing deployed" in project.cli("model", "endpoints", check=True).stdout
    with pytest.raises(OSError):
        predict(url, [[0.0] * 30])


def test_auto_with_a_missing_metric_registers_but_does_not_deploy(project) -> None:
    # The spec's own example thresholds name f1_score while its evaluate step reports f1.
    project.write_config(gated("auto", "        deploy_min_metrics:\n          accuracy: 0.95\n          f1_score: 0.90"))
    project.copy("spec_pipeline.py")
    out = project.cli("run", "spec_pipeline.py", check=True).stdout
    assert "not deployed: metric 'f1_score' is missing" in out
    shown = project.cli("runs", "show", run_id_of(out), check=True).stdout
    assert "decision" in shown and "metric 'f1_score' is missing" in shown
    assert "Nothing deployed" in project.cli("model", "endpoints", check=True).stdout
    models = project.cli("model", "list", check=True).stdout
    assert re.search(r"fraud_detector\s+1\.0\.0\s+registered\s+sklearn\s+accuracy=", models)


def test_auto_below_threshold_does_not_deploy(project) -> None:
    project.write_config(gated("auto", "        deploy_min_metrics:\n          accuracy: 1.01"))
    project.copy("spec_pipeline.py")
    out = project.cli("run", "spec_pipeline.py", check=True).stdout
    assert re.search(r"not deployed: accuracy=[\d.]+ is below 1\.01", out)


def test_on_approval_waits_for_approve(project) -> None:
    project.write_config(gated("on_approval"))
    project.copy("spec_pipeline.py")
    out = project.cli("run", "spec_pipeline.py", check=True).stdout
    assert "waiting for `flowyml model approve fraud_detector --version 1.0.0`" in out
    assert re.search(r"fraud_detector\s+1\.0\.0\s+pending_approval", project.cli("model", "list", check=True).stdout)
    refused = project.cli("model", "deploy", "fraud_detector", "--version", "1.0.0", check=False)
    assert "pending_approval" in refused.stderr and "flowyml model approve" in refused.stderr
    approved = project.cli("model", "approve", "fraud_detector", "--version", "1.0.0", check=True).stdout
    assert "Approved fraud_detector version 1.0.0" in approved and "Deployed to endpoint 'production-model'" in approved
    assert "production-model" in project.cli("model", "endpoints", check=True).stdout
    project.cli("model", "undeploy", "production-model", check=True)


def test_manual_deploy_from_the_cli(project) -> None:
    project.write_config(gated("manual"))
    project.copy("spec_pipeline.py")
    out = project.cli("run", "spec_pipeline.py", check=True).stdout
    assert "deploy with `flowyml model deploy fraud_detector --version 1.0.0`" in out
    deployed = project.cli("model", "deploy", "fraud_detector", "--version", "1.0.0", "--endpoint", "manual-ep", check=True).stdout
    url = re.search(r"(http://127\.0\.0\.1:\d+)", deployed).group(1)
    assert len(predict(url, [[0.5] * 30])) == 1
    shown = json.loads(project.cli("model", "show", "fraud_detector", check=True).stdout)
    assert shown["framework"] == "sklearn" and shown["run_id"] and "accuracy" in shown["metrics"] and "f1" in shown["metrics"]
    assert project.cli("model", "undeploy", "manual-ep", check=True).returncode == 0
    again = project.cli("model", "undeploy", "manual-ep", check=False)
    assert "nothing is deployed at endpoint 'manual-ep'" in again.stderr


def test_metrics_and_parameters_reach_the_tracker(project) -> None:
    project.write_config(gated("manual"))
    project.copy("spec_pipeline.py")
    out = project.cli("run", "spec_pipeline.py", check=True).stdout
    shown = project.cli("runs", "show", run_id_of(out), check=True).stdout
    assert re.search(r"evaluate\s+metric\s+accuracy\s+[\d.]+", shown)
    assert re.search(r"evaluate\s+metric\s+f1\s+[\d.]+", shown)


REGISTRY_CONFLICT = """
stacks:
  local:
    orchestrator: { type: local }
    artifact_store: { type: local }
    model_registry: { type: local }
    on_route_error: POLICY
    artifact_routing:
      Model: { register: true }
"""

VERSIONED = '''
from flowyml import Model, pipeline, step


@step
def train(seed: int = 0) -> Model:
    return Model({"seed": seed}, name="pinned", version="1.0.0")


@pipeline
def versioned(seed: int = 0) -> None:
    train(seed)
'''


@pytest.mark.parametrize("policy", ["fail", "warn"])
def test_a_failing_route_keeps_artifacts_and_follows_the_stack_policy(project, policy: str) -> None:
    project.write_config(REGISTRY_CONFLICT.replace("POLICY", policy))
    project.write("versioned.py", VERSIONED)
    project.cli("run", "versioned.py", check=True)
    done = project.cli("run", "versioned.py", "--param", "seed=1", check=policy == "warn")
    assert "version 1.0.0 is already registered with different content" in done.stdout + done.stderr
    run_id = run_id_of(done.stdout)
    shown = project.cli("runs", "show", run_id, check=True).stdout
    assert "register  failed" in shown or re.search(r"register\s+failed", shown)
    listed = project.cli("artifacts", "list", "--run", run_id, check=True).stdout
    assert "Model" in listed  # the artifact itself was kept


def test_stack_set_changes_only_the_active_stack_line(spec_project) -> None:
    original = ("# my settings\n" + (spec_project.path / "flowyml.yaml").read_text()).replace("active_stack: local", "active_stack: local   # keep this comment")
    (spec_project.path / "flowyml.yaml").write_text(original)
    spec_project.cli("stack", "set", "gcp-prod", check=True)
    changed = (spec_project.path / "flowyml.yaml").read_text()
    assert changed == original.replace("active_stack: local   # keep", "active_stack: gcp-prod   # keep")
    listed = spec_project.cli("stack", "list", check=True).stdout
    assert re.search(r"\* gcp-prod\s+\(active: active_stack in flowyml.yaml\)", listed)
    listed = spec_project.cli("stack", "list", env={"FLOWYML_STACK": "aws-staging"}, check=True).stdout
    assert re.search(r"\* aws-staging\s+\(active: FLOWYML_STACK\)", listed)
    bad = spec_project.cli("stack", "set", "nope", check=False)
    assert "unknown stack 'nope'" in bad.stderr and (spec_project.path / "flowyml.yaml").read_text() == changed


def test_env_var_and_flag_choose_the_stack_and_the_run_records_it(project) -> None:
    project.write_config(
        "stacks:\n"
        "  a: { orchestrator: { type: local }, artifact_store: { type: local, path: ./a } }\n"
        "  b: { orchestrator: { type: local }, artifact_store: { type: local, path: ./b } }\n"
        "active_stack: a\n"
    )
    project.write("versioned.py", VERSIONED)
    out = project.cli("run", "versioned.py", env={"FLOWYML_STACK": "b"}, check=True).stdout
    assert "on stack 'b'" in out and "(chosen by env)" in project.cli("runs", "show", run_id_of(out), check=True).stdout
    out = project.cli("run", "versioned.py", "--stack", "a", "--param", "seed=3", env={"FLOWYML_STACK": "b"}, check=True).stdout
    assert "on stack 'a'" in out and "(chosen by flag)" in project.cli("runs", "show", run_id_of(out), check=True).stdout
    unknown = project.cli("run", "versioned.py", "--stack", "c", check=False)
    assert "unknown stack 'c'" in unknown.stderr and "a, b" in unknown.stderr


def test_stack_check_on_local(project) -> None:
    project.write_config(gated("manual"))
    out = project.cli("stack", "check", check=True).stdout
    assert "artifact_store local: local folder" in out and "writable" in out


def test_cli_reports_bad_yaml_with_line_and_no_traceback(project) -> None:
    project.write_config("stacks:\n  local:\n    orchestrator: { type: local\n")
    done = project.cli("stack", "list", check=False)
    assert "flowyml.yaml:" in done.stderr and "invalid YAML" in done.stderr and "Traceback" not in done.stderr


def test_cli_version_and_plugins_list(project) -> None:
    assert project.cli("--version", check=True).stdout.strip() == "flowyml, version 0.1.0"
    out = project.cli("plugins", "list", check=True).stdout
    assert re.search(r"model_deployer\s+local\s+flowyml-local\s+0\.1\.0", out)


def test_run_target_forms(project) -> None:
    project.write_config("stacks:\n  local: { orchestrator: { type: local }, artifact_store: { type: local } }\n")
    project.write("versioned.py", VERSIONED + "\n\n@pipeline\ndef other() -> None:\n    train(5)\n")
    several = project.cli("run", "versioned.py", check=False)
    assert "defines several pipelines: versioned, other" in several.stderr and "versioned.py:versioned" in several.stderr
    assert "completed" in project.cli("run", "versioned.py:other", check=True).stdout
    assert "completed" in project.cli("run", "versioned:versioned", check=True).stdout
    missing = project.cli("run", "versioned.py:nope", check=False)
    assert "has no pipeline named 'nope'" in missing.stderr


def test_init_writes_a_starter_config_that_runs(project) -> None:
    assert "Wrote" in project.cli("init", check=True).stdout
    project.write("versioned.py", VERSIONED)
    assert "completed" in project.cli("run", "versioned.py", check=True).stdout
    assert "exists already" in project.cli("init", check=False).stderr


def test_stack_show_masks_literal_secrets_and_never_resolves_references(project, monkeypatch) -> None:
    monkeypatch.setenv("FLOWYML_TEST_TOKEN", "resolved-secret-value")
    project.write_config(
        "stacks:\n"
        "  s:\n"
        "    orchestrator: { type: local }\n"
        "    artifact_store: { type: local }\n"
        "    experiment_tracker: { type: local, api_key: plain-secret-in-yaml, token: ${FLOWYML_TEST_TOKEN} }\n"
        "active_stack: s\n"
    )
    # the local tracker takes no options: show lists that as a problem (exit 1) after the table
    shown = project.cli("stack", "show", check=False).stdout
    assert "extra fields found (api_key, token)" in shown
    assert "plain-secret-in-yaml" not in shown and "api_key=***" in shown
    assert "token=${FLOWYML_TEST_TOKEN}" in shown and "resolved-secret-value" not in shown
