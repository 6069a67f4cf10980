"""`nox -s build`'s sdists and wheels: complete, valid, and never depending on the other `flowyml`.

The package index holds an unrelated project called ``flowyml`` (1.x and 2.x).
Every plugin's wheel must require the core's own minor series,
``flowyml>=0.1,<0.2``, so that no resolver can pick it; the core's wheel must
require ``flowyml-local`` by version (a ``file://`` reference is for checkout
installs only and would make the wheel uninstallable anywhere else).
"""

from __future__ import annotations

import email
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from email.message import Message
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging_helpers import ROOT, build_dists

pytestmark = pytest.mark.slow
FOLDERS = build_dists.distribution_folders(ROOT)


def project_table(folder: Path) -> dict:
    return tomllib.loads((folder / "pyproject.toml").read_text())["project"]


def wheel_of(dist: Path, folder: Path) -> Path:
    stem = project_table(folder)["name"].replace("-", "_")
    (wheel,) = dist.glob(f"{stem}-*.whl")
    return wheel


def metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as z:
        (name,) = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
        return email.message_from_string(z.read(name).decode("utf-8"))


def test_every_distribution_has_an_sdist_and_a_wheel_and_twine_check_passes(built_dists: Path) -> None:
    names = sorted(p.name for p in built_dists.iterdir())
    for folder in FOLDERS:
        stem = project_table(folder)["name"].replace("-", "_")
        assert [n for n in names if n.startswith(f"{stem}-") and n.endswith(".whl")], f"no wheel of {folder.name}"
        assert [n for n in names if n.startswith(f"{stem}-") and n.endswith(".tar.gz")], f"no sdist of {folder.name}"
    done = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *map(str, sorted(built_dists.iterdir()))], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_wheel_metadata_requirements_and_files(built_dists: Path, folder: Path) -> None:
    project = project_table(folder)
    wheel = wheel_of(built_dists, folder)
    meta = metadata(wheel)
    assert meta["Name"] == project["name"] and meta["Version"] == project["version"]
    assert meta["Summary"] == project["description"] and meta["Requires-Python"] == ">=3.11"
    assert meta["License-Expression"] == "Apache-2.0" and meta["License-File"] == "LICENSE"
    assert meta["Description-Content-Type"] == "text/markdown"
    assert meta.get_payload().strip() == (folder / "README.md").read_text().strip(), "the README is not the long description"

    requirements = [Requirement(r) for r in meta.get_all("Requires-Dist") or []]
    direct = [str(r) for r in requirements if r.url]
    assert not direct, f"{wheel.name} carries direct references: {direct}"
    by_name = {r.name: r for r in requirements if not r.marker}
    if project["name"] == "flowyml":
        assert str(by_name["flowyml-local"].specifier) == f"=={project['version']}"
    else:
        assert by_name["flowyml"].specifier == SpecifierSet(">=0.1,<0.2"), f"{wheel.name}: Requires-Dist flowyml{by_name['flowyml'].specifier}"

    package = f"flowyml_{folder.name}" if folder.name != "core" else "flowyml"
    dist_info = f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    with zipfile.ZipFile(wheel) as z:
        files = set(z.namelist())
        assert f"{package}/py.typed" in files
        assert f"{dist_info}/licenses/LICENSE" in files
        entry_points = z.read(f"{dist_info}/entry_points.txt").decode()
    for group, entries in project.get("entry-points", {}).items():
        for name, target in entries.items():
            assert f"[{group}]" in entry_points and f"{name} = {target}" in entry_points, f"{wheel.name}: entry point {group} {name}"
    for name, target in project.get("scripts", {}).items():
        assert f"{name} = {target}" in entry_points


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_sdist_has_readme_licence_and_no_direct_reference(built_dists: Path, folder: Path) -> None:
    project = project_table(folder)
    stem = f"{project['name'].replace('-', '_')}-{project['version']}"
    with tarfile.open(built_dists / f"{stem}.tar.gz") as tar:
        names = set(tar.getnames())
        for needed in ("README.md", "LICENSE", "pyproject.toml", "PKG-INFO"):
            assert f"{stem}/{needed}" in names, f"{stem}.tar.gz lacks {needed}"
        pkg_info = tar.extractfile(f"{stem}/PKG-INFO").read().decode()
    assert "file:" not in pkg_info and " @ " not in pkg_info, f"{stem}.tar.gz PKG-INFO has a direct reference"
