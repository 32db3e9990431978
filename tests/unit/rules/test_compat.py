"""Compatibility with the running application (rules/compat.py, SG501-SG503)."""

from __future__ import annotations

import pytest

from switchy_guard.check.pipeline import validate
from switchy_guard.model.migration import Migration
from tests.unit.rules.helpers import (
    Cases,
    M,
    P,
    S,
    assert_fires_and_quiet,
    fire_params,
)

# code: [(dialects, fires, look-alike that must not fire)]
CASES: Cases = {
    "SG501": [((P, M, S), "ALTER TABLE users RENAME COLUMN email TO mail",
               "ALTER TABLE users ADD COLUMN mail TEXT"),
              ((M,), "ALTER TABLE users CHANGE email mail VARCHAR(255)",
               "ALTER TABLE users CHANGE email email VARCHAR(255)")],
    "SG502": [((P, M, S), "ALTER TABLE users RENAME TO accounts",
               "CREATE TABLE accounts (id INT)"),
              ((M,), "RENAME TABLE users TO accounts", "SELECT 1"),
              ((P,), "ALTER TABLE users RENAME TO accounts",
               "ALTER TABLE users RENAME CONSTRAINT users_pkey TO users_pk")],
    "SG503": [((P, M, S), "ALTER TABLE users ALTER COLUMN email DROP DEFAULT",
               "ALTER TABLE users ALTER COLUMN email SET DEFAULT 'x'"),
              ((P,), "ALTER TABLE users ALTER COLUMN email DROP NOT NULL",
               "ALTER TABLE users ALTER COLUMN email SET NOT NULL"),
              ((P,), "ALTER TABLE users DROP CONSTRAINT users_email_key",
               "ALTER TABLE users ADD COLUMN x INT")],
}


@pytest.mark.parametrize(("code", "dialect", "fires", "quiet"), fire_params(CASES))
def test_rule_fires_and_look_alike_does_not(code: str, dialect: str, fires: str,
                                            quiet: str) -> None:
    assert_fires_and_quiet(code, dialect, fires, quiet)


@pytest.mark.parametrize(
    ("sql", "codes"),
    [
        # MySQL's MODIFY/CHANGE replace the whole definition: a NOT NULL left out is dropped.
        ("ALTER TABLE t MODIFY email VARCHAR(500)", {"SG409", "SG503"}),
        ("ALTER TABLE t CHANGE COLUMN email email VARCHAR(500) NULL", {"SG409", "SG503"}),
        ("ALTER TABLE t MODIFY email VARCHAR(500) NOT NULL DEFAULT ''", {"SG409"}),
        ("ALTER TABLE t MODIFY id BIGINT AUTO_INCREMENT", {"SG405", "SG409"}),
        # What the schema model learns: NOT NULL dropped, so setting it again scans. The
        # type stays: MySQL changes NULL / NOT NULL in place, with writes going on.
        ("ALTER TABLE t MODIFY email VARCHAR(255) NULL;\n"
         "ALTER TABLE t MODIFY email VARCHAR(255) NOT NULL", {"SG503", "SG404"}),
    ],
)
def test_mysql_modify_without_not_null_drops_it(sql: str, codes: set[str]) -> None:
    base = Migration("2024-01-01-000000_base", "CREATE TABLE t (id INT PRIMARY KEY, "
                     "email VARCHAR(255) NOT NULL DEFAULT '')", "", "a", "b", noop_down=True)
    migration = Migration("2024-01-02-000000_case", sql, "", "a", "b", noop_down=True)
    found = validate([base, migration], M, plan_ids={migration.id}).findings
    assert {f.code for f in found} - {"SG601"} == codes
