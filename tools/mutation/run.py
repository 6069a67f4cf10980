"""Mutation testing of the core's decision paths (``nox -s mutation``, or run this file directly).

mutmut derives a mutant's module from its path below the folder it runs in, and
only strips a leading ``src/``; the core lives in ``core/src``.  So the run
happens in a scratch folder (``.nox/mutation-work``) holding a copy of
``core/src`` and a ``pyproject.toml`` generated from the settings below, while
the tests are the repository's own (given by absolute path).

    python tools/mutation/run.py                 # the whole selection, 2 workers
    python tools/mutation/run.py --max-children 1 'flowyml.routing.*'
    python tools/mutation/run.py --report        # only recount the last run
    python tools/mutation/run.py --rerun         # survivors of the last run, against the current tests

The score printed at the end is killed / (checked - equivalent), where the
equivalent mutants are listed, each with its reason, in ``equivalent.txt``
beside this file (and in docs/development.md).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / ".nox" / "mutation-work"
HERE = Path(__file__).resolve().parent

#: The core's decision modules (paths below core/).
MUTATE = [
    "src/flowyml/routing/*",
    "src/flowyml/config/*",
    "src/flowyml/stacks/selection.py",
    "src/flowyml/serialization/artifact_io.py",
    "src/flowyml/serialization/hashing.py",
    "src/flowyml/runner/orchestration.py",
    "src/flowyml/metadata/store.py",
    "src/flowyml/plugins/loader.py",
]

#: Which mutants are run: every function of the modules above, but of the runner only the cache key.
SELECT = [
    "flowyml.routing.*",
    "flowyml.config.*",
    "flowyml.stacks.selection.*",
    "flowyml.serialization.artifact_io.*",
    "flowyml.serialization.hashing.*",
    "flowyml.runner.orchestration.x__canonical__mutmut_*",
    "flowyml.runner.orchestration.xǁOrchestratedRunǁ_cache_key__mutmut_*",
    "flowyml.runner.orchestration.xǁOrchestratedRunǁ_stack_fingerprint__mutmut_*",
    "flowyml.metadata.store.*",
    "flowyml.plugins.loader.*",
]

#: The fast, in-process core tests that exercise those modules (no cloud stand-in, no CLI subprocess needed).
TESTS = [
    "tests/test_routing_rules.py",
    "tests/test_config.py",
    "tests/test_stack_selection.py",
    "tests/test_serialization.py",
    "tests/test_artifacts.py",
    "tests/test_engine.py",
    "tests/test_plugin_system.py",
    "tests/test_decision_paths.py",
    "tests/test_metadata.py",
    "tests/test_interpolation.py",
    "tests/test_routing_paths.py",
    "plugins/local/tests/test_local_contracts.py",
]


#: Lines not mutated (regular expressions): the wording of a hint is prose, not a decision.
NOT_MUTATED = [r"hint="]

#: What the tests read besides themselves (copied into the scratch folder, then by mutmut into its copy).
COPY = ["tests", "conftest.py", "docs", "mkdocs.yml", "plugins/local/tests", "core/src"]


#: Left out of the mutation runs: tests that spend seconds in subprocesses or servers (the CLI, pip,
#: model servers). Their subprocesses import the unmutated core, so they could not kill a mutant anyway
#: except through their in-process part, which in-process tests cover.
SLOW = [
    "plugins/local/tests/test_local_contracts.py::TestLocalModelDeployer",
    "tests/test_plugin_system.py::test_flowyml_orchestrator_run_remote_step_runner_records_the_run_like_a_local_one",
    "tests/test_plugin_system.py::test_example_plugin_is_loaded_only_when_named_and_used_flowyml_register_serializers",
    "tests/test_plugin_system.py::test_example_plugin_is_discovered_through_its_entry_point",
    "tests/test_plugin_system.py::test_a_plugin_that_fails_to_import_is_reported_with_its_distribution",
    "tests/test_plugin_system.py::test_component_missing_a_hookimpl_is_reported",
    "tests/test_plugin_system.py::test_loading_a_first_party_type_that_is_not_installed_names_its_distribution",
    "tests/test_decision_paths.py::test_editing_a_step_source_reruns_it_through_the_real_cli",
    "tests/test_decision_paths.py::test_a_broken_general_plugin_is_reported_with_its_distribution",
    "tests/test_engine.py::test_two_runs_writing_at_once_are_both_recorded",
]

#: A test counts for a function only when it reaches it through at most this many frames of the core
#: (mutmut's max_stack_depth): unit tests and short paths, not every pipeline run that passes by.
MAX_STACK_DEPTH = 8


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def prepare() -> None:
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".flowyml", "artifacts")
    shutil.copytree(ROOT / "core" / "src", WORK / "src", ignore=ignore)
    # The tests run inside mutmut's copy (WORK/mutants) and find what they read by the repository's layout.
    for rel in COPY:
        source = ROOT / rel
        if source.is_dir():
            shutil.copytree(source, WORK / rel, ignore=ignore)
        elif source.is_file():
            (WORK / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, WORK / rel)
    # Exists before mutmut starts: an import path entry missing at start-up is cached as absent by the
    # import system, and the tests would then import the core from wherever else it is installed.
    (WORK / "mutants" / "src").mkdir(parents=True)
    tests = [t for t in TESTS if (ROOT / t).exists()]
    pytest_settings = (ROOT / "pyproject.toml").read_text(encoding="utf-8").split("[tool.pytest.ini_options]", 1)[1].split("\n[", 1)[0]
    (WORK / "pyproject.toml").write_text(
        "[tool.pytest.ini_options]" + pytest_settings + "\n"
        "[tool.mutmut]\n"
        'source_paths = ["src/"]\n'
        f"only_mutate = {_toml_list(MUTATE)}\n"
        f"also_copy = {_toml_list(COPY)}\n"
        f"pytest_add_cli_args_test_selection = {_toml_list(tests)}\n"
        # -m "not slow": no real server; -p no:randomly: mutmut maps tests to mutants, order must not matter anyway
        f"pytest_add_cli_args = {_toml_list(['-p', 'no:randomly', '-p', 'no:cacheprovider', '-m', 'not slow', *(f'--deselect={t}' for t in SLOW)])}\n"
        f"max_stack_depth = {MAX_STACK_DEPTH}\n"
        # The wording of a hint is prose, not a decision: lines holding a hint= are not mutated.
        f"do_not_mutate_patterns = {_toml_list(NOT_MUTATED)}\n"
        "use_git_change_detection = false\n"
        "timeout_multiplier = 10.0\n",
        encoding="utf-8",
    )


def refresh_tests() -> list[str]:
    """Copy the current tests over the last run's; return the mutants to run again (survivors, no tests)."""
    from mutmut.stats import status_by_exit_code

    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".flowyml", "artifacts")
    for rel in [*COPY[:-1], *TESTS]:  # not core/src: the mutants stay those of the last run
        source = ROOT / rel
        for base in (WORK, WORK / "mutants"):
            if source.is_dir():
                shutil.copytree(source, base / rel, ignore=ignore, dirs_exist_ok=True)
            elif source.is_file():
                (base / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, base / rel)
    config = (WORK / "pyproject.toml").read_text(encoding="utf-8").splitlines()
    tests = [t for t in TESTS if (ROOT / t).exists()]
    config = [f"pytest_add_cli_args_test_selection = {_toml_list(tests)}" if line.startswith("pytest_add_cli_args_test_selection") else line for line in config]
    for base in (WORK, WORK / "mutants"):
        (base / "pyproject.toml").write_text("\n".join(config) + "\n", encoding="utf-8")
    (WORK / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)  # map the new tests to mutants too
    again = []
    for meta in sorted((WORK / "mutants" / "src").rglob("*.meta")):
        for name, code in json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {}).items():
            if any(fnmatch.fnmatchcase(name, p) for p in SELECT) and status_by_exit_code.get(code) in ("survived", "no tests", "suspicious"):
                again.append(name)
    return again


def environment() -> dict[str, str]:
    env = dict(os.environ)
    # The plugins come from this checkout; the core must NOT (mutmut puts its mutated copy first).
    # The tests' own process imports the mutated copy (mutmut puts it first on sys.path). A `flowyml`
    # subprocess imports this checkout's unmutated core: mutmut's trampolines cannot run outside its
    # own process, so only in-process tests kill mutants (and only they are mapped to mutants).
    plugin_src = [str(p) for p in sorted((ROOT / "plugins").glob("*/src"))]
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "core" / "src"), *plugin_src])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def equivalents() -> dict[str, str]:
    found: dict[str, str] = {}
    path = HERE / "equivalent.txt"
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            name, _, reason = line.partition("#")
            if name.strip():
                found[name.strip()] = reason.strip()
    return found


def report() -> int:
    from mutmut.stats import status_by_exit_code

    counts: dict[str, int] = {}
    survivors: list[str] = []
    equivalent = equivalents()
    seen_equivalent = 0
    for meta in sorted((WORK / "mutants" / "src").rglob("*.meta")):
        data = json.loads(meta.read_text(encoding="utf-8"))
        for name, code in data.get("exit_code_by_key", {}).items():
            if not any(fnmatch.fnmatchcase(name, pattern) for pattern in SELECT):
                continue
            status = status_by_exit_code.get(code, "not checked") if code is not None else "not checked"
            if status == "survived" and name in equivalent:
                status = "equivalent"
                seen_equivalent += 1
            counts[status] = counts.get(status, 0) + 1
            if status in ("survived", "suspicious", "no tests"):
                survivors.append(f"{status:11} {name}")
    killed = counts.get("killed", 0) + counts.get("timeout", 0) + counts.get("segfault", 0)
    scored = killed + counts.get("survived", 0) + counts.get("no tests", 0) + counts.get("suspicious", 0)
    for line in survivors:
        print(line)
    print(json.dumps(counts, sort_keys=True))
    score = killed / scored if scored else 0.0
    print(f"mutation score: {killed}/{scored} = {score:.1%} of non-equivalent mutants killed ({seen_equivalent} equivalent)")
    (WORK / "score.json").write_text(json.dumps({"counts": counts, "killed": killed, "scored": scored, "score": score, "survivors": survivors}, indent=1))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--report", action="store_true", help="only recount the last run")
    parser.add_argument(
        "--rerun", action="store_true",
        help="run the last run's survivors (and mutants no test reached) again, against the current tests; "
        "the source must not have changed since that run",
    )
    parser.add_argument("patterns", nargs="*", help="mutant name globs (default: the whole selection)")
    args = parser.parse_args()
    if not args.report:
        mutmut = shutil.which("mutmut") or str(Path(sys.executable).with_name("mutmut"))
        if args.rerun:
            names = refresh_tests()
            if not names:
                return report()
        else:
            prepare()
            names = args.patterns or SELECT
        cmd = [mutmut, "run", "--max-children", str(args.max_children), *names]
        done = subprocess.run(cmd, cwd=WORK, env=environment())
        if done.returncode != 0:
            print(f"mutmut exited with {done.returncode}", file=sys.stderr)
            return done.returncode
    return report()


if __name__ == "__main__":
    raise SystemExit(main())
