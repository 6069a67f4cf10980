"""``vertex_endpoint``: serve registered model versions behind Vertex AI endpoints.

The endpoint is found by display name (``endpoint_name``) among endpoints
labelled ``managed_by=flowyml``, and created when missing. A deploy sends all
traffic to the new version, then undeploys the versions it replaced, so the
endpoint keeps serving throughout. Undeploying removes every deployed model
and then the endpoint itself.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import flowyml
from flowyml.errors import DeploymentError
from flowyml.plugins.component import Component
from flowyml.plugins.types import Deployment, ModelVersion
from flowyml_vertex.errors import reported
from flowyml_vertex.naming import MANAGED, filter_expr, label_value
from flowyml_vertex.operations import wait
from flowyml_vertex.options import VertexDeployerOptions
from flowyml_vertex.sdk import aiplatform_for

log = logging.getLogger("flowyml.vertex")

#: ``serving_config`` / rule keys that override the deployer's options.
RESOURCE_KEYS = ("machine_type", "min_replica_count", "max_replica_count", "accelerator_type", "accelerator_count", "service_account")


def deployed_name(model: ModelVersion) -> str:
    """The deployed model's display name; it records which FlowyML version is served."""
    return f"{model.name}:{model.version}"[:128]


class VertexEndpointDeployer(Component):
    kind = "model_deployer"
    Options = VertexDeployerOptions

    def __init__(self, options: VertexDeployerOptions, context: Any) -> None:
        super().__init__(options, context)
        self._sdk: Any = None

    def describe(self) -> str:
        where = "/".join(filter(None, [self.options.project, self.options.location])) or "the environment's project"
        return f"Vertex AI endpoints ({where}), {self.options.machine_type} x{self.options.min_replica_count}-{self.options.max_replica_count}"

    @property
    def where(self) -> str:
        return f"vertex_endpoint deployer of stack {self.context.stack_name!r}"

    @property
    def sdk(self) -> Any:
        if self._sdk is None:
            with reported(DeploymentError, "configuring the Vertex AI SDK", self.where):
                self._sdk = aiplatform_for(self.options)
        return self._sdk

    def _endpoint(self, name: str) -> Any | None:
        found = self.sdk.Endpoint.list(filter=filter_expr(display_name=name, labels__managed_by=MANAGED[1]))
        found = [e for e in found if e.display_name == name]
        return min(found, key=lambda e: e.create_time) if found else None

    def _resources(self, config: Mapping[str, Any]) -> dict[str, Any]:
        values = {key: config.get(key, getattr(self.options, key)) for key in RESOURCE_KEYS}
        machine: dict[str, Any] = {"machine_type": values["machine_type"]}
        if values["accelerator_type"]:
            machine["accelerator_type"] = values["accelerator_type"]
            machine["accelerator_count"] = int(values["accelerator_count"] or 1)
        resources: dict[str, Any] = {
            "dedicated_resources": {
                "machine_spec": machine,
                "min_replica_count": int(values["min_replica_count"]),
                "max_replica_count": max(int(values["max_replica_count"]), int(values["min_replica_count"])),
            }
        }
        if values["service_account"]:
            resources["service_account"] = values["service_account"]
        return resources

    def _url(self, endpoint: Any) -> str:
        config = self.sdk.initializer.global_config
        host = config.api_endpoint or f"{endpoint.location}-aiplatform.googleapis.com"
        base = host if host.startswith("http") else f"https://{host}"
        return f"{base}/v1/{endpoint.resource_name}:predict"

    # -- hooks ----------------------------------------------------------------------------------

    @flowyml.hookimpl
    def flowyml_model_deployer_deploy(self, model: ModelVersion, endpoint_name: str, config: Mapping[str, Any]) -> Deployment:
        what = f"deploying {model.name} version {model.version} to endpoint {endpoint_name!r}"
        with reported(DeploymentError, what, self.where):
            return self._deploy(model, endpoint_name, config, what)

    def _deploy(self, model: ModelVersion, endpoint_name: str, config: Mapping[str, Any], what: str) -> Deployment:
        if not model.registry_id or "/models/" not in model.registry_id:
            raise DeploymentError(
                f"{self.where}: {model.name} version {model.version} is not registered in the Vertex AI Model Registry",
                hint="use model_registry: {type: vertex_model_registry} with register: true in the Model route",
            )
        endpoint = self._endpoint(endpoint_name)
        if endpoint is None:
            log.info("creating Vertex endpoint %s", endpoint_name)
            labels = {MANAGED[0]: MANAGED[1], **{label_value(k): label_value(v) for k, v in self.options.labels.items()}}
            endpoint = self.sdk.Endpoint.create(display_name=endpoint_name, labels=labels, sync=True)
        previous = [d.id for d in endpoint.gca_resource.deployed_models]
        deployed_model = {
            "model": model.registry_id,
            "display_name": deployed_name(model),
            **self._resources(config),
        }
        operation = endpoint.api_client.deploy_model(
            endpoint=endpoint.resource_name, deployed_model=deployed_model, traffic_split={"0": 100}
        )
        response = wait(operation, what, self.options.timeout, DeploymentError)
        deployed_id = response.deployed_model.id
        for old in previous:
            undeploy = endpoint.api_client.undeploy_model(endpoint=endpoint.resource_name, deployed_model_id=old)
            wait(undeploy, f"undeploying the replaced model {old} from {endpoint_name!r}", self.options.timeout, DeploymentError)
        return Deployment(
            endpoint_name=endpoint_name,
            model_name=model.name,
            model_version=model.version,
            status="serving",
            backend_status="deployed",
            url=self._url(endpoint),
            details={"endpoint": endpoint.resource_name, "deployed_model_id": deployed_id, "model": model.registry_id},
        )

    @flowyml.hookimpl
    def flowyml_model_deployer_undeploy(self, endpoint_name: str) -> bool:
        with reported(DeploymentError, f"undeploying endpoint {endpoint_name!r}", self.where):
            endpoint = self._endpoint(endpoint_name)
            if endpoint is None:
                return False
            deployed = list(endpoint.gca_resource.deployed_models)
            # Least traffic first, so the traffic left always sums to 100.
            split = dict(endpoint.gca_resource.traffic_split)
            for item in sorted(deployed, key=lambda d: split.get(d.id, 0)):
                remaining = {k: v for k, v in split.items() if k != item.id}
                if remaining and sum(remaining.values()) != 100:
                    top = max(remaining, key=lambda k: remaining[k])
                    remaining = {k: (100 if k == top else 0) for k in remaining}
                op = endpoint.api_client.undeploy_model(
                    endpoint=endpoint.resource_name, deployed_model_id=item.id, traffic_split=remaining
                )
                wait(op, f"undeploying {item.display_name} from {endpoint_name!r}", self.options.timeout, DeploymentError)
                split = remaining
            delete = endpoint.api_client.delete_endpoint(name=endpoint.resource_name)
            wait(delete, f"deleting endpoint {endpoint_name!r}", self.options.timeout, DeploymentError)
            return True

    @flowyml.hookimpl
    def flowyml_model_deployer_list(self) -> list[Deployment]:
        with reported(DeploymentError, "listing endpoints", self.where):
            out = []
            for endpoint in self.sdk.Endpoint.list(filter=filter_expr(labels__managed_by=MANAGED[1])):
                resource = endpoint.gca_resource
                if not resource.deployed_models:
                    continue
                split = dict(resource.traffic_split)
                serving = max(resource.deployed_models, key=lambda d: split.get(d.id, 0))
                name, _, version = serving.display_name.rpartition(":")
                out.append(
                    Deployment(
                        endpoint_name=endpoint.display_name,
                        model_name=name or serving.display_name,
                        model_version=version,
                        status="serving",
                        backend_status="deployed",
                        url=self._url(endpoint),
                        details={"endpoint": endpoint.resource_name, "deployed_model_id": serving.id, "model": serving.model},
                    )
                )
            return out

    @flowyml.hookimpl
    def flowyml_component_check(self) -> list[str]:
        with reported(DeploymentError, "listing endpoints", self.where):
            count = len(self.sdk.Endpoint.list(filter=filter_expr(labels__managed_by=MANAGED[1])))
        return [f"{self.describe()} answers ({count} FlowyML endpoints)"]
