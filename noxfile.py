"""Development sessions.

    nox -s tests          the whole suite in one environment (core + every plugin): what CI runs;
                          tests/, tests/packaging + vertex and the other plugins as three pytest processes at once
                          (one process when given pytest args)
    nox -s core           core tests with only flowyml + flowyml-local installed
    nox -s "plugin(name='s3')"   one plugin's tests with only core + that plugin installed
    nox -s lint typecheck docs demo
    nox -s random         the suite in random order, 5 times (pytest-randomly)
    nox -s mutation       mutation testing of the core's decision paths (mutmut, ~30-40 min)
    nox -s build          sdist + wheel of every distribution into dist/, checked by twine

Every install takes ``core/`` from its folder in the same pip command as any
plugin: the package index holds an unrelated project also named ``flowyml``.
``PLUGINS=s3,gcs`` / ``SKIP_PLUGINS=vertex`` select plugin sessions.
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

ROOT = Path(__file__).parent
nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = False
PYTHON = "3.11"


def _plugins() -> list[str]:
    found = sorted(p.name for p in (ROOT / "plugins").iterdir() if (p / "pyproject.toml").is_file())
    only = {p for p in os.environ.get("PLUGINS", "").split(",") if p}
    skip = {p for p in os.environ.get("SKIP_PLUGINS", "").split(",") if p}
    return [p for p in found if (not only or p in only) and p not in skip]


PLUGINS = _plugins()
EXTERNAL_PLUGINS = [p for p in PLUGINS if p != "local"]
#: Other plugins a plugin's *tests* use (never a runtime dependency: no plugin imports another).
TEST_PLUGINS = {"vertex": ["gcs"], "sagemaker": ["s3"]}


def _all_plugins() -> list[str]:
    """Every plugin folder (the whole suite needs them all, whatever PLUGINS/SKIP_PLUGINS say)."""
    return sorted(p.name for p in (ROOT / "plugins").iterdir() if (p / "pyproject.toml").is_file())


def _requirements(*names: str) -> list[str]:
    args: list[str] = []
    for name in names:
        path = ROOT / "requirements" / f"{name}.txt"
        if path.is_file():
            args += ["-r", str(path)]
    return args


def install(session: nox.Session, plugins: list[str], *requirement_files: str) -> None:
    """Install core and ``plugins`` (editable, from their folders) plus test requirements, in one pip call."""
    session.env["FLOWYML_DEV_INSTALL"] = "1"
    args = ["-e", "./core", "-e", "./plugins/local"]
    for plugin in plugins:
        if plugin != "local":
            args += ["-e", f"./plugins/{plugin}"]
    session.install(*args, *_requirements("test-core", *requirement_files))


def pytest(session: nox.Session, *paths: str) -> None:
    session.run("python", "-m", "pytest", *paths, *session.posargs, env={"PYTHONDONTWRITEBYTECODE": "1"})


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Everything: core, every plugin, their real stand-ins."""
    reqs = [f"plugin-{p}" for p in EXTERNAL_PLUGINS] + sorted(p.stem for p in (ROOT / "requirements").glob("standins-*.txt"))
    install(session, _all_plugins(), *reqs)
    plugin_paths = [f"plugins/{p}" for p in PLUGINS]  # PLUGINS/SKIP_PLUGINS narrow what runs
    if session.posargs or not plugin_paths:
        pytest(session, "tests", *plugin_paths)
        return
    session.run("python", "tools/parallel_pytest.py", *_parts_args(plugin_paths), env={"PYTHONDONTWRITEBYTECODE": "1"})


def _parts_args(plugin_paths: list[str], *extra: str) -> list[str]:
    """tools/parallel_pytest.py's arguments: the suite as three pytest processes at once, ``extra`` given to each.

    The suite waits on servers, subprocesses and the package index more than on the CPU. The packaging
    tests (the index) and vertex (its fake polls) are the longest waits: they share one part.
    """
    slow = [p for p in plugin_paths if p == "plugins/vertex"]
    rest = [p for p in plugin_paths if p not in slow]
    parts = [["tests", "--ignore=tests/packaging"], ["tests/packaging", *slow], rest]
    return [arg for part in parts if part for arg in ("--", *part, *extra)][1:]


@nox.session(python=PYTHON)
def core(session: nox.Session) -> None:
    """Core tests with only flowyml and flowyml-local installed."""
    install(session, ["local"])
    pytest(session, "tests", "plugins/local")


@nox.session(python=PYTHON)
@nox.parametrize("name", EXTERNAL_PLUGINS)
def plugin(session: nox.Session, name: str) -> None:
    """One plugin's tests, with only the core and that plugin installed."""
    install(session, [name, *TEST_PLUGINS.get(name, [])], f"plugin-{name}")
    pytest(session, f"plugins/{name}")


@nox.session(python=PYTHON)
def random(session: nox.Session) -> None:
    """The suite in random order, RANDOM_RUNS times (default 5), each with a new seed (pytest-randomly).

    ``nox -s tests`` (CI) runs in file order (``-p no:randomly`` in pyproject.toml): an order bug
    found here is fixed, and CI stays reproducible. Rerun one order with ``-- --randomly-seed=N``.
    """
    reqs = [f"plugin-{p}" for p in EXTERNAL_PLUGINS] + sorted(p.stem for p in (ROOT / "requirements").glob("standins-*.txt"))
    install(session, _all_plugins(), *reqs)
    import random as _random

    for run in range(int(os.environ.get("RANDOM_RUNS", "5"))):
        seed = os.environ.get("RANDOM_SEED") or str(_random.randrange(1, 2**31))
        session.log(f"random-order run {run + 1}: --randomly-seed={seed}")
        if session.posargs:  # one process, as given
            session.run("python", "-m", "pytest", "-p", "randomly", f"--randomly-seed={seed}", *session.posargs,
                        env={"PYTHONDONTWRITEBYTECODE": "1"})
        else:  # the whole suite in the same three parts as `nox -s tests`, each part in the seed's order
            paths = [f"plugins/{p}" for p in PLUGINS]
            session.run("python", "tools/parallel_pytest.py", *_parts_args(paths, "-p", "randomly", f"--randomly-seed={seed}"),
                        env={"PYTHONDONTWRITEBYTECODE": "1"})


@nox.session(python=PYTHON)
def mutation(session: nox.Session) -> None:
    """mutmut over the core's decision modules with the fast tests that cover them (docs/development.md).

    Extra arguments go to tools/mutation/run.py (e.g. ``-- --group config``). Runs niced: the
    machine is usually shared.
    """
    install(session, ["local"], "mutation", "standins-postgres")  # the metadata group runs on PostgreSQL too
    session.run("nice", "-n", "10", "python", "tools/mutation/run.py", *session.posargs, external=True)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", "core", "plugins", "tests", "benchmarks", "examples", "tools", "noxfile.py", "conftest.py")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy over the core and every plugin (which files, how strict: [tool.mypy] in pyproject.toml).

    Vendor SDKs are not installed here: mypy treats them as Any (they are follow_imports = "skip").
    """
    install(session, ["local"])
    session.install("mypy>=1.10", "types-PyYAML")
    session.run("mypy", *session.posargs)


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    session.install("mkdocs>=1.6", "mkdocstrings[python]>=0.26", "mkdocs-material>=9.5")
    session.run("mkdocs", "build", "--strict", "--site-dir", str(ROOT / ".nox" / "site"))


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """The README quickstart: train, store, register, list."""
    session.env["FLOWYML_DEV_INSTALL"] = "1"
    session.install("-e", "./core[pandas,sklearn]", "-e", "./plugins/local")
    session.chdir(ROOT / "examples" / "quickstart")
    session.run("flowyml", "run", "pipeline.py")
    session.run("flowyml", "artifacts", "list", "-n", "10")
    session.run("flowyml", "model", "list")


@nox.session(python=PYTHON)
def build(session: nox.Session) -> None:
    """An sdist and a wheel of core/ and of every plugins/<name>/ into dist/, then `twine check`.

    Release builds (FLOWYML_RELEASE=1, set by tools/build_dists.py): the core's
    wheel depends on flowyml-local by version, never on the checkout's folder.
    """
    session.install("build>=1.2", "twine>=6.1")
    dist = ROOT / "dist"
    session.run("python", str(ROOT / "tools" / "build_dists.py"), str(dist))
    session.run("twine", "check", "--strict", *sorted(str(p) for p in dist.iterdir() if p.name.endswith((".whl", ".tar.gz"))))
