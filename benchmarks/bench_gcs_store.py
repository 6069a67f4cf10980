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
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

from store_common import MIB, StoreBench, free_port, start_server

# gcsfs reads this when imported; left at its default, each call waits on a gRPC probe.
os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "false"

BUCKET = "bench"


def start_emulator(port: int, log: Path) -> Any:
    command = [sys.executable, "-m", "gcp_storage_emulator", "start", "--host", "127.0.0.1", "--port", str(port), "--in-memory", "-q"]
    return start_server(command, port, log, "gcp-storage-emulator")


def create_bucket(endpoint: str, name: str) -> None:
    request = urllib.request.Request(
        f"{endpoint}/storage/v1/b?project=bench",
        data=json.dumps({"name": name}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--binary-mb", type=int, default=500)
    parser.add_argument("--chunk-mb", type=int, default=None, help="upload_chunk_mb of the store and chunksize of raw put_file (default: 50, gcsfs' own)")
    parser.add_argument("--only", choices=("dataframe", "binary"), default=None)
    args = parser.parse_args()

    import gcsfs

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
        print(
            f"gcp-storage-emulator {endpoint} (subprocess, in memory); python {sys.version.split()[0]}; gcsfs {gcsfs.__version__}; "
            f"{os.cpu_count()} CPUs; upload chunk {args.chunk_mb or 50} MiB; median of {args.repeat} (min-max)"
        )
        raw_kwargs = {"chunksize": args.chunk_mb * MIB} if args.chunk_mb else {}
        StoreBench(stack, raw_fs, BUCKET, work, args.repeat, raw_kwargs).run(args.binary_mb, args.only, "gcsfs")
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
