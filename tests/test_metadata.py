"""The metadata store as users read it: a failed run's error, run order and limits, run id prefixes."""

from __future__ import annotations

import re

import pytest

from flowyml import pipeline, step
from flowyml.metadata.store import SCHEMA_VERSION, MetadataStore

CONFIG = "stacks:\n  s:\n    orchestrator: { type: local }\n    artifact_store: { type: local }\nactive_stack: s\n"


@step(cache=False)
def number(i: int = 0) -> int:
    return i


@pipeline
def counted(i: int = 0) -> None:
    number(i)


@step
def explode() -> int:
    raise ValueError("boom: the input table is empty")


@pipeline
def failing() -> None:
    explode()


@pytest.fixture
def db(project) -> MetadataStore:
    project.write_config(CONFIG)
    return MetadataStore.for_project(project.path)


def test_a_failed_runs_error_is_stored_and_shown(project, db: MetadataStore) -> None:
    """Bug caught: finish_run dropping ``error`` (the run says failed, nobody can see why)."""
    run = failing.run()
    assert run.status == "failed"
    row = db.get_run(run.run_id)
    assert row["status"] == "failed" and row["ended_at"] >= row["started_at"]
    assert "boom: the input table is empty" in row["error"]
    step_row = {s["step_name"]: s for s in db.steps_of(run.run_id)}["explode"]
    assert step_row["status"] == "failed" and "ValueError: boom: the input table is empty" in step_row["error"]
    shown = project.cli("runs", "show", run.run_id, check=True).stdout
    assert re.search(r"status:\s+failed", shown)
    assert re.search(r"error:\s+.*boom: the input table is empty", shown)
    assert re.search(r"explode\s+failed\s+.*ValueError: boom: the input table is empty", shown)


def test_a_completed_run_has_no_error(project, db: MetadataStore) -> None:
    run = counted.run()
    row = db.get_run(run.run_id)
    assert (row["status"], row["error"]) == ("completed", None), dict(row)
    shown = project.cli("runs", "show", run.run_id, check=True).stdout
    assert not re.search(r"^\s*error:", shown, flags=re.M), shown


def test_runs_are_listed_newest_first_and_limited(project, db: MetadataStore) -> None:
    """Bugs caught: ascending order (the oldest runs shown), the limit ignored or off by one."""
    ids = [counted.run(i=i).run_id for i in range(4)]
    assert [r["run_id"] for r in db.list_runs(limit=20)] == ids[::-1]
    assert [r["run_id"] for r in db.list_runs(limit=2)] == [ids[3], ids[2]]
    assert [r["run_id"] for r in db.list_runs(limit=1)] == [ids[3]]
    listed = project.cli("runs", "list", "-n", "2", check=True).stdout
    shown = re.findall(r"^(\d{8}-\d{6}-[0-9a-f]+)\s", listed, flags=re.M)
    assert shown == [ids[3], ids[2]]
    assert re.findall(r"^(\d{8}-\d{6}-[0-9a-f]+)\s", project.cli("runs", "list", check=True).stdout, flags=re.M) == ids[::-1]


def test_runs_list_filters_by_pipeline(project, db: MetadataStore) -> None:
    ok = counted.run().run_id
    bad = failing.run().run_id
    assert [r["run_id"] for r in db.list_runs(pipeline="counted")] == [ok]
    assert [r["run_id"] for r in db.list_runs(pipeline="failing")] == [bad]
    assert [r["run_id"] for r in db.list_runs(pipeline="counted", limit=0)] == []
    listed = project.cli("runs", "list", "--pipeline", "failing", check=True).stdout
    assert bad in listed and ok not in listed


def test_runs_show_accepts_a_unique_prefix(project, db: MetadataStore) -> None:
    """Bugs caught: a prefix that matches nothing, or matching the wrong end of the id."""
    first, second = counted.run(i=1).run_id, counted.run(i=2).run_id
    prefix = first[: next(i for i in range(len(first)) if first[: i + 1] != second[: i + 1]) + 1]
    assert db.get_run(prefix)["run_id"] == first
    assert db.get_run(first)["run_id"] == first
    shown = project.cli("runs", "show", prefix, check=True).stdout
    assert shown.startswith(f"Run {first}\n")
    assert db.get_run(first[-6:]) is None  # a suffix is not a prefix


def test_an_ambiguous_prefix_picks_no_run(project, db: MetadataStore) -> None:
    """Bug caught: an ambiguous prefix silently showing one of the runs."""
    first, second = counted.run(i=1).run_id, counted.run(i=2).run_id
    common = first[:8]  # the date: shared by both
    assert second.startswith(common)
    assert db.get_run(common) is None
    done = project.cli("runs", "show", common, check=False)
    assert f"Run {first}" not in done.stdout and f"Run {second}" not in done.stdout
    assert "Traceback" not in done.stderr


def test_an_unknown_run_is_a_clear_error(project, db: MetadataStore) -> None:
    assert db.get_run("nope") is None
    done = project.cli("runs", "show", "nope", check=False)
    assert "no run 'nope'" in done.stderr and "flowyml runs list" in done.stderr and "Traceback" not in done.stderr


# -- the store's API, directly (fast: what the mutation run relies on) ------------------------------


@pytest.fixture
def store(tmp_path) -> MetadataStore:
    return MetadataStore(tmp_path / ".flowyml" / "metadata.db")


def artifact(artifact_id: str, run_id: str = "r1", step: str = "s", output: str = "out", created_at: float = 1.0, **kw) -> dict:
    return {"artifact_id": artifact_id, "run_id": run_id, "step_name": step, "output_name": output, "artifact_type": "Value",
            "python_type": "builtins.int", "uri": f"/store/{artifact_id}", "content_hash": "h" + artifact_id, "size": 3,
            "serializer": "json", "created_at": created_at, **kw}


def test_runs_round_trip_with_their_parameters(store: MetadataStore) -> None:
    store.start_run("r1", "pipe", "stk", "flag", {"b": 2, "a": [1]}, "pipe.py:pipe")
    row = store.get_run("r1")
    assert (row["pipeline_name"], row["stack_name"], row["stack_reason"], row["status"], row["target"]) == ("pipe", "stk", "flag", "running", "pipe.py:pipe")
    assert row["params"] == '{"a": [1], "b": 2}' and row["ended_at"] is None and row["started_at"] > 0
    store.finish_run("r1", "completed")
    row = store.get_run("r1")
    assert row["status"] == "completed" and row["ended_at"] >= row["started_at"] and row["error"] is None


def test_steps_are_upserted_keeping_start_and_cache_key(store: MetadataStore) -> None:
    store.record_step("r1", "train", "running", started_at=10.0, cache_key="k1")
    store.record_step("r1", "train", "completed", ended_at=12.0)
    store.record_step("r1", "load", "cached", started_at=5.0, ended_at=5.5, cached_from="r0", cache_key="k0")
    rows = store.steps_of("r1")
    assert [r["step_name"] for r in rows] == ["load", "train"]  # by start time
    train = rows[1]
    assert (train["status"], train["started_at"], train["ended_at"], train["cache_key"], train["cached_from"], train["error"]) == ("completed", 10.0, 12.0, "k1", None, None)
    store.record_step("r1", "train", "failed", ended_at=13.0, error="boom")
    train = {r["step_name"]: r for r in store.steps_of("r1")}["train"]
    assert (train["status"], train["error"], train["started_at"]) == ("failed", "boom", 10.0)
    assert store.steps_of("other") == []


def test_the_cache_finds_only_the_newest_completed_step_with_the_key(store: MetadataStore) -> None:
    store.record_step("r1", "s", "completed", started_at=1.0, ended_at=2.0, cache_key="k")
    store.record_step("r2", "s", "completed", started_at=3.0, ended_at=4.0, cache_key="k")
    store.record_step("r3", "s", "failed", started_at=5.0, ended_at=6.0, cache_key="k")
    store.record_step("r4", "s", "completed", started_at=5.0, ended_at=6.0, cache_key="other")
    assert store.find_cached("k")["run_id"] == "r2"
    assert store.find_cached("missing") is None


def test_artifacts_outputs_and_lineage(store: MetadataStore) -> None:
    store.add_artifact(artifact("a1", created_at=1.0, info={"rows": 2}), "r1", "s", "out")
    store.add_artifact(artifact("b2", step="t", output="res", created_at=2.0), "r1", "t", "res")
    store.add_artifact(artifact("c3", run_id="r2", created_at=3.0), "r2", "s", "out")
    store.add_artifact(artifact("a1"), "r2", "s", "reused")  # a cached output: same artifact, another run
    got = store.get_artifact("a1")
    assert (got["uri"], got["content_hash"], got["size"], got["serializer"], got["info"]) == ("/store/a1", "ha1", 3, "json", '{"rows": 2}')
    assert store.get_artifact("b")["artifact_id"] == "b2"  # a unique prefix
    assert store.get_artifact("zzz") is None
    assert [(r["out_step"], r["out_name"], r["artifact_id"]) for r in store.outputs_of("r1")] == [("s", "out", "a1"), ("t", "res", "b2")]
    assert [r["artifact_id"] for r in store.outputs_of("r1", "t")] == ["b2"]
    assert [(r["out_name"], r["artifact_id"]) for r in store.outputs_of("r2")] == [("reused", "a1"), ("out", "c3")]
    assert [r["artifact_id"] for r in store.list_artifacts(limit=2)] == ["c3", "b2"]  # newest first
    assert [r["artifact_id"] for r in store.list_artifacts("r1")] == ["a1", "b2"]
    store.record_consumption("r1", "t", "x", "a1")
    store.record_consumption("r1", "t", "y", "a1")
    store.record_consumption("r1", "u", "x", "a1")
    store.record_consumption("r2", "v", "x", "a1")
    assert sorted(store.consumers_of("r1", "a1")) == ["t", "u"]
    assert [(r["input_name"], r["artifact_id"]) for r in store.inputs_of("r1", "t")] == [("x", "a1"), ("y", "a1")]
    assert store.inputs_of("r1", "s") == []


def test_an_ambiguous_artifact_prefix_finds_nothing(store: MetadataStore) -> None:
    store.add_artifact(artifact("ab1"), "r1", "s", "o1")
    store.add_artifact(artifact("ab2"), "r1", "s", "o2")
    assert store.get_artifact("ab") is None and store.get_artifact("ab2")["artifact_id"] == "ab2"


def test_route_events_keep_their_order(store: MetadataStore) -> None:
    store.add_route_event("r1", "train", "a1", "register", "local", "ok", "registered m 1")
    store.add_route_event("r1", None, None, "deploy", None, "failed", "no")
    store.add_route_event("r2", "x", None, "store", None, "ok", "")
    events = store.route_events("r1")
    assert [(e["step_name"], e["artifact_id"], e["action"], e["target"], e["status"], e["detail"]) for e in events] == [
        ("train", "a1", "register", "local", "ok", "registered m 1"), (None, None, "deploy", None, "failed", "no")]
    assert events[0]["created_at"] > 0


def test_transactions_roll_back_on_error(store: MetadataStore) -> None:
    row = {"run_id": "t", "pipeline_name": "p", "stack_name": "s", "status": "running"}
    with pytest.raises(RuntimeError), store.transaction() as conn:
        conn.execute(store.t.runs.insert().values(**row))
        raise RuntimeError("abort")
    assert store.get_run("t") is None
    with store.transaction() as conn:
        conn.execute(store.t.runs.insert().values(**row))
    assert store.get_run("t")["status"] == "running"


def test_for_project_shares_one_store_per_project_and_reopens_a_deleted_one(tmp_path) -> None:
    import shutil

    a = MetadataStore.for_project(tmp_path)
    assert MetadataStore.for_project(tmp_path) is a
    assert a.path == (tmp_path / ".flowyml" / "metadata.db").resolve() and a.path.is_file()
    shutil.rmtree(tmp_path / ".flowyml")
    b = MetadataStore.for_project(tmp_path)
    assert b is not a and b.path.is_file()
    assert b.query("SELECT value FROM meta WHERE key='schema_version'")[0]["value"] == str(SCHEMA_VERSION)


def test_find_project_dir_walks_up_to_the_config_or_state_folder(tmp_path) -> None:
    from flowyml.metadata.store import find_project_dir

    deep = tmp_path / "p" / "a" / "b"
    deep.mkdir(parents=True)
    (tmp_path / "p" / ".flowyml").mkdir()
    assert find_project_dir(deep) == (tmp_path / "p").resolve()
    (tmp_path / "p" / "a" / "flowyml.yml").write_text("stacks: {}\n")
    assert find_project_dir(deep) == (tmp_path / "p" / "a").resolve()
    (deep / "flowyml.yaml").write_text("stacks: {}\n")
    assert find_project_dir(deep) == deep.resolve()


def test_an_exact_id_wins_over_a_longer_one_it_prefixes(store: MetadataStore) -> None:
    """Bug caught: looking ids up by prefix only (``r1`` would be ambiguous with ``r10``)."""
    for run_id in ("r1", "r10"):
        store.start_run(run_id, "p", "s", "flag", {}, None)
    assert store.get_run("r1")["run_id"] == "r1" and store.get_run("r10")["run_id"] == "r10"
    assert store.get_run("r") is None  # ambiguous
    store.add_artifact(artifact("a1"), "r1", "s", "o1")
    store.add_artifact(artifact("a10"), "r1", "s", "o2")
    assert store.get_artifact("a1")["artifact_id"] == "a1" and store.get_artifact("a10")["artifact_id"] == "a10"


def test_default_limits_and_defaults_of_an_artifact_row(store: MetadataStore) -> None:
    """Bugs caught: other default limits (20 runs, 100 artifacts); created_at, info or python_type dropped."""
    for i in range(21):
        store.start_run(f"run{i:02d}", "p", "s", "flag", {}, None)
    assert len(store.list_runs()) == 20
    for i in range(101):
        store.add_artifact(artifact(f"x{i:03d}", created_at=float(i)), "r1", "s", f"o{i}")
    assert len(store.list_artifacts()) == 100 and store.list_artifacts()[0]["artifact_id"] == "x100"
    bare = artifact("bare")
    del bare["created_at"]
    store.add_artifact(bare, "r2", "s", "o")
    row = store.get_artifact("bare")
    assert row["created_at"] > 1000 and row["info"] == "{}" and row["python_type"] == "builtins.int"
    assert store.get_artifact("x005")["created_at"] == 5.0


def test_a_prefix_matches_the_ids_that_start_with_it_and_no_other(store: MetadataStore) -> None:
    """Bug caught: the range's upper end included (the prefix "ab" would also match the run "ac"), or the
    prefix of only the last code point (no upper end) matching nothing."""
    for run_id in ("ab1", "ac", "aa", "\U0010ffffz"):
        store.start_run(run_id, "p", "s", "flag", {}, None)
    assert store.get_run("ab")["run_id"] == "ab1"
    assert store.get_run("a") is None  # ambiguous
    assert store.get_run("\U0010ffff")["run_id"] == "\U0010ffffz"
    assert store.get_run("ad") is None


def test_a_run_records_its_owner_heartbeat_user_and_host(store: MetadataStore) -> None:
    """Bug caught: a column of the run's owner or of who started it left out of the insert (NULL)."""
    import socket

    from flowyml.metadata.owner import current_owner

    store.start_run("r1", "p", "s", "flag", {}, None)
    row = store.get_run("r1")
    owner = current_owner()
    assert (row["owner_host"], row["owner_pid"], row["owner_started"], row["owner_scope"]) == (owner.host, owner.pid, owner.started, owner.scope)
    assert row["heartbeat_at"] == row["started_at"] > 0
    assert row["host"] == socket.gethostname() and row["user"]


def test_for_project_shares_one_store_per_database_and_reads_the_project_setting(tmp_path, monkeypatch) -> None:
    """Bug caught: the project's metadata.url not read (url None), a relative sqlite URL read from the working
    folder instead of the project, or two databases sharing one store."""
    from support.projects import project_with_metadata_url

    project = project_with_metadata_url(tmp_path / "project", "sqlite:///history/runs.db")
    monkeypatch.chdir(tmp_path)
    store = MetadataStore.for_project(project)
    assert store.path == (project / "history" / "runs.db").resolve()
    assert MetadataStore.for_project(project) is store
    other = MetadataStore.for_project(project, "sqlite:///other.db")  # a URL given: relative to the project
    assert other.path == (project / "other.db").resolve() and other is not store
