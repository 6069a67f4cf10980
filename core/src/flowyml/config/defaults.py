"""The one default stack: what ``flowyml init`` writes, and what runs use when there is no flowyml.yaml."""

from __future__ import annotations

from typing import Any

import yaml

DEFAULT_STACK_NAME = "local"

#: The starter flowyml.yaml (``flowyml init``); parsed, it is the stack used without a flowyml.yaml.
STARTER = """\
# FlowyML stacks: switch infrastructure with `flowyml stack set NAME` or FLOWYML_STACK.
stacks:
  local:
    orchestrator: { type: local }
    artifact_store: { type: local, path: "./artifacts" }
    model_registry: { type: local }
    model_deployer: { type: local }
    experiment_tracker: { type: local }
    artifact_routing:
      Model:
        register: true
        deploy: true
        deploy_condition: manual     # or: auto (with deploy_min_metrics), on_approval
      Metrics: { log_to_tracker: true }
      Parameters: { log_to_tracker: true }

active_stack: local
"""

#: The starter's data: the configuration of a project without flowyml.yaml.
EMBEDDED_DEFAULT: dict[str, Any] = yaml.safe_load(STARTER)
