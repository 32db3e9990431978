"""SG104 identifier-too-long (rules/identifiers.py): the limits at their edges (PostgreSQL
counts bytes after folding unquoted names, MySQL counts characters), the message and line
of each finding, collisions, and names in the statements an anonymous block runs."""

from __future__ import annotations

import pytest

from switchy_guard.check.pipeline import validate
from switchy_guard.model.migration import Migration

P, M, S = "postgres", "mysql", "sqlite"

STEM = "orders_customer_id_created_at_status_shipping_country_region_"  # 62 bytes


def found(sql: str, dialect: str) -> list[tuple[int | None, str]]:
    base = Migration("2024-01-01-000000_base", "CREATE TABLE users (id INT, email TEXT, "
                     "name TEXT)", "", "a", "b", noop_down=True)
    case = Migration("2024-01-02-000000_case", sql, "", "a", "b", noop_down=True,
                     up_path="case/up.sql")
    result = validate([base, case], dialect, plan_ids={case.id})
    return [(f.line, f.message) for f in result.findings if f.code == "SG104"]


def truncates(name: str, kept: str, size: int, line: int = 1,
              clash: str = "") -> tuple[int, str]:
    collides = f"; it collides with {clash}, truncated the same" if clash else ""
    return (line, f"name {name[:24]}... is {size} bytes: PostgreSQL silently truncates it "
                  f"to {kept!r}{collides}")


def refused(name: str, size: int, line: int = 1) -> tuple[int, str]:
    return (line, f"name {name[:24]}... is {size} characters: MySQL/MariaDB refuse names "
                  "over 64, so this migration fails")


E32 = "é" * 32  # 64 bytes


@pytest.mark.parametrize(("dialect", "sql", "expected"), [
    # Unquoted names are folded to lower case first.
    (P, f"CREATE TABLE {'T' * 64} (id int)", [truncates("t" * 64, "t" * 63, 64)]),
    (P, f"CREATE TABLE {'t' * 63} (id int)", []),
    # Bytes, whole characters kept.
    (P, f'CREATE TABLE "{E32}" (id int)', [truncates(E32, "é" * 31, 64)]),
    (P, f'CREATE TABLE "{"é" * 31}x" (id int)', []),
    (M, f"CREATE TABLE {'t' * 65} (id int)", [refused("t" * 65, 65)]),
    (M, f"CREATE TABLE {'t' * 64} (id int)", []),
    (M, f"CREATE TABLE `{'é' * 65}` (id int)", [refused("é" * 65, 65)]),
    (M, f"CREATE TABLE `{'é' * 64}` (id int)", []),
    # Quoted names keep their case on PostgreSQL; MySQL keeps every name's case.
    (P, 'CREATE TABLE "' + "A" * 64 + '" (id int)', [truncates("A" * 64, "A" * 63, 64)]),
    (M, f"CREATE TABLE {'T' * 65} (id int)", [refused("T" * 65, 65)]),
    (M, f"RENAME TABLE users TO {'r' * 65}", [refused("r" * 65, 65)]),
    # A name in a nested comment (PostgreSQL's comments nest) names nothing.
    (P, f"CREATE TABLE t (id int) /* was /* old */ {'a' * 70} */", []),
    # Names read, not named: a query is not SG104's; SQLite keeps long names.
    (P, f"SELECT {STEM}abc FROM users", []),
    (S, f"CREATE TABLE {'a' * 70} (id int)", []),
    # Each long name once per statement, however often it is written.
    (P, f"CREATE INDEX {STEM}a_idx ON users (id), ({STEM}a_idx)",
     [truncates(f"{STEM}a_idx", f"{STEM}a_", 66)]),
])
def test_sg104_limits_and_messages(dialect: str, sql: str,
                                   expected: list[tuple[int, str]]) -> None:
    assert found(sql, dialect) == expected


def test_sg104_names_the_earlier_name_a_truncation_collides_with() -> None:
    sql = (f"CREATE INDEX {STEM}a_idx ON users (id);\nCREATE INDEX {STEM}a_key ON users "
           f"(email);\nALTER INDEX {STEM}a_idx RENAME TO short_i")
    assert found(sql, P) == [
        truncates(f"{STEM}a_idx", f"{STEM}a_", 66),
        truncates(f"{STEM}a_key", f"{STEM}a_", 66, line=2, clash=f"{STEM}a_idx"),
        # The same name again is no collision.
        truncates(f"{STEM}a_idx", f"{STEM}a_", 66, line=3)]
    # Two distinct long names that truncate differently.
    sql = f"CREATE TABLE {'a' * 70} (id int);\nCREATE TABLE {'a' * 64} (x int)"
    assert found(sql, P) == [truncates("a" * 70, "a" * 63, 70),
                             truncates("a" * 64, "a" * 63, 64, line=2, clash="a" * 70)]


def test_sg104_reads_the_statements_an_anonymous_block_runs() -> None:
    """A DO block's body is a string and BEGIN NOT ATOMIC a block SG104 does not read
    whole: the names in the statements they run were once missed."""
    assert found(f"DO $$ BEGIN CREATE TABLE {'a' * 70} (id int); END $$", P) == [
        truncates("a" * 70, "a" * 63, 70)]
    assert found(f"DO $$ BEGIN EXECUTE 'CREATE TABLE {'a' * 70} (id int)'; END $$", P) == [
        truncates("a" * 70, "a" * 63, 70)]
    assert found(f"BEGIN NOT ATOMIC\n  CREATE TABLE {'a' * 70} (id int);\nEND", M) == [
        refused("a" * 70, 70, line=2)]
    sql = (f"DO $$ BEGIN CREATE INDEX {STEM}a_idx ON users (id); END $$;\n"
           f"CREATE INDEX {STEM}a_key ON users (email)")
    assert found(sql, P) == [
        truncates(f"{STEM}a_idx", f"{STEM}a_", 66),
        truncates(f"{STEM}a_key", f"{STEM}a_", 66, line=2, clash=f"{STEM}a_idx")]
    # A MySQL routine's names are read in its CREATE, not again where it is called.
    routine = f"CREATE PROCEDURE p() BEGIN CREATE TABLE {'a' * 70} (id int); END;\nCALL p()"
    assert found(routine, M) == [refused("a" * 70, 70)]


def test_a_collision_needs_an_earlier_statement_that_names_it() -> None:
    """A long name read (SELECT) or commented out names nothing to collide with; two
    names of one statement are each reported, with no earlier name to collide with."""
    key = truncates(f"{STEM}a_key", f"{STEM}a_", 66, line=2)
    assert found(f"SELECT {STEM}a_idx FROM users;\nCREATE INDEX {STEM}a_key ON users (id)",
                 P) == [key]
    assert found(f"CREATE TABLE t (id int) /* x /* y */ {STEM}a_idx */;\n"
                 f"CREATE INDEX {STEM}a_key ON users (id)", P) == [key]
    assert found(f"CREATE TABLE t ({STEM}a_idx int, {STEM}a_key int)", P) == [
        truncates(f"{STEM}a_idx", f"{STEM}a_", 66), truncates(f"{STEM}a_key", f"{STEM}a_", 66)]
