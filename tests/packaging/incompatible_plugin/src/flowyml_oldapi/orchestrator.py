"""Uses a name flowyml 0.1 does not have: importing this module on a 0.1 core fails."""

from __future__ import annotations

from flowyml.plugins.component import ComponentV2  # type: ignore[attr-defined]


class NewerOrchestrator(ComponentV2):
    kind = "orchestrator"
