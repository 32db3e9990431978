"""Id arguments never silently mean "everything": an empty, blank or unknown id (and a
``rollback --to`` that is not applied) is exit 2, one line naming the argument and the
id, before any confirmation, and the tracking table and journal stay as they were.
``--steps 0`` (nothing to run) is refused too. The library API raises BadMigrationId,
a ValueError."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from switchy_guard.errors import BadMigrationId, ConfigError
from switchy_guard.model.plan import Steps, UpTo
from switchy_guard.runtime.recovery import adopt_checksums, mark, retry
from switchy_guard.runtime.runner import Migrator
from tests.cli_helpers import run_cli, write_migration

A = "2024-01-01-000000_create_a"
B = "2024-01-02-000000_create_b"

#: (verb and flag before the id, the argument the error names)
ID_ARGUMENTS = [
    (("migrate", "--to"), "--to"),
    (("migrate", "--up-to"), "--up-to"),
    (("plan", "--to"), "--to"),
    (("plan", "--up-to"), "--up-to"),
    (("migrate", "--dry-run", "--to"), "--to"),
    (("rollback", "--to"), "--to"),
    (("rollback", "--plan", "--to"), "--to"),
    (("rollback", "--dry-run", "--to"), "--to"),
    (("retry",), "retry"),
    (("mark-completed",), "mark-completed"),
    (("mark-failed",), "mark-failed"),
    (("adopt-checksums",), "adopt-checksums"),
]
BAD_IDS = ["", "   ", "2099-01-01-000000_nope", A + " "]


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, str]:
    """A applied, B pending (B deletes every row: a gate would have much to say)."""
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\nINSERT INTO a VALUES (1);\n",
                    "DROP TABLE a;\n")
    write_migration(root, B, "DELETE FROM a;\n", "SELECT 1;\n")
    url = f"sqlite:///{tmp_path / 'app.db'}"
    assert run_cli("migrate", "--to", A, "-m", root, "-d", url).code == 0
    assert snapshot(url)[1] == 1  # the journal holds that run: a refusal would add one
    return root, url


def snapshot(url: str) -> tuple[list[tuple[object, ...]], int, list[str]]:
    """The tracking rows, the audit journal's length and the tables (the journal has
    the first migrate's entry: a refusal would add one)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = [tuple(r) for r in conn.execute(text(
                "SELECT id, status, up_checksum, down_checksum FROM __switchy_migrations "
                "ORDER BY id"))]
            journal = conn.execute(text(
                "SELECT COUNT(*) FROM __switchy_migrations_audit")).scalar_one()
            names = sorted(r[0] for r in conn.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'table'")))
        return rows, int(journal), names
    finally:
        engine.dispose()


@pytest.mark.parametrize("bad", BAD_IDS, ids=["empty", "blank", "unknown", "trailing-space"])
@pytest.mark.parametrize(("words", "argument"), ID_ARGUMENTS,
                         ids=[" ".join(w) for w, _ in ID_ARGUMENTS])
@pytest.mark.parametrize("env", ["development", "production"])
def test_a_bad_id_is_exit_2_naming_it_and_changes_nothing(
        project: tuple[Path, str], words: tuple[str, ...], argument: str, bad: str,
        env: str) -> None:
    root, url = project
    before = snapshot(url)
    # --force: development's recovery verbs would otherwise ask at a terminal; production
    # gets no --confirm: the id is refused before anyone is asked anything.
    force = ("--force",) if env == "development" and words[0] not in ("plan",) else ()
    result = run_cli(*words, bad, "-m", root, "-d", url, "--env", env, *force)
    assert result.code == 2, (result.code, result.err)
    assert len(result.error_lines) == 1, result.err
    line = result.error_lines[0]
    assert line.startswith(f"error: {argument}: ") and repr(bad) in line, line
    assert "Traceback" not in result.err
    assert snapshot(url) == before


@pytest.mark.parametrize("verb", [("migrate",), ("plan",), ("rollback",),
                                  ("rollback", "--plan")])
def test_steps_zero_is_refused(project: tuple[Path, str], verb: tuple[str, ...]) -> None:
    root, url = project
    before = snapshot(url)
    result = run_cli(*verb, "--steps", "0", "-m", root, "-d", url)
    assert result.code == 2
    assert result.error_lines == [
        f"error: argument --steps: must be 1 or more (see: switchy-guard {verb[0]} --help)"]
    assert snapshot(url) == before


def test_rollback_to_the_pending_migration_is_refused(project: tuple[Path, str]) -> None:
    root, url = project
    before = snapshot(url)
    result = run_cli("rollback", "--to", B, "-m", root, "-d", url)
    assert result.code == 2
    assert result.error_lines == [f"error: --to: migration {B!r} is pending, not applied: "
                                  "rollback --to keeps an applied migration"]
    assert snapshot(url) == before


@pytest.mark.parametrize("bad", BAD_IDS[:3])
def test_the_library_refuses_bad_ids_as_value_errors(project: tuple[Path, str],
                                                     bad: str) -> None:
    root, url = project
    before = snapshot(url)
    migrator = Migrator(root, url)
    calls = [
        lambda: migrator.migrate(UpTo(bad)),
        lambda: migrator.plan(UpTo(bad)),
        lambda: migrator.rollback(UpTo(bad)),
        lambda: migrator.plan_rollback(UpTo(bad)),
        lambda: mark(migrator, bad, "completed"),
        lambda: retry(migrator, bad),
        lambda: adopt_checksums(migrator, [bad]),
    ]
    for call in calls:
        with pytest.raises(BadMigrationId) as caught:
            call()
        assert isinstance(caught.value, ValueError) and caught.value.exit_code == 2
        assert caught.value.migration_id == bad
    with pytest.raises(BadMigrationId, match="is pending, not applied"):
        migrator.rollback(UpTo(B))
    for n in (0, -1):
        with pytest.raises(ConfigError, match="--steps: must be 1 or more"):
            migrator.migrate(Steps(n))
        with pytest.raises(ConfigError, match="--steps: must be 1 or more"):
            migrator.rollback(Steps(n))
    migrator.engine.dispose()
    assert snapshot(url) == before
