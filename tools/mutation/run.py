"""Mutation testing of the core's decision paths (``nox -s mutation``, or run this file directly).

The decision modules are split into groups, each mutated and run against the tests that cover it
(``GROUPS`` below): running every engine test against every mutant of the config loader would take
hours, the config tests alone take seconds.

mutmut derives a mutant's module from its path below the folder it runs in, and only strips a
leading ``src/``; the core lives in ``core/src``. So each group runs in a scratch folder
(``.nox/mutation-work/<group>``) holding a copy of ``core/src``, of the tests and of what they
read, and a ``pyproject.toml`` generated from the settings below.

    python tools/mutation/run.py                      # every group, 2 workers
    python tools/mutation/run.py --group routing      # one group
    python tools/mutation/run.py --report             # only recount the last run
    python tools/mutation/run.py --rerun              # the last run's survivors, against the current tests

The score printed at the end is killed / (checked - equivalent). Equivalent mutants are those named,
each with its reason, in ``equivalent.txt`` beside this file, and those matching a rule of
:func:`equivalent_by_rule` (both listed in docs/development.md).
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / ".nox" / "mutation-work"
HERE = Path(__file__).resolve().parent

D = "tests/test_decision_paths.py::"

#: group -> (files to mutate below core/, mutant name globs to run, the tests that cover them)
GROUPS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "routing": (
        ["src/flowyml/routing/decisions.py", "src/flowyml/routing/paths.py", "src/flowyml/routing/validate.py", "src/flowyml/routing/plan.py"],
        ["flowyml.routing.decisions.*", "flowyml.routing.paths.*", "flowyml.routing.validate.*", "flowyml.routing.plan.*"],
        [
            "tests/test_routing_rules.py",
            "tests/test_routing_paths.py",
            "tests/test_routing_validation.py",
            *(D + t for t in (
                "test_decisions_without_a_name_use_placeholders_and_say_false",
                "test_named_puts_the_registered_name_and_version_into_the_suggested_command",
                "test_a_metric_exactly_at_its_min_threshold_deploys", "test_a_metric_exactly_at_its_max_threshold_deploys",
                "test_min_and_max_thresholds_are_both_applied", "test_manual_with_thresholds_never_deploys",
                "test_on_approval_with_thresholds_met_still_waits", "test_deploy_disabled_never_deploys_even_with_met_thresholds",
                "test_a_boolean_metric_is_not_a_number", "test_integer_thresholds_are_numbers", "test_valid_configs_pass_validation",
                "test_a_store_name_alias_routes_a_real_run", "test_routed_uris_fill_name_version_and_artifact_name",
                "test_unrouted_outputs_use_the_default_layout", "test_route_plan_follows_declared_types_per_output",
            )),
        ],
    ),
    "config": (
        ["src/flowyml/config/*", "src/flowyml/stacks/selection.py"],
        ["flowyml.config.*", "flowyml.stacks.selection.*"],
        [
            "tests/test_config.py",
            "tests/test_yaml_reader.py",
            "tests/test_yaml_documents.py",
            "tests/test_config_messages.py",
            "tests/reliability/test_config_reading.py",  # the YAML reader (config/yaml_reader.py)
            # ...but not its tests that only run `flowyml` in a subprocess (the unmutated core): they
            # cannot kill a mutant, and take most of the group's test time
            *(f"--deselect=tests/reliability/test_config_reading.py::{t}" for t in (
                "test_the_cli_names_the_byte_offset_of_a_file_that_is_not_utf8",
                "test_the_cli_refuses_hostile_yaml_in_bounded_memory",
                "test_a_type_that_is_not_a_name_is_refused_by_every_command",
                "test_one_invalid_stack_does_not_block_the_others",
                "test_stack_check_all_validates_every_stack",
                "test_stack_show_lists_option_problems",
                "test_route_plan_checks_option_types",
            )),
            "tests/test_interpolation.py",
            "tests/test_config_scalars.py",  # config/yaml_reader.py: tags, dates, quoting
            "tests/test_config_decoding.py",  # config/source.py: bytes that are not UTF-8, no file, load_project(start)
            "tests/test_stack_building.py",  # config/schema.py: what build_project hands each section, with lines and file
            "tests/test_step_settings_sections.py",  # config/step_settings.py
            "tests/test_metadata_setting_section.py",  # config/metadata_setting.py
            "tests/test_step_settings.py",  # the same through flowyml.yaml and a run...
            *(f"--deselect=tests/test_step_settings.py::{t}" for t in (  # ...but not those that mostly wait on a run or a CLI
                "test_runs_show_lists_the_attempts",
                "test_a_step_past_its_timeout_fails_and_the_run_does_not_wait_for_it",
                "test_route_plan_checks_the_step_names_under_steps",
            )),
            "tests/test_stack_selection.py",
            "tests/test_routing_rules.py",
            "tests/test_routing_validation.py",
            *(D + t for t in ("test_a_boolean_threshold_is_refused", "test_integer_thresholds_are_numbers", "test_valid_configs_pass_validation")),
        ],
    ),
    "serialization": (
        ["src/flowyml/serialization/artifact_io.py", "src/flowyml/serialization/hashing.py", "src/flowyml/serialization/digests.py"],
        ["flowyml.serialization.artifact_io.*", "flowyml.serialization.hashing.*", "flowyml.serialization.digests.*"],
        [
            "tests/test_serialization.py",
            "tests/reliability/test_file_hash_algorithms.py",
            "tests/test_artifacts.py",
            "tests/test_hashing_file.py",
            "tests/test_preallocate.py",  # write_buffer's reservation: where and how much
            D + "test_a_manifest_claiming_safe_does_not_open_the_pickle_gate",
            D + "test_a_safe_format_loads_without_a_recorded_hash",
        ],
    ),
    "cache": (
        ["src/flowyml/runner/orchestration.py"],
        [
            "flowyml.runner.orchestration.x__canonical__mutmut_*",
            "flowyml.runner.orchestration.xǁOrchestratedRunǁ_cache_key__mutmut_*",
            "flowyml.runner.orchestration.xǁOrchestratedRunǁ_stack_fingerprint__mutmut_*",
        ],
        ["tests/test_engine.py::" + t for t in (
            "test_cache_hits_on_same_code_params_and_inputs",
            "test_changed_parameter_reruns_and_changed_input_reruns_downstream",
            "test_changed_code_reruns_the_step",
            "test_cache_can_be_disabled_per_run_and_per_step",
            "test_cache_key_follows_what_the_step_depends_on",
            "test_the_canonical_form_of_constants",
        )],
    ),
    "metadata": (
        ["src/flowyml/metadata/store.py"],
        ["flowyml.metadata.store.*"],
        [
            "tests/test_metadata.py",
            "tests/test_query_plans.py",  # every listing and lookup reads through an index
            "tests/test_step_transactions.py",  # a step's rows in one commit, batches, the `running` announcement, the WAL bound
            "tests/reliability/test_pending_records.py",  # held step records: kills, marks, edits, forks, close and exit
            "tests/test_step_settings.py::test_retries_run_the_step_again_and_record_every_attempt",  # step attempts
            "tests/test_metadata_store_api.py",  # each method of the store, on both engines
            # the engine tests, on both engines (one PostgreSQL cluster for the group: NEEDS_POSTGRES)
            *("tests/test_metadata_engines.py::" + t for t in (
                "test_runs_steps_and_the_cache_round_trip",
                "test_artifacts_lineage_events_and_deletion",
                "test_a_transaction_is_all_or_nothing",
                "test_model_versions_are_numbered_once_under_concurrent_registration",
                "test_a_relative_sqlite_url_is_inside_the_project",
                "test_an_empty_url_falls_back_to_the_embedded_database",
                "test_a_version_2_file_is_upgraded_on_open_keeping_its_rows",
                "test_a_newer_database_is_refused_on_both_engines",
                "test_a_host_that_does_not_exist_and_a_missing_database_are_named",
            )),
            "tests/reliability/test_crash_metadata.py",  # migration, heartbeat, effective status
            # ...but not the race of 8 processes opening a fresh project: they import the unmutated core
            "--deselect=tests/reliability/test_crash_metadata.py::test_eight_processes_open_a_fresh_project_at_once_20_times",
            # ...but not the tests that run a child Python (mutmut's trampolines do not start outside its folder)
            "--deselect=tests/reliability/test_pending_records.py::test_a_run_killed_between_commits_keeps_its_completed_steps",
            "--deselect=tests/reliability/test_pending_records.py::test_exiting_commits_what_the_process_holds_and_removes_its_file",
        ],
    ),
    "pending": (
        ["src/flowyml/metadata/pending.py"],
        ["flowyml.metadata.pending.*"],
        [
            "tests/reliability/test_pending_records.py",
            "tests/test_step_transactions.py",
            "tests/test_metadata_store_api.py::test_a_held_step_the_database_cannot_take_is_committed_whole_once_it_can",
            "tests/test_metadata_store_api.py::test_a_held_step_the_database_refuses_is_dropped_naming_it_and_the_others_are_committed",
            # ...but not the tests that run a child Python (mutmut's trampolines do not start outside its folder)
            "--deselect=tests/reliability/test_pending_records.py::test_a_run_killed_between_commits_keeps_its_completed_steps",
            "--deselect=tests/reliability/test_pending_records.py::test_exiting_commits_what_the_process_holds_and_removes_its_file",
        ],
    ),
    "preallocate": (
        ["src/flowyml/serialization/preallocate.py"],
        ["flowyml.serialization.preallocate.*"],
        ["tests/test_preallocate.py", "tests/test_hashing_file.py", "tests/test_npy_writing.py"],
    ),
    "loader": (
        ["src/flowyml/plugins/loader.py"],
        ["flowyml.plugins.loader.*"],
        [
            "tests/test_plugin_loader.py",
            "tests/test_plugin_system.py::test_an_unknown_third_party_type_names_the_entry_point_group",
            "tests/test_plugin_system.py::test_disabling_a_plugin",
            D + "test_a_broken_general_plugin_raises_plugin_load_error_in_process",
        ],
    ),
}

#: group -> modules the group's tests import lazily and slowly, imported once in mutmut's fork server
#: (tools/mutation/mutation_preload.py) instead of in every mutant's process.
PRELOAD: dict[str, list[str]] = {
    "serialization": ["numpy", "pandas", "pyarrow", "pyarrow.parquet", "sklearn.linear_model", "xgboost", "lightgbm", "onnx"],
}

#: Groups whose tests include PostgreSQL cases: one cluster (tests/standins/postgres.py) is started for
#: the group's whole run and every mutant's process uses it (FLOWYML_PG_CLUSTER), instead of each
#: starting its own. Its server's CPU is not in the group's measured CPU (pg_ctl detaches it).
NEEDS_POSTGRES = {"metadata"}

#: Lines not mutated (regular expressions): the wording of a hint is prose, not a decision.
NOT_MUTATED = [r"hint="]

#: What the tests read besides themselves (copied into the scratch folder, then by mutmut into its copy).
COPY = ["tests", "conftest.py", "docs", "mkdocs.yml", "plugins/local/tests", "core/src"]

_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".flowyml", "artifacts")


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def _copy(rel: str, bases: list[Path]) -> None:
    source = ROOT / rel
    for base in bases:
        if source.is_dir():
            shutil.copytree(source, base / rel, ignore=_IGNORE, dirs_exist_ok=True)
        elif source.is_file():
            (base / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, base / rel)


def write_config(work: Path, group: str, *, rerun: bool = False) -> None:
    mutate, _, tests = GROUPS[group]
    pytest_settings = (ROOT / "pyproject.toml").read_text(encoding="utf-8").split("[tool.pytest.ini_options]", 1)[1].split("\n[", 1)[0]
    text = (
        "[tool.pytest.ini_options]" + pytest_settings + "\n"
        "[tool.mutmut]\n"
        'source_paths = ["src/"]\n'
        f"only_mutate = {_toml_list(mutate)}\n"
        f"also_copy = {_toml_list(COPY)}\n"
        f"pytest_add_cli_args_test_selection = {_toml_list(tests)}\n"
        f"pytest_add_cli_args = {_toml_list(['-p', 'no:randomly', '-p', 'no:cacheprovider', '-p', 'mutation_preload', '-m', 'not slow'])}\n"
        f"do_not_mutate_patterns = {_toml_list(NOT_MUTATED)}\n"
        "use_git_change_detection = false\n"
        "timeout_multiplier = 10.0\n"
        # mutmut stops a mutant after (its tests' time + this) x 10 s of wall time. 1 s suits an idle
        # machine; on a loaded one that stops mutants that were only starved of CPU, so --rerun runs
        # the timed-out ones again with 10 s (a mutant that loops forever still ends, and counts as killed).
        f"timeout_constant = {10.0 if rerun else 1.0}\n"
    )
    for base in (work, work / "mutants"):
        if base.is_dir():
            (base / "pyproject.toml").write_text(text, encoding="utf-8")


def prepare(group: str) -> Path:
    work = WORK / group
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    shutil.copytree(ROOT / "core" / "src", work / "src", ignore=_IGNORE)
    for rel in COPY:
        _copy(rel, [work])
    # Exists before mutmut starts: an import path entry missing at start-up is cached as absent by the
    # import system, and the tests would then import the core from wherever else it is installed.
    (work / "mutants" / "src").mkdir(parents=True)
    write_config(work, group)
    return work


def refresh_tests(group: str) -> list[str]:
    """Copy the current tests over the last run's; return the mutants to run again.

    Those are the survivors, the mutants no test reached, the timeouts, and the mutants the last run
    did not get to (stopped): a stopped run can be finished against the current tests this way.
    """
    from mutmut.stats import status_by_exit_code

    work = WORK / group
    for rel in COPY[:-1]:  # not core/src: the mutants stay those of the last run
        _copy(rel, [work, work / "mutants"])
    _refresh_unmutated_source(work, group)
    write_config(work, group, rerun=True)
    (work / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)  # map the new tests to mutants too
    again = []
    for name, code, _ in _results(work, group):
        if code is None or status_by_exit_code.get(code) in ("survived", "no tests", "suspicious", "timeout"):
            again.append(name)
    return again


def _refresh_unmutated_source(work: Path, group: str) -> None:
    """Bring the core's modules the group does not mutate up to date (the current tests may import new ones).

    The mutated modules stay those of the last run; one that changed since is named (its mutants
    are of the old text: do a full run of the group when the change is more than cosmetic).
    """
    mutate = GROUPS[group][0]
    for path in sorted((ROOT / "core" / "src").rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        rel = path.relative_to(ROOT / "core")
        if any(fnmatch.fnmatchcase(rel.as_posix(), pattern) for pattern in mutate):
            if not (work / rel).is_file() or (work / rel).read_bytes() != path.read_bytes():
                print(f"note: {rel} changed since the last full run of {group}; its mutants are of the old text", flush=True)
            continue
        for base in (work, work / "mutants"):
            (base / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, base / rel)


def environment(group: str) -> dict[str, str]:
    env = dict(os.environ)
    env["FLOWYML_MUTATION_PRELOAD"] = ",".join(PRELOAD.get(group, []))
    # The tests' own process imports the mutated copy (mutmut puts it first on sys.path). A `flowyml`
    # subprocess imports this checkout's unmutated core: mutmut's trampolines cannot run outside its
    # own process, so only in-process tests kill mutants (and only they are mapped to mutants).
    plugin_src = [str(p) for p in sorted((ROOT / "plugins").glob("*/src"))]
    # HERE: the preload plugin (pytest -p mutation_preload)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "core" / "src"), *plugin_src, str(HERE)])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@contextlib.contextmanager
def _postgres_for(group: str) -> Iterator[dict[str, str]]:
    """The environment that points ``group``'s tests at one running PostgreSQL cluster (none needed: {})."""
    if group not in NEEDS_POSTGRES:
        yield {}
        return
    sys.path.insert(0, str(ROOT / "tests"))
    from standins.postgres import CLUSTER_ENV, start_postgres_cluster

    cluster = start_postgres_cluster()
    try:
        yield {CLUSTER_ENV: cluster.spec}
    finally:
        cluster.stop()


def equivalents() -> dict[str, str]:
    found: dict[str, str] = {}
    path = HERE / "equivalent.txt"
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            name, _, reason = line.partition("#")
            if name.strip():
                found[name.strip()] = reason.strip()
    return found


_SQL = re.compile(r"\b(select|insert|update|delete|from|where|join|order by|values|pragma|begin|commit|rollback)\b|=\?", re.I)


def _diff(work: Path, name: str, source: str) -> str:
    """The mutant's diff (what ``mutmut show NAME`` prints), read in process: one mutmut start per name is slow."""
    from mutmut.configuration import reset_config
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    here = Path.cwd()
    os.chdir(work)
    try:
        reset_config()
        return get_diff_for_mutant(name, path=Path(source))
    except Exception as exc:  # an unreadable mutant is listed as a survivor, with why
        return f"(no diff: {type(exc).__name__}: {exc})"
    finally:
        os.chdir(here)


def equivalent_by_rule(diff: str, name: str) -> str | None:
    """A reason when a survivor is equivalent by one of the rules in docs/development.md, else None."""
    removed = [line[1:] for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    if removed and len(removed) == len(added) and all(a.lower() == r.lower() for a, r in zip(added, removed, strict=True)):
        text = " ".join(removed)
        if _SQL.search(text) or re.search(r"\b(r|row|rows\[0\])\[\"", text):
            return "SQL keywords, SQLite identifiers and sqlite3.Row keys are case-insensitive"
    if (
        removed and len(removed) == len(added) and all(a.lower() == r.lower() for a, r in zip(added, removed, strict=True))
        and re.search(r'metadata(\.get\(|\[)"', " ".join(removed))
    ):
        return "a distribution's metadata fields are e-mail headers: their names are case-insensitive"
    if "xǁOrchestratedRunǁ_cache_key" in name and len(removed) == 1 == len(added):
        key = re.compile(r'^\s*"([A-Za-z_]+)": ')
        if key.match(removed[0]) and key.match(added[0]) and key.sub("", removed[0]) == key.sub("", added[0]):
            return "renames a field of the hashed cache-key document: every key changes alike, hits and misses stay the same"
    return None


def _results(work: Path, group: str) -> list[tuple[str, int | None, str]]:
    """(mutant name, exit code, source file below the work folder) of the group's selected mutants."""
    _, select, _ = GROUPS[group]
    found = []
    for meta in sorted((work / "mutants" / "src").rglob("*.meta")):
        source = meta.relative_to(work / "mutants").as_posix()[: -len(".meta")]
        for name, code in json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {}).items():
            if any(fnmatch.fnmatchcase(name, p) for p in select):
                found.append((name, code, source))
    return found


def report(groups: list[str]) -> int:
    from mutmut.stats import status_by_exit_code

    counts: dict[str, int] = {}
    survivors: list[str] = []
    equivalent = equivalents()
    by_rule: list[str] = []
    per_group = {}
    for group in groups:
        work = WORK / group
        if not (work / "mutants").is_dir():
            continue
        mine: dict[str, int] = {}
        for name, code, source in _results(work, group):
            status = status_by_exit_code.get(code, "not checked") if code is not None else "not checked"
            if status == "survived":
                diff = _diff(work, name, source)
                reason = equivalent.get(name) or equivalent_by_rule(diff, name)
                if reason:
                    status = "equivalent"
                    by_rule.append(f"{name}: {reason}")
                else:
                    survivors.append(f"survived    {name}\n" + "\n".join("      " + line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")))
            elif status in ("no tests", "suspicious"):
                survivors.append(f"{status:11} {name}")
            counts[status] = counts.get(status, 0) + 1
            mine[status] = mine.get(status, 0) + 1
        per_group[group] = mine
    killed = counts.get("killed", 0) + counts.get("timeout", 0) + counts.get("segfault", 0)
    scored = killed + counts.get("survived", 0) + counts.get("no tests", 0) + counts.get("suspicious", 0)
    for line in survivors:
        print(line)
    for group, mine in per_group.items():
        print(f"{group:14} {json.dumps(mine, sort_keys=True)}")
    print(json.dumps(counts, sort_keys=True))
    score = killed / scored if scored else 0.0
    print(f"mutation score: {killed}/{scored} = {score:.1%} of non-equivalent mutants killed ({counts.get('equivalent', 0)} equivalent)")
    timings_path = WORK / "timings.json"
    timings = json.loads(timings_path.read_text(encoding="utf-8")) if timings_path.is_file() else {}
    full = {g: timings[g] for g in groups if g in timings}
    if full:
        for group, t in full.items():
            print(f"{group:14} {t['wall_s']:7.0f} s wall  {t['cpu_s']:7.0f} s CPU  load {t['load_avg_5min'][0]}..{t['load_avg_5min'][1]}")
        cpu = sum(t["cpu_s"] for t in full.values())
        print(f"full run ({', '.join(full)}): {cpu:.0f} s CPU -> about {cpu / 2 / 60:.0f} min on an idle 2-core machine; {sum(t['wall_s'] for t in full.values()) / 60:.0f} min wall here")
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "score.json").write_text(
        json.dumps({"counts": counts, "per_group": per_group, "killed": killed, "scored": scored, "score": score, "survivors": survivors, "equivalent": by_rule, "timings": full}, indent=1)
    )
    return 0


def _verdicts(work: Path) -> dict[Path, dict[str, int | None]]:
    """Every mutant's exit code, per ``.meta`` file of the group's folder."""
    return {meta: json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {}) for meta in (work / "mutants" / "src").rglob("*.meta")}


def _restore_verdicts(work: Path, kept: dict[Path, dict[str, int | None]], rerun: set[str]) -> None:
    """Put back the verdicts mutmut dropped but did not recompute.

    A rerun changes the group's test selection (new test files), and mutmut then forgets every
    mutant's verdict, although it runs only the named ones again. The others keep their last
    verdict: against the last run's tests, a subset of the current ones.
    """
    for meta, old in kept.items():
        if not meta.is_file():
            continue
        data = json.loads(meta.read_text(encoding="utf-8"))
        codes = data.get("exit_code_by_key", {})
        for name, code in old.items():
            if codes.get(name) is None and code is not None and name not in rerun:
                codes[name] = code
        data["exit_code_by_key"] = codes
        meta.write_text(json.dumps(data), encoding="utf-8")


def _record_timing(group: str, timing: dict[str, Any], *, resumed: bool = False) -> None:
    """Keep each group's last full run's timing (and its last rerun's) in ``timings.json``.

    A resumed run adds its times to the run it finishes.
    """
    path = WORK / "timings.json"
    timings = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    key = group + (" (rerun)" if timing["rerun"] else "")
    earlier = timings.get(key)
    if not resumed and not timing["rerun"]:
        timings.pop(group + " (rerun)", None)  # a new full run: the last one's rerun no longer applies
    if resumed and earlier:
        timing["wall_s"] = round(earlier["wall_s"] + timing["wall_s"], 1)
        timing["cpu_s"] = round(earlier["cpu_s"] + timing["cpu_s"], 1)
        loads = earlier["load_avg_5min"] + timing["load_avg_5min"]
        timing["load_avg_5min"] = [min(loads), max(loads)]
        timing["resumed"] = earlier.get("resumed", 0) + 1
    timings[key] = timing
    path.write_text(json.dumps(timings, indent=1, sort_keys=True), encoding="utf-8")


def _mutmut() -> str:
    return shutil.which("mutmut") or str(Path(sys.executable).with_name("mutmut"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--group", action="append", choices=sorted(GROUPS), help="only these groups (default: all)")
    parser.add_argument("--report", action="store_true", help="only recount the last run")
    parser.add_argument(
        "--rerun", action="store_true",
        help="run the last run's survivors, timeouts, mutants no test reached and mutants it did not get to again, "
        "against the current tests; the source must not have changed since that run",
    )
    parser.add_argument(
        "--resume", action="store_true",
        help="finish a stopped run: only the mutants it did not check (same sources and tests); times add up",
    )
    args = parser.parse_args()
    groups = args.group or list(GROUPS)
    if not args.report:
        for group in groups:
            started = time.monotonic()
            if args.rerun:
                names = refresh_tests(group)
                if not names:
                    continue
            elif args.resume:
                names = [name for name, code, _ in _results(WORK / group, group) if code is None]
                if not names:
                    continue
                _refresh_unmutated_source(WORK / group, group)  # the plugins come from this checkout
            else:
                prepare(group)
                names = GROUPS[group][1]
            work = WORK / group
            kept = _verdicts(work) if args.rerun else {}
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            load_before = os.getloadavg()[1]
            with _postgres_for(group) as extra_env:
                done = subprocess.run(
                    [_mutmut(), "run", "--max-children", str(args.max_children), *names], cwd=work,
                    env={**environment(group), **extra_env},
                )
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            timing = {
                "wall_s": round(time.monotonic() - started, 1),
                # user+sys of mutmut and every process it waited for (its fork server, the mutants' forks)
                "cpu_s": round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 1),
                "load_avg_5min": [round(load_before, 1), round(os.getloadavg()[1], 1)],
                "max_children": args.max_children,
                "rerun": args.rerun,
            }
            _record_timing(group, timing, resumed=args.resume)
            if kept:
                _restore_verdicts(work, kept, set(names))
            print(
                f"group {group}: mutmut exited {done.returncode} after {timing['wall_s']:.0f} s wall, "
                f"{timing['cpu_s']:.0f} s CPU (idle 2-core estimate {timing['cpu_s'] / 2:.0f} s), "
                f"load average {timing['load_avg_5min'][0]}..{timing['load_avg_5min'][1]}",
                flush=True,
            )
            if done.returncode != 0:
                return done.returncode
    return report(groups)


if __name__ == "__main__":
    raise SystemExit(main())
