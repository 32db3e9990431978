"""One source of truth for execution facts: the runner and the classifier agree.

Which statements cannot run inside a transaction (the runner runs their migration
statement by statement) and which ones end or nest the runner's transaction (refused in a
transactional migration) are answered by switchy_guard/sql/execution.py; the rules read
the classifier (SG402 its ``concurrently``, SG602 its begin/commit/rollback kinds). Every
statement below goes through both, in the three dialects, and each says what it expects,
so neither side can drift from the other nor from the truth.
"""

from __future__ import annotations

import pytest

from switchy_guard.sql.classify import classify
from switchy_guard.sql.execution import CONTROLS_TRANSACTION, controls_transaction, needs_autocommit
from switchy_guard.sql.split import split_statements

DIALECTS = (None, "sqlite", "postgres", "mysql")

#: (statement, needs autocommit, controls the transaction)
CORPUS: list[tuple[str, bool, bool]] = [
    # -- every kind the classifier knows, none of them special
    ("INSERT INTO t (a) VALUES (1)", False, False),
    ("REPLACE INTO t (a) VALUES (1)", False, False),
    ("SELECT 1", False, False),
    ("WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x", False, False),
    ("VALUES (1)", False, False),
    ("SET search_path = public", False, False),
    ("RESET ALL", False, False),
    ("PRAGMA foreign_keys = OFF", False, False),
    ("PRAGMA main.cache_size = 100", False, False),
    ("CALL refresh_totals()", False, False),
    ("COMMENT ON TABLE t IS 'begin; commit'", False, False),
    ("GRANT SELECT ON t TO app", False, False),
    ("REVOKE SELECT ON t FROM app", False, False),
    ("ANALYZE t", False, False),
    ("CLUSTER t USING t_pkey", False, False),
    ("REFRESH MATERIALIZED VIEW CONCURRENTLY totals", False, False),
    ("CHECKPOINT", False, False),
    ("OPTIMIZE TABLE t", False, False),
    ("LOCK TABLE t IN ACCESS EXCLUSIVE MODE", False, False),
    ("COPY t FROM STDIN", False, False),
    ("LOAD DATA INFILE 'x' INTO TABLE t", False, False),
    ("NOTIFY channel", False, False),
    ("DO $$ BEGIN PERFORM 1; COMMIT; END $$", False, False),
    ("CREATE TABLE t (id int, database text, system text)", False, False),
    ("CREATE TABLE t AS SELECT 1 AS concurrently", False, False),
    ("CREATE INDEX t_a ON t (a)", False, False),
    ("CREATE UNIQUE INDEX t_a ON t (a)", False, False),
    ("CREATE SCHEMA app", False, False),
    ("CREATE VIEW v AS SELECT 1", False, False),
    ("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$", False, False),
    ("DROP TABLE t", False, False),
    ("DROP INDEX t_a", False, False),
    ("DROP SCHEMA app CASCADE", False, False),
    ("DROP VIEW v", False, False),
    ("TRUNCATE t", False, False),
    ("DELETE FROM t WHERE a = 1", False, False),
    ("UPDATE t SET a = 1 WHERE a = 2", False, False),
    ("ALTER TABLE t ADD COLUMN b int", False, False),
    ("ALTER TABLE t RENAME TO u", False, False),
    ("ALTER INDEX t_a RENAME TO t_b", False, False),
    ("ALTER DATABASE app SET timezone = 'UTC'", False, False),
    ("ALTER TYPE mood ADD VALUE 'ok'", False, False),
    ("RENAME TABLE a TO b", False, False),
    ("PREPARE q AS SELECT 1", False, False),
    ("EXPLAIN ANALYZE DELETE FROM t", False, False),
    ("SAVEPOINT before_backfill", False, False),
    ("RELEASE SAVEPOINT before_backfill", False, False),
    ("ROLLBACK TO SAVEPOINT before_backfill", False, False),
    ("ROLLBACK TO before_backfill", False, False),
    ("ROLLBACK WORK TO SAVEPOINT before_backfill", False, False),
    ("ROLLBACK TRANSACTION TO before_backfill", False, False),
    ("START SLAVE", False, False),
    ("VACUUMING", False, False),
    # -- transaction control
    ("BEGIN", False, True),
    ("begin", False, True),
    ("BEGIN WORK", False, True),
    ("BEGIN TRANSACTION ISOLATION LEVEL SERIALIZABLE", False, True),
    ("BEGIN IMMEDIATE", False, True),
    ("START TRANSACTION", False, True),
    ("start   transaction read only", False, True),
    ("COMMIT", False, True),
    ("COMMIT WORK", False, True),
    ("COMMIT AND NO CHAIN", False, True),
    ("END", False, True),
    ("END TRANSACTION", False, True),
    ("ABORT", False, True),
    ("ROLLBACK", False, True),
    ("ROLLBACK WORK", False, True),
    ("Rollback And Chain", False, True),
    # -- statements that cannot run in a transaction
    ("CREATE INDEX CONCURRENTLY t_a ON t (a)", True, False),
    ("create unique index concurrently t_a on t (a)", True, False),
    ("CREATE INDEX CONCURRENTLY IF NOT EXISTS t_a ON t (a)", True, False),
    ("CREATE INDEX CONCURRENTLY ON t (a)", True, False),
    ("DROP INDEX CONCURRENTLY t_a", True, False),
    ("DROP INDEX CONCURRENTLY IF EXISTS t_a", True, False),
    ("REINDEX INDEX CONCURRENTLY t_a", True, False),
    ("REINDEX (VERBOSE) TABLE CONCURRENTLY t", True, False),
    ("VACUUM", True, False),
    ("VACUUM (FULL, ANALYZE) t", True, False),
    ("vacuum analyze t", True, False),
    ("CREATE DATABASE app", True, False),
    ("DROP DATABASE IF EXISTS app", True, False),
    ("ALTER SYSTEM SET work_mem = '64MB'", True, False),
    ("CREATE TABLESPACE fast LOCATION '/ssd'", True, False),
    ("PRAGMA journal_mode = WAL", True, False),
    ("PRAGMA main.journal_mode = WAL", True, False),
    ("pragma JOURNAL_MODE=wal", True, False),
    # -- comments between the words, and words in comments, strings and quoted names
    ("CREATE /* why */ INDEX CONCURRENTLY t_a ON t (a)", True, False),
    ("CREATE -- why\nUNIQUE INDEX\n  CONCURRENTLY t_a ON t (a)", True, False),
    ("DROP /* a */ INDEX /* b */ CONCURRENTLY t_a", True, False),
    ("CREATE INDEX /* CONCURRENTLY */ t_a ON t (a)", False, False),
    ("CREATE INDEX t_a ON t (a) -- not CONCURRENTLY: a new table", False, False),
    ("CREATE INDEX concurrently_t_a ON t (a)", False, False),
    ('CREATE INDEX "concurrently" ON t (a)', False, False),
    ("CREATE INDEX t_a ON t (a) WHERE note <> 'concurrently'", False, False),
    ("REINDEX TABLE t -- concurrently next time", False, False),
    ("REINDEX TABLE concurrently_log", False, False),
    ("REINDEX INDEX t_a", False, False),
    ("CREATE TABLE database_sizes (id int)", False, False),
    ("CREATE TABLE t (note text DEFAULT 'vacuum database system tablespace')", False, False),
    ("INSERT INTO t VALUES ('CREATE INDEX CONCURRENTLY x ON t (a)')", False, False),
    ("UPDATE t SET note = 'VACUUM' WHERE id = 1", False, False),
    ("DROP TABLE system_settings", False, False),
    ("PRAGMA journal_size_limit = 100", False, False),
    ("SELECT 'COMMIT'", False, False),
    ("INSERT INTO log VALUES ('BEGIN')", False, False),
    ("CREATE /* x */ DATABASE app", True, False),
]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(("sql", "autocommit", "controls"), CORPUS)
def test_each_statement_says_what_it_needs(sql: str, autocommit: bool, controls: bool,
                                           dialect: str | None) -> None:
    """The runner's answer is the expected one, in every dialect's reading."""
    assert needs_autocommit(sql, dialect) is autocommit
    assert controls_transaction(sql, dialect) is controls


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(("sql", "autocommit", "controls"), CORPUS)
def test_runner_and_classifier_agree(sql: str, autocommit: bool, controls: bool,
                                     dialect: str | None) -> None:
    """What the rules read from the classifier matches what the runner does: a statement
    SG402 calls CONCURRENTLY is run outside a transaction, and an index statement that is
    not CONCURRENTLY is not; SG602's transaction kinds are exactly the ones refused."""
    info = classify(sql, dialect)
    if info.concurrently:
        assert needs_autocommit(sql, dialect)
    if info.kind in ("create_index", "drop_index"):
        assert needs_autocommit(sql, dialect) is info.concurrently
    assert controls_transaction(sql, dialect) is (info.kind in CONTROLS_TRANSACTION)


@pytest.mark.parametrize("dialect", ["sqlite", "postgres", "mysql"])
def test_split_statements_keep_their_answers(dialect: str) -> None:
    """As the runner sees them: split from a file, leading comments taken off."""
    script = "".join(f"/* {i} */\n{sql}\n;\n" for i, (sql, _, _) in enumerate(CORPUS)
                     if "$$" not in sql or dialect == "postgres")
    expected = [(a, c) for sql, a, c in CORPUS if "$$" not in sql or dialect == "postgres"]
    statements = split_statements(script, dialect)
    assert [(needs_autocommit(s.text, dialect), controls_transaction(s.text, dialect))
            for s in statements] == expected


def test_mysql_executable_comments_are_read_as_code() -> None:
    """mysqldump's /*!...*/ runs its content: a COMMIT in one is a COMMIT."""
    assert controls_transaction("/*!40101 COMMIT */", "mysql")
    assert classify("/*!40101 COMMIT */", "mysql").kind == "commit"
