"""Secrets never persist or print (#10 §2).

A secret comes from a ``${VAR}``, a URL's ``user:password@``, or an option named
as secret. The scan runs real pipelines on the local backends — one whose
artifact store fails with an error that contains the secret and whose step
raises with it, one with a typed option given the secret — then looks for the
secret's bytes in the metadata database, every CLI command's output, every log
record at DEBUG, the exceptions raised to Python code and every artifact
manifest.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import pytest

from flowyml import pipeline, step
from flowyml.errors import ConfigError, FlowymlError
from flowyml.redaction import (
    MASK,
    active_secrets,
    is_secret_name,
    redact,
    register,
    release,
    secrets_of,
)
from flowyml.runner.engine import run_pipeline
from flowyml.stores.packed import is_packed

SECRET = "Sup3r-s3cret-value-7f4e"
URL_PASSWORD = "url-pass-91c2"

PIPELINE = '''
import os
from flowyml import Metrics, pipeline, step


@step
def measure() -> Metrics:
    return Metrics({"accuracy": 0.9})


@step
def login(m: Metrics) -> int:
    raise RuntimeError("login refused for " + os.environ["FLOWYML_TEST_SECRET"])


@pipeline
def leaky():
    login(measure())
'''

CONFIG = (
    "stacks:\n"
    "  good:\n"  # the step raises with the secret, which this stack refers to
    "    orchestrator: { type: local }\n"
    "    artifact_store: { type: local, name: '${FLOWYML_TEST_SECRET}' }\n"
    "    experiment_tracker: { type: local }\n"
    "    artifact_routing:\n"
    "      Metrics: { log_to_tracker: true }\n"
    "  broken-store:\n"  # the artifact store cannot create its folder: its error names the path
    "    orchestrator: { type: local }\n"
    "    artifact_store: { type: local, path: './blocker/${FLOWYML_TEST_SECRET}' }\n"
    "  bad-option:\n"  # an integer option given the secret
    "    orchestrator: { type: local, max_parallel_steps: '${FLOWYML_TEST_SECRET}' }\n"
    "    artifact_store: { type: local }\n"
    "  literal:\n"  # literal secrets in the YAML (shown by stack show)
    "    orchestrator: { type: local }\n"
    f"    artifact_store: {{ type: s3, bucket: flowyml-b, endpoint_url: 'http://flowyml:{URL_PASSWORD}@127.0.0.1:9', kms_key_id: {SECRET} }}\n"
    "active_stack: good\n"
)


@pytest.fixture
def leaky_project(project, monkeypatch):
    monkeypatch.setenv("FLOWYML_TEST_SECRET", SECRET)
    project.write_config(CONFIG)
    project.write("leaky.py", PIPELINE)
    project.write("blocker", "a file where the store wants a folder\n")
    return project


def _chain_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


def _scan_files(root: Path, needle: str) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and needle.encode() in path.read_bytes():
            hits.append(str(path.relative_to(root)))
    return hits


def test_secret_scan_over_store_cli_logs_exceptions_and_manifests(leaky_project, caplog) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("leaky_pipeline", leaky_project.path / "leaky.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    caplog.set_level(logging.DEBUG)  # every logger, every level

    # 1. in-process: the step raises with the secret; the store path holds it too
    run = run_pipeline(module.leaky, stack="good")
    assert run.status == "failed" and run.steps["login"].status == "failed"
    assert MASK in run.steps["login"].error
    with pytest.raises(FlowymlError) as raised:
        run.raise_for_status()
    assert SECRET not in _chain_text(raised.value)

    # 2. a component error that includes the secret (the store cannot create its folder)
    broken = run_pipeline(module.leaky, stack="broken-store")
    assert broken.status == "failed"
    assert "cannot create the local artifact store" in broken.steps["measure"].error
    with pytest.raises(FlowymlError) as raised:
        broken.raise_for_status()
    assert SECRET not in _chain_text(raised.value)

    # 3. a typed option given the secret: "expected an integer, got '***'"
    with pytest.raises(ConfigError, match="expected an integer") as bad:
        run_pipeline(module.leaky, stack="bad-option")
    assert SECRET not in _chain_text(bad.value)

    records = [r.getMessage() + (r.exc_text or "") for r in caplog.records]
    assert records, "the runs logged nothing: the scan would prove nothing"
    assert not [r for r in records if SECRET in r]
    assert SECRET not in caplog.text

    # 4. the CLI, in fresh processes: run, runs show, stack show, stack check
    outputs = []
    for args in (
        ("run", "leaky.py"),
        ("run", "leaky.py", "--stack", "broken-store"),
        ("run", "leaky.py", "--stack", "bad-option"),
        ("runs", "show", run.run_id),
        ("runs", "show", broken.run_id),
        ("runs", "list"),
        ("stack", "show", "literal"),
        ("stack", "show", "good"),
        ("stack", "check", "broken-store"),
        ("stack", "check", "bad-option"),
        ("stack", "list"),
    ):
        done = leaky_project.cli(*args)
        assert "Traceback" not in done.stderr, done.stderr
        outputs.append((args, done.stdout + done.stderr))
    leaked = [args for args, text in outputs if SECRET in text or URL_PASSWORD in text]
    assert not leaked, f"secret printed by: {leaked}"
    shown = dict(outputs)
    assert f"http://flowyml:{MASK}@127.0.0.1:9" in shown[("stack", "show", "literal")]
    assert f"kms_key_id={MASK}" in shown[("stack", "show", "literal")]
    assert "login refused for ***" in shown[("runs", "show", run.run_id)]
    assert "expected an integer, got '***'" in shown[("run", "leaky.py", "--stack", "bad-option")]

    # 5. the metadata database file (and its WAL), and every artifact manifest and file
    flowyml_dir = leaky_project.path / ".flowyml"
    assert (flowyml_dir / "metadata.db").exists()
    assert _scan_files(flowyml_dir, SECRET) == []
    manifests = [p for p in leaky_project.path.rglob("*") if p.name == "flowyml.json" or is_packed(p)]  # packed: manifest inside
    assert manifests, "no artifact was written: the manifest scan would prove nothing"
    assert [m for m in manifests if SECRET.encode() in m.read_bytes()] == []


def test_secrets_are_released_when_the_stack_closes(leaky_project) -> None:
    @step
    def one() -> int:
        return 1

    @pipeline
    def tiny():
        one()

    assert run_pipeline(tiny, stack="good").success
    assert SECRET not in active_secrets()


def test_redact_masks_url_passwords_and_registered_values() -> None:
    assert redact("see https://me:hunter22@db.example:5432/x") == f"see https://me:{MASK}@db.example:5432/x"
    assert redact("s3://bucket/key@v1") == "s3://bucket/key@v1"  # no user:password part
    token = register({"registered-value"})
    try:
        assert redact("a registered-value b") == f"a {MASK} b"
    finally:
        release(token)
    assert redact("a registered-value b") == "a registered-value b"


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("password", True), ("db_password", True), ("apiKey", True), ("api_key", True), ("client_secret", True),
        ("token", True), ("kms_key_id", True), ("credentials", True), ("private_key", True),
        ("path", False), ("bucket", False), ("tracking_uri", False), ("max_parallel_steps", False), ("monkey", False),
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_secrets_of_options_covers_references_urls_and_secret_names(monkeypatch) -> None:
    monkeypatch.setenv("FLOWYML_TEST_BUCKET", "bucket-from-env")
    found = secrets_of(
        {
            "bucket": "${FLOWYML_TEST_BUCKET}",
            "uri": "https://u:pw-in-url@host",
            "nested": {"api_token": "literal-token"},
            "path": "./plain",
        }
    )
    assert found == {"bucket-from-env", "pw-in-url", "literal-token"}


def test_log_records_are_redacted_at_every_level(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    token = register({"log-secret-value"})
    try:
        logging.getLogger("some.vendor.library").debug("connecting with %s", "log-secret-value")
        logging.getLogger("flowyml.x").info("url http://a:b-pass@h/")
    finally:
        release(token)
    assert "log-secret-value" not in caplog.text and "b-pass" not in caplog.text
    assert caplog.text.count(MASK) == 2
