"""Whole-table rewrites and locks (rules/rewrites.py, SG411-SG413): what they say, per dialect."""

from __future__ import annotations

import pytest

from tests.unit.rules.helpers import (
    Cases,
    M,
    P,
    S,
    assert_fires_and_quiet,
    fire_params,
    messages,
)

# code: [(dialects, fires, look-alike that must not fire)]
CASES: Cases = {
    "SG411": [((P, M), "ALTER TABLE users ADD PRIMARY KEY (id)",
               "ALTER TABLE users ADD CONSTRAINT users_pkey PRIMARY KEY USING INDEX users_pk"),
              ((P, M), "ALTER TABLE users ADD CONSTRAINT users_pkey PRIMARY KEY (id)",
               "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)"),
              ((P, M), "ALTER TABLE users ADD COLUMN n int PRIMARY KEY",
               "ALTER TABLE users ADD COLUMN n int"),
              ((M,), "ALTER TABLE users ADD PRIMARY KEY (id), LOCK=SHARED",
               "ALTER TABLE users ADD PRIMARY KEY (id), ALGORITHM=INPLACE, LOCK=NONE")],
    "SG412": [((P,), "VACUUM FULL users", "VACUUM users"),
              ((P,), "VACUUM (FULL, VERBOSE) users", "VACUUM (FULL false, VERBOSE) users"),
              ((P,), "CLUSTER users USING users_email", "ALTER TABLE users CLUSTER ON users_email"),
              ((P,), "ALTER TABLE users SET UNLOGGED", "ALTER TABLE users SET (fillfactor = 70)"),
              ((P,), "ALTER TABLE users SET TABLESPACE fast",
               "ALTER TABLE users ALTER COLUMN email SET STATISTICS 500"),
              ((P,), "ALTER TABLE users ADD COLUMN d text GENERATED ALWAYS AS (lower(email)) "
                     "STORED", "ALTER TABLE users ADD COLUMN d text"),
              ((M,), "OPTIMIZE TABLE users", "ANALYZE TABLE users"),
              ((M,), "ALTER TABLE users FORCE", "ALTER TABLE users FORCE, ALGORITHM=INPLACE, "
                                                "LOCK=NONE"),
              ((M,), "ALTER TABLE users ENGINE=InnoDB", "ALTER TABLE users COMMENT 'engine'"),
              ((M,), "ALTER TABLE users CONVERT TO CHARACTER SET utf8mb4",
               "ALTER TABLE users DEFAULT CHARACTER SET utf8mb4"),
              ((M,), "ALTER TABLE users ADD COLUMN d VARCHAR(255) AS (lower(email)) STORED",
               "ALTER TABLE users ADD COLUMN d VARCHAR(255) AS (lower(email)) VIRTUAL"),
              ((S,), "VACUUM", "VACUUM INTO '/backups/app.db'")],
    "SG413": [((P, M), "LOCK TABLE users IN SHARE MODE", "UNLOCK TABLES"),
              ((M,), "LOCK TABLES users WRITE", "SELECT 1 FROM users FOR UPDATE"),
              ((M,), "FLUSH TABLES WITH READ LOCK", "FLUSH TABLES")],
}


@pytest.mark.parametrize(("code", "dialect", "fires", "quiet"), fire_params(CASES))
def test_rule_fires_and_look_alike_does_not(code: str, dialect: str, fires: str,
                                            quiet: str) -> None:
    assert_fires_and_quiet(code, dialect, fires, quiet)


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
