"""Build an sdist and a wheel of every distribution in the repository into one folder.

    python tools/build_dists.py dist/                 what `nox -s build` runs
    python tools/build_dists.py OUT --no-isolation    with the running environment's hatchling (tests)

The distributions are ``core/`` and every ``plugins/<name>/`` that has a
``pyproject.toml`` (found, not listed). Each is built the way ``python -m build``
builds it by default: the sdist first, then the wheel from that sdist, so a
file missing from an sdist breaks its wheel here rather than on a user's
machine. ``FLOWYML_RELEASE=1`` makes the core's wheel depend on
``flowyml-local`` by version, never on the checkout's folder.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def distribution_folders(root: Path = ROOT) -> list[Path]:
    """``core/`` and every plugin folder with a ``pyproject.toml``."""
    plugins = sorted(p.parent for p in (root / "plugins").glob("*/pyproject.toml"))
    return [root / "core", *plugins]


def build_all(outdir: Path, *, isolation: bool = True, root: Path = ROOT) -> list[Path]:
    """Build every distribution into ``outdir`` (emptied of older builds first); return the files."""
    outdir.mkdir(parents=True, exist_ok=True)
    for old in [*outdir.glob("*.whl"), *outdir.glob("*.tar.gz")]:
        old.unlink()
    env = {**os.environ, "FLOWYML_RELEASE": "1"}
    env.pop("FLOWYML_DEV_INSTALL", None)
    for folder in distribution_folders(root):
        command = [sys.executable, "-m", "build", "--outdir", str(outdir), str(folder)]
        if not isolation:
            command.insert(3, "--no-isolation")
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"building {folder.relative_to(root)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return sorted([*outdir.glob("*.whl"), *outdir.glob("*.tar.gz")])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--no-isolation", action="store_true", help="build with this environment's hatchling")
    args = parser.parse_args()
    for path in build_all(args.outdir, isolation=not args.no_isolation):
        print(path.name)


if __name__ == "__main__":
    main()
