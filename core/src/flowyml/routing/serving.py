"""Whether a model version is already serving at an endpoint (a cached re-run leaves it alone)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowyml.plugins.kinds import Kind
from flowyml.plugins.types import Deployment, ModelVersion

if TYPE_CHECKING:
    from flowyml.stacks.stack import Stack


def already_serving(stack: Stack, model: ModelVersion, endpoint: str) -> Deployment | None:
    """The deployment of ``stack``'s deployer serving this exact version at ``endpoint``, or None.

    A deployer without ``flowyml_model_deployer_list`` cannot tell: None (deploy as before).
    """
    if not stack.has(Kind.MODEL_DEPLOYER):
        return None
    for deployment in stack.model_deployer.list():
        if (
            deployment.endpoint_name == endpoint
            and deployment.model_name == model.name
            and str(deployment.model_version) == str(model.version)
            and deployment.status == "serving"
        ):
            return deployment
    return None
