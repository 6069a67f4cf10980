"""``sagemaker_endpoint``: real-time SageMaker endpoints serving registered model packages.

A deployment creates a SageMaker Model from the version's model package, an
endpoint config, and the endpoint (or, when the endpoint exists, updates it to
the new config: SageMaker switches traffic once the new instances are healthy,
so there is no downtime). Everything it creates is tagged ``flowyml:*`` and
removed again by undeploy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import flowyml
from flowyml.errors import DeploymentError
from flowyml.plugins.types import Deployment, ModelVersion
from flowyml_sagemaker.component import SageMakerComponent
from flowyml_sagemaker.options import DeployerOptions

log = logging.getLogger("flowyml.sagemaker")
TAG_MODEL, TAG_VERSION, TAG_MANAGED = "flowyml:model", "flowyml:version", "flowyml:managed"


#: SageMaker endpoint states in FlowyML's deployment vocabulary (anything else: pending).
_STATUSES = {"InService": "serving", "Failed": "failed", "OutOfService": "failed", "Deleting": "stopped"}


def deployment_status(endpoint_status: str) -> str:
    """FlowyML's status of an endpoint SageMaker reports as ``endpoint_status`` (Creating, Updating... are pending)."""
    return _STATUSES.get(endpoint_status, "pending")


class SageMakerEndpointDeployer(SageMakerComponent):
    kind = "model_deployer"
    Options = DeployerOptions
    error_class = DeploymentError
    label = "SageMaker endpoint deployer"

    def describe(self) -> str:
        return f"SageMaker endpoints on {self.options.instance_count} x {self.options.instance_type}" + (
            f" in {self.options.region}" if self.options.region else ""
        )

    def _endpoint(self, name: str) -> dict[str, Any] | None:
        from flowyml_sagemaker.aws import is_missing

        try:
            return dict(self.sm.describe_endpoint(EndpointName=name))
        except Exception as exc:
            if is_missing(exc):
                return None
            raise DeploymentError(
                f"SageMaker endpoint deployer: looking up endpoint {name} failed: {exc}", hint="check the AWS credentials and region"
            ) from exc

    def _tags(self, model: ModelVersion) -> list[dict[str, str]]:
        tags = {TAG_MANAGED: "true", TAG_MODEL: model.name, TAG_VERSION: model.version, **self.options.tags}
        return [{"Key": k, "Value": str(v)[:256]} for k, v in tags.items()]

    def name_suffix(self) -> str:
        """Suffix making each deployment's model and endpoint config names unique (a UTC timestamp)."""
        return time.strftime("%Y%m%d%H%M%S", time.gmtime())

    def url_of(self, endpoint_name: str) -> str:
        region = self.options.region or getattr(self.sm.meta, "region_name", None) or "us-east-1"
        return f"https://runtime.sagemaker.{region}.amazonaws.com/endpoints/{endpoint_name}/invocations"

    # -- deploy -------------------------------------------------------------------------------------

    @flowyml.hookimpl
    def flowyml_model_deployer_deploy(self, model: ModelVersion, endpoint_name: str, config: Mapping[str, Any]) -> Deployment:
        from flowyml_sagemaker.aws import resource_name

        role = config.get("role_arn") or self.options.role_arn
        if not role:
            raise DeploymentError(
                f"the SageMaker endpoint deployer of stack {self.context.stack_name!r} has no role_arn",
                hint="set model_deployer.role_arn (e.g. role_arn: ${SAGEMAKER_ROLE}) to a role SageMaker can assume",
            )
        package = model.registry_id or ""
        if ":model-package/" not in package:
            raise DeploymentError(
                f"{model.name} version {model.version} is not a SageMaker model package (registry id {package or 'none'})",
                hint="register it with the sagemaker_model_registry of the same stack, then deploy",
            )
        endpoint = resource_name(endpoint_name)
        stamp = self.name_suffix()
        base = resource_name(endpoint, model.version, limit=63 - len(stamp) - 1)
        model_name = f"{base}-{stamp}"
        tags = self._tags(model)
        environment = {**self.options.environment, **{str(k): str(v) for k, v in (config.get("environment") or {}).items()}}
        container: dict[str, Any] = {"ModelPackageName": package}
        if environment:
            container["Environment"] = environment
        self._call(f"creating model {model_name}", "create_model", ModelName=model_name, ExecutionRoleArn=role, PrimaryContainer=container, Tags=tags)
        variant = {
            "VariantName": self.options.variant_name,
            "ModelName": model_name,
            "InitialInstanceCount": int(config.get("instance_count") or self.options.instance_count),
            "InstanceType": str(config.get("instance_type") or self.options.instance_type),
            "InitialVariantWeight": 1.0,
        }
        created = False
        try:
            self._call(f"creating endpoint config {model_name}", "create_endpoint_config", EndpointConfigName=model_name, ProductionVariants=[variant], Tags=tags)
            current = self._endpoint(endpoint)
            if current is None:
                self._call(f"creating endpoint {endpoint}", "create_endpoint", EndpointName=endpoint, EndpointConfigName=model_name, Tags=tags)
                created, previous = True, None
            else:
                if current.get("EndpointStatus") not in ("InService", "Failed"):
                    raise DeploymentError(
                        f"endpoint {endpoint} is {current.get('EndpointStatus')}; it cannot be updated now",
                        hint="wait until it is InService (aws sagemaker describe-endpoint --endpoint-name " + endpoint + ")",
                    )
                previous = current.get("EndpointConfigName")
                self._call(f"updating endpoint {endpoint} to config {model_name}", "update_endpoint", EndpointName=endpoint, EndpointConfigName=model_name)
            final = self._wait(endpoint, model_name)
        except Exception:
            if created:  # a new endpoint that never came up: remove it with its config and model
                self._delete_quietly_endpoint(endpoint)
            self._delete_quietly(model_name, model_name)
            raise
        self._call(f"tagging endpoint {endpoint}", "add_tags", ResourceArn=final["EndpointArn"], Tags=tags)
        if previous and previous != model_name:
            self._delete_config_and_models(previous)
        return Deployment(
            endpoint_name=endpoint,
            model_name=model.name,
            model_version=model.version,
            status="serving",
            backend_status="InService",
            url=self.url_of(endpoint),
            details={"endpoint_arn": final["EndpointArn"], "endpoint_config": model_name, "sagemaker_model": model_name, "model_package": package},
        )

    def _wait(self, endpoint: str, config_name: str) -> dict[str, Any]:
        from flowyml_sagemaker.waiting import wait_for

        def timeout(elapsed: float) -> Exception:
            return DeploymentError(
                f"endpoint {endpoint} was not InService after {elapsed:.0f}s",
                hint=f"it may still come up: aws sagemaker describe-endpoint --endpoint-name {endpoint}; raise model_deployer.timeout_seconds",
            )

        final = wait_for(
            f"endpoint {endpoint}",
            lambda: self._call(f"describing endpoint {endpoint}", "describe_endpoint", EndpointName=endpoint),
            "EndpointStatus",
            {"InService", "Failed", "OutOfService"},
            timeout=self.options.timeout_seconds,
            interval=self.options.poll_interval,
            on_timeout=timeout,
        )
        reason = final.get("FailureReason")
        if final["EndpointStatus"] != "InService":
            raise DeploymentError(
                f"endpoint {endpoint} is {final['EndpointStatus']}: {reason or 'SageMaker gave no reason'}",
                hint="see the endpoint's CloudWatch logs (/aws/sagemaker/Endpoints/" + endpoint + ")",
            )
        if final.get("EndpointConfigName") != config_name:
            # An update that failed is rolled back: the endpoint keeps serving the old config.
            raise DeploymentError(
                f"updating endpoint {endpoint} failed and was rolled back to {final.get('EndpointConfigName')}: {reason or 'no reason given'}",
                hint="the previous version keeps serving; see /aws/sagemaker/Endpoints/" + endpoint + " in CloudWatch",
            )
        return final

    # -- undeploy / list ------------------------------------------------------------------------------

    def _delete_quietly_endpoint(self, endpoint: str) -> None:
        try:
            self.sm.delete_endpoint(EndpointName=endpoint)
        except Exception as exc:
            log.warning("could not delete the failed endpoint %s: %s", endpoint, exc)

    def _delete_quietly(self, config_name: str | None, model_name: str | None) -> None:
        for method, kwargs in (("delete_endpoint_config", {"EndpointConfigName": config_name}), ("delete_model", {"ModelName": model_name})):
            if next(iter(kwargs.values())):
                try:
                    getattr(self.sm, method)(**kwargs)
                except Exception as exc:
                    log.warning("could not clean up %s: %s", kwargs, exc)

    def _delete_config_and_models(self, config_name: str) -> None:
        from flowyml_sagemaker.aws import is_missing

        try:
            config = self.sm.describe_endpoint_config(EndpointConfigName=config_name)
        except Exception as exc:
            if not is_missing(exc):
                log.warning("could not read endpoint config %s: %s", config_name, exc)
            return
        self._call(f"deleting endpoint config {config_name}", "delete_endpoint_config", EndpointConfigName=config_name)
        for variant in config.get("ProductionVariants", []):
            try:
                self.sm.delete_model(ModelName=variant["ModelName"])
            except Exception as exc:
                if not is_missing(exc):
                    raise
        log.info("deleted endpoint config %s and its models", config_name)

    @flowyml.hookimpl
    def flowyml_model_deployer_undeploy(self, endpoint_name: str) -> bool:
        from flowyml_sagemaker.aws import resource_name

        endpoint = resource_name(endpoint_name)
        current = self._endpoint(endpoint)
        if current is None:
            return False
        self._call(f"deleting endpoint {endpoint}", "delete_endpoint", EndpointName=endpoint)
        if current.get("EndpointConfigName"):
            self._delete_config_and_models(current["EndpointConfigName"])
        log.info("deleted endpoint %s", endpoint)
        return True

    @flowyml.hookimpl
    def flowyml_model_deployer_list(self) -> list[Deployment]:
        out: list[Deployment] = []
        for page in self._call("listing endpoints", "get_paginator", operation_name="list_endpoints").paginate():
            for summary in page.get("Endpoints", []):
                tags = {t["Key"]: t["Value"] for t in self._call("reading endpoint tags", "list_tags", ResourceArn=summary["EndpointArn"]).get("Tags", [])}
                if tags.get(TAG_MANAGED) != "true":
                    continue
                name = summary["EndpointName"]
                backend = summary.get("EndpointStatus", "")
                out.append(
                    Deployment(
                        name, tags.get(TAG_MODEL, ""), tags.get(TAG_VERSION, ""), deployment_status(backend), self.url_of(name),
                        {"endpoint_arn": summary["EndpointArn"]}, backend_status=backend or None,
                    )
                )
        return out

    def close(self) -> None:
        self._client = None
