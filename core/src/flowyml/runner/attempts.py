"""Retries and timeouts of one step, where the step runs (this process, or a remote step's container).

A step with ``retries`` is called again after it raised, ``retry_delay``
seconds later, up to ``retries`` more times; each attempt is recorded
(attempt number, status, start, end, error) in the metadata store.

A step with a ``timeout`` runs its function in a daemon worker thread and the
run waits at most ``timeout`` seconds for it. Python cannot stop a thread from
outside: at the deadline the attempt is recorded ``failed`` ("timed out after N
s"), the run moves on (the next attempt, or the step's dependents are
skipped), and whatever the late function returns is discarded — it is never
stored or routed. The thread itself runs on until the function returns or the
process exits (a daemon thread does not keep the process alive). Inside a
remote orchestrator's container the process exits after the step, so there the
function is stopped too; the orchestrators also pass the timeout to the
platform (see the backend pages).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from flowyml.errors import PipelineError
from flowyml.redaction import redact

log = logging.getLogger("flowyml.run")


class StepTimeoutError(PipelineError):
    """One attempt of a step ran longer than its ``timeout``."""


@attrs.frozen
class Attempt:
    """One attempt of a step: its number (from 1), how it ended, when, and why it failed."""

    attempt: int
    status: str  # completed | failed
    started_at: float | None
    ended_at: float | None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Attempt:
        return cls(int(data["attempt"]), str(data["status"]), data.get("started_at"), data.get("ended_at"), data.get("error"))


def call_with_timeout(step: str, fn: Callable[..., Any], kwargs: dict[str, Any], timeout: float) -> Any:
    """``fn(**kwargs)``, or :class:`StepTimeoutError` when it has not returned after ``timeout`` seconds."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["value"] = fn(**kwargs)
        except BaseException as exc:  # handed to the waiting thread, which decides
            box["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=target, name=f"flowyml-step-{step}", daemon=True)
    worker.start()
    if not done.wait(timeout):
        raise StepTimeoutError(
            f"step {step!r} timed out after {timeout:g} s",
            hint=f"raise its timeout (@step(timeout=...) or steps: {{ {step}: {{ timeout: ... }} }} in flowyml.yaml); its late result is discarded",
        )
    if "error" in box:
        raise box["error"]
    return box["value"]


def describe_error(exc: BaseException, step: str) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return f"step {step!r} raised KeyboardInterrupt"
    if isinstance(exc, SystemExit):
        return f"step {step!r} called sys.exit({exc.code!r})"
    return redact(f"{type(exc).__name__}: {exc}")


def run_attempts(
    step: str,
    attempt_once: Callable[[], Any],
    *,
    retries: int,
    retry_delay: float,
    record: Callable[[Attempt], None],
    first: int = 1,
    is_interrupt: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """Call ``attempt_once`` until it returns, at most ``retries + 1`` times; ``record`` each attempt.

    The last attempt's exception propagates when every attempt failed. Ctrl-C
    (``is_interrupt()`` true) is never retried. ``first`` numbers the first
    attempt (a remote step retried by its platform continues the count).
    """
    last = first + retries
    for number in range(first, last + 1):
        began = time.time()
        try:
            value = attempt_once()
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt) and is_interrupt():
                raise
            if not isinstance(exc, Exception | SystemExit | KeyboardInterrupt):
                raise
            record(Attempt(number, "failed", began, time.time(), describe_error(exc, step)))
            if number == last:
                raise
            log.warning("step %s failed (attempt %d of %d: %s); trying again in %gs", step, number, last, describe_error(exc, step), retry_delay)
            if retry_delay:
                sleep(retry_delay)
            continue
        record(Attempt(number, "completed", began, time.time()))
        return value
    raise AssertionError("unreachable")  # pragma: no cover
