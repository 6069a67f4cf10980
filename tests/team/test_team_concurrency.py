"""A team running one project at once: many processes, one metadata database, 5 rounds.

- **PostgreSQL** (what a team shares across machines): 4 separate checkouts of the project, each
  pointing ``metadata.url`` at ONE database, 2 processes per checkout.
- **SQLite** (one machine): 8 processes in one checkout, on the embedded default database.

Every round starts all processes at once (they meet at a barrier before their runs start), half of
them through ``flowyml run``, half through ``python pipeline.py``. Afterwards: no process failed,
and the database holds every run exactly once with all of its steps, artifacts, lineage, route
events and tracker rows, and a model version numbered 1..N with no number given twice
(see :func:`team.race.audit`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from team.race import Team, audit

pytestmark = pytest.mark.slow

ROUNDS = 5
PROCESSES = 8


def _race(team: Team, url: str) -> None:
    per_checkout = PROCESSES // len(team.checkouts)
    for number in range(ROUNDS):
        team.round(number, per_checkout)
        failures = team.failures()
        assert not failures, f"round {number}: {len(failures)} of {len(team.launches)} runs failed:\n" + "\n".join(failures)
    problems = audit(url, [launch.token for launch in team.launches])
    assert not problems, f"{len(problems)} problems in the metadata after {len(team.launches)} runs:\n" + "\n".join(problems)


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_eight_processes_share_one_metadata_database(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if engine == "postgresql":
        url = request.getfixturevalue("postgres_url")  # a fresh database in the session's cluster
        team = Team.create(tmp_path, checkouts=4, metadata_url=url)
    else:
        team = Team.create(tmp_path, checkouts=1, metadata_url=None)  # the embedded .flowyml/metadata.db
        url = f"sqlite:///{team.checkouts[0] / '.flowyml' / 'metadata.db'}"
    _race(team, url)
