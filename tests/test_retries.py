"""The core's one retry policy: transient FlowymlErrors are retried, nothing else is."""

from __future__ import annotations

import pytest

from flowyml.errors import FlowymlError, StoreError
from flowyml.retries import RetryPolicy, call_with_retries
from flowyml.runner.routes import with_retries


class Flaky:
    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"


def no_sleep(_: float) -> None:
    return None


def test_transient_errors_are_retried_with_growing_delays() -> None:
    action = Flaky([StoreError("busy", transient=True), StoreError("busy", transient=True)])
    slept: list[float] = []
    assert call_with_retries(action, "x", policy=RetryPolicy(attempts=3, backoff=0.5), sleep=slept.append) == "done"
    assert action.calls == 3 and slept == [0.5, 1.0]


def test_attempts_are_bounded() -> None:
    action = Flaky([StoreError("busy", transient=True) for _ in range(5)])
    with pytest.raises(StoreError, match="busy"):
        call_with_retries(action, "x", policy=RetryPolicy(attempts=2), sleep=no_sleep)
    assert action.calls == 2


def test_permanent_errors_and_plugin_bugs_are_not_retried() -> None:
    refused = Flaky([StoreError("access denied")])
    with pytest.raises(StoreError):
        call_with_retries(refused, "x", sleep=no_sleep)
    assert refused.calls == 1
    bug = Flaky([KeyError("registry_id")])
    with pytest.raises(KeyError):
        with_retries(bug, "registering m")  # the routes' wrapper: a plugin bug is never retried
    assert bug.calls == 1


def test_translated_errors_are_chained_and_retried_when_transient() -> None:
    action = Flaky([ConnectionError("reset"), ValueError("bad")])

    def translate(exc: Exception) -> FlowymlError:
        return StoreError(f"translated {exc}", transient=isinstance(exc, ConnectionError))

    with pytest.raises(StoreError, match="translated bad") as caught:
        call_with_retries(action, "x", translate=translate, sleep=no_sleep)
    assert action.calls == 2 and isinstance(caught.value.__cause__, ValueError)
