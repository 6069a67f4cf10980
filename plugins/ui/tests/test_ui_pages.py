"""The dashboard's pages in-process (Starlette's TestClient): stable URLs, 404s, escaping, CSRF, the token."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from flowyml_ui.app import create_app
from starlette.testclient import TestClient
from ui_extras_pipeline import EVIL, EVIL_MODEL
from ui_support import TRACKER_FOLDER, TRACKER_PAGE, TRACKER_SCRIPT_URL

from flowyml import Client


@pytest.fixture(scope="module")
def web(ui_project) -> TestClient:
    return TestClient(create_app(ui_project.path))


def test_runs_page_lists_both_runs_and_filters(web, ui_project) -> None:
    page = web.get("/").text
    assert ui_project.quickstart_run in page and ui_project.extras_run in page
    only = web.get("/", params={"pipeline": "extras"}).text
    assert ui_project.extras_run in only and ui_project.quickstart_run not in only
    assert ui_project.quickstart_run not in web.get("/", params={"status": "failed"}).text
    unknown = web.get("/", params={"pipeline": "nosuch"})
    assert unknown.status_code == 200 and "no pipeline named &#39;nosuch&#39;" in unknown.text


def test_runs_and_run_pages_show_who_started_a_run_and_where(web, ui_project, tmp_path: Path) -> None:
    import getpass
    import socket
    import sqlite3
    import subprocess

    from ui_support import FLOWYML, run_id_of

    user, host = getpass.getuser(), socket.gethostname()
    row = re.search(rf'<tr data-run="{ui_project.quickstart_run}">(.*?)</tr>', web.get("/").text, re.S).group(1)
    assert f'<td class="user">{user}</td>' in row and f'<td class="host">{host}</td>' in row
    who = re.search(r'<dd id="run-who">(.*?)</dd>', web.get(f"/runs/{ui_project.quickstart_run}").text).group(1)
    assert f'<span class="user">{user}</span>' in who and f'<span class="host mono">{host}</span>' in who
    assert web.get(f"/runs/{ui_project.quickstart_run}.json").json()["user"] == user
    # a run recorded before FlowyML kept them: a dash
    (tmp_path / "one.py").write_text("from flowyml import pipeline, step\n\n@step\ndef one() -> int:\n    return 1\n\n@pipeline\ndef old() -> None:\n    one()\n")
    done = subprocess.run([str(FLOWYML), "run", "one.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    run_id = run_id_of(done.stdout)
    with sqlite3.connect(tmp_path / ".flowyml" / "metadata.db") as db:
        db.execute("UPDATE runs SET user=NULL, host=NULL WHERE run_id=?", (run_id,))
    older = TestClient(create_app(tmp_path))
    row = re.search(rf'<tr data-run="{run_id}">(.*?)</tr>', older.get("/").text, re.S).group(1)
    assert '<td class="user">-</td>' in row and '<td class="host">-</td>' in row
    assert '<span class="user">-</span> on <span class="host mono">-</span>' in older.get(f"/runs/{run_id}").text
    assert older.get(f"/runs/{run_id}.json").json()["host"] is None


def test_runs_page_pages(web, ui_project, monkeypatch) -> None:
    from flowyml_ui import run_pages

    monkeypatch.setattr(run_pages, "PER_PAGE", 1)
    first, second = web.get("/").text, web.get("/", params={"page": 2}).text
    assert ui_project.extras_run in first and ui_project.quickstart_run not in first and 'id="older"' in first
    assert ui_project.quickstart_run in second and ui_project.extras_run not in second and 'id="newer"' in second


def test_run_page_draws_the_graph_with_artifact_edges(web, ui_project) -> None:
    page = web.get(f"/runs/{ui_project.quickstart_run}").text
    steps = re.findall(r'data-step="([^"]+)" data-status="completed"', page)
    assert sorted(steps) == ["evaluate", "hyperparameters", "load_data", "preprocess", "train_model"]
    edges = set(re.findall(r'class="edge" data-source="([^"]+)" data-target="([^"]+)"', page))
    assert edges == {
        ("load_data", "preprocess"), ("preprocess", "train_model"), ("hyperparameters", "train_model"),
        ("train_model", "evaluate"), ("preprocess", "evaluate"),
    }
    assert 'id="timeline"' in page and "n_estimators" in page  # timeline, parameters
    assert "deploy_condition is manual" in page  # the deployment decision and its reason


def test_run_page_links_to_the_tracker_runs(web, ui_project) -> None:
    page = web.get(f"/runs/{ui_project.extras_run}").text
    links = re.findall(r'<dd class="tracker-link" data-tracker="(\w+)">(.*?)</dd>', page)
    assert [t for t, _ in links] == ["mlflow", "tensorboard", "custom"]
    html = dict(links)
    assert f'<a href="{TRACKER_PAGE}"' in html["mlflow"]  # a web page: a link
    assert "<a" not in html["tensorboard"] and "/tmp/tb/&lt;script&gt;alert(&#39;tracker&#39;)&lt;/script&gt;" in html["tensorboard"]
    assert "<a" not in html["custom"] and TRACKER_SCRIPT_URL.replace("'", "&#39;") in html["custom"]  # never an href
    assert TRACKER_FOLDER not in page


def test_step_and_artifact_pages(web, ui_project) -> None:
    step = web.get(f"/runs/{ui_project.quickstart_run}/steps/load_data").text
    artifact_id = re.search(r'class="mono artifact-link" href="/artifacts/([0-9a-f]+)"', step).group(1)
    page = web.get(f"/artifacts/{artifact_id}").text
    assert "569 rows x 31 columns" in page and "mean radius" in page and "double" in page  # DataFrame preview + dtypes
    assert "/steps/preprocess" in page  # its consumer, linked
    archive = zipfile.ZipFile(io.BytesIO(web.get(f"/artifacts/{artifact_id}/download").content))
    assert "flowyml.json" in archive.namelist() and "data.parquet" in archive.namelist()


def test_a_failed_step_shows_its_traceback(ui_project, tmp_path: Path) -> None:
    (tmp_path / "boom.py").write_text(
        "from flowyml import pipeline, step\n\n@step\ndef explode() -> int:\n    raise ValueError('kaboom in the step')\n\n"
        "@pipeline\ndef boom() -> None:\n    explode()\n"
    )
    import subprocess

    from ui_support import FLOWYML

    done = subprocess.run([str(FLOWYML), "run", "boom.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    run_id = Client(tmp_path).list_runs()[0].run_id
    page = TestClient(create_app(tmp_path)).get(f"/runs/{run_id}/steps/explode").text
    assert "kaboom in the step" in page and 'id="traceback"' in page and "Traceback (most recent call last)" in page


def test_unknown_and_invalid_ids_are_404_pages(web, ui_project) -> None:
    for url in (
        "/runs/nosuch", "/runs/bad%3Cid%3E", f"/runs/{ui_project.quickstart_run}/steps/nosuch",
        f"/runs/{ui_project.quickstart_run}/steps/%2E%2E", "/artifacts/0000dead", "/artifacts/..%2F..%2Fetc",
        "/models/nosuch", "/no/such/page", "/stacks?pipeline=../../etc/passwd", "/stacks?pipeline=flowyml.yaml",
    ):
        answer = web.get(url)
        assert answer.status_code == 404, url
        assert 'id="error-message"' in answer.text and "Traceback" not in answer.text, url


def test_a_markup_step_name_renders_as_text(web, ui_project) -> None:
    page = web.get(f"/runs/{ui_project.extras_run}").text
    assert EVIL not in page
    assert "&lt;script&gt;alert(&#39;flowyml&#39;)" in page
    step = web.get(f"/runs/{ui_project.extras_run}/steps/%3Cscript%3Ealert('flowyml')")
    assert step.status_code == 200 and EVIL not in step.text and "&lt;script&gt;" in step.text


def test_a_markup_model_name_renders_as_text(web, ui_project) -> None:
    listing = web.get("/models", params={"stack": "approval"}).text
    assert EVIL_MODEL not in listing and "&lt;script&gt;alert(&#39;model&#39;)" in listing
    assert "/models/%3Cscript%3Ealert%28%27model%27%29" in listing  # one URL segment, quoted
    page = web.get("/models/%3Cscript%3Ealert%28%27model%27%29", params={"stack": "approval"})
    assert page.status_code == 200 and EVIL_MODEL not in page.text and "pending_approval" in page.text


def test_a_run_page_can_be_polled_for_its_status(web, ui_project) -> None:
    state = web.get(f"/runs/{ui_project.quickstart_run}/status").json()
    assert state["status"] == "completed" and state["steps"]["train_model"] == "completed"
    assert web.get("/runs/nosuch/status").status_code == 404


def test_metrics_page_has_the_series_and_compare_puts_runs_side_by_side(web, ui_project) -> None:
    page = web.get(f"/runs/{ui_project.extras_run}/metrics").text
    data = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', page, re.S).group(1)
    import json

    series = {s["key"]: s for s in json.loads(data)}
    assert series["loss"]["x"] == [0, 1, 2, 3] and series["loss"]["y"][0] == 1.0
    both = web.get("/compare", params=[("run", ui_project.quickstart_run), ("run", ui_project.extras_run)]).text
    assert "n_estimators" in both and "f1_score" in both and "loss" in both


def test_a_broken_store_is_an_error_page_and_the_server_keeps_serving(tmp_path: Path) -> None:
    (tmp_path / ".flowyml").mkdir()
    (tmp_path / ".flowyml" / "metadata.db").write_bytes(b"this is not an sqlite database" * 100)
    web = TestClient(create_app(tmp_path), raise_server_exceptions=False)
    broken = web.get("/")
    assert broken.status_code == 500 and "not a database" in broken.text and 'id="error-message"' in broken.text
    assert web.get("/static/app.css").status_code == 200  # still serving
    (tmp_path / ".flowyml" / "metadata.db").unlink()
    assert web.get("/").status_code == 200  # and recovers once the store is readable


def test_model_actions_need_the_csrf_token_and_a_confirmation(web, ui_project) -> None:
    def status() -> str:
        page = web.get("/models/approval_demo", params={"stack": "approval"}).text
        return re.search(r'<tr data-version="1">.*?class="status status-(\w+)"', page, re.S).group(1)

    before = status()  # pending_approval, or approved when the browser test ran first
    url = "/models/approval_demo/1/approve"
    refused = web.post(url, data={"stack": "approval", "confirmed": "yes", "csrf": "forged"})
    assert refused.status_code == 403
    csrf = web.app.state.csrf
    cross = web.post(url, data={"stack": "approval", "confirmed": "yes", "csrf": csrf}, headers={"origin": "http://evil.example"})
    assert cross.status_code == 403
    ask = web.post(url, data={"stack": "approval", "csrf": csrf})
    assert ask.status_code == 200 and 'id="confirm"' in ask.text
    assert status() == before  # nothing was done


def test_stacks_page_masks_secrets_and_plans_routes(web, ui_project, tmp_path: Path) -> None:
    page = web.get("/stacks").text
    assert "approval" in page and "active" in page
    plan = web.get("/stacks", params={"pipeline": "pipeline.py"}).text
    assert 'id="plan"' in plan and "train_model" in plan
    secret = tmp_path / "flowyml.yaml"
    secret.write_text(
        "stacks:\n  s:\n    orchestrator: { type: local }\n    artifact_store: { type: local, path: ./a }\n"
        "    experiment_tracker: { type: local, api_key: hunter2-secret }\nactive_stack: s\n"
    )
    masked = TestClient(create_app(tmp_path)).get("/stacks").text
    assert "hunter2-secret" not in masked and "api_key=***" in masked


def test_with_a_token_every_request_carries_it(ui_project) -> None:
    web = TestClient(create_app(ui_project.path, token="s3cret-token"))
    assert web.get("/").status_code == 401
    assert web.get("/static/app.css").status_code == 401
    assert web.get("/", headers={"authorization": "Bearer wrong"}).status_code == 401
    assert web.get("/", headers={"authorization": "Bearer s3cret-token"}).status_code == 200
    first = web.get("/?token=s3cret-token", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/"  # the token leaves the address bar
    assert web.get("/").status_code == 200  # the cookie it set
