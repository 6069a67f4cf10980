"""Helpers shared by the artifact-store benchmarks (bench_s3_store.py, bench_gcs_store.py)."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

MIB = 2**20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def timed(fn: Callable[[], Any]) -> float:
    """Seconds ``fn()`` takes."""
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def make_frame() -> Any:
    """The issue's 1,000,000 x 10 float64 DataFrame."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    return pd.DataFrame(rng.normal(size=(1_000_000, 10)), columns=[f"c{i}" for i in range(10)])


def make_binary(path: Path, size_mb: int) -> None:
    """``size_mb`` MiB of incompressible bytes, written without holding them in memory."""
    block = os.urandom(MIB)
    with open(path, "wb") as out:
        for i in range(size_mb):
            out.write(i.to_bytes(8, "big") + block[8:])
