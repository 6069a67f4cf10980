"""Deciding whether a registered model is deployed (the spec's deploy_condition)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs

from flowyml.config.schema import RoutingRule


@attrs.frozen
class DeployDecision:
    deploy: bool
    status: str  # registry status to give the version: registered | pending_approval | approved
    reason: str

    def named(self, name: str, version: str) -> DeployDecision:
        """The same decision, its reason naming the version the registry gave (``decide`` runs once)."""
        command = f" {NAME} --version {VERSION}`"
        return attrs.evolve(self, reason=self.reason.replace(command, f" {name} --version {version}`"))


#: Stand-ins for the model's name and version in a reason decided before registration.
NAME, VERSION = "NAME", "V"


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def decide(rule: RoutingRule, metrics: Mapping[str, Any], name: str = NAME, version: str = VERSION) -> DeployDecision:
    """Apply ``deploy_condition`` to the metrics known for a model.

    ``manual`` never deploys; ``on_approval`` marks the version pending;
    ``auto`` deploys only when every threshold's metric is present, numeric
    and meets it (``>=`` for ``deploy_min_metrics``, ``<=`` for
    ``deploy_max_metrics``). A missing metric blocks deployment. Without
    ``name``/``version`` the reason holds stand-ins that
    :meth:`DeployDecision.named` fills in once the registry has numbered the version.
    """
    if not rule.deploy:
        return DeployDecision(False, "registered", "deploy is not enabled for Model on this stack")
    condition = rule.deploy_condition
    if condition == "manual":
        return DeployDecision(
            False, "registered", f"deploy_condition is manual: deploy with `flowyml model deploy {name} --version {version}`"
        )
    if condition == "on_approval":
        return DeployDecision(
            False, "pending_approval", f"deploy_condition is on_approval: waiting for `flowyml model approve {name} --version {version}`"
        )
    failures = []
    for name, threshold in rule.deploy_min_metrics.items():
        value = _number(metrics.get(name))
        if value is None:
            failures.append(f"metric {name!r} is missing" if name not in metrics else f"metric {name!r} is not a number")
        elif value < threshold:
            failures.append(f"{name}={value:g} is below {threshold:g}")
    for name, threshold in rule.deploy_max_metrics.items():
        value = _number(metrics.get(name))
        if value is None:
            failures.append(f"metric {name!r} is missing" if name not in metrics else f"metric {name!r} is not a number")
        elif value > threshold:
            failures.append(f"{name}={value:g} is above {threshold:g}")
    if failures:
        return DeployDecision(False, "registered", "not deployed: " + "; ".join(failures))
    met = ", ".join(f"{k}={_number(metrics[k]):g}" for k in [*rule.deploy_min_metrics, *rule.deploy_max_metrics])
    return DeployDecision(True, "approved", f"thresholds met ({met})")
