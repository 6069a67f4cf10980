"""A pytest plugin for mutation runs: imports the slow-to-import libraries a group's tests use lazily.

mutmut forks one process per mutant from a warmed-up server (which collected the tests). A library
the tests import only when they run (scikit-learn: ~5 s, xgboost and lightgbm: ~4 s each) would be
imported again in every fork; imported here, at collection in the server, every fork inherits it.
``tools/mutation/run.py`` names the modules in ``FLOWYML_MUTATION_PRELOAD`` (comma-separated).
"""

from __future__ import annotations

import contextlib
import importlib
import os

for _name in filter(None, os.environ.get("FLOWYML_MUTATION_PRELOAD", "").split(",")):
    with contextlib.suppress(ImportError):  # not installed: the tests that need it skip (importorskip)
        importlib.import_module(_name)
