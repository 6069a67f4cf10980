"""Benchmark: the ``s3`` artifact store against a raw s3fs put + get of the same bytes.

Starts its own moto server (S3 stand-in) on 127.0.0.1 in a subprocess, then for
each case - a 1,000,000 x 10 float64 DataFrame (as a parquet Dataset) and
binary files of each ``--binary-mb`` size (default 1, 10 and 200 MiB; add 1024
for the 1 GiB case, which takes minutes on moto) - times:

* store: ``flowyml_artifact_store_save`` + ``flowyml_artifact_store_fetch``,
  with the serialization (parquet + sha256) and the read-back (sha256 check +
  parquet read) reported apart. Up to 32 MiB (the 1 and 10 MiB cases) the
  artifact is one packed object built in memory: one conditional PUT and one
  GET. Above (the DataFrame, 200 MiB) it is
  a folder: existence check, data file, manifest last; then the manifest GET,
  a listing and the data file's download;
* raw:   ``s3fs.S3FileSystem.put_file`` + ``get_file`` of the very same file.

Store and raw rounds alternate (which goes first flips every round). It prints
the median of ``--repeat`` rounds, the min-max spread and the ratio store/raw
(the round loop is benchmarks/store_common.py's, shared with bench_gcs_store.py).

    python benchmarks/bench_s3_store.py [--repeat 3] [--binary-mb 1,10,200,1024] [--part-mb N] [--only dataframe|binary]

Needs flowyml, flowyml-s3, moto[server], pandas and pyarrow installed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from store_common import StoreBench, free_port, start_server

BUCKET = "bench"


def start_moto(port: int, log: Path) -> Any:
    return start_server([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], port, log, "moto")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--binary-mb", default="1,10,200", help="comma-separated sizes in MiB of the binary cases")
    parser.add_argument("--part-mb", type=int, default=None, help="the store's multipart_chunk_mb (default: the store's default)")
    parser.add_argument("--only", choices=("dataframe", "binary"), default=None)
    args = parser.parse_args()

    import boto3
    import s3fs

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
        store: dict[str, Any] = {"type": "s3", "bucket": BUCKET}
        if args.part_mb:
            store["multipart_chunk_mb"] = args.part_mb
        stack = make_stack(project, {"artifact_store": store})
        raw_fs = s3fs.S3FileSystem(endpoint_url=endpoint, skip_instance_cache=True)
        print(f"moto {endpoint}; python {sys.version.split()[0]}; s3fs {s3fs.__version__}; {os.cpu_count()} CPUs; median of {args.repeat} (min-max)")
        print(f"load average before: {os.getloadavg()[0]:.1f}")
        sizes = [int(size) for size in args.binary_mb.split(",")]
        StoreBench(stack, raw_fs, BUCKET, work, args.repeat).run(sizes, args.only, "s3fs")
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        moto.terminate()
        moto.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
