"""An interrupted save leaves no staging folder once the stack closes, wherever the interrupt lands."""

from __future__ import annotations

import pytest
from support.stacks import active_stack

from flowyml import pipeline, step
from flowyml.serialization.writer import ArtifactWriter


@step(cache=False)
def tiny() -> int:
    return 1


@pipeline
def one_step() -> None:
    tiny()


def test_a_folder_taken_just_before_an_interrupt_is_removed_when_the_stack_closes(project, monkeypatch) -> None:
    """Bug caught: Ctrl-C between a save taking its staging folder and the save's own cleanup (the random-order
    run with seed 6006 found one such folder left after `flowyml run` exited 130)."""
    one_step.run()
    stack = active_stack(project.path)
    store = stack.artifact_store.component
    stack.artifact_store.save("k/first", ArtifactWriter(1, {"run_id": "r"}))  # leaves a spare folder
    taken = store._take_staging

    def interrupted() -> object:
        taken()  # the spare, now in no list
        taken()  # and a new one
        raise KeyboardInterrupt

    monkeypatch.setattr(store, "_take_staging", interrupted)
    with pytest.raises(KeyboardInterrupt):
        stack.artifact_store.save("k/second", ArtifactWriter(2, {"run_id": "r"}))
    staging = project.path / "artifacts" / ".staging"
    assert len(list(staging.iterdir())) == 2
    stack.close()
    assert list(staging.iterdir()) == []
