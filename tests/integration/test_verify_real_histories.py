"""verify (and the verbs that reflect columns) on histories as real projects write them:
one set of counts, extension types SQLAlchemy does not know, session settings, a host
application's tables, and verifying only what a pull request adds."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from switchy_guard.verify import verify
from tests.cli_helpers import run_cli, write_migration

A = "2024-01-01-000000_users"
B = "2024-01-02-000000_nickname"
C = "2024-01-03-000000_badge"
D = "2024-01-04-000000_seed"
E = "2024-01-05-000000_broken"
F = "2024-01-06-000000_later"


def scratch_args(db_url: str, db_kind: str) -> list[str]:
    return [] if db_kind == "sqlite" else ["--scratch", db_url]


# -- 1. one set of counts ---------------------------------------------------------------


def every_outcome(root: Path) -> Path:
    """A passes; B's down drops a view it did not make (with differences); C's down
    errors (failed); D has no down (irreversible); E's up errors (failed); F is not
    reached."""
    write_migration(root, A, "CREATE TABLE users (id INTEGER PRIMARY KEY);\n"
                             "CREATE VIEW user_ids AS SELECT id FROM users;\n",
                    "DROP VIEW user_ids;\nDROP TABLE users;\n")
    write_migration(root, B, "ALTER TABLE users ADD COLUMN nickname VARCHAR(30);\n",
                    "ALTER TABLE users DROP COLUMN nickname;\nDROP VIEW user_ids;\n")
    write_migration(root, C, "CREATE TABLE badges (id INTEGER);\n",
                    "DROP TABLE no_such_table;\n")
    write_migration(root, D, "INSERT INTO users (id) VALUES (1);\n")
    write_migration(root, E, "INSERT INTO no_such_table VALUES (1);\n", "SELECT 1;\n")
    write_migration(root, F, "CREATE TABLE later (id INTEGER);\n", "DROP TABLE later;\n")
    return root


def test_the_counts_add_up_in_text_and_json(tmp_path: Path, db_url: str,
                                            db_kind: str) -> None:
    """Before: "2 verified, 3 with differences" of 6, and ``verified`` listed B and C,
    whose round trips differed or failed."""
    root = every_outcome(tmp_path / "m")
    args = ["verify", "-m", root, *scratch_args(db_url, db_kind)]
    data = json.loads(run_cli(*args, "--format", "json").out)
    assert data["counts"] == {"passed": 1, "with_differences": 1, "failed": 2,
                              "irreversible": 1, "not_reached": 1, "applied_up_only": 0,
                              "total": 6}
    assert (data["verified"], data["with_differences"], data["failed"], data["skipped"],
            data["not_reached"]) == ([A], [B], [C, E], [D], [F])
    assert data["failing"] == [B, C, E]
    if db_kind != "sqlite":  # a second scratch database for the text run
        return
    result = run_cli(*args)
    assert result.code == 1
    assert result.out.splitlines()[-1] == (
        "6 migrations: 1 passed, 1 with differences, 2 failed, 1 irreversible (not "
        "verified), 1 not reached")


# -- 2. types SQLAlchemy does not know --------------------------------------------------


def ltree_history(root: Path) -> Path:
    write_migration(root, A, "CREATE EXTENSION IF NOT EXISTS ltree;\n"
                             "CREATE EXTENSION IF NOT EXISTS citext;\n"
                             "CREATE EXTENSION IF NOT EXISTS cube;\n"
                             "CREATE TABLE tree (id INTEGER PRIMARY KEY, path ltree, "
                             "label citext, box cube, up ltree);\n",
                    "DROP TABLE tree;\n")
    # B's down puts back a citext column where the ltree one was: compared by name, it
    # is a difference (as NullType both printed "null", and it passed).
    write_migration(root, B, "ALTER TABLE tree DROP COLUMN up;\n",
                    "ALTER TABLE tree ADD COLUMN up citext;\n")
    for number in range(3):  # a long history: many reflections of the same columns
        write_migration(root, f"2024-02-0{number + 1}-000000_more_{number}",
                        f"ALTER TABLE tree ADD COLUMN p{number} ltree;\n",
                        f"ALTER TABLE tree DROP COLUMN p{number};\n")
    return root


@pytest.mark.only_on("postgres")
def test_unknown_column_types_are_one_note_and_compared_by_name(
        tmp_path: Path, db_url: str) -> None:
    root = ltree_history(tmp_path / "m")
    result = run_cli("verify", "-m", root, "--scratch", db_url)
    assert "Did not recognize type" not in result.err, result.err
    assert result.error_lines == [
        "note: SQLAlchemy does not know the column types cube, ltree; they are compared "
        "by name"], result.err
    assert result.code == 1, result.out
    assert (f"    after down: column tree.up: ltree before up, citext after down"
            in result.out), result.out
    report_lines = [line for line in result.out.splitlines() if line.startswith("✗")]
    assert report_lines == [f"✗ {B}"], result.out


@pytest.mark.only_on("postgres")
def test_rollback_and_its_plan_say_unknown_types_once(tmp_path: Path, db_url: str) -> None:
    root = ltree_history(tmp_path / "m")
    assert run_cli("migrate", "-m", root, "-d", db_url).code == 0
    for args in (["rollback", "--plan", "--steps", "3"], ["rollback", "--steps", "3"],
                 ["plan"]):
        result = run_cli(*args, "-m", root, "-d", db_url)
        assert result.code == 0, result.out + result.err
        assert "Did not recognize type" not in result.err, (args, result.err)
        notes = [line for line in result.error_lines if "does not know" in line]
        assert len(notes) <= 1, (args, result.err)


# -- 4. verify only what is new ---------------------------------------------------------


def linear_history(root: Path, count: int) -> list[str]:
    ids = []
    for number in range(count):
        migration_id = f"2024-03-{number + 1:02d}-000000_t{number}"
        write_migration(root, migration_id, f"CREATE TABLE t{number} (id INTEGER);\n",
                        f"DROP TABLE t{number};\n")
        ids.append(migration_id)
    return ids


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com",
                    "-c", "commit.gpgsign=false", *args], cwd=repo, check=True,
                   capture_output=True)


def test_only_verifies_the_named_ids_and_applies_the_rest_up(
        tmp_path: Path, db_url: str, db_kind: str) -> None:
    root = tmp_path / "m"
    ids = linear_history(root, 4)
    # The last one's down forgets its table: caught, though the others are not verified.
    (root / ids[3] / "down.sql").write_text("SELECT 1;\n")
    result = run_cli("verify", "-m", root, *scratch_args(db_url, db_kind), "--format",
                     "json", "--only", ids[1], ids[3])
    data = json.loads(result.out)
    assert result.code == 1
    assert data["applied_up_only"] == [ids[0], ids[2]]
    assert data["verified"] == [ids[1]] and data["failed"] == [ids[3]]
    assert data["counts"]["applied_up_only"] == 2 and data["counts"]["total"] == 4
    assert data["selection"] == f"--only {ids[1]} {ids[3]}"


def test_only_with_an_unknown_id_exits_2_naming_it(tmp_path: Path, db_url: str,
                                                    db_kind: str) -> None:
    root = tmp_path / "m"
    ids = linear_history(root, 2)
    result = run_cli("verify", "-m", root, *scratch_args(db_url, db_kind),
                     "--only", ids[0], "2099-01-01-000000_nope", "typo")
    assert result.code == 2
    assert result.error_lines == ["error: --only names unknown migration(s): "
                                  "2099-01-01-000000_nope, typo"]


def test_against_verifies_what_is_new_or_changed_since_the_base(
        tmp_path: Path, db_url: str, db_kind: str) -> None:
    repo = tmp_path / "repo"
    root = repo / "migrations"
    ids = linear_history(root, 3)
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    new = linear_history(tmp_path / "more", 5)[3:]
    for migration_id in new:
        (tmp_path / "more" / migration_id).rename(root / migration_id)
    (root / ids[1] / "down.sql").write_text("DROP TABLE t1;\n-- changed in the PR\n")
    result = run_cli("verify", "-m", root, *scratch_args(db_url, db_kind), "--against",
                     "HEAD")
    assert result.code == 0, result.out + result.err
    lines = result.out.splitlines()
    assert lines[0].endswith("(--against HEAD)")
    assert lines[1:-1] == [f"· {ids[0]}  applied up only", f"✓ {ids[1]}",
                           f"· {ids[2]}  applied up only", f"✓ {new[0]}", f"✓ {new[1]}"]
    assert lines[-1] == ("5 migrations: 3 passed, 0 with differences, 0 failed, 0 irreversible "
                         "(not verified), 0 not reached, 2 applied up only (--against HEAD)")


def test_only_and_against_are_one_or_the_other(tmp_path: Path) -> None:
    root = tmp_path / "m"
    ids = linear_history(root, 1)
    result = run_cli("verify", "-m", root, "--only", ids[0], "--against", "HEAD")
    assert result.code == 2 and "not allowed with" in result.err


def test_the_library_takes_only(tmp_path: Path) -> None:
    root = tmp_path / "m"
    ids = linear_history(root, 3)
    report = verify(str(root), only=[ids[2]])
    assert report.applied_up_only == ids[:2] and report.verified == [ids[2]]
