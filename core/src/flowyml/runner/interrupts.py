"""Telling a real Ctrl-C from a step that raises ``KeyboardInterrupt`` itself.

While a run is in progress on the main thread, :func:`watching` installs a
SIGINT handler that notes the signal and then raises ``KeyboardInterrupt`` as
Python's default handler does. A ``KeyboardInterrupt`` that arrives without a
noted signal came from a step's own code: it is reported as that step's
failure, not as an interruption of the run.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_received = threading.Event()


def received() -> bool:
    """True once SIGINT arrived during the current :func:`watching` block."""
    return _received.is_set()


def _on_sigint(signum: int, frame: Any) -> None:
    _received.set()
    raise KeyboardInterrupt


@contextmanager
def watching() -> Iterator[None]:
    """Note SIGINT during the block (only on the main thread, and only if SIGINT raises KeyboardInterrupt now)."""
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT) if main else None
    install = main and previous is signal.default_int_handler
    if install:
        _received.clear()
        signal.signal(signal.SIGINT, _on_sigint)
    try:
        yield
    finally:
        if install:
            signal.signal(signal.SIGINT, previous)
