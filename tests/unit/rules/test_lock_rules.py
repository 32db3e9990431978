"""SG104, SG401 (REINDEX), SG406 (VALIDATE in the same transaction), SG411-SG413: what
they say, and silence on tables the plan created."""

from __future__ import annotations

import pytest

from switchy_guard.check.pipeline import validate
from switchy_guard.model.migration import Migration

P, M, S = "postgres", "mysql", "sqlite"
SETUP = "CREATE TABLE users (id INT, email VARCHAR(255));\n"


def messages(sql: str, dialect: str, transactional: bool = True) -> dict[str, list[str]]:
    existing = Migration("2024-01-01-000000_base", SETUP, "", "a", "b", noop_down=True)
    migration = Migration("2024-01-02-000000_case", sql, "", "a", "b", noop_down=True,
                          transactional=transactional)
    found: dict[str, list[str]] = {}
    for finding in validate([existing, migration], dialect, plan_ids={migration.id}).findings:
        found.setdefault(finding.code, []).append(finding.message)
    return found


@pytest.mark.parametrize(
    ("dialect", "sql", "code"),
    [
        (P, "ALTER TABLE fresh ADD PRIMARY KEY (id)", "SG411"),
        (M, "ALTER TABLE fresh ADD PRIMARY KEY (id)", "SG411"),
        (P, "VACUUM FULL fresh", "SG412"),
        (P, "CLUSTER fresh USING fresh_id", "SG412"),
        (P, "ALTER TABLE fresh SET LOGGED", "SG412"),
        (M, "OPTIMIZE TABLE fresh", "SG412"),
        (M, "ALTER TABLE fresh ENGINE=InnoDB", "SG412"),
        (P, "LOCK TABLE fresh", "SG413"),
        (M, "LOCK TABLES fresh WRITE", "SG413"),
        (P, "REINDEX TABLE fresh", "SG401"),
        (P, "CREATE INDEX fresh_id ON fresh (id);\nREINDEX INDEX fresh_id", "SG401"),
    ],
)
def test_silent_on_a_table_created_in_the_same_migration(dialect: str, sql: str,
                                                         code: str) -> None:
    created = "CREATE TABLE fresh (id INT);\n" + sql
    assert code not in messages(created, dialect)
    assert code in messages(sql.replace("fresh", "users"), dialect)


def test_only_the_tables_not_created_here_are_named() -> None:
    sql = "CREATE TABLE fresh (id INT);\nVACUUM FULL fresh, users"
    assert messages(sql, P)["SG412"] == [
        "VACUUM FULL rewrites the whole of users under an exclusive lock"]
    sql = "CREATE TABLE fresh (id INT);\nOPTIMIZE NO_WRITE_TO_BINLOG TABLE fresh, users"
    assert messages(sql, M)["SG412"] == [
        "OPTIMIZE TABLE rebuilds the whole of users under an exclusive lock"]


def test_vacuum_full_of_every_table_and_old_cluster_syntax() -> None:
    assert messages("VACUUM FULL", P)["SG412"] == [
        "VACUUM FULL without a table rewrites every table of the database under lock"]
    assert messages("CLUSTER users_email ON users", P)["SG412"] == [
        "CLUSTER rewrites the whole of users under an exclusive lock"]
    assert "SG412" not in messages("VACUUM (ANALYZE) users", P)


def test_set_unlogged_is_a_rewrite_not_an_unknown_action() -> None:
    found = messages("ALTER TABLE users SET UNLOGGED", P)
    assert "SG603" not in found
    assert "emptied by a crash" in found["SG412"][0]


def test_optimize_table_is_classified_not_unparseable() -> None:
    found = messages("OPTIMIZE TABLE users;\nCHECK TABLE users;\nANALYZE TABLE users", M)
    assert "SG603" not in found and list(found) == ["SG412"]


def test_sqlite_vacuum_says_it_cannot_run_in_a_transaction() -> None:
    (message,) = messages("VACUUM", S)["SG412"]
    assert "inside a transaction" in message


def test_adding_a_primary_key_is_reported_once() -> None:
    """SG407 (unique) and SG409 (copy) leave primary keys to SG411."""
    assert set(messages("ALTER TABLE users ADD PRIMARY KEY (id)", P)) == {"SG411"}
    assert set(messages("ALTER TABLE users ADD PRIMARY KEY (id)", M)) == {"SG411"}
    # Dropping the primary key still copies the table on MySQL.
    assert "SG409" in messages("ALTER TABLE users DROP PRIMARY KEY", M)


def test_explicit_lock_names_the_mode() -> None:
    assert messages("LOCK users", P)["SG413"] == [
        "locks users in ACCESS EXCLUSIVE mode until the migration's transaction ends: "
        "queries on it queue behind the lock, and behind the wait for it"]
    assert "ROW EXCLUSIVE" in messages("LOCK TABLE ONLY users IN ROW EXCLUSIVE MODE NOWAIT",
                                       P)["SG413"][0]
    assert "commits the open transaction" in messages("LOCK TABLES users READ", M)["SG413"][0]


VALIDATE_SAME = ("ALTER TABLE users ADD CONSTRAINT ck CHECK (id > 0) NOT VALID;\n"
                 "ALTER TABLE users VALIDATE CONSTRAINT ck")


def test_validate_in_the_transaction_of_its_not_valid_is_reported() -> None:
    assert messages(VALIDATE_SAME, P)["SG406"] == [
        "validates ck in the transaction that added it NOT VALID: the exclusive lock the "
        "ADD took on users is held through the whole validation scan"]
    # Run statement by statement, the ADD committed and released its lock.
    assert "SG406" not in messages(VALIDATE_SAME, P, transactional=False)
    # Another constraint, or the same one validated in a later migration: fine.
    assert "SG406" not in messages(VALIDATE_SAME.replace("CONSTRAINT ck\n", "CONSTRAINT x\n")
                                   .replace("VALIDATE CONSTRAINT ck", "VALIDATE CONSTRAINT x2"),
                                   P)
    assert "SG406" not in messages("ALTER TABLE users VALIDATE CONSTRAINT ck", P)


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
