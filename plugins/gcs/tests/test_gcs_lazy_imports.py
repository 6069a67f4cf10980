"""Installing flowyml-gcs costs nothing on stacks that do not use it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

HEAVY = ["gcsfs", "google.cloud.storage", "google.cloud.aiplatform"]

LOCAL_RUN = textwrap.dedent(
    """
    import json, sys
    from flowyml import pipeline, step
    from flowyml.core import Dataset, Metrics

    @step
    def make() -> Dataset:
        return Dataset({"x": [1, 2, 3]}, name="d")

    @step
    def score(d: Dataset) -> Metrics:
        return Metrics({"n": len(d.data["x"])})

    @pipeline
    def tiny():
        score(make())

    run = tiny.run(stack="local")
    assert run.success, run.error
    print(json.dumps({name: name in sys.modules for name in sys.argv[1:]}))
    """
)

BUILD_GCS_STACK = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from flowyml.plugins.kinds import Kind
    from flowyml.testing import make_stack

    stack = make_stack(Path.cwd(), {"artifact_store": {"type": "gcs", "bucket": "some-bucket"}})
    print(stack.component(Kind.ARTIFACT_STORE).describe(), file=sys.stderr)
    print(json.dumps({name: name in sys.modules for name in sys.argv[1:]}))
    """
)


def _imported(code: str, cwd: Path) -> dict[str, bool]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWYML_")}
    done = subprocess.run([sys.executable, "-c", code, *HEAVY], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_local_stack_imports_no_google_library(tmp_path: Path) -> None:
    (tmp_path / "flowyml.yaml").write_text("stacks:\n  local:\n    orchestrator: {type: local}\n    artifact_store: {type: local}\n")
    assert _imported(LOCAL_RUN, tmp_path) == dict.fromkeys(HEAVY, False)


def test_building_a_gcs_stack_defers_gcsfs_until_first_use(tmp_path: Path) -> None:
    assert _imported(BUILD_GCS_STACK, tmp_path) == dict.fromkeys(HEAVY, False)
