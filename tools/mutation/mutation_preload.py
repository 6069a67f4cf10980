"""A pytest plugin for mutation runs (``-p mutation_preload``, see tools/mutation/run.py).

- Imports the slow-to-import libraries a group's tests use lazily. mutmut forks one process per
  mutant from a warmed-up server (which collected the tests); a library the tests import only
  when they run (scikit-learn: ~5 s, xgboost and lightgbm: ~4 s each) would be imported again in
  every fork. Imported here, at collection in the server, every fork inherits it. ``run.py``
  names the modules in ``FLOWYML_MUTATION_PRELOAD`` (comma-separated).
- Runs a mutant's test files fastest first, by the durations mutmut measured
  (``mutmut-stats.json``). mutmut stops at the first failure (``-x``) but hands the tests over in
  no particular order, so a mutant a 10 ms unit test kills often ran seconds of pipeline tests first.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
from pathlib import Path
from typing import Any

for _name in filter(None, os.environ.get("FLOWYML_MUTATION_PRELOAD", "").split(",")):
    with contextlib.suppress(ImportError):  # not installed: the tests that need it skip (importorskip)
        importlib.import_module(_name)

_durations: dict[str, float] | None = None


def _measured() -> dict[str, float]:
    global _durations
    if _durations is None:
        try:  # pytest runs in mutmut's `mutants/` folder, beside the stats file
            _durations = dict(json.loads(Path("mutmut-stats.json").read_text(encoding="utf-8")).get("duration_by_test", {}))
        except (OSError, ValueError):
            return {}  # not measured yet (mutmut's first, measuring run): keep the order, look again next time
    return _durations


def pytest_collection_modifyitems(items: list[Any]) -> None:
    """Test files in order of their tests' mean duration, each file's tests in their own order.

    Whole files, not single tests: interleaving the tests of several files would set up their
    module-scoped fixtures again at every switch.
    """
    durations = _measured()
    if not durations:
        return
    by_file: dict[str, list[float]] = {}
    for item in items:
        by_file.setdefault(item.nodeid.split("::", 1)[0], []).append(durations.get(item.nodeid, 0.0))
    mean = {name: sum(times) / len(times) for name, times in by_file.items()}
    items.sort(key=lambda item: mean[item.nodeid.split("::", 1)[0]])  # stable: a file's tests keep their order
