"""Suppressions (rules/suppression.py): allow comments and metadata allows, SG900 and SG901."""

from __future__ import annotations

from switchy_guard.check.pipeline import validate
from switchy_guard.model.migration import Allow, Migration
from switchy_guard.rules.suppression import parse_allow_comment
from tests.unit.rules.helpers import M, P, S, messages_for, mig
from tests.unit.rules.helpers import history_codes as codes


def test_an_allow_trailing_a_statement_is_that_statements() -> None:
    """``-- switchy-guard: allow`` on the line a statement ends covers it, not the next one."""
    sql = ("DROP TABLE users; -- switchy-guard: allow drop-table -- unused since v2\n"
           "DROP TABLE orders;")
    assert messages_for(sql, P) == {"SG301": ["drops table orders and every row in it"]}
    sql = ("DELETE FROM users; /* switchy-guard: allow delete-without-where -- test data */\n"
           "DELETE FROM orders")
    assert messages_for(sql, S) == {"SG305": ["deletes every row of orders (no WHERE clause)"]}
    trailing_no_reason = "ALTER TABLE users DROP COLUMN email; -- switchy-guard: allow SG302"
    migration = Migration("2024-01-02-000000_case", trailing_no_reason, "", "a", "b",
                          noop_down=True)
    found = validate([migration], M).findings
    assert [(f.code, f.line) for f in found] == [("SG900", 1), ("SG302", 1)]


def test_allow_comment_with_reason_suppresses() -> None:
    sql = "-- switchy-guard: allow drop-table -- archived in S3 first\nDROP TABLE old;"
    assert codes(mig("2024-01-01-000000_a", sql)) == []
    by_code = "-- switchy-guard: allow SG301 -- archived\nDROP TABLE old;"
    assert codes(mig("2024-01-01-000000_a", by_code)) == []


def test_allow_comment_only_covers_its_own_statement() -> None:
    sql = "-- switchy-guard: allow drop-table -- archived\nDROP TABLE a;\nDROP TABLE b;"
    assert codes(mig("2024-01-01-000000_a", sql)) == ["SG301"]


def test_allow_without_reason_is_an_error_and_does_not_suppress() -> None:
    sql = "-- switchy-guard: allow drop-table\nDROP TABLE old;"
    assert sorted(codes(mig("2024-01-01-000000_a", sql))) == ["SG301", "SG900"]


def test_unused_allows_are_reported() -> None:
    sql = "-- switchy-guard: allow drop-table -- cleanup\nSELECT 1;"
    meta = mig("2024-01-01-000000_a", "SELECT 1", allow=(Allow("truncate", "old"),))
    assert codes(mig("2024-01-01-000000_b", sql)) == ["SG901"]
    assert codes(meta) == ["SG901"]


def test_metadata_allow_covers_the_whole_migration_and_naming_rules() -> None:
    migration = mig("2024-01-01-000000_a", "DROP TABLE a;\nDROP TABLE b;", down=None,
                    allow=(Allow("drop-table", "both retired"), Allow("irreversible", "data")))
    assert codes(migration) == []


def test_several_rules_in_one_comment() -> None:
    assert parse_allow_comment("switchy-guard: allow drop-table, SG305 -- why") == (
        ["drop-table", "SG305"], "why")
    assert parse_allow_comment("just a comment") is None


def test_runs_of_spaces_in_an_allow_comment_read_as_one() -> None:
    """Spaces anywhere in the comment (aligned by hand) neither break it nor reach the reason."""
    assert parse_allow_comment("switchy-guard:   allow   drop-table,  SG305   --   archived"
                               "   in  S3") == (["drop-table", "SG305"], "archived in S3")
    sql = "--  switchy-guard:  allow  drop-table  --  archived\nDROP TABLE old;"
    assert codes(mig("2024-01-01-000000_a", sql)) == []
