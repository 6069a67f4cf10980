"""The body shared by the artifact-store benchmarks (bench_s3_store.py, bench_gcs_store.py).

Each benchmark starts its stand-in server and builds a stack on it; :class:`StoreBench`
then times, per case, the store's save + fetch against the raw filesystem's
put_file + get_file of the very same serialized data file, rounds alternating
which goes first, and prints the medians, spreads and ratios.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}"


def start_server(command: list[str], port: int, log: Path, what: str) -> subprocess.Popen[bytes]:
    """Start the stand-in server ``command`` (its output to ``log``); return once it accepts connections on ``port``."""
    out = open(log, "wb")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(command, stdout=out, stderr=out)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"{what} did not start; see {log}")


@dataclass
class StoreBench:
    """One store benchmark: ``stack``'s artifact store against the raw filesystem ``raw_fs`` on the same bucket."""

    stack: Any
    raw_fs: Any
    bucket: str
    work: Path
    repeat: int
    #: keyword arguments of the raw ``put_file`` (e.g. the same chunk size as the store's)
    raw_kwargs: dict[str, Any] = field(default_factory=dict)

    def case(self, name: str, write: Callable[[Path], None], read: Callable[[Path], None]) -> dict[str, Any]:
        """Store save+fetch vs raw put+get of the identical data file, ``repeat`` rounds (which goes first alternates)."""
        from flowyml.serialization.artifact_io import MANIFEST

        store_times: list[float] = []
        serialize_times: list[float] = []
        read_times: list[float] = []
        raw_times: list[float] = []
        kept = self.work / f"{name}-kept"
        download = self.work / f"{name}-raw-download"
        for round_no in range(self.repeat):
            key = f"{name}/store-{round_no}"
            serialize: list[float] = []

            def staged_write(directory: Path) -> None:
                serialize.append(timed(lambda: write(directory)))
                if not kept.exists():  # keep the data file for the raw baseline (same bytes)
                    kept.mkdir()
                    for item in directory.iterdir():
                        if item.name != MANIFEST:
                            os.link(item, kept / item.name)

            scratch = Path(tempfile.mkdtemp(dir=self.work))

            def store_round() -> None:
                uri = self.stack.hook.flowyml_artifact_store_save(key=key, write=staged_write)
                self.stack.hook.flowyml_artifact_store_fetch(uri=uri, scratch=scratch)

            def raw_round() -> None:
                data_file = next(kept.iterdir())
                remote = f"{self.bucket}/{name}/raw-{round_no}/{data_file.name}"
                self.raw_fs.put_file(str(data_file), remote, **self.raw_kwargs)
                self.raw_fs.get_file(remote, str(download))

            def run_store() -> None:
                total = timed(store_round)
                store_times.append(total - serialize[0])
                serialize_times.append(serialize[0])
                read_times.append(timed(lambda: read(scratch)))
                shutil.rmtree(scratch)

            if round_no % 2 == 0:
                run_store()  # round 0 must go first: it stages the bytes the raw baseline sends
                raw_times.append(timed(raw_round))
            else:
                raw_times.append(timed(raw_round))
                run_store()
            download.unlink()
            self.raw_fs.rm(f"{self.bucket}/{name}", recursive=True)  # free the stand-in's memory between rounds
        size = sum(f.stat().st_size for f in kept.iterdir())
        shutil.rmtree(kept)
        ratios = [s / r for s, r in zip(store_times, raw_times, strict=True)]
        store, raw = statistics.median(store_times), statistics.median(raw_times)
        return {
            "mb": size / 1e6,
            "serialize": statistics.median(serialize_times),
            "read": statistics.median(read_times),
            "store": store,
            "store_spread": spread(store_times),
            "raw": raw,
            "raw_spread": spread(raw_times),
            "ratio": store / raw,
            "ratio_spread": spread(ratios),
        }

    def run(self, binary_mb: int | list[int], only: str | None, tool: str) -> None:
        """The cases (a 1e6 x 10 DataFrame as parquet, a file of each ``binary_mb`` MiB), one line each; ``tool`` names the raw client."""
        from flowyml import Dataset
        from flowyml.serialization.artifact_io import (
            MANIFEST,
            file_sha256,
            read_artifact,
            write_artifact,
        )

        frame = make_frame()
        sizes = [binary_mb] if isinstance(binary_mb, int) else list(binary_mb)
        binary = self.work / "blob.bin"
        hashes: dict[str, str] = {}

        def write_frame(directory: Path) -> None:
            hashes["dataframe"] = write_artifact(Dataset(frame, name="bench", format="parquet"), directory)["content_hash"]

        def read_frame(directory: Path) -> None:
            read_artifact(directory, expected_hash=hashes["dataframe"])

        def write_binary(directory: Path) -> None:
            os.link(binary, directory / "data.bin")
            digest = file_sha256(directory / "data.bin")
            (directory / MANIFEST).write_text(json.dumps({"files": {"data.bin": {"sha256": digest, "size": binary.stat().st_size}}}))

        def read_binary(directory: Path) -> None:
            manifest = json.loads((directory / MANIFEST).read_text())
            if file_sha256(directory / "data.bin") != manifest["files"]["data.bin"]["sha256"]:
                raise AssertionError("the binary came back different")

        print(f"{'case':<34} {'MB':>7} {'serialize s':>11} {'read s':>7} {'store s':>17} {'raw s':>17} {'store/raw':>20}")
        cases = [("dataframe 1e6x10 float64 (parquet)", "dataframe", 0, write_frame, read_frame)]
        cases += [(f"binary {size} MiB", f"binary{size}", size, write_binary, read_binary) for size in sizes]
        for name, tag, size, write, read in cases:
            if only and not name.startswith(only):
                continue
            if size:
                binary.unlink(missing_ok=True)  # a new file: no earlier link shares its bytes
                make_binary(binary, size)
            r = self.case(tag, write, read)
            print(
                f"{name:<34} {r['mb']:>7.1f} {r['serialize']:>11.2f} {r['read']:>7.2f} "
                f"{r['store']:>6.2f} ({r['store_spread']:>9}) {r['raw']:>6.2f} ({r['raw_spread']:>9}) "
                f"{r['ratio']:>6.2f}x ({r['ratio_spread']:>11})",
                flush=True,
            )
        print(
            f"store = save + fetch of the serialized files (data file + manifest); raw = {tool} put_file + get_file of the "
            "same data file; serialize = parquet write + sha256 (binary: sha256), read = sha256 check + parquet read, "
            "both outside the store and raw times"
        )
