"""SG104 identifier-too-long (rules/identifiers.py): names the server truncates or refuses."""

from __future__ import annotations

import pytest

from tests.unit.rules.helpers import (
    Cases,
    M,
    P,
    assert_fires_and_quiet,
    fire_params,
    messages,
)

# code: [(dialects, fires, look-alike that must not fire)]
CASES: Cases = {
    "SG104": [((P, M), "CREATE INDEX " + "i" * 65 + " ON users (email)",
               "CREATE INDEX " + "i" * 63 + " ON users (email)"),
              ((P, M), "ALTER TABLE users ADD COLUMN " + "c" * 70 + " int",
               "ALTER TABLE users ADD COLUMN c int COMMENT '" + "c" * 70 + "'")],
}


@pytest.mark.parametrize(("code", "dialect", "fires", "quiet"), fire_params(CASES))
def test_rule_fires_and_look_alike_does_not(code: str, dialect: str, fires: str,
                                            quiet: str) -> None:
    assert_fires_and_quiet(code, dialect, fires, quiet)


def test_long_names_that_truncate_the_same_collide() -> None:
    stem = "orders_customer_id_created_at_status_shipping_country_region_"  # 62 bytes
    sql = (f"CREATE INDEX {stem}a_idx ON users (id);\n"
           f"CREATE INDEX {stem}a_key ON users (email)")
    first, second = messages(sql, P)["SG104"]
    assert "silently truncates it to" in first and "collides" not in first
    assert f"collides with {stem}a_idx" in second


def test_postgres_counts_bytes_mysql_counts_characters() -> None:
    name = "é" * 40  # 40 characters, 80 bytes
    sql = f'ALTER TABLE users ADD COLUMN "{name}" int'
    assert "SG104" in messages(sql, P)
    assert "SG104" not in messages(sql.replace('"', "`"), M)
    assert "refuse" in messages(f"CREATE TABLE {'t' * 65} (id int)", M)["SG104"][0]
    assert "SG104" not in messages(f"CREATE TABLE {'t' * 64} (id int)", M)
