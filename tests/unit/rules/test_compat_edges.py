"""Compatibility with the running application (rules/compat.py, SG501-SG503): what each
finding says, per dialect; the look-alikes that must stay silent; and a down script that
renames back what its up renamed."""

from __future__ import annotations

import pytest

from switchy_guard.check.pipeline import validate
from switchy_guard.model.migration import Migration
from tests.unit.rules.helpers import found

P, M, S = "postgres", "mysql", "sqlite"



# (dialect, code, server version (unused here), SQL, [(line, message)]); [] for a look-alike.
CASES = [
    (P, 'SG501', None,
     'ALTER TABLE users RENAME COLUMN email TO mail',
     [
      (1, 'renames users.email to mail'),
     ]),
    (M, 'SG501', None,
     'ALTER TABLE users CHANGE email mail VARCHAR(255)',
     [
      (1, 'renames users.email to mail'),
     ]),
    (M, 'SG501', None,
     'ALTER TABLE users CHANGE COLUMN email email VARCHAR(300)', []),
    (P, 'SG501', None,
     'CREATE TABLE t (a int);\nALTER TABLE t RENAME COLUMN a TO b', []),
    (P, 'SG502', None,
     'ALTER TABLE users RENAME TO accounts',
     [
      (1, 'renames table users to accounts'),
     ]),
    (M, 'SG502', None,
     'RENAME TABLE users TO accounts, orders TO purchases',
     [
      (1, 'renames table users to accounts'),
      (1, 'renames table orders to purchases'),
     ]),
    (M, 'SG502', None,
     'CREATE TABLE t (a int);\nRENAME TABLE t TO t2, users TO people',
     [
      (2, 'renames table users to people'),
     ]),
    (P, 'SG502', None,
     'CREATE TABLE t (a int);\nALTER TABLE t RENAME TO t2', []),
    (S, 'SG502', None,
     'CREATE TABLE new_users (id INT);\nDROP TABLE users;\n'
     'ALTER TABLE new_users RENAME TO users', []),
    (M, 'SG502', None,
     'CREATE TABLE new_users (id INT);\nDROP TABLE users;\nRENAME TABLE new_users TO users', []),
    (P, 'SG502', None,
     'ALTER TABLE users RENAME COLUMN email TO mail', []),
    (P, 'SG503', None,
     'ALTER TABLE users ALTER COLUMN email DROP DEFAULT, ALTER COLUMN age DROP NOT NULL, DROP '
     'CONSTRAINT users_email_key',
     [
      (1, 'drops the default of users.email: old writers that omit it start failing'),
      (1, 'drops NOT NULL of users.age: old readers may meet NULLs'),
      (1, 'drops constraint users_email_key: old code relying on it may break'),
     ]),
    (M, 'SG503', None,
     'ALTER TABLE users MODIFY age INT',
     [
      (1, 'drops NOT NULL of users.age: old readers may meet NULLs'),
     ]),
    (M, 'SG503', None,
     'ALTER TABLE users MODIFY age INT NOT NULL', []),
    (M, 'SG503', None,
     'ALTER TABLE users MODIFY email VARCHAR(300)', []),
    (M, 'SG503', None,
     'ALTER TABLE users MODIFY age INT AS (id * 2)', []),
    (M, 'SG503', None,
     'ALTER TABLE users DROP CHECK users_chk',
     [
      (1, 'drops constraint users_chk: old code relying on it may break'),
     ]),
    (S, 'SG503', None,
     'ALTER TABLE users ALTER COLUMN email DROP DEFAULT',
     [
      (1, 'drops the default of users.email: old writers that omit it start failing'),
     ]),
    (P, 'SG503', None,
     'CREATE TABLE t (a int NOT NULL);\nALTER TABLE t ALTER COLUMN a DROP NOT NULL', []),
]


@pytest.mark.parametrize(("dialect", "code", "version", "sql", "expected"), CASES)
def test_compat_findings_say_what_the_old_code_meets(
        dialect: str, code: str, version: None, sql: str,
        expected: list[tuple[int, str]]) -> None:
    assert found(sql, dialect, code) == expected


@pytest.mark.parametrize("dialect", [P, M, S])
@pytest.mark.parametrize(("up", "down", "code"), [
    ("ALTER TABLE users RENAME TO accounts", "ALTER TABLE accounts RENAME TO users", "SG502"),
    ("ALTER TABLE users RENAME COLUMN email TO mail",
     "ALTER TABLE users RENAME COLUMN mail TO email", "SG501"),
])
def test_a_down_renaming_back_is_the_plain_reversal(dialect: str, up: str, down: str,
                                                    code: str) -> None:
    """It finds nothing (a table renamed back once crashed check with a KeyError: the
    down's schema is a layer over the history's, and the rename deleted the history's
    column facts under it)."""
    base = Migration("2024-01-01-000000_base", "CREATE TABLE users (id INT, email TEXT)",
                     "DROP TABLE users", "a", "b", up_path="a/up.sql", down_path="a/down.sql")
    case = Migration("2024-01-02-000000_case", up, down, "a", "b", up_path="b/up.sql",
                     down_path="b/down.sql")
    result = validate([base, case], dialect, downs=True)
    assert [(f.code, f.direction) for f in result.findings] == [(code, "up")]


def test_the_history_after_a_down_still_sees_the_ups_rename() -> None:
    """What the down script did stays in its layer: the next up knows accounts.id."""
    base = Migration("2024-01-01-000000_base", "CREATE TABLE users (id INT)",
                     "DROP TABLE users", "a", "b", up_path="a/up.sql", down_path="a/down.sql")
    case = Migration("2024-01-02-000000_case", "ALTER TABLE users RENAME TO accounts",
                     "ALTER TABLE accounts RENAME TO users", "a", "b", up_path="b/up.sql",
                     down_path="b/down.sql")
    later = Migration("2024-01-03-000000_later", "ALTER TABLE accounts ALTER COLUMN id TYPE "
                      "bigint", "SELECT 1", "a", "b", up_path="c/up.sql", down_path="c/down.sql")
    result = validate([base, case, later], P, downs=True)
    assert [f.message for f in result.findings if f.code == "SG405"] == [
        "changes the type of accounts.id to bigint from int: the table is rewritten under an "
        "exclusive lock"]
