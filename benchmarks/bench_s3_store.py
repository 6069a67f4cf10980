"""Benchmark: the ``s3`` artifact store against a raw s3fs put + get of the same bytes.

Starts its own moto server (S3 stand-in) on 127.0.0.1 in a subprocess, then for
each case - a 1,000,000 x 10 float64 DataFrame (as a parquet Dataset) and a
500 MB binary file - times:

* store: ``flowyml_artifact_store_save`` (staging, upload of the data file,
  manifest last) + ``flowyml_artifact_store_fetch`` (manifest check, listing,
  download), with the serialization time reported apart;
* raw:   ``s3fs.S3FileSystem.put_file`` + ``get_file`` of the very same file.

It prints the median of ``--repeat`` rounds and the ratio store/raw.

    python benchmarks/bench_s3_store.py [--repeat 3] [--binary-mb 500] [--part-mb N] [--only dataframe|binary]

Needs flowyml, flowyml-s3, moto[server], pandas and pyarrow installed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from store_common import free_port, make_binary, make_frame, timed

BUCKET = "bench"




def start_moto(port: int, log: Path) -> subprocess.Popen[bytes]:
    out = open(log, "wb")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=out)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"moto did not start; see {log}")








def bench_case(name: str, stack: Any, raw_fs: Any, write: Callable[[Path], None], repeat: int, work: Path) -> dict[str, float]:
    """Median seconds of store save+fetch and of raw put+get of the identical data file."""
    from flowyml.serialization.artifact_io import MANIFEST

    store_times, serialize_times, raw_times = [], [], []
    for round_no in range(repeat):
        key = f"{name}/store-{round_no}"
        serialize: list[float] = []
        kept = work / f"{name}-kept"

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

        total = timed(store_round)
        shutil.rmtree(scratch)
        store_times.append(total - serialize[0])
        serialize_times.append(serialize[0])

        data_file = next(kept.iterdir())
        remote = f"{BUCKET}/{name}/raw-{round_no}/{data_file.name}"
        target = work / f"{name}-raw-download"

        def raw_round() -> None:
            raw_fs.put_file(str(data_file), remote)
            raw_fs.get_file(remote, str(target))

        raw_times.append(timed(raw_round))
        target.unlink()
        raw_fs.rm(f"{BUCKET}/{name}", recursive=True)  # free moto's memory between rounds
    size = sum(f.stat().st_size for f in (work / f"{name}-kept").iterdir())
    shutil.rmtree(work / f"{name}-kept")
    result = {
        "mb": size / 1e6,
        "store": statistics.median(store_times),
        "serialize": statistics.median(serialize_times),
        "raw": statistics.median(raw_times),
    }
    result["ratio"] = result["store"] / result["raw"]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--binary-mb", type=int, default=500)
    parser.add_argument("--part-mb", type=int, default=None, help="the store's multipart_chunk_mb (default: the store's default)")
    parser.add_argument("--only", choices=("dataframe", "binary"), default=None)
    args = parser.parse_args()

    import boto3
    import s3fs

    from flowyml import Dataset
    from flowyml.serialization.artifact_io import MANIFEST, file_sha256, write_artifact
    from flowyml.testing import make_stack

    work = Path(tempfile.mkdtemp(prefix="flowyml-bench-"))
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint, "AWS_EC2_METADATA_DISABLED": "true",
    })
    moto = start_moto(port, work / "moto.log")
    try:
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
        project = work / "project"
        project.mkdir()
        store = {"type": "s3", "bucket": BUCKET}
        if args.part_mb:
            store["multipart_chunk_mb"] = args.part_mb
        stack = make_stack(project, {"artifact_store": store})
        raw_fs = s3fs.S3FileSystem(endpoint_url=endpoint, skip_instance_cache=True)

        frame = make_frame()
        binary = work / "blob.bin"
        make_binary(binary, args.binary_mb if args.only != "dataframe" else 1)
        digest = file_sha256(binary)

        def write_frame(directory: Path) -> None:
            write_artifact(Dataset(frame, name="bench", format="parquet"), directory)

        def write_binary(directory: Path) -> None:
            os.link(binary, directory / "data.bin")
            (directory / MANIFEST).write_text('{"files": {"data.bin": {"sha256": "%s", "size": %d}}}' % (digest, binary.stat().st_size))

        print(f"moto {endpoint}; python {sys.version.split()[0]}; s3fs {s3fs.__version__}; {os.cpu_count()} CPUs; median of {args.repeat}")
        print(f"{'case':<34} {'MB':>8} {'serialize s':>12} {'store s':>9} {'raw s':>9} {'store/raw':>10}")
        for name, write in (("dataframe 1e6x10 float64 (parquet)", write_frame), (f"binary {args.binary_mb} MiB", write_binary)):
            if args.only and not name.startswith(args.only):
                continue
            r = bench_case(name.split()[0], stack, raw_fs, write, args.repeat, work)
            print(f"{name:<34} {r['mb']:>8.1f} {r['serialize']:>12.2f} {r['store']:>9.2f} {r['raw']:>9.2f} {r['ratio']:>9.2f}x")
    finally:
        moto.terminate()
        moto.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
