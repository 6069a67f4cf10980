"""Benchmark: the ``gcs`` artifact store against a raw gcsfs put + get of the same bytes.

Starts its own in-memory gcp-storage-emulator (GCS stand-in) on 127.0.0.1 in a
subprocess (like the moto server of ``bench_s3_store.py``: client and server do
not share one interpreter), then for each case - a 1,000,000 x 10 float64
DataFrame (as a parquet Dataset) and a 500 MiB binary file - times:

* store: ``flowyml_artifact_store_save`` (bucket check, overwrite check, upload
  of the data file, manifest last) + ``flowyml_artifact_store_fetch`` (listing,
  download of every file), with the serialization (parquet + sha256) and the
  read-back (sha256 check + parquet read) reported apart;
* raw:   ``gcsfs.GCSFileSystem.put_file`` + ``get_file`` of the very same
  serialized data file, with the same upload chunk size.

Store and raw rounds alternate (which goes first flips every round) and the
objects are deleted after each round, so neither side benefits from the
emulator's state. It prints, per case, the median of ``--repeat`` rounds, the
min-max spread, and the ratio of the medians store/raw (plus the spread of the
per-round ratios).

    python benchmarks/bench_gcs_store.py [--repeat 5] [--binary-mb 500] [--chunk-mb N] [--only dataframe|binary]

Needs flowyml, flowyml-gcs, gcp-storage-emulator, pandas and pyarrow installed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from store_common import MIB, free_port, make_binary, make_frame, timed

# gcsfs reads this when imported; left at its default, each call waits on a gRPC probe.
os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "false"

BUCKET = "bench"




def start_emulator(port: int, log: Path) -> subprocess.Popen[bytes]:
    out = open(log, "wb")  # noqa: SIM115 - lives as long as the server
    command = [sys.executable, "-m", "gcp_storage_emulator", "start", "--host", "127.0.0.1", "--port", str(port), "--in-memory", "-q"]
    proc = subprocess.Popen(command, stdout=out, stderr=out)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"gcp-storage-emulator did not start; see {log}")


def create_bucket(endpoint: str, name: str) -> None:
    request = urllib.request.Request(
        f"{endpoint}/storage/v1/b?project=bench",
        data=json.dumps({"name": name}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()








def spread(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}"


def bench_case(
    name: str, stack: Any, raw_fs: Any, write: Callable[[Path], None], read: Callable[[Path], None], args: Any, work: Path
) -> dict[str, Any]:
    """Store save+fetch vs raw put+get of the identical data file, ``args.repeat`` rounds."""
    from flowyml.serialization.artifact_io import MANIFEST

    store_times: list[float] = []
    serialize_times: list[float] = []
    read_times: list[float] = []
    raw_times: list[float] = []
    kept = work / f"{name}-kept"
    raw_kwargs = {"chunksize": args.chunk_mb * MIB} if args.chunk_mb else {}
    for round_no in range(args.repeat):
        key = f"{name}/store-{round_no}"
        serialize: list[float] = []

        def staged_write(directory: Path) -> None:
            serialize.append(timed(lambda: write(directory)))
            if not kept.exists():  # keep the data file for the raw baseline (same bytes)
                kept.mkdir()
                for item in directory.iterdir():
                    if item.name != MANIFEST:
                        os.link(item, kept / item.name)

        scratch = Path(tempfile.mkdtemp(dir=work))

        def store_round() -> None:
            uri = stack.hook.flowyml_artifact_store_save(key=key, write=staged_write)
            stack.hook.flowyml_artifact_store_fetch(uri=uri, scratch=scratch)

        def raw_round() -> None:
            data_file = next(kept.iterdir())
            remote = f"{BUCKET}/{name}/raw-{round_no}/{data_file.name}"
            raw_fs.put_file(str(data_file), remote, **raw_kwargs)
            raw_fs.get_file(remote, str(work / f"{name}-raw-download"))

        def run_store() -> None:
            total = timed(store_round)
            store_times.append(total - serialize[0])
            serialize_times.append(serialize[0])
            read_times.append(timed(lambda: read(scratch)))
            shutil.rmtree(scratch)

        if round_no == 0 or round_no % 2 == 0:
            run_store()  # round 0 must go first: it stages the bytes the raw baseline sends
            raw_times.append(timed(raw_round))
        else:
            raw_times.append(timed(raw_round))
            run_store()
        (work / f"{name}-raw-download").unlink()
        raw_fs.rm(f"{BUCKET}/{name}", recursive=True)  # free the emulator's memory between rounds
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--binary-mb", type=int, default=500)
    parser.add_argument("--chunk-mb", type=int, default=None, help="upload_chunk_mb of the store and chunksize of raw put_file (default: 50, gcsfs' own)")
    parser.add_argument("--only", choices=("dataframe", "binary"), default=None)
    args = parser.parse_args()

    import gcsfs

    from flowyml import Dataset
    from flowyml.serialization.artifact_io import (
        MANIFEST,
        file_sha256,
        read_artifact,
        write_artifact,
    )
    from flowyml.testing import make_stack

    work = Path(tempfile.mkdtemp(prefix="flowyml-bench-"))
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    emulator = start_emulator(port, work / "emulator.log")
    try:
        create_bucket(endpoint, BUCKET)
        project = work / "project"
        project.mkdir()
        store: dict[str, Any] = {"type": "gcs", "bucket": BUCKET, "endpoint_url": endpoint}
        if args.chunk_mb:
            store["upload_chunk_mb"] = args.chunk_mb
        stack = make_stack(project, {"artifact_store": store})
        raw_fs = gcsfs.GCSFileSystem(token="anon", endpoint_url=endpoint, use_listings_cache=False, skip_instance_cache=True)

        frame = make_frame()
        binary = work / "blob.bin"
        make_binary(binary, args.binary_mb if args.only != "dataframe" else 1)
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

        print(
            f"gcp-storage-emulator {endpoint} (subprocess, in memory); python {sys.version.split()[0]}; gcsfs {gcsfs.__version__}; "
            f"{os.cpu_count()} CPUs; upload chunk {args.chunk_mb or 50} MiB; median of {args.repeat} (min-max)"
        )
        print(
            f"{'case':<34} {'MB':>7} {'serialize s':>11} {'read s':>7} {'store s':>17} {'raw s':>17} {'store/raw':>20}"
        )
        cases = (
            ("dataframe 1e6x10 float64 (parquet)", write_frame, read_frame),
            (f"binary {args.binary_mb} MiB", write_binary, read_binary),
        )
        for name, write, read in cases:
            if args.only and not name.startswith(args.only):
                continue
            r = bench_case(name.split()[0], stack, raw_fs, write, read, args, work)
            print(
                f"{name:<34} {r['mb']:>7.1f} {r['serialize']:>11.2f} {r['read']:>7.2f} "
                f"{r['store']:>6.2f} ({r['store_spread']:>9}) {r['raw']:>6.2f} ({r['raw_spread']:>9}) "
                f"{r['ratio']:>6.2f}x ({r['ratio_spread']:>11})",
                flush=True,
            )
        print(
            "store = save + fetch of the serialized files (data file + manifest); raw = gcsfs put_file + get_file of the "
            "same data file; serialize = parquet write + sha256 (binary: sha256), read = sha256 check + parquet read, "
            "both outside the store and raw times"
        )
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
