"""Registry and option details beyond the contract: listing every model, names SageMaker accepts, bad options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sm_helpers import deployer_config, registry_config, s3_store, sm_client

from flowyml.core.artifacts import Model
from flowyml.errors import ConfigError, DeploymentError
from flowyml.plugins.kinds import Kind
from flowyml.plugins.types import ModelVersion
from flowyml.serialization.artifact_io import write_artifact
from flowyml.testing import make_stack


def stored_model(stack: Any, key: str) -> tuple[str, str]:
    manifest: dict[str, Any] = {}
    uri = stack.hook.flowyml_artifact_store_save(key=key, write=lambda d: manifest.update(write_artifact(Model({"w": key}), Path(d))))
    return uri, manifest["content_hash"]


def test_list_all_models_and_sanitized_group_names(tmp_path: Path, s3_bucket: str, aws_env: Any) -> None:
    stack = make_stack(tmp_path, {"artifact_store": s3_store(s3_bucket), "model_registry": registry_config(group_prefix="team-a")})
    for name, key in (("fraud_detector", "a"), ("churn.model v2", "b"), ("fraud_detector", "c")):
        uri, digest = stored_model(stack, key)
        stack.hook.flowyml_model_registry_register(model=ModelVersion(name=name, version="", uri=uri, content_hash=digest, framework="sklearn"))
    every = stack.hook.flowyml_model_registry_list(name=None)
    assert sorted((m.name, m.version) for m in every) == [("churn.model v2", "1"), ("fraud_detector", "1"), ("fraud_detector", "2")]
    groups = {g["ModelPackageGroupName"] for g in sm_client(aws_env.endpoint_url).list_model_package_groups()["ModelPackageGroupSummaryList"]}
    assert groups == {"team-a-fraud-detector", "team-a-churn-model-v2"}


def test_serving_config_image_and_framework_images_win(tmp_path: Path, s3_bucket: str, aws_env: Any) -> None:
    stack = make_stack(tmp_path, {"artifact_store": s3_store(s3_bucket), "model_registry": registry_config(framework_images={"xgboost": "xgb-image:1"})})
    uri, digest = stored_model(stack, "x")
    xgb = stack.hook.flowyml_model_registry_register(model=ModelVersion(name="m", version="1", uri=uri, content_hash=digest, framework="xgboost"))
    own = stack.hook.flowyml_model_registry_register(model=ModelVersion(name="m", version="2", uri=uri, content_hash="other", framework="xgboost", serving_config={"image_uri": "own:3"}))
    sm = sm_client(aws_env.endpoint_url)
    images = [sm.describe_model_package(ModelPackageName=v.registry_id)["InferenceSpecification"]["Containers"][0] for v in (xgb, own)]
    assert [(c["Image"], c.get("Framework")) for c in images] == [("xgb-image:1", "XGBOOST"), ("own:3", "XGBOOST")]
    assert stack.hook.flowyml_model_registry_get(name="m", version="2").serving_config == {"image_uri": "own:3"}


def test_bad_role_arn_names_the_option(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"stacks.contract.model_deployer.role_arn: 'my-role' is not an IAM role ARN"):
        make_stack(tmp_path, {"model_deployer": deployer_config(role_arn="my-role")})


def test_unknown_option_is_rejected_by_the_core_with_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="instance_typ") as caught:
        make_stack(tmp_path, {"model_deployer": deployer_config(instance_typ="ml.m5.large")})
    assert "instance_type" in (caught.value.hint or "")


def test_deploying_a_version_from_another_registry_is_refused(tmp_path: Path, aws_env: Any) -> None:
    stack = make_stack(tmp_path, {"model_deployer": deployer_config()})
    deployer = stack.component(Kind.MODEL_DEPLOYER)
    local = ModelVersion(name="m", version="1", uri="/tmp/x", registry_id="local:m/1")
    with pytest.raises(DeploymentError, match="not a SageMaker model package"):
        deployer.flowyml_model_deployer_deploy(model=local, endpoint_name="e", config={})


def test_deployer_without_role_says_how_to_set_it(tmp_path: Path, aws_env: Any) -> None:
    config = deployer_config()
    del config["role_arn"]
    stack = make_stack(tmp_path, {"model_deployer": config})
    model = ModelVersion(name="m", version="1", uri="s3://b/k", registry_id="arn:aws:sagemaker:us-east-1:123456789012:model-package/m/1")
    with pytest.raises(DeploymentError, match="has no role_arn") as caught:
        stack.hook.flowyml_model_deployer_deploy(model=model, endpoint_name="e", config={})
    assert "SAGEMAKER_ROLE" in (caught.value.hint or "")
