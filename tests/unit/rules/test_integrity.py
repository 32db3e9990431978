"""History integrity (rules/integrity.py, SG001-SG005): the sources against the rows of the
tracking table, and against the sources at a git revision. The rows are what the tracking
table returns (tests/integration/test_check.py reads them from real databases)."""

from __future__ import annotations

from switchy_guard.model.migration import Migration
from switchy_guard.model.records import COMPLETED, FAILED, IN_PROGRESS, TrackingRow
from switchy_guard.model.state import MigrationState
from switchy_guard.rules.integrity import Hit, database_hits, revision_hits

A, B, C, D = ("2024-01-01-000000_a", "2024-01-02-000000_b", "2024-01-03-000000_c",
              "2024-01-04-000000_d")


def migration(mid: str, up: str = "a" * 64, down: str = "b" * 64) -> Migration:
    """A migration whose scripts have the checksums ``up`` and ``down``."""
    return Migration(mid, "SELECT 1", "SELECT 2", up, down, up_path=f"m/{mid}/up.sql")


def row(of: Migration | str, status: str = COMPLETED, *, up: str | None = None,
        down: str | None = None, reason: str | None = None) -> TrackingRow:
    if isinstance(of, str):
        return TrackingRow(of, None, None, "1" * 64, "2" * 64, status, reason)
    return TrackingRow(of.id, None, None, up or of.up_checksum, down or of.down_checksum,
                       status, reason)


def hits(found: list[Hit]) -> list[tuple[str, str | None, str, str]]:
    """(code, migration id of the Migration given, id, message) of each hit."""
    return [(rule.code, m.id if m else None, mid, message) for rule, m, mid, message in found]


def test_a_database_in_step_with_the_sources_has_no_hits() -> None:
    a, b = migration(A), migration(B)
    assert hits(list(database_hits(MigrationState([a, b], {A: row(a), B: row(b)})))) == []


def test_database_hits_name_each_problem_and_its_migration() -> None:
    a, b, c, d = migration(A), migration(B), migration(C), migration(D)
    late = migration("2023-12-31-000000_late")
    rows = {A: row(a, up="0" * 63 + "1", down="0" * 63 + "2"), B: row(b, up="0" * 63 + "3"),
            C: row(c, IN_PROGRESS), D: row(d, FAILED, reason="syntax error at line 2"),
            "2023-01-01-000000_gone": row("2023-01-01-000000_gone")}
    found = hits(list(database_hits(MigrationState([late, a, b, c, d], rows))))
    assert found == [
        ("SG001", A, A, "up and down script changed since it was applied"),
        ("SG001", B, B, "up script changed since it was applied"),
        ("SG002", None, "2023-01-01-000000_gone",
         "applied in the database, absent from the sources"),
        ("SG003", late.id, late.id, "pending, but sorts before the newest applied migration"),
        ("SG005", C, C, "in_progress: a run died while applying it"),
        ("SG005", D, D, "failed: syntax error at line 2"),
    ]


def test_a_failure_without_a_reason_says_so() -> None:
    a = migration(A)
    found = hits(list(database_hits(MigrationState([a], {A: row(a, FAILED)}))))
    assert found == [("SG005", A, A, "failed: no reason recorded")]
    gone = hits(list(database_hits(MigrationState([], {A: row(A, FAILED)}))))
    assert ("SG005", None, A, "failed: no reason recorded") in gone


def test_revision_hits_compare_the_sources_with_those_at_the_revision() -> None:
    base = [migration(A), migration(B), migration(C), migration(D)]
    now = [migration(A, up="c" * 64, down="d" * 64), migration(B, down="d" * 64),
           migration(C), migration("2024-01-02-120000_backdated"),
           migration("2024-02-01-000000_new")]
    found = hits(list(revision_hits(now, base, "origin/main")))
    assert found == [
        ("SG001", A, A, "up and down script differs from origin/main"),
        ("SG001", B, B, "down script differs from origin/main"),
        ("SG002", None, D, "present in origin/main, removed since"),
        ("SG003", "2024-01-02-120000_backdated", "2024-01-02-120000_backdated",
         f"new since origin/main but sorts before {D}, the newest there"),
    ]


def test_revision_hits_against_an_empty_revision_or_an_unchanged_tree() -> None:
    current = [migration(A), migration(B)]
    assert hits(list(revision_hits(current, [], "HEAD~1"))) == []
    assert hits(list(revision_hits(current, [migration(A), migration(B)], "HEAD~1"))) == []
    # A new migration after the newest of the revision is simply new; only an up changed.
    now = [migration(A, up="c" * 64), migration(B)]
    assert hits(list(revision_hits(now, [migration(A)], "v1"))) == [
        ("SG001", A, A, "up script differs from v1")]
    # The newest is chosen by sort order, not by position in the list.
    found = hits(list(revision_hits([migration(A), migration(B), migration(C)],
                                    [migration(C), migration(A)], "v1")))
    assert found == [("SG003", B, B, f"new since v1 but sorts before {C}, the newest there")]


def test_a_removed_migration_does_not_hide_changes_after_it() -> None:
    base = [migration(A), migration(B), migration(C)]
    found = hits(list(revision_hits([migration(B), migration(C, down="d" * 64)], base, "v2")))
    assert found == [("SG002", None, A, "present in v2, removed since"),
                     ("SG001", C, C, "down script differs from v2")]
