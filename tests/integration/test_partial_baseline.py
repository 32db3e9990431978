"""mark-all-completed --to ID: a partial baseline, on every database."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchy_guard.runtime.runner import Migrator
from tests.cli_helpers import run_cli, write_migration

IDS = [f"2024-01-0{n}-000000_m{n}" for n in range(1, 5)]


def history(root: Path) -> Path:
    for number, migration_id in enumerate(IDS):
        write_migration(root, migration_id, f"CREATE TABLE t{number} (id INTEGER);\n",
                        f"DROP TABLE t{number};\n")
    return root


def test_to_marks_the_pending_migrations_up_to_and_including_it(
        tmp_path: Path, db_url: str) -> None:
    """The first is applied; --to the third marks the second and third only; migrate
    then runs the fourth alone (the baseline's tables exist, made by hand)."""
    root = history(tmp_path / "m")
    common = ["-m", root, "-d", db_url]
    assert run_cli("migrate", "--to", IDS[0], *common).code == 0
    result = run_cli("mark-all-completed", "--to", IDS[2], "--force", *common)
    assert (result.code, result.out) == (0, "marked 2 migration(s) completed\n"), result.err
    state = Migrator(root, db_url).state()
    assert sorted(state.rows) == IDS[:3]
    assert [e.id for e in state.pending()] == [IDS[3]]
    migrated = run_cli("migrate", *common, "--format", "json")
    assert migrated.code == 0, migrated.err
    assert sorted(Migrator(root, db_url).state().rows) == IDS


@pytest.mark.parametrize("target", ["", "   ", "2099-01-01-000000_nope"])
def test_an_empty_or_unknown_to_exits_2_and_writes_nothing(
        tmp_path: Path, db_url: str, target: str) -> None:
    root = history(tmp_path / "m")
    common = ["-m", root, "-d", db_url]
    assert run_cli("migrate", "--to", IDS[0], *common).code == 0
    result = run_cli("mark-all-completed", "--to", target, "--force", *common)
    assert result.code == 2, result.out + result.err
    assert len(result.error_lines) == 1 and "--to" in result.err
    assert sorted(Migrator(root, db_url).state().rows) == IDS[:1]
