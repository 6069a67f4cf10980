"""The one retry policy of the core: errors marked ``transient`` are tried again, nothing else is.

Vendor clients retry their own HTTP requests (botocore, gcsfs, MLflow's
session); backends turn what still fails into a :class:`flowyml.errors.FlowymlError`
and set ``transient=True`` when trying again may help (throttling, a dropped
connection). Only those are retried here: any other exception — a permanent
refusal, or a bug in a plugin — propagates at once, so a half-finished call is
never repeated blindly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import attrs

from flowyml.errors import FlowymlError

log = logging.getLogger("flowyml.retries")
T = TypeVar("T")


@attrs.frozen
class RetryPolicy:
    """How many attempts, and the delay before each retry (``backoff * 2**n``, capped)."""

    attempts: int = 4
    backoff: float = 0.2
    max_delay: float = 30.0

    def delays(self) -> Sequence[float]:
        """The pauses between attempts (one fewer than ``attempts``)."""
        return [min(self.backoff * 2**n, self.max_delay) for n in range(max(self.attempts, 1) - 1)]


#: The policy of routing actions (tracker calls, registration).
DEFAULT_POLICY = RetryPolicy()


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a FlowymlError its backend marked as worth retrying."""
    return isinstance(exc, FlowymlError) and bool(exc.transient)


def call_with_retries(
    action: Callable[[], T],
    what: str,
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
    translate: Callable[[Exception], FlowymlError] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``action``; retry it while it raises a transient FlowymlError, up to ``policy.attempts`` times.

    ``translate`` turns any other exception into a FlowymlError (raised from
    the original, and retried when it comes back transient). Without it,
    exceptions that are not FlowymlErrors propagate unchanged on the first attempt.
    """
    delays = list(policy.delays())
    attempt = 0
    while True:
        attempt += 1
        try:
            return action()
        except FlowymlError as exc:
            error: FlowymlError = exc
            cause: Exception | None = None
        except Exception as exc:
            if translate is None:
                raise
            error, cause = translate(exc), exc
        if not error.transient or attempt > len(delays):
            if cause is not None:
                raise error from cause
            raise error
        delay = delays[attempt - 1]
        log.warning("%s failed (%s; attempt %d of %d); retrying in %.1fs", what, error.message, attempt, len(delays) + 1, delay)
        sleep(delay)
