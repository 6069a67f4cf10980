"""Every install a user would type resolves with plain pip, from a checkout, in a fresh venv.

The sets: the core alone, the core with each plugin, the spec's two stacks
(``gcp-prod``: gcs + vertex + mlflow; ``aws-staging``: s3 + sagemaker) and every
plugin together. Each is resolved with ``core[pandas,sklearn]`` (a set that
resolves with the extras also resolves without them) by ``pip install --dry-run
--report``, with the newest pip; the spec's stacks and the whole set also with
the pip this Python ships (the older resolver backtracks differently, and is
what a user's fresh venv has). The README's one-line installs are these
commands, checked word for word.
"""

from __future__ import annotations

import json
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from packaging_helpers import PIP_TIMEOUT, ROOT, build_dists, clean_env, make_venv, pip_version

PLUGINS = [p.name for p in build_dists.distribution_folders(ROOT)[1:] if p.name != "local"]
SETS: dict[str, list[str]] = {
    "core": [],
    **{name: [name] for name in PLUGINS},
    "gcp-prod": ["gcs", "vertex", "mlflow"],
    "aws-staging": ["s3", "sagemaker"],
    "all": PLUGINS,
}
#: (pip, set) pairs resolved; "bundled" is the pip that `python -m venv` installs.
CASES = [("latest", name) for name in SETS] + [("bundled", name) for name in ("gcp-prod", "aws-staging", "all")]


def install_args(name: str) -> list[str]:
    return ["./core[pandas,sklearn]", *[f"./plugins/{p}" for p in SETS[name]]]


def readme_command(name: str) -> str:
    return "pip install " + " ".join(f'"{a}"' if "[" in a else a for a in install_args(name))


def _resolve(python: Path, name: str, report: Path) -> dict:
    command = [str(python), "-m", "pip", "install", "--dry-run", "--progress-bar", "off", "--ignore-installed", "--report", str(report), *install_args(name)]
    done = subprocess.run(command, cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=PIP_TIMEOUT)
    # pip explains a conflict on stdout ("The conflict is caused by: ...") and ends with the error on stderr
    explained = done.stdout.split("The conflict is caused by:", 1)
    errors = [line for line in done.stderr.splitlines() if "is ignored" not in line]
    why = "The conflict is caused by:" + explained[1][-3000:] if len(explained) == 2 else ""
    result = {"ok": done.returncode == 0, "errors": why + "\n".join(errors[-25:])}
    if result["ok"]:
        result["install"] = {i["metadata"]["name"].lower(): i for i in json.loads(report.read_text())["install"]}
    return result


@pytest.fixture(scope="module")
def resolutions(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], dict]:
    """Resolve the selected cases, a few at once (they wait on the index more than on the CPU)."""
    selected = [
        (item.callspec.params["pip"], item.callspec.params["name"])
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_install_set_resolves" and hasattr(item, "callspec")
    ]
    base = tmp_path_factory.mktemp("resolve")
    kinds = {pip for pip, _ in selected}
    pythons = {kind: make_venv(base / kind, latest_pip=kind == "latest") for kind in kinds}
    versions = {kind: pip_version(python) for kind, python in pythons.items()}
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {case: pool.submit(_resolve, pythons[case[0]], case[1], base / f"{case[0]}-{case[1]}.json") for case in selected}
    return {case: {**f.result(), "pip": versions[case[0]]} for case, f in futures.items()}


@pytest.mark.slow
@pytest.mark.parametrize(("pip", "name"), CASES, ids=[f"{p}-pip-{n}" for p, n in CASES])
def test_install_set_resolves(resolutions: dict, pip: str, name: str) -> None:
    result = resolutions[(pip, name)]
    command = " ".join(install_args(name))
    assert result["ok"], f"install set {name!r} does not resolve with pip {result['pip']}: pip install {command}\n{result['errors']}"
    install = result["install"]
    core = install["flowyml"]
    assert core["metadata"]["version"] == "0.1.0" and core["download_info"]["url"] == (ROOT / "core").as_uri(), (
        f"set {name!r}: pip picked flowyml {core['metadata']['version']} from {core['download_info']['url']}, not ./core"
    )
    local = install["flowyml-local"]["download_info"]["url"]
    assert local == (ROOT / "plugins" / "local").as_uri(), f"set {name!r}: flowyml-local came from {local}, not ./plugins/local"
    for plugin in SETS[name]:
        assert f"flowyml-{plugin}" in install, f"set {name!r}: flowyml-{plugin} missing from the resolution"


def test_readme_gives_the_resolved_one_line_installs_of_the_spec_stacks() -> None:
    section = (ROOT / "README.md").read_text().split("## Installing a cloud stack", 1)[1].split("\n## ", 1)[0]
    for name in ("gcp-prod", "aws-staging"):
        assert re.search(rf"^{re.escape(readme_command(name))} +# {name}$", section, re.M), f"README lacks the {name} install: {readme_command(name)}"


def test_every_plugin_folder_is_in_the_whole_set() -> None:
    folders = {p.name for p in (ROOT / "plugins").iterdir() if (p / "pyproject.toml").is_file()}
    assert set(SETS["all"]) == folders - {"local"}
    assert re.fullmatch(r"[a-z0-9_-]+", "-".join(SETS))
