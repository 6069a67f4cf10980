"""Repository-wide pytest setup.

- ``tests/`` is importable, and every module in ``tests/standins/`` (real
  local stand-ins for cloud services) is loaded as a pytest plugin.
- Every test runs with vendor telemetry off and no FlowyML selection leaking
  in from the developer's shell.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "tests"))

pytest_plugins = sorted(
    f"standins.{p.stem}"
    for p in (HERE / "tests" / "standins").glob("*.py")
    if not p.stem.startswith(("test_", "_"))
)

# Nothing leaves the machine: set before any vendor library is imported.
os.environ.update(
    {
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING": "false",
        "WANDB_MODE": "offline",
        "WANDB_SILENT": "true",
        "WANDB_DISABLE_CODE": "true",
        "DO_NOT_TRACK": "1",
        "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false",
        "NO_GCE_CHECK": "true",
    }
)


@pytest.fixture(autouse=True)
def _isolate_flowyml_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FLOWYML_CONFIG", "FLOWYML_STACK", "FLOWYML_DISABLE_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
