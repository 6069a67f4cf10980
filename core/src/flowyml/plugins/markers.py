"""The pluggy markers. Plugin authors use ``flowyml.hookimpl``."""

from __future__ import annotations

import pluggy

PROJECT_NAME = "flowyml"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
