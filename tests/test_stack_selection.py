"""Choosing the stack: precedence, use_stack across threads and asyncio tasks, resolution at run time."""

from __future__ import annotations

import asyncio
import threading

import pytest

from flowyml import pipeline, step
from flowyml.config.loader import load_project, resolve_stack_name
from flowyml.errors import StackNotFoundError
from flowyml.plugins import use_stack
from flowyml.stacks.selection import current_stack_override

THREE = """
stacks:
  one:   { orchestrator: { type: local }, artifact_store: { type: local, path: ./a1 } }
  two:   { orchestrator: { type: local }, artifact_store: { type: local, path: ./a2 } }
  three: { orchestrator: { type: local }, artifact_store: { type: local, path: ./a3 } }
active_stack: one
"""


@step
def produce() -> int:
    return 7


@pipeline
def tiny() -> None:
    produce()


@pytest.fixture
def three(project):
    project.write_config(THREE)
    return project


def chosen(explicit: str | None = None) -> tuple[str, str]:
    choice = resolve_stack_name(load_project(), explicit)
    return choice.name, choice.reason


def test_precedence(three, monkeypatch) -> None:
    assert chosen() == ("one", "file")
    monkeypatch.setenv("FLOWYML_STACK", "two")
    assert chosen() == ("two", "env")
    with use_stack("three"):
        assert chosen() == ("three", "use_stack")
        assert chosen("one") == ("one", "flag")


def test_nested_use_stack_restores_outer(three) -> None:
    with use_stack("two"):
        with use_stack("three"):
            assert current_stack_override() == "three"
        assert current_stack_override() == "two"
    assert current_stack_override() is None


def test_exception_inside_block_passes_unchanged_and_restores(three) -> None:
    error = KeyError("mine")
    with pytest.raises(KeyError) as info, use_stack("two"):
        raise error
    assert info.value is error
    assert current_stack_override() is None


def test_unknown_stack_fails_at_once_listing_stacks(three) -> None:
    with pytest.raises(StackNotFoundError, match="one, three, two"), use_stack("four"):
        pass


def test_threads_do_not_see_each_others_stack(three) -> None:
    seen: dict[str, str | None] = {}
    barrier = threading.Barrier(2)

    def worker(name: str) -> None:
        with use_stack(name):
            barrier.wait()
            seen[name] = current_stack_override()

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("two", "three")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"two": "two", "three": "three"}


def test_asyncio_tasks_keep_their_own_stack(three) -> None:
    async def task(name: str) -> str | None:
        with use_stack(name):
            await asyncio.sleep(0.01)
            return current_stack_override()

    async def main() -> list[str | None]:
        return await asyncio.gather(task("two"), task("three"))

    assert asyncio.run(main()) == ["two", "three"]


def test_stack_resolved_when_the_run_starts_not_when_built(three) -> None:
    built = tiny  # built outside any block
    with use_stack("two"):
        run = built.run()
    assert run.stack_name == "two"
    assert "a2" in run.artifact("produce").uri
    assert tiny.run(stack="three").stack_name == "three"
    assert tiny.run().stack_name == "one"


def test_run_record_stores_the_stack_used(three, monkeypatch) -> None:
    from flowyml.metadata.store import MetadataStore

    monkeypatch.setenv("FLOWYML_STACK", "three")
    run = tiny.run()
    row = MetadataStore.for_project(three.path).get_run(run.run_id)
    assert (row["stack_name"], row["stack_reason"]) == ("three", "env")
