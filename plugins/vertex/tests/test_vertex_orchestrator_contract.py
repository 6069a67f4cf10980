"""The vertex_ai orchestrator passes flowyml.testing.OrchestratorContract on the Vertex fake and the GCS emulator.

The VertexExecutor thread plays Vertex AI Pipelines: it runs each submitted
task's container command in a fresh process, in dependency order, and does
not start the tasks downstream of a failed one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_vertex_orchestrator import IMAGE, VertexExecutor

from flowyml.runner.engine import RunSession
from flowyml.testing import OrchestratorContract


class TestVertexOrchestrator(OrchestratorContract):
    @pytest.fixture
    def orchestrator_config(self, gcp: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
        fake = gcp["fake"]
        self.fake = fake
        # PipelineJob.submit() checks the pipeline-root bucket with google-cloud-storage: let it find it in the emulator.
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcp["gcs"].endpoint_url)
        return {"type": "vertex_ai", "project": fake.project, "location": fake.location, "api_endpoint": fake.endpoint,
                "image": IMAGE, "poll_interval": 0.2, "timeout": 300}

    @pytest.fixture
    def stack_components(self, gcs_store: dict[str, Any]) -> dict[str, Any]:
        return {"artifact_store": gcs_store}

    def orchestrate(self, session: RunSession) -> None:
        executor = VertexExecutor(self.fake, Path.cwd())
        executor.start()
        session.orchestrate()
        executor.join(timeout=120)
        assert executor.error is None, executor.error
