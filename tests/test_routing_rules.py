"""Routing rules: validation before a run, path templates, deployment decisions."""

from __future__ import annotations

import pytest

from flowyml.config.loader import load_project
from flowyml.config.schema import RoutingRule
from flowyml.errors import ConfigError, PathTemplateError, RoutingError
from flowyml.routing.decisions import decide
from flowyml.routing.paths import check_template, render
from flowyml.routing.validate import validate_stack

BASE = """
stacks:
  s:
    orchestrator: { type: local }
    artifact_store: { type: local }
{extra}
    artifact_routing:
{rules}
"""


def validate(project, rules: str, extra: str = "") -> None:
    project.write_config(BASE.replace("{extra}", extra).replace("{rules}", rules))
    config = load_project()
    validate_stack(config, config.stack("s"))


@pytest.mark.parametrize(
    ("rules", "extra", "match"),
    [
        ("      Model: { register: true }", "", "no model_registry"),
        ("      Model: { register: true, deploy: true }", "    model_registry: { type: local }", "no model_deployer"),
        ("      Metrics: { log_to_tracker: true }", "", "no experiment_tracker"),
        ("      Dataset: { store: gcs }", "", "store 'gcs' is not defined by stack 's'"),
        ("      Dataset: { path: '{run}/x' }", "", r"unknown placeholder \{run\}"),
        ("      Dataset: { path: '../{run_id}' }", "", "leave the artifact store's root"),
        ("      Dataset: { path: '/abs/{run_id}' }", "", "absolute path"),
        ("      Models: { store: local }", "", "unknown artifact type 'Models'"),
        (
            "      Model: { register: true, deploy: true, deploy_condition: sometimes }",
            "    model_registry: { type: local }\n    model_deployer: { type: local }",
            "unknown deploy_condition 'sometimes'",
        ),
        (
            "      Model: { register: true, deploy: true, deploy_condition: auto }",
            "    model_registry: { type: local }\n    model_deployer: { type: local }",
            "needs deploy_min_metrics",
        ),
        (
            "      Model: { deploy: true }",
            "    model_registry: { type: local }\n    model_deployer: { type: local }",
            "needs register: true",
        ),
        ("      Dataset: { register: true }", "    model_registry: { type: local }", "only applies to Model"),
        ("      Model: { log_to_tracker: true }", "    experiment_tracker: { type: local }", "only applies to Metrics and Parameters"),
        ("      Model: { deploy_min_metrics: { accuracy: 0.9 } }", "", "no effect without deploy: true"),
    ],
)
def test_invalid_rules_name_the_fix(project, rules: str, extra: str, match: str) -> None:
    with pytest.raises((RoutingError, ConfigError), match=match) as info:
        validate(project, rules, extra)
    assert "flowyml.yaml:" in str(info.value) and "hint:" in str(info.value)


@pytest.mark.parametrize(
    ("rules", "match"),
    [
        ("      Model: { register: yes please }", "expected true or false"),
        ("      Model: { regster: true }", "unknown routing field 'regster'"),
        ("      Model: { deploy_min_metrics: { accuracy: high } }", "must be a number"),
    ],
)
def test_malformed_rule_values(project, rules: str, match: str) -> None:
    project.write_config(BASE.replace("{extra}", "").replace("{rules}", rules))
    with pytest.raises(ConfigError, match=match):
        load_project().stack("s")  # the stack is invalid; the file still loads


def test_valid_spec_rules(project, spec_config: str) -> None:
    project.write_config(spec_config)
    config = load_project()
    for name in config.stacks:
        validate_stack(config, config.stack(name))


def test_path_templates() -> None:
    values = {"run_id": "r1", "step_name": "train", "artifact_name": "model", "pipeline_name": "p", "name": "fraud", "version": "1.0"}
    assert render("{run_id}/{step_name}/{artifact_name}", values) == "r1/train/model"
    assert render("{pipeline_name}/{name}/{version}", values) == "p/fraud/1.0"
    assert render("{run_id}//./{step_name}/", values) == "r1/train"
    # a placeholder's value cannot smuggle in separators or '..'
    assert render("{name}/x", {**values, "name": "../../etc"}) == ".._.._etc/x"
    assert render("{name}/x", {**values, "name": ".."}) == "_/x"
    assert render("{name}", {**values, "name": None}) == "none"
    # a registry-numbered model has no version until it is registered, after it is stored
    with pytest.raises(PathTemplateError, match=r"uses \{version\}, but 'fraud' has no version") as info:
        render("models/{name}/{version}", {**values, "version": None})
    assert "Model(..., version=" in str(info.value)
    with pytest.raises(PathTemplateError, match="unknown placeholder"):
        check_template("{nope}")
    with pytest.raises(PathTemplateError, match="malformed"):
        check_template("{run_id")


def rule(**kw) -> RoutingRule:
    return RoutingRule(register=True, deploy=True, **kw)


def test_manual_registers_without_deploying() -> None:
    decision = decide(rule(), {"accuracy": 1.0}, "m", "1")
    assert not decision.deploy and decision.status == "registered" and "flowyml model deploy m --version 1" in decision.reason


def test_on_approval_is_pending() -> None:
    decision = decide(rule(deploy_condition="on_approval"), {}, "m", "1")
    assert not decision.deploy and decision.status == "pending_approval" and "flowyml model approve m --version 1" in decision.reason


def test_auto_deploys_only_when_every_threshold_is_met() -> None:
    gated = rule(deploy_condition="auto", deploy_min_metrics={"accuracy": 0.95, "f1_score": 0.9})
    assert decide(gated, {"accuracy": 0.96, "f1_score": 0.91}).deploy
    below = decide(gated, {"accuracy": 0.94, "f1_score": 0.91})
    assert not below.deploy and "accuracy=0.94 is below 0.95" in below.reason


def test_auto_with_a_missing_metric_does_not_deploy() -> None:
    gated = rule(deploy_condition="auto", deploy_min_metrics={"accuracy": 0.95, "f1_score": 0.9})
    decision = decide(gated, {"accuracy": 0.99})
    assert not decision.deploy and "metric 'f1_score' is missing" in decision.reason
    assert not decide(gated, {}).deploy
    assert not decide(gated, {"accuracy": float("nan"), "f1_score": 1}).deploy
    assert "not a number" in decide(gated, {"accuracy": "high", "f1_score": 1}).reason


def test_auto_max_thresholds_for_loss_like_metrics() -> None:
    gated = rule(deploy_condition="auto", deploy_max_metrics={"loss": 0.1})
    assert decide(gated, {"loss": 0.05}).deploy
    assert "above" in decide(gated, {"loss": 0.5}).reason


def test_version_placeholder_needs_a_known_version(project) -> None:
    from flowyml import Model, pipeline, step

    project.write_config(
        "stacks:\n  s:\n    orchestrator: {type: local}\n    artifact_store: {type: local}\n    model_registry: {type: local}\n"
        "    artifact_routing:\n      Model: {register: true, path: 'models/{name}/{version}'}\n"
    )

    @step
    def numbered() -> Model:
        return Model({"w": 1}, name="auto_numbered")

    @step
    def pinned() -> Model:
        return Model({"w": 2}, name="pinned", version="3")

    @pipeline
    def versions() -> None:
        numbered()
        pinned()

    run = versions.run()
    assert run.steps["numbered"].status == "failed"
    assert "uses {version}, but 'auto_numbered' has no version" in run.steps["numbered"].error
    assert run.steps["pinned"].status == "completed"
    assert run.artifact("pinned").uri.replace("\\", "/").endswith("models/pinned/3")
    project.write_config(
        "stacks:\n  s:\n    orchestrator: {type: local}\n    artifact_store: {type: local}\n"
        "    artifact_routing:\n      Dataset: {path: 'data/{version}'}\n"
    )
    with pytest.raises(RoutingError, match=r"\{version\} in the path of Dataset has no value"):
        versions.run()
