"""An allow comment after the last statement covers nothing: it is reported (SG901) on
its own line instead of being dropped unseen."""

from __future__ import annotations

from switchy_guard.check.pipeline import validate
from switchy_guard.model.migration import Migration


def _unused(up: str, down: str = "", dialect: str = "postgres") -> list[tuple[str, int | None,
                                                                              str]]:
    migration = Migration("2024-01-01-000000_a", up, down, "a", "b", noop_down=not down,
                          up_path="m/a/up.sql", down_path="m/a/down.sql")
    findings = validate([migration], dialect, downs=True).findings
    return [(f.file or "", f.line, f.message) for f in findings if f.code == "SG901"]


def test_an_allow_after_the_last_statement_is_reported_on_its_line() -> None:
    found = _unused("SELECT 1;\n\n-- switchy-guard: allow drop-column -- stray\n")
    assert found == [("m/a/up.sql", 3, "allow of drop-column follows the last statement: an "
                      "allow covers the statement after it, so this one covers nothing")]


def test_an_allow_in_a_script_without_statements_is_reported() -> None:
    found = _unused("-- switchy-guard: allow drop-table, SG302 -- only a comment\n")
    assert [(line, message.split(" follows")[0]) for _, line, message in found] == [
        (1, "allow of drop-table, SG302")]


def test_an_allow_before_a_statement_still_covers_it() -> None:
    up = "CREATE TABLE t (id int);\n"
    migration = Migration("2024-01-01-000000_a", "DROP TABLE users;", "", "a", "b",
                          noop_down=True)
    before = Migration("2023-01-01-000000_u", "CREATE TABLE users (id int);", "", "a", "b",
                       noop_down=True)
    assert "SG301" in {f.code for f in validate([before, migration], "postgres").findings}
    covered = Migration("2024-01-01-000000_a",
                        "-- switchy-guard: allow drop-table -- backed up\nDROP TABLE users;",
                        "", "a", "b", noop_down=True)
    codes = {f.code for f in validate([before, covered], "postgres").findings}
    assert "SG301" not in codes and "SG901" not in codes
    assert _unused(up) == []


def test_an_allow_trailing_the_last_statement_on_its_line_belongs_to_it() -> None:
    # Not "after the last statement": the same line's comment is the statement's own.
    found = _unused("SELECT 1; -- switchy-guard: allow drop-table -- why\n")
    assert [message for _, _, message in found] == [
        "allow of 'drop-table' matches no finding here"]


def test_a_stray_allow_in_a_down_script_is_reported_in_the_down_file() -> None:
    found = _unused("CREATE TABLE t (id int);\n",
                    "DROP TABLE t;\n-- switchy-guard: allow drop-column -- stray\n")
    assert [(file, line) for file, line, _ in found] == [("m/a/down.sql", 2)]


def test_a_noop_down_marker_is_not_an_allow() -> None:
    assert _unused("SELECT 1;\n-- switchy-guard: noop-down -- nothing to undo\n") == []
