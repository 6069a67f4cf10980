"""Benchmark: the ``gcs`` artifact store versus raw gcsfs put + get of the same bytes.

Starts an in-memory gcp-storage-emulator on 127.0.0.1 (nothing leaves the
machine), then for each case times

* store: ``flowyml_artifact_store_save`` (serialize + upload data + manifest)
  and ``flowyml_artifact_store_fetch`` + read back, through a real stack;
* raw: ``gcsfs.put_file`` + ``get_file`` of the same serialized file(s).

and prints the ratio store / raw. Run from the repository root::

    python benchmarks/bench_gcs_store.py            # DataFrame 1e6 x 10 and a 500 MB binary
    python benchmarks/bench_gcs_store.py --mb 100   # a smaller binary case

Needs: flowyml, flowyml-gcs, gcp-storage-emulator, pandas, pyarrow, numpy.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "false"
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--mb", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import gcsfs
    import numpy as np
    import pandas as pd

    from flowyml.core import Dataset
    from flowyml.runner.loading import fetch_and_read
    from flowyml.serialization.artifact_io import write_artifact
    from flowyml.testing import make_stack
    from standins.gcs import start_gcs_emulator

    emulator = start_gcs_emulator()
    emulator.create_bucket("bench")
    work = Path(tempfile.mkdtemp(prefix="flowyml-bench-"))
    try:
        stack = make_stack(work, {"artifact_store": {"type": "gcs", "bucket": "bench", "endpoint_url": emulator.endpoint_url}})
        raw = gcsfs.GCSFileSystem(token="anon", endpoint_url=emulator.endpoint_url, skip_instance_cache=True)
        cases = {
            f"DataFrame {args.rows:,} x 10 float64": Dataset(pd.DataFrame(np.random.default_rng(0).random((args.rows, 10)), columns=[f"c{i}" for i in range(10)])),
            f"binary {args.mb} MB": os.urandom(args.mb * 1024 * 1024),
        }
        print(f"{'case':<34} {'bytes':>12} {'store s':>9} {'raw s':>9} {'ratio':>6}")
        for label, value in cases.items():
            # The bytes the store uploads, serialized once for the raw baseline.
            staged = work / "staged"
            shutil.rmtree(staged, ignore_errors=True)
            staged.mkdir()
            manifest = write_artifact(value, staged)
            files = [p for p in staged.iterdir() if p.is_file()]
            size = sum(p.stat().st_size for p in files)
            store_times, raw_times = [], []
            for i in range(args.repeat):
                key = f"store/{label.split()[0]}-{i}"

                def through_store() -> None:
                    uri = stack.hook.flowyml_artifact_store_save(key=key, write=lambda d: write_artifact(value, Path(d)))
                    fetch_and_read(stack, uri, manifest["content_hash"])

                def raw_put_get() -> None:
                    back = work / "back"
                    back.mkdir(exist_ok=True)
                    for p in files:
                        raw.put_file(str(p), f"bench/raw/{label.split()[0]}-{i}/{p.name}")
                    for p in files:
                        raw.get_file(f"bench/raw/{label.split()[0]}-{i}/{p.name}", str(back / p.name))
                    shutil.rmtree(back)

                raw_times.append(timed(raw_put_get))
                store_times.append(timed(through_store))
                emulator.wipe()
                emulator.create_bucket("bench")
            s, r = statistics.median(store_times), statistics.median(raw_times)
            print(f"{label:<34} {size:>12,} {s:>9.2f} {r:>9.2f} {s / r:>6.2f}", flush=True)
        print("store = serialize + upload + manifest + download + read (+ hash check); raw = gcsfs put_file + get_file of the serialized bytes")
    finally:
        emulator.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
