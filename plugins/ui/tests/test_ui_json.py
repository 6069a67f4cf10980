"""The JSON twin of the pages: /runs.json, /runs/<id>.json, /artifacts/<id>.json, /models/<name>.json."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from flowyml_ui.app import create_app
from starlette.testclient import TestClient
from ui_extras_pipeline import EVIL, EVIL_MODEL
from ui_support import FLOWYML, TRACKER_PAGE, TRACKER_SCRIPT_URL, run_id_of


@pytest.fixture(scope="module")
def web(ui_project) -> TestClient:
    return TestClient(create_app(ui_project.path))


def test_runs_json_lists_filters_and_pages(web, ui_project, monkeypatch) -> None:
    answer = web.get("/runs.json")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    runs = answer.json()["runs"]
    assert [r["run_id"] for r in runs] == [ui_project.extras_run, ui_project.quickstart_run]
    assert runs[1]["pipeline_name"] == "training_pipeline" and runs[1]["status"] == "completed" and runs[1]["params"]["n_estimators"] == 100
    only = web.get("/runs.json", params={"pipeline": "extras"}).json()
    assert [r["run_id"] for r in only["runs"]] == [ui_project.extras_run] and only["pipeline"] == "extras"
    unknown = web.get("/runs.json", params={"pipeline": "nosuch"}).json()
    assert unknown["runs"] == [] and "no pipeline named 'nosuch'" in unknown["problem"]
    from flowyml_ui import run_pages

    monkeypatch.setattr(run_pages, "PER_PAGE", 1)
    first = web.get("/runs.json").json()
    assert [r["run_id"] for r in first["runs"]] == [ui_project.extras_run] and first["next"] == "/runs.json?page=2"
    second = web.get(first["next"]).json()
    assert [r["run_id"] for r in second["runs"]] == [ui_project.quickstart_run] and second["next"] is None


def test_run_json_has_the_steps_artifacts_events_and_tracker_links(web, ui_project) -> None:
    run = web.get(f"/runs/{ui_project.quickstart_run}.json").json()
    steps = {s["name"]: s for s in run["steps"]}
    assert sorted(steps) == ["evaluate", "hyperparameters", "load_data", "preprocess", "train_model"]
    made = steps["load_data"]["outputs"]["output"]["artifact_id"]
    assert [a["artifact_id"] for a in steps["preprocess"]["inputs"].values()] == [made] and steps["train_model"]["status"] == "completed"
    assert any(e["action"] == "decision" and "deploy_condition is manual" in e["detail"] for e in run["events"])
    extras = web.get(f"/runs/{ui_project.extras_run}.json").json()
    assert extras["tracker_links"][0] == {"tracker": "mlflow", "location": TRACKER_PAGE, "is_url": True}
    assert {"tracker": "custom", "location": TRACKER_SCRIPT_URL, "is_url": False} in extras["tracker_links"]


def test_a_markup_name_stays_data(web, ui_project) -> None:
    run = web.get(f"/runs/{ui_project.extras_run}.json")
    assert run.headers["content-type"] == "application/json"
    assert EVIL in [s["name"] for s in run.json()["steps"]]  # the name itself, not HTML-escaped
    model = web.get("/models/%3Cscript%3Ealert%28%27model%27%29.json", params={"stack": "approval"})
    assert model.status_code == 200 and model.json()["name"] == EVIL_MODEL
    assert [v["status"] for v in model.json()["versions"]] == ["pending_approval"]


def test_artifact_json_has_the_preview_and_lineage(web, ui_project) -> None:
    run = web.get(f"/runs/{ui_project.quickstart_run}.json").json()
    artifact_id = run["steps"][0]["outputs"]["output"]["artifact_id"]
    art = web.get(f"/artifacts/{artifact_id}.json").json()
    assert art["artifact_id"] == artifact_id and art["serializer"] == "parquet" and len(art["content_hash"]) == 64
    assert art["preview"]["shape"] == [569, 31] and len(art["preview"]["rows"]) == 10
    assert ["mean radius", "double"] in art["preview"]["columns"]
    assert art["producer"] == {"run_id": ui_project.quickstart_run, "step": "load_data"}
    assert {"run_id": ui_project.quickstart_run, "step": "preprocess"} in art["consumers"]


def test_model_json_has_the_versions_of_the_stack(web) -> None:
    model = web.get("/models/approval_demo.json", params={"stack": "approval"}).json()
    assert model["name"] == "approval_demo" and model["stack"] == "approval"
    (version,) = model["versions"]
    assert version["version"] == "1" and version["framework"] == "sklearn" and version["run_id"]
    assert version["status"] in ("pending_approval", "approved")  # approved once the browser test ran
    assert version["serving"] == [] and model["serving_problem"] is None  # the browser test undeploys what it deployed


def test_unknown_and_invalid_ids_are_404_json(web, ui_project) -> None:
    for url in (
        "/runs/nosuch.json", "/runs/bad%3Cid%3E.json", "/artifacts/0000dead.json", "/artifacts/..%2F..%2Fetc.json",
        "/models/nosuch.json", "/models/%2E%2E.json",
    ):
        answer = web.get(url)
        assert answer.status_code == 404, url
        assert answer.headers["content-type"] == "application/json" and answer.json()["status"] == 404, url
        assert answer.json()["error"] and "Traceback" not in answer.text, url


def test_a_broken_store_is_a_500_json_and_the_server_keeps_serving(tmp_path: Path) -> None:
    (tmp_path / ".flowyml").mkdir()
    (tmp_path / ".flowyml" / "metadata.db").write_bytes(b"this is not an sqlite database" * 100)
    web = TestClient(create_app(tmp_path), raise_server_exceptions=False)
    broken = web.get("/runs.json")
    assert broken.status_code == 500 and "not a database" in broken.json()["error"]
    (tmp_path / ".flowyml" / "metadata.db").unlink()
    assert web.get("/runs.json").json()["runs"] == []


def test_secrets_are_masked(tmp_path: Path) -> None:
    (tmp_path / "secretive.py").write_text(
        "from flowyml import pipeline, step\n\n@step\ndef use(token: str, db: str) -> int:\n    return len(token + db)\n\n"
        "@pipeline\ndef secretive(api_token: str = '', db_url: str = '') -> None:\n    use(api_token, db_url)\n"
    )
    done = subprocess.run(
        [str(FLOWYML), "run", "secretive.py", "-p", "api_token=hunter2-secret", "-p", "db_url=postgresql://bob:pa55word@db.example/x"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    run_id = run_id_of(done.stdout)
    web = TestClient(create_app(tmp_path))
    for url in (f"/runs/{run_id}.json", "/runs.json", f"/runs/{run_id}"):
        answer = web.get(url)
        assert "hunter2-secret" not in answer.text and "pa55word" not in answer.text, url
    params = web.get(f"/runs/{run_id}.json").json()["params"]
    assert params == {"api_token": "***", "db_url": "postgresql://bob:***@db.example/x"}


def test_with_a_token_the_json_needs_it_too(ui_project) -> None:
    web = TestClient(create_app(ui_project.path, token="s3cret-token"))
    for url in ("/runs.json", f"/runs/{ui_project.quickstart_run}.json", "/models/approval_demo.json?stack=approval"):
        assert web.get(url).status_code == 401, url
        assert web.get(url, headers={"authorization": "Bearer s3cret-token"}).status_code == 200, url


def test_pages_link_to_their_json_twin(web, ui_project) -> None:
    run_id = ui_project.quickstart_run
    artifact_id = web.get(f"/runs/{run_id}.json").json()["steps"][0]["outputs"]["output"]["artifact_id"]
    evil = "/models/%3Cscript%3Ealert%28%27model%27%29"
    for page, twin in (
        ("/?pipeline=extras", "/runs.json?pipeline=extras"), (f"/runs/{run_id}", f"/runs/{run_id}.json"),
        (f"/artifacts/{artifact_id}", f"/artifacts/{artifact_id}.json"), (f"{evil}?stack=approval", f"{evil}.json?stack=approval"),
    ):
        assert f'id="json-twin" href="{twin}"' in web.get(page).text, page
        assert web.get(twin).status_code == 200, twin
