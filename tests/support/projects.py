"""Writing a minimal test project (a folder with a flowyml.yaml) for tests that read its settings in process."""

from __future__ import annotations

from pathlib import Path

LOCAL_STACK = "stacks:\n  local:\n    orchestrator: { type: local }\n    artifact_store: { type: local, path: ./artifacts }\nactive_stack: local\n"


def project_with_metadata_url(folder: Path, url: str) -> Path:
    """``folder`` (created) holding a flowyml.yaml with the local stack and ``metadata: { url: URL }``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "flowyml.yaml").write_text(f"metadata:\n  url: {url}\n{LOCAL_STACK}", encoding="utf-8")
    return folder
