"""check on hostile input stays linear (SECURITY.md, "Denial of service").

A migration under review (a pull request's) is checked before anyone reads it; these
inputs took from 20 s to minutes each through regexes that backtracked quadratically.
"""

from __future__ import annotations

import time

import pytest

from switchy_guard.check.pipeline import validate
from switchy_guard.model.migration import Migration
from switchy_guard.sql.classify import render, tokenize

N = 100_000
LIMIT = 5.0  # seconds; the quadratic versions took 20 s and more


def checked_in(sql: str, dialect: str) -> tuple[float, list[str]]:
    migration = Migration("2024-01-01-000000_a", sql, "", "a", "b", noop_down=True,
                          up_path="m/2024-01-01-000000_a/up.sql")
    started = time.monotonic()
    codes = [f.code for f in validate([migration], dialect).findings]
    return time.monotonic() - started, codes


def test_an_allow_comment_with_a_long_run_of_spaces() -> None:
    seconds, codes = checked_in(
        "-- switchy-guard: allow drop-table" + " " * N + "!\nDROP TABLE x;\n", "postgres")
    assert seconds < LIMIT, seconds
    assert "SG301" in codes  # not an allow: the table drop is still reported


def test_an_allow_comment_keeps_working_with_spaces_around_its_reason() -> None:
    _, codes = checked_in("-- switchy-guard: allow drop-table    --   archived\n"
                          "DROP TABLE x;\n", "postgres")
    assert codes == []


@pytest.mark.parametrize("default", ["'" + "\\'" * N, "'\\" * N])
def test_an_unterminated_default_literal_full_of_backslashes(default: str) -> None:
    seconds, _ = checked_in(f"ALTER TABLE t ADD COLUMN c text DEFAULT {default};\n", "mysql")
    assert seconds < LIMIT, seconds


def test_many_nested_comment_openings_before_one_closing() -> None:
    # PostgreSQL nests block comments: the closing was searched for again from each
    # opening (300 KB took 30 s).
    seconds, codes = checked_in("DROP TABLE x;\n" + "/*x" * N + "*/\n", "postgres")
    assert seconds < LIMIT, seconds
    assert codes == ["SG301"]


@pytest.mark.parametrize("sql", ["DROP TABLE x " + "'\\" * 20_000,
                                 "BEGIN NOT ATOMIC DROP TABLE x " + "'\\" * 20_000,
                                 "BEGIN NOT ATOMIC DROP TABLE x " + '"\\' * 20_000])
def test_an_open_literal_ending_in_a_lone_backslash(sql: str) -> None:
    # The tokenizers refused such a literal, so each quote in it started another scan to
    # the end (40 KB took 20 s).
    seconds, codes = checked_in(sql, "mysql")
    assert seconds < LIMIT, seconds
    assert "SG301" in codes


def test_one_statement_with_thousands_of_findings() -> None:
    # Each finding flattened the whole statement for its excerpt (10,000 took minutes).
    seconds, codes = checked_in(
        "ALTER TABLE x " + ", ".join(f"DROP PARTITION p{i}" for i in range(10_000)), "mysql")
    assert seconds < LIMIT, seconds
    assert codes.count("SG301") == 10_000


def test_rendering_a_long_default_or_type() -> None:
    # render() copied its text so far at each parenthesis, comma or dot (quadratic:
    # 8 s for this one; a DEFAULT f(f(f(... of 400 KB took seconds in check).
    toks = tokenize("f(a, b." * N)
    started = time.monotonic()
    text = render(toks)
    assert time.monotonic() - started < 1.0
    assert text.startswith("f(a, b.f(a, b.f(")


def test_thousands_of_allows_before_a_statement_with_thousands_of_findings() -> None:
    # Each finding was matched against every allow (quadratic).
    n = 8_000
    seconds, codes = checked_in(
        "-- switchy-guard: allow volatile-default -- r\n" * n
        + "-- switchy-guard: allow SG301 -- r\n"
        + "ALTER TABLE x " + ", ".join(f"DROP PARTITION p{i}" for i in range(n)), "mysql")
    assert seconds < LIMIT, seconds
    assert codes == ["SG901"] * n  # the drops allowed, the other allows unused


def test_an_alter_restating_thousands_of_column_types_is_linear() -> None:
    """SG405/SG409 searched the whole statement once per restated column: 4,000 same-type
    MODIFYs took 30 s."""
    columns = range(3_000)
    create = Migration("2024-01-01-000000_t", "CREATE TABLE t (" + ", ".join(
        f"c{i} int NOT NULL" for i in columns) + ");\n", "", "a", "b", noop_down=True)
    alter = Migration("2024-01-02-000000_m", "ALTER TABLE t " + ", ".join(
        f"MODIFY c{i} int NOT NULL" for i in columns) + ";\n", "", "a", "b", noop_down=True,
        up_path="m/2024-01-02-000000_m/up.sql")
    started = time.monotonic()
    codes = {f.code for f in validate([create, alter], "mysql", plan_ids={alter.id}).findings}
    assert time.monotonic() - started < LIMIT
    assert not codes & {"SG405", "SG409"}  # restated, not changed


def test_a_do_block_of_thousands_of_statements_is_linear() -> None:
    """Each inner statement's position counted the block's newlines from its start:
    40,000 one-line UPDATEs took 28 s."""
    body = "".join(f"  UPDATE t SET a = {i} WHERE id = {i};\n" for i in range(20_000))
    seconds, codes = checked_in(f"DO $$\nBEGIN\n{body}END $$;\n", "postgres")
    assert seconds < LIMIT, seconds
    assert "SG603" not in codes
