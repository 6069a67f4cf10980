"""Run a team's pipelines at once from several checkouts, then audit what the metadata database holds.

A *checkout* is a copy of ``tests/team/project`` (flowyml.yaml + pipeline.py) in its own folder, as
each engineer or CI machine has its own clone. Every process is a real interpreter: half of them run
``flowyml run pipeline.py -p token=T``, the other half ``python pipeline.py T``. Each run carries a
unique token (a pipeline parameter), which is how the audit finds the run each process made.

The audit reads the database with plain SQL through SQLAlchemy (any engine), independently of the
store's own read paths, and reports every discrepancy at once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).parent / "project"
FLOWYML = Path(sys.executable).with_name("flowyml")
STEPS = ("settings", "load", "train", "evaluate")
#: What one run of project/pipeline.py records in route_events: (action, step, status) -> count.
EXPECTED_EVENTS = Counter(
    {
        ("tracker", None, "ok"): 1,
        ("store", "settings", "ok"): 1,
        ("store", "load", "ok"): 1,
        ("store", "train", "ok"): 1,
        ("store", "evaluate", "ok"): 1,
        ("log", "settings", "ok"): 1,
        ("log", "evaluate", "ok"): 1,
        ("register", "train", "ok"): 1,
        ("decision", "train", "ok"): 1,
    }
)
EXPECTED_CONSUMPTIONS = Counter({("train", "data"): 1, ("evaluate", "model"): 1})
MODEL = "team_model"


@dataclass
class Launch:
    """One process of one round, and how it ended."""

    checkout: Path
    token: str
    command: list[str]
    returncode: int | None = None
    output: str = ""


@dataclass
class Team:
    """``checkouts`` copies of the project sharing one artifact store and, through ``env``, one database."""

    root: Path
    checkouts: list[Path]
    env: dict[str, str]
    launches: list[Launch] = field(default_factory=list)

    @classmethod
    def create(cls, root: Path, checkouts: int, metadata_url: str | None) -> Team:
        folders = []
        for i in range(checkouts):
            folder = root / f"checkout-{i}"
            shutil.copytree(PROJECT, folder, ignore=shutil.ignore_patterns("__pycache__"))
            if metadata_url is not None:
                # What a team commits: the URL comes from each machine's environment (a secret).
                with (folder / "flowyml.yaml").open("a", encoding="utf-8") as config:
                    config.write('metadata:\n  url: "${FLOWYML_METADATA_URL}"\n')
            folders.append(folder)
        shared = root / "shared-artifacts"
        shared.mkdir()
        env = {"TEAM_ARTIFACTS": str(shared)}
        if metadata_url is not None:
            env["FLOWYML_METADATA_URL"] = metadata_url
        return cls(root=root, checkouts=folders, env=env)

    def round(self, number: int, per_checkout: int, timeout: float = 240) -> list[Launch]:
        """Start ``per_checkout`` processes in every checkout at once; wait for all of them."""
        barrier = self.root / f"barrier-{number}"
        barrier.mkdir()
        launches: list[Launch] = []
        for checkout in self.checkouts:
            for i in range(per_checkout):
                token = f"r{number}-{checkout.name}-p{i}-{uuid.uuid4().hex[:8]}"
                if i % 2 == 0:
                    command = [str(FLOWYML), "run", "pipeline.py", "-p", f"token={token}"]
                else:
                    command = [sys.executable, "pipeline.py", token]
                launches.append(Launch(checkout, token, command))
        env = {
            **os.environ,
            **self.env,
            "TEAM_BARRIER": str(barrier),
            "TEAM_PROCESSES": str(len(launches)),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        logs = [barrier / f"output-{i}.txt" for i in range(len(launches))]
        running = []
        for launch, log in zip(launches, logs, strict=True):
            with log.open("w") as out:
                running.append(subprocess.Popen(
                    launch.command, cwd=launch.checkout, env=env, stdout=out, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, text=True,
                ))
        deadline = time.monotonic() + timeout
        try:
            while any(p.poll() is None for p in running) and time.monotonic() < deadline:
                if any(p.returncode not in (None, 0) for p in running):
                    (barrier / "abort").touch()  # one failed before the start: the others stop waiting
                time.sleep(0.05)
        finally:
            for process in running:
                if process.poll() is None:
                    process.kill()
                process.wait()
        for launch, process, log in zip(launches, running, logs, strict=True):
            launch.returncode = process.returncode
            launch.output = log.read_text(errors="replace")
        self.launches += launches
        return launches

    def failures(self) -> list[str]:
        return [
            f"{' '.join(launch.command[1:])} in {launch.checkout.name} exited {launch.returncode}:\n{launch.output}"
            for launch in self.launches
            if launch.returncode != 0
        ]


def _sqlalchemy_url(url: str) -> str:
    """The driver-qualified URL (SQLAlchemy's default PostgreSQL driver is psycopg2; the store uses psycopg 3)."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def read_tables(url: str, tables: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Every row of ``tables`` in the database at ``url``."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(_sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            return {t: [dict(r._mapping) for r in conn.execute(sqlalchemy.text(f"SELECT * FROM {t}"))] for t in tables}
    finally:
        engine.dispose()


def audit(url: str, tokens: Sequence[str]) -> list[str]:
    """Everything wrong in the database at ``url`` after one completed run per token (empty: all is well)."""
    tables = read_tables(
        url,
        ["runs", "steps", "artifacts", "step_outputs", "consumptions", "route_events", "model_versions",
         "tracker_runs", "tracker_metrics", "tracker_params"],
    )
    problems: list[str] = []
    n = len(tokens)
    expected_tokens = Counter(tokens)
    assert len(expected_tokens) == n, "tokens must be unique"

    runs = tables["runs"]
    by_token: dict[str, list[Mapping[str, Any]]] = {}
    for run in runs:
        by_token.setdefault(json.loads(run["params"] or "{}").get("token"), []).append(run)
    for token in tokens:
        found = by_token.get(token, [])
        if len(found) != 1:
            problems.append(f"run of token {token}: recorded {len(found)} times")
    strays = sorted(str(t) for t in by_token if t not in expected_tokens)
    if strays:
        problems.append(f"runs nobody started: tokens {strays}")
    not_completed = [(r["run_id"], r["status"], r["error"]) for r in runs if r["status"] != "completed"]
    if not_completed:
        problems.append(f"runs not completed: {not_completed}")
    run_ids = {r["run_id"] for r in runs}
    if len(runs) != n or len(run_ids) != n:
        problems.append(f"{len(runs)} run rows with {len(run_ids)} ids, for {n} runs")

    def per_run(table: str, key: Any) -> dict[str, Counter[Any]]:
        grouped: dict[str, Counter[Any]] = {}
        for row in tables[table]:
            grouped.setdefault(row["run_id"], Counter())[key(row)] += 1
        orphans = set(grouped) - run_ids
        if orphans:
            problems.append(f"{table}: rows of runs that do not exist: {sorted(orphans)[:5]}")
        return grouped

    def expect_each_run(table: str, key: Any, expected: Counter[Any]) -> None:
        grouped = per_run(table, key)
        for run_id in sorted(run_ids):
            got = grouped.get(run_id, Counter())
            if got != expected:
                missing, extra = expected - got, got - expected
                problems.append(f"{table} of run {run_id}: missing {dict(missing)}, duplicated/unexpected {dict(extra)}")

    expect_each_run("steps", lambda r: (r["step_name"], r["status"]), Counter({(s, "completed"): 1 for s in STEPS}))
    expect_each_run("artifacts", lambda r: r["step_name"], Counter(dict.fromkeys(STEPS, 1)))
    expect_each_run("step_outputs", lambda r: r["step_name"], Counter(dict.fromkeys(STEPS, 1)))
    expect_each_run("consumptions", lambda r: (r["step_name"], r["input_name"]), EXPECTED_CONSUMPTIONS)
    expect_each_run("route_events", lambda r: (r["action"], r["step_name"], r["status"]), EXPECTED_EVENTS)
    expect_each_run("tracker_runs", lambda r: r["status"], Counter({"completed": 1}))
    expect_each_run("tracker_metrics", lambda r: (r["step_name"], r["key"]), Counter({("evaluate", "score"): 1}))
    expect_each_run("tracker_params", lambda r: (r["step_name"], r["key"]), Counter({("settings", "token"): 1}))

    missing_files = [a["uri"] for a in tables["artifacts"] if not Path(a["uri"]).exists()]
    if missing_files:
        problems.append(f"{len(missing_files)} artifacts recorded but not stored, e.g. {missing_files[:3]}")

    # Model versions: one per run, numbered 1..n with no number given twice (and none skipped:
    # numbers are allocated inside the registering transaction, and no run failed).
    versions = [v for v in tables["model_versions"] if v["name"] == MODEL]
    numbers = sorted(int(v["version"]) for v in versions)
    if numbers != list(range(1, n + 1)):
        duplicated = sorted(k for k, c in Counter(numbers).items() if c > 1)
        problems.append(
            f"{MODEL} versions are not 1..{n} once each: {len(numbers)} versions, duplicated {duplicated}, "
            f"missing {sorted(set(range(1, n + 1)) - set(numbers))}"
        )
    version_runs = Counter(json.loads(v["record"])["run_id"] for v in versions)
    if set(version_runs) != run_ids or any(c != 1 for c in version_runs.values()):
        problems.append(f"{MODEL} versions do not belong to one run each: {dict(version_runs - Counter(run_ids))}")
    # ... and each run was told the version that is recorded for it.
    told = {
        e["run_id"]: e["detail"]
        for e in tables["route_events"]
        if e["action"] == "register" and e["status"] == "ok"
    }
    for v in versions:
        run_id = json.loads(v["record"])["run_id"]
        said = f"{MODEL} version {v['version']} registered"
        if run_id in told and not told[run_id].startswith(said):
            problems.append(f"run {run_id} reported {told[run_id]!r} but the registry holds version {v['version']}")
    return problems
