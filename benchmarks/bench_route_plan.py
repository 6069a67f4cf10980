"""`flowyml route plan` on the quickstart: planning without the pipeline's heavy imports vs importing it.

    python benchmarks/bench_route_plan.py [--repeats N]

Each measurement is a fresh interpreter that builds the quickstart's graph and
plans its routes: once through flowyml.routing.light_import (imports of
pandas and scikit-learn are not executed), once by importing the file as
`flowyml run` does. Prints the median wall time of each and their ratio, and
checks both plans are the same.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

QUICKSTART = Path(__file__).parents[1] / "examples" / "quickstart"

CODE = """
import json, sys
from flowyml.config.loader import load_project
from flowyml.routing.plan import plan_routes
light = sys.argv[1] == "light"
if light:
    from flowyml.routing.light_import import plan_pipeline
    graph, used = plan_pipeline("pipeline.py", {})
    assert used, "the quickstart should plan without its imports"
else:
    from flowyml.runner.targets import load_target
    graph = load_target("pipeline.py").build({})
project = load_project()
rows = plan_routes(graph, project.stack("local"))
print(json.dumps({"rows": rows, "sklearn": "sklearn" in sys.modules, "pandas": "pandas" in sys.modules}))
"""


def once(mode: str) -> tuple[float, dict]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CODE, mode], cwd=QUICKSTART, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    once("import")  # warm the file cache
    light = [once("light") for _ in range(args.repeats)]
    full = [once("import") for _ in range(args.repeats)]
    assert light[0][1]["rows"] == full[0][1]["rows"], "the two plans differ"
    assert not light[0][1]["sklearn"] and not light[0][1]["pandas"], light[0][1]
    t_light, t_full = statistics.median(t for t, _ in light), statistics.median(t for t, _ in full)
    print(f"route plan, quickstart: without its imports {t_light:.2f} s, importing it {t_full:.2f} s, ratio {t_light / t_full:.2f}x")


if __name__ == "__main__":
    main()
