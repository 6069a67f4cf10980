"""The documentation builds, and the README's Quickstart stays what CI runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def test_docs_build_strictly(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs", reason="mkdocs is in requirements/test-core.txt")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    home = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert 'name="generator" content="mkdocs-' in home and "mkdocs-material" in home  # the material theme
    # code blocks are highlighted: Pygments token spans in the home page's first block (Python: `from flowyml import`)
    block = re.search(r'<div class="highlight"><pre>(.+?)</pre>', home, re.S)
    assert block and '<span class="kn">from</span>' in block.group(1), "code blocks are not highlighted"


def test_every_backend_has_a_docs_page_in_the_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    for plugin in sorted(p.name for p in (ROOT / "plugins").iterdir() if (p / "pyproject.toml").exists()):
        assert f"backends/{plugin}.md" in nav, plugin
        assert (ROOT / "docs" / "backends" / f"{plugin}.md").is_file(), plugin


def test_readme_quickstart_has_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text()
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.+?)\n```", quickstart, re.S)
    assert len(commands) == 2 and all("\n" not in c for c in commands), commands
    demo, tests = commands
    assert "flowyml run pipeline.py" in demo and "./core" in demo
    assert "nox -s tests" in tests
    assert tests in (ROOT / ".ci" / "run").read_text().splitlines()


def test_every_cli_command_is_in_the_cli_reference() -> None:
    import click

    from flowyml.cli.main import cli

    reference = (ROOT / "docs" / "cli.md").read_text()
    for name, command in cli.commands.items():
        assert f"## flowyml {name}" in reference, name
        if isinstance(command, click.Group):
            for sub in command.commands:
                assert f"{name} {sub}" in reference, f"{name} {sub}"


def test_api_reference_covers_the_public_api() -> None:
    """Every name `flowyml` exports, and the client's types, have a mkdocstrings entry on the API page."""
    import flowyml

    reference = (ROOT / "docs" / "reference" / "api.md").read_text()
    entries = {line.split("::: ", 1)[1].strip().rsplit(".", 1)[-1] for line in reference.splitlines() if line.startswith("::: ")}
    public = set(flowyml.__all__) - {"__version__", "hookimpl"}
    assert not public - entries, sorted(public - entries)
    assert {"Client", "PipelineRun", "StepRun", "StoredArtifact", "LoadableModelVersion"} <= entries
    assert "reference/api.md" in (ROOT / "mkdocs.yml").read_text() and "mkdocstrings" in (ROOT / "mkdocs.yml").read_text()


def _nox_sessions() -> set[str]:
    """Names of the functions noxfile.py decorates with ``@nox.session`` (read, not imported: nox need not be installed)."""
    import ast

    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any("nox.session" in ast.unparse(d) for d in node.decorator_list)
    }


def test_every_nox_session_the_docs_name_exists() -> None:
    """`nox -s mutation` was once documented after an edit had removed its session."""
    texts = [ROOT / "README.md", ROOT / "noxfile.py", ROOT / ".ci" / "run", *sorted((ROOT / "docs").rglob("*.md"))]
    named = {(path.relative_to(ROOT).as_posix(), name) for path in texts for name in re.findall(r"nox -s ([A-Za-z_][\w-]*)", path.read_text(encoding="utf-8"))}
    sessions = _nox_sessions()
    assert {"tests", "mutation", "random"} <= sessions
    assert sorted(f"{where}: nox -s {name}" for where, name in named if name not in sessions) == []
