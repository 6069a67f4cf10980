"""The local model server enforces a model's input_schema: 422 naming the missing or unknown columns."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from flowyml.core.artifacts import Model
from flowyml.plugins.types import ModelVersion
from flowyml.serialization.artifact_io import write_artifact
from flowyml.testing.stacks import make_stack


def post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(f"{url}/predict", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_predict_checks_the_input_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pd = pytest.importorskip("pandas")
    linear = pytest.importorskip("sklearn.linear_model")
    monkeypatch.chdir(tmp_path)
    frame = pd.DataFrame({"amount": [0.0, 1.0, 2.0, 3.0], "age": [1.0, 1.0, 2.0, 2.0]})
    clf = linear.LogisticRegression().fit(frame, [0, 0, 1, 1])
    stack = make_stack(tmp_path, {"artifact_store": {"type": "local", "path": str(tmp_path / "store")}, "model_deployer": {"type": "local", "startup_timeout": 60}})
    manifest: dict[str, Any] = {}
    model = Model(clf, name="scored", input_schema={"amount": "float", "age": "float"})
    uri = stack.hook.flowyml_artifact_store_save(key="models/scored", write=lambda d: manifest.update(write_artifact(model, Path(d))))
    version = ModelVersion(name="scored", version="1", uri=uri, content_hash=manifest["content_hash"], input_schema=model.input_schema)
    deployment = stack.hook.flowyml_model_deployer_deploy(model=version, endpoint_name="scored", config={})
    try:
        status, body = post(deployment.url, {"instances": [{"amount": 3.0, "age": 2.0}]})
        assert (status, body["predictions"]) == (200, [1])
        status, body = post(deployment.url, {"instances": [{"amount": 3.0, "agee": 2.0}]})
        assert status == 422 and body["missing"] == ["age"] and body["unknown"] == ["agee"]
        assert "missing column(s) age; unknown column(s) agee" in body["error"] and "amount, age" in body["error"]
        status, body = post(deployment.url, {"instances": [[1.0, 2.0, 3.0]]})
        assert status == 422 and "has 3 values; the model's input_schema has 2 columns: amount, age" in body["error"]
    finally:
        stack.hook.flowyml_model_deployer_undeploy(endpoint_name="scored")
        stack.close()
