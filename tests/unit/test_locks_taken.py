"""The locks each statement takes, per dialect (switchy_guard/sql/locks.py), and the
policy key ``refuse_when_blocked_longer_than``."""

from __future__ import annotations

import pytest

from switchy_guard.errors import ConfigError
from switchy_guard.gates.policy import policy_from_mapping
from switchy_guard.sql.classify import classify
from switchy_guard.sql.locks import (
    PG_CONFLICTS,
    PG_MODES,
    LocksTaken,
    instant_add_column,
    locks_taken,
)


def _taken(sql: str, dialect: str, version: tuple[int, ...] | None = None) -> LocksTaken:
    return locks_taken(sql, classify(sql, dialect), dialect, version)


def _modes(sql: str, dialect: str = "postgres") -> list[tuple[str | None, str]]:
    return [(lock.table, lock.mode) for lock in _taken(sql, dialect).locks]


@pytest.mark.parametrize(("sql", "expected", "effect"), [
    ("ALTER TABLE users ADD COLUMN note text", [("users", "ACCESS EXCLUSIVE")], "none"),
    ("ALTER TABLE users ADD COLUMN n int DEFAULT random()",
     [("users", "ACCESS EXCLUSIVE")], "rewrite"),
    ("ALTER TABLE users ALTER COLUMN n TYPE bigint", [("users", "ACCESS EXCLUSIVE")],
     "rewrite"),
    ("ALTER TABLE users ALTER COLUMN n SET NOT NULL", [("users", "ACCESS EXCLUSIVE")], "scan"),
    ("ALTER TABLE users ALTER COLUMN n SET STATISTICS 500",
     [("users", "SHARE UPDATE EXCLUSIVE")], "none"),
    ("ALTER TABLE users SET (fillfactor = 70)", [("users", "SHARE UPDATE EXCLUSIVE")], "none"),
    ("ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (uid) REFERENCES users (id)",
     [("orders", "SHARE ROW EXCLUSIVE"), ("users", "SHARE ROW EXCLUSIVE")], "scan"),
    ("ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (uid) REFERENCES users (id) NOT VALID",
     [("orders", "SHARE ROW EXCLUSIVE"), ("users", "SHARE ROW EXCLUSIVE")], "none"),
    ("ALTER TABLE orders VALIDATE CONSTRAINT fk", [("orders", "SHARE UPDATE EXCLUSIVE")],
     "scan"),
    # The strongest action wins: SET STATISTICS with an OWNER TO is ACCESS EXCLUSIVE.
    ("ALTER TABLE users ALTER COLUMN n SET STATISTICS 5, OWNER TO bob",
     [("users", "ACCESS EXCLUSIVE")], "none"),
    ("ALTER TABLE users SET TABLESPACE fast", [("users", "ACCESS EXCLUSIVE")], "rewrite"),
    ("CREATE INDEX i ON users (n)", [("users", "SHARE")], "scan"),
    ("CREATE INDEX CONCURRENTLY i ON users (n)", [("users", "SHARE UPDATE EXCLUSIVE")], "scan"),
    ("DROP INDEX i", [("i", "ACCESS EXCLUSIVE")], "none"),
    ("DROP INDEX CONCURRENTLY i", [("i", "SHARE UPDATE EXCLUSIVE")], "none"),
    ("DROP TABLE a, b", [("a", "ACCESS EXCLUSIVE"), ("b", "ACCESS EXCLUSIVE")], "none"),
    ("TRUNCATE users", [("users", "ACCESS EXCLUSIVE")], "none"),
    ("VACUUM FULL users", [("users", "ACCESS EXCLUSIVE")], "rewrite"),
    ("VACUUM users", [("users", "SHARE UPDATE EXCLUSIVE")], "scan"),
    ("CLUSTER users USING users_pkey", [("users", "ACCESS EXCLUSIVE")], "rewrite"),
    ("REINDEX TABLE users", [("users", "SHARE")], "scan"),
    ("REINDEX INDEX users_pkey", [("users_pkey", "ACCESS EXCLUSIVE")], "scan"),
    ("REINDEX TABLE CONCURRENTLY users", [("users", "SHARE UPDATE EXCLUSIVE")], "scan"),
    ("CREATE TRIGGER t BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION f()",
     [("users", "SHARE ROW EXCLUSIVE")], "none"),
    ("CREATE TABLE orders (id int, uid int REFERENCES users (id))",
     [("users", "SHARE ROW EXCLUSIVE")], "none"),
    ("LOCK TABLE users IN SHARE MODE", [("users", "SHARE")], "none"),
    ("LOCK TABLE users", [("users", "ACCESS EXCLUSIVE")], "none"),
    ("INSERT INTO users (id) VALUES (1)", [("users", "ROW EXCLUSIVE")], "none"),
    ("UPDATE users SET n = 1", [("users", "ROW EXCLUSIVE")], "scan"),
    ("DELETE FROM users WHERE id = 1", [("users", "ROW EXCLUSIVE")], "none"),
    ("SELECT 1", [], "none"),
])
def test_postgres_lock_per_statement(sql: str, expected: list[tuple[str, str]],
                                     effect: str) -> None:
    taken = _taken(sql, "postgres")
    assert _modes(sql) == expected
    assert taken.effect == effect


def test_postgres_constant_default_rewrites_only_before_11() -> None:
    sql = "ALTER TABLE users ADD COLUMN n int NOT NULL DEFAULT 0"
    assert _taken(sql, "postgres").effect == "none"
    assert _taken(sql, "postgres", (15, 4)).effect == "none"
    assert _taken(sql, "postgres", (11, 0)).effect == "none"
    assert _taken(sql, "postgres", (10, 23)).effect == "rewrite"


def test_postgres_conflict_table_is_symmetric_and_complete() -> None:
    # The manual's table is symmetric: a waits for b exactly when b waits for a.
    for one in PG_MODES:
        for other in PG_MODES:
            assert (other in PG_CONFLICTS[one]) == (one in PG_CONFLICTS[other])
    assert PG_CONFLICTS["ACCESS SHARE"] == {"ACCESS EXCLUSIVE"}
    assert "SHARE UPDATE EXCLUSIVE" in PG_CONFLICTS["SHARE UPDATE EXCLUSIVE"]
    assert "ROW EXCLUSIVE" not in PG_CONFLICTS["SHARE UPDATE EXCLUSIVE"]
    assert "ROW EXCLUSIVE" in PG_CONFLICTS["SHARE"]


@pytest.mark.parametrize(("version", "positioned", "instant"), [
    (None, False, False), ((8, 0, 11), False, False), ((8, 0, 12), False, True),
    ((8, 0, 28), True, False), ((8, 0, 29), True, True), ((5, 7, 44), False, False),
    ((10, 2, 44), False, False), ((10, 3, 0), False, True), ((10, 3, 39), True, False),
    ((10, 4, 0), True, True), ((10, 11, 6), True, True), ((11, 4, 2), False, True),
])
def test_instant_add_column_by_server(version: tuple[int, ...] | None, positioned: bool,
                                      instant: bool) -> None:
    assert instant_add_column(version, positioned) is instant
    sql = "ALTER TABLE users ADD COLUMN note text" + (" AFTER id" if positioned else "")
    taken = _taken(sql, "mysql", version)
    assert taken.algorithm == ("INSTANT" if instant else "INPLACE")
    assert taken.effect == ("none" if instant else "rewrite")


@pytest.mark.parametrize(("sql", "algorithm", "effect", "blocks_writes"), [
    ("ALTER TABLE users MODIFY COLUMN note varchar(10)", "COPY", "rewrite", True),
    ("ALTER TABLE users ADD INDEX i (n)", "INPLACE", "scan", False),
    ("ALTER TABLE users ADD FULLTEXT INDEX f (note)", "INPLACE", "scan", True),
    ("CREATE INDEX i ON users (n)", "INPLACE", "scan", False),
    ("ALTER TABLE users DROP PRIMARY KEY", "COPY", "rewrite", True),
    ("ALTER TABLE users ENGINE = InnoDB", "COPY", "rewrite", True),
    ("ALTER TABLE users FORCE", "INPLACE", "rewrite", False),
    ("ALTER TABLE users ALTER COLUMN n SET DEFAULT 3", "INSTANT", "none", False),
    ("ALTER TABLE users MODIFY COLUMN note varchar(10), ALGORITHM=INPLACE, LOCK=NONE",
     "INPLACE", "rewrite", False),
    ("OPTIMIZE TABLE users", "INPLACE", "rewrite", False),
])
def test_mysql_algorithm_and_metadata_lock(sql: str, algorithm: str, effect: str,
                                           blocks_writes: bool) -> None:
    taken = _taken(sql, "mysql", (8, 0, 36))
    assert taken.algorithm == algorithm and taken.effect == effect
    (lock,) = taken.locks
    assert lock.table == "users" and lock.mode.startswith("EXCLUSIVE metadata lock")
    assert ("SHARED_NO_WRITE" in lock.mode) is blocks_writes


def test_mysql_row_writes_take_a_shared_write_metadata_lock() -> None:
    (lock,) = _taken("UPDATE users SET n = 1 WHERE id = 2", "mysql").locks
    assert lock.mode == "SHARED_WRITE metadata lock"
    assert _taken("DROP TABLE users", "mysql").locks[0].mode == "EXCLUSIVE metadata lock"


def test_mysql_without_a_version_says_what_a_version_would_change() -> None:
    taken = _taken("ALTER TABLE users ADD COLUMN note text", "mysql")
    assert "--server-version" in taken.note and "8.0.12" in taken.note


@pytest.mark.parametrize(("sql", "effect"), [
    ("ALTER TABLE users ADD COLUMN note text", "none"),
    ("ALTER TABLE users DROP COLUMN note", "rewrite"),
    ("CREATE INDEX i ON users (n)", "scan"),
    ("VACUUM", "rewrite"),
    ("DELETE FROM users", "scan"),
    ("INSERT INTO users VALUES (1)", "none"),
])
def test_sqlite_takes_the_database_write_lock(sql: str, effect: str) -> None:
    taken = _taken(sql, "sqlite")
    assert [(lock.table, lock.mode) for lock in taken.locks] == [(None, "database write lock")]
    assert taken.effect == effect
    assert _taken("SELECT * FROM users", "sqlite").locks == ()


def test_describe_reads_as_a_sentence() -> None:
    assert _taken("VACUUM FULL users", "postgres").describe() == \
        "ACCESS EXCLUSIVE on users; rewrites the table"


@pytest.mark.parametrize("value", [-1, float("nan"), float("inf"), "5", True])
def test_refuse_when_blocked_longer_than_is_checked(value: object) -> None:
    with pytest.raises(ConfigError, match="refuse_when_blocked_longer_than"):
        policy_from_mapping("production", {"refuse_when_blocked_longer_than": value})


def test_refuse_when_blocked_longer_than_makes_the_gate_look_at_the_plan() -> None:
    policy = policy_from_mapping("production", {"refuse_when_blocked_longer_than": 0})
    assert policy.refuse_when_blocked_longer_than == 0.0 and policy.judges_the_plan
    assert not policy_from_mapping("production", {}).judges_the_plan
