"""Printing for the CLI: tables, progress lines, errors."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

import click

SYMBOLS = {"running": "…", "completed": "✓", "cached": "↺", "failed": "✗", "skipped": "-"}
COLORS = {"completed": "green", "cached": "cyan", "failed": "red", "skipped": "yellow", "ok": "green"}


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> None:
    cells = [[str(c) for c in headers], *[["" if c is None else str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        line = "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        click.echo(click.style(line, bold=True) if n == 0 else line)


def when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


def duration(start: float | None, end: float | None) -> str:
    if not start or not end:
        return "-"
    return f"{end - start:.2f}s"


class StepProgress:
    """One line per step event; colours only on a terminal."""

    def __init__(self) -> None:
        self.tty = sys.stdout.isatty()

    def __call__(self, name: str, status: str, result: Any) -> None:
        symbol = SYMBOLS.get(status, "?")
        line = f"  {symbol} {name:<24} {status}"
        if result is not None and result.duration is not None:
            line += f" ({result.duration:.2f}s)"
        if status == "failed" and result is not None and result.error:
            line += f": {result.error}"
        if status == "skipped" and result is not None and result.error:
            line += f" ({result.error})"
        click.echo(click.style(line, fg=COLORS.get(status)) if self.tty else line)
