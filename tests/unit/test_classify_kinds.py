"""The classifier's statement kinds and CREATE readers: what :func:`classify` returns per
dialect, as the rules (newness, locking, transactions, destruction) and the runner (what
runs outside a transaction) read it. Issue 21: each case pins one reading a slip in the
classifier would change."""

from __future__ import annotations

import dataclasses

import pytest

from switchy_guard.sql.classify import (
    DYNAMIC,
    Name,
    StatementInfo,
    classify,
    first_word,
    read_tables,
)
from switchy_guard.sql.execution import controls_transaction, needs_autocommit

DIALECTS = ("postgres", "mysql", "sqlite", None)


# -- the model ------------------------------------------------------------------------


def test_a_statement_without_detail_carries_the_empty_defaults() -> None:
    info = classify("SELECT 1", "postgres")
    assert dataclasses.asdict(info) == {
        "kind": "select", "table": None, "tables": (), "object_type": None, "index": None,
        "concurrently": False, "if_exists": False, "has_where": False, "cascade": False,
        "unique": False, "actions": (), "columns": (), "options": {}, "new_name": None,
        "or_replace": False, "temporary": False, "filled": False, "via": "", "runs": (),
        "renames": (),
    }
    # The flags are plain booleans (the rules and JSON reports read them as such).
    for flag in ("concurrently", "if_exists", "has_where", "cascade", "unique",
                 "or_replace", "temporary", "filled"):
        assert getattr(info, flag) is False, flag


def test_statement_info_is_immutable_and_its_options_are_its_own() -> None:
    info = classify("CREATE TABLE t (id int)", "postgres")
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.kind = "drop_table"  # type: ignore[misc]
    one, two = StatementInfo("select"), StatementInfo("select")
    one.options["LOCK"] = "NONE"
    assert two.options == {}


@pytest.mark.parametrize(("sql", "dialect", "ddl"), [
    ("CREATE TABLE t (id int)", "postgres", True),
    ("CREATE INDEX i ON t (a)", "postgres", True),
    ("CREATE VIEW v AS SELECT 1", "sqlite", True),
    ("CREATE SCHEMA s", "postgres", True),
    ("ALTER TABLE t ADD COLUMN a int", "mysql", True),
    ("ALTER INDEX i RENAME TO j", "postgres", True),
    ("DROP TABLE t", "mysql", True),
    ("DROP INDEX i", "postgres", True),
    ("RENAME TABLE a TO b", "mysql", True),
    ("TRUNCATE TABLE t", "mysql", True),
    ("INSERT INTO t VALUES (1)", "mysql", False),
    ("UPDATE t SET a = 1 WHERE id = 2", "mysql", False),
    ("DELETE FROM t WHERE id = 2", "mysql", False),
    ("SELECT 1", "mysql", False),
    ("SET NAMES utf8", "mysql", False),
    ("BEGIN", "mysql", False),
    ("COMMIT", "mysql", False),
    ("DO $$ BEGIN END $$", "postgres", False),
    ("EXECUTE p", "postgres", False),
    ("FOO bar", "mysql", False),
])
def test_is_ddl_is_the_statements_mysql_commits_implicitly(sql: str, dialect: str,
                                                           ddl: bool) -> None:
    assert classify(sql, dialect).is_ddl is ddl


# -- first word, executable comments ----------------------------------------------------


@pytest.mark.parametrize(("text", "word"), [
    ("select 1", "SELECT"),
    ("  \n((SELECT 1))", "SELECT"),
    ("/*!40101 SET NAMES utf8 */", "SET"),
    ("/*M!100100 DROP TABLE t */", "DROP"),
    ("/*!50003 CREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW SET @a = 1 */", "CREATE"),
    ("123", ""),
    ("", ""),
    ("'text'", ""),
])
def test_first_word(text: str, word: str) -> None:
    assert first_word(text) == word


def test_executable_comments_are_code_as_mysql_runs_them() -> None:
    assert classify("/*!40101 SET NAMES utf8 */", "mysql").kind == "set"
    dropped = classify("/*!32312 DROP TABLE IF EXISTS t */", "mysql")
    assert (dropped.kind, dropped.tables, dropped.if_exists) == ("drop_table", (Name("t"),), True)
    view = classify("/*!50001 CREATE ALGORITHM=UNDEFINED VIEW v AS SELECT 1 */", "mysql")
    assert (view.kind, view.object_type, view.table) == ("create_other", "view", Name("v"))
    # Not at the start: PostgreSQL reads /*! ... */ as the comment it is.
    sql = "CREATE TABLE t (a int /*!NOT NULL*/)"
    assert classify(sql, "postgres").columns == (("a", "int", False, None),)
    assert classify(sql, "mysql").columns == (("a", "int", True, None),)


# -- the dispatch ---------------------------------------------------------------------


@pytest.mark.parametrize(("sql", "kind"), [
    ("", "unknown"),
    ("42", "unknown"),
    ("FOO bar", "unknown"),
    ("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", "unknown"),
    ("SELECT 1", "select"),
    ("(SELECT 1) UNION (SELECT 2)", "select"),
    ("VALUES (1)", "select"),
    ("WITH x AS (SELECT 1) SELECT * FROM x", "select"),
    ("WITH x AS (SELECT 'delete') SELECT * FROM x", "select"),
    ("SHOW TABLES", "select"),
    ("EXPLAIN DELETE FROM t", "select"),
    ("SET search_path = app", "set"),
    ("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", "set"),
    ("USE app", "set"),
    ("PRAGMA foreign_keys = ON", "pragma"),
    ("CALL p()", "call"),
    ("COMMENT ON TABLE t IS 'x'", "comment"),
    ("GRANT SELECT ON t TO r", "grant"),
    ("REVOKE SELECT ON t FROM r", "grant"),
    ("ANALYZE t", "maintenance"),
    ("VACUUM", "maintenance"),
    ("CLUSTER t USING i", "maintenance"),
    ("LOCK TABLES t WRITE", "lock"),
    ("NOTIFY ch", "other"),
    ("FLUSH PRIVILEGES", "maintenance"),
])
def test_kinds_of_statements_without_targets(sql: str, kind: str) -> None:
    for dialect in DIALECTS:
        info = classify(sql, dialect)
        assert (info.kind, info.table) == (kind, None), dialect


@pytest.mark.parametrize(("sql", "concurrently"), [
    ("REINDEX INDEX CONCURRENTLY i", True),
    ("reindex (verbose) table concurrently t", True),
    ("REINDEX TABLE t", False),
    # A quoted name is not the keyword (it made the migration run without a transaction).
    ("REINDEX TABLE \"concurrently\"", False),
])
def test_reindex_concurrently(sql: str, concurrently: bool) -> None:
    info = classify(sql, "postgres")
    assert (info.kind, info.concurrently) == ("maintenance", concurrently)
    assert needs_autocommit(sql, "postgres") is concurrently


@pytest.mark.parametrize(("sql", "dialect", "kind", "table", "has_where"), [
    ("EXPLAIN ANALYZE DELETE FROM t", "postgres", "delete", "t", False),
    ("EXPLAIN (ANALYZE, BUFFERS) UPDATE t SET a = 1 WHERE id = 1", "postgres", "update", "t",
     True),
    ("ANALYZE DELETE FROM t WHERE id = 1", "mysql", "delete", "t", True),
    ("COPY (DELETE FROM t RETURNING *) TO STDOUT", "postgres", "delete", "t", False),
    # The dialect reaches the statement run inside: || is OR only in MySQL.
    ("ANALYZE DELETE FROM t WHERE a = 1 || 1 = 1", "mysql", "delete", "t", False),
    ("ANALYZE DELETE FROM t WHERE a = 1 || 1 = 1", "postgres", "delete", "t", True),
])
def test_statements_run_inside_others(sql: str, dialect: str, kind: str, table: str,
                                      has_where: bool) -> None:
    info = classify(sql, dialect)
    assert (info.kind, info.table, info.has_where) == (kind, Name(table), has_where)


# -- WITH -----------------------------------------------------------------------------


@pytest.mark.parametrize(("sql", "dialect", "kind", "table", "has_where"), [
    ("WITH x AS (SELECT 1) DELETE FROM t WHERE a = 1 || 1 = 1", "mysql", "delete", "t", False),
    ("WITH x AS (SELECT 1) DELETE FROM t WHERE a = 1 || 1 = 1", "postgres", "delete", "t",
     True),
    ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) "
     "DELETE FROM t WHERE id IN (SELECT n FROM r)", "postgres", "delete", "t", True),
    ("WITH d AS NOT MATERIALIZED (DELETE FROM t RETURNING id) SELECT * FROM d", "postgres",
     "delete", "t", False),
    ("WITH d AS MATERIALIZED (UPDATE t SET a = 1 RETURNING id) SELECT * FROM d", "postgres",
     "update", "t", False),
    ("WITH d (id) AS (DELETE FROM t WHERE id IN (SELECT id FROM u) RETURNING id) "
     "SELECT * FROM d", "postgres", "delete", "t", True),
    # Several writes: the one without a WHERE clause is the one reported...
    ("WITH a AS (DELETE FROM t WHERE id = 1 RETURNING id), b AS (DELETE FROM u RETURNING id) "
     "SELECT 1", "postgres", "delete", "u", False),
    ("WITH a AS (DELETE FROM t WHERE id = 1 RETURNING id) UPDATE u SET x = 1", "postgres",
     "update", "u", False),
    # ... else the first.
    ("WITH a AS (UPDATE t SET x = 1 WHERE id = 1 RETURNING id), "
     "b AS (DELETE FROM u WHERE id = 2 RETURNING id) SELECT 1", "postgres", "update", "t", True),
    # Inserts count when nothing deletes or updates.
    ("WITH a AS (INSERT INTO t VALUES (1) RETURNING id) SELECT * FROM a", "postgres",
     "insert", "t", False),
    ("WITH x AS (SELECT 1) INSERT INTO s.t SELECT * FROM x", "postgres", "insert", "s.t", False),
    ("WITH a AS (INSERT INTO t VALUES (1) RETURNING id) UPDATE u SET x = 1 WHERE id = 3",
     "postgres", "update", "u", True),
    # PostgreSQL 14+: SEARCH and CYCLE after a recursive CTE, commas and all (the write
    # after them was missed: read as a SELECT).
    ("WITH RECURSIVE r (id, up) AS (SELECT id, up FROM n UNION ALL SELECT n.id, n.up FROM n "
     "JOIN r ON n.up = r.id) SEARCH DEPTH FIRST BY id, up SET ord "
     "CYCLE id, up SET looped TO true DEFAULT false USING path DELETE FROM n",
     "postgres", "delete", "n", False),
    ("WITH RECURSIVE r (id) AS (SELECT 1 UNION SELECT id + 1 FROM r) CYCLE id SET c USING p, "
     "d AS (DELETE FROM t RETURNING id) SELECT * FROM r", "postgres", "delete", "t", False),
    ("WITH RECURSIVE r (id) AS (SELECT 1 UNION SELECT id + 1 FROM r) "
     "SEARCH BREADTH FIRST BY id SET o, d AS (UPDATE t SET a = 1 RETURNING id) SELECT 1",
     "postgres", "update", "t", False),
    ('WITH a AS (UPDATE "T" SET x = 1 RETURNING id) SELECT 1', "postgres", "update", "T", False),
    # The CTE's body to its closing parenthesis, no token more or less.
    ("WITH d AS (DELETE FROM t) SELECT 1", "postgres", "delete", "t", False),
    ("WITH d AS (DELETE FROM t WHERE id = id) SELECT 1", "postgres", "delete", "t", False),
    ("WITH d AS (DELETE FROM t WHERE 1 = id) SELECT 1", "postgres", "delete", "t", True),
    # Half-written or unclosed (statements the server refuses): read as far as they go.
    ("WITH d AS (DELETE FROM t RETURNING id) SELECT", "postgres", "delete", "t", False),
    ("WITH d AS DELETE FROM t", "postgres", "delete", "t", False),
    ("WITH a AS (DELETE FROM t WHERE id = 1", "postgres", "delete", "t", True),
])
def test_data_modifying_with(sql: str, dialect: str, kind: str, table: str,
                             has_where: bool) -> None:
    info = classify(sql, dialect)
    assert (info.kind, str(info.table), info.has_where) == (kind, table, has_where)


def test_with_insert_names_the_schema_and_quoted_names() -> None:
    info = classify('WITH x AS (SELECT 1) INSERT INTO app."Big T" SELECT * FROM x', "postgres")
    assert (info.table, info.or_replace) == (Name("Big T", "app"), False)


@pytest.mark.parametrize(("sql", "table", "or_replace"), [
    # SQLite: WITH ... INSERT OR action INTO t (the table was read as "or", and INSERT OR
    # REPLACE, which deletes the rows whose keys it repeats, as a plain insert).
    ("WITH x AS (SELECT 1) INSERT OR REPLACE INTO t SELECT * FROM x", Name("t"), True),
    ("WITH x AS (SELECT 1) insert or ignore into main.t SELECT * FROM x", Name("t", "main"),
     False),
    ("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", Name("t"), False),
])
def test_sqlite_with_insert_or_action(sql: str, table: Name, or_replace: bool) -> None:
    info = classify(sql, "sqlite")
    assert (info.kind, info.table, info.or_replace) == ("insert", table, or_replace)


# -- INSERT, REPLACE, COPY, LOAD ------------------------------------------------------------


@pytest.mark.parametrize(("sql", "dialect", "table", "or_replace"), [
    ("INSERT INTO t VALUES (1)", "postgres", Name("t"), False),
    ("insert into t(a) values (1)", "postgres", Name("t"), False),
    ("INSERT INTO app.t SELECT * FROM u", "postgres", Name("t", "app"), False),
    ('INSERT INTO "Mixed" VALUES (1)', "postgres", Name("Mixed"), False),
    ("INSERT t VALUES (1)", "mysql", Name("t"), False),
    ("INSERT IGNORE INTO t VALUES (1)", "mysql", Name("t"), False),
    ("INSERT LOW_PRIORITY INTO t VALUES (1)", "mysql", Name("t"), False),
    ("INSERT DELAYED t VALUES (1)", "mysql", Name("t"), False),
    ("INSERT INTO `db`.`t` VALUES (1)", "mysql", Name("t", "db"), False),
    ("INSERT OR IGNORE INTO t VALUES (1)", "sqlite", Name("t"), False),
    ("INSERT INTO [t] VALUES (1)", "sqlite", Name("t"), False),
    ("INSERT OR REPLACE INTO t VALUES (1)", "sqlite", Name("t"), True),
    ("insert or replace into t values (1)", "sqlite", Name("t"), True),
    ("REPLACE INTO t VALUES (1)", "mysql", Name("t"), True),
    ("REPLACE t SELECT * FROM u", "mysql", Name("t"), True),
    ("REPLACE LOW_PRIORITY INTO t VALUES (1)", "mysql", Name("t"), True),
    # MySQL/MariaDB: INSERT [LOW_PRIORITY | DELAYED | HIGH_PRIORITY] [IGNORE] [INTO] t (the
    # second word was read as the table).
    ("INSERT HIGH_PRIORITY INTO t VALUES (1)", "mysql", Name("t"), False),
    ("INSERT LOW_PRIORITY IGNORE INTO t VALUES (1)", "mysql", Name("t"), False),
    ("INSERT HIGH_PRIORITY IGNORE t SELECT * FROM u", "mysql", Name("t"), False),
    # Quoted names with spaces (read as the part before the space).
    ('INSERT INTO "order items" VALUES (1)', "postgres", Name("order items"), False),
    ('INSERT INTO app."Order Items" (a) VALUES (1)', "postgres",
     Name("Order Items", "app"), False),
    ("REPLACE INTO `order items` VALUES (1)", "mysql", Name("order items"), True),
    ("INSERT OR REPLACE INTO [order items] VALUES (1)", "sqlite", Name("order items"), True),
    ("INSERT", None, None, False),
    ("REPLACE", None, None, True),
])
def test_insert_targets(sql: str, dialect: str | None, table: Name | None,
                        or_replace: bool) -> None:
    info = classify(sql, dialect)
    assert (info.kind, info.table, info.or_replace) == ("insert", table, or_replace)


@pytest.mark.parametrize(("sql", "dialect", "kind", "table"), [
    ("COPY t FROM STDIN", "postgres", "copy", Name("t")),
    ("COPY app.t (a, b) FROM '/tmp/x.csv' WITH (FORMAT csv)", "postgres", "copy",
     Name("t", "app")),
    ("copy t from stdin", "postgres", "copy", Name("t")),
    ("COPY t TO STDOUT", "postgres", "copy", None),
    ("COPY (SELECT * FROM t) TO STDOUT", "postgres", "copy", None),
    ("LOAD DATA INFILE 'f.csv' INTO TABLE t", "mysql", "load", Name("t")),
    ("LOAD DATA LOCAL INFILE 'f.csv' REPLACE INTO TABLE db.t FIELDS TERMINATED BY ','",
     "mysql", "load", Name("t", "db")),
    ("load xml local infile 'f.xml' ignore into table `T`", "mysql", "load", Name("T")),
    ("LOAD INDEX INTO CACHE t", "mysql", "load", None),
    # MySQL runs the code of an executable comment: the table is named in it.
    ("LOAD DATA INFILE 'f' INTO TABLE /*!t*/", "mysql", "load", Name("t")),
    ("LOAD 'auto_explain'", "postgres", "load", None),
])
def test_copy_and_load_name_the_table_they_fill(sql: str, dialect: str, kind: str,
                                                table: Name | None) -> None:
    info = classify(sql, dialect)
    assert (info.kind, info.table) == (kind, table)


# -- transaction control ----------------------------------------------------------------


@pytest.mark.parametrize(("sql", "kind"), [
    ("BEGIN", "begin"),
    ("begin;", "begin"),
    ("BEGIN WORK", "begin"),
    ("BEGIN TRANSACTION", "begin"),
    ("BEGIN ISOLATION LEVEL SERIALIZABLE", "begin"),
    ("BEGIN IMMEDIATE TRANSACTION", "begin"),
    ("START TRANSACTION", "begin"),
    ("start transaction;", "begin"),
    ("START TRANSACTION READ ONLY", "begin"),
    ("START SLAVE", "unknown"),
    ("START REPLICA", "unknown"),
    ("START", "unknown"),
    ("COMMIT", "commit"),
    ("COMMIT WORK", "commit"),
    ("COMMIT AND NO CHAIN", "commit"),
    ("END", "commit"),
    ("end;", "commit"),
    ("END WORK", "commit"),
    ("END TRANSACTION", "commit"),
    ("END IF", "unknown"),
    ("END LOOP", "unknown"),
    ("END x", "unknown"),  # MySQL: the end of the block labelled x
    ("ROLLBACK", "rollback"),
    ("ROLLBACK;", "rollback"),
    ("ROLLBACK WORK", "rollback"),
    ("ROLLBACK AND CHAIN", "rollback"),
    ("ABORT", "rollback"),
    ("ROLLBACK TO s", "savepoint"),
    ("rollback to savepoint s", "savepoint"),
    ("ROLLBACK WORK TO SAVEPOINT s", "savepoint"),
    ("rollback transaction to s", "savepoint"),
    ("ROLLBACK WORK AND NO CHAIN", "rollback"),
    ("SAVEPOINT s", "savepoint"),
    ("RELEASE SAVEPOINT s", "savepoint"),
    ("RELEASE s", "savepoint"),
])
def test_transaction_control(sql: str, kind: str) -> None:
    for dialect in DIALECTS:
        info = classify(sql, dialect)
        assert (info.kind, info.object_type) == (kind, None), dialect
        assert controls_transaction(sql, dialect) is (kind in ("begin", "commit", "rollback"))


@pytest.mark.parametrize("sql", ["BEGIN NOT ATOMIC SELECT 1; END", "begin not atomic\nEND",
                                 "BEGIN NOT;"])
def test_mariadb_begin_not_atomic_is_a_block(sql: str) -> None:
    info = classify(sql, "mysql")
    assert (info.kind, info.object_type) == ("do", "compound")
    assert controls_transaction(sql, "mysql") is False


def test_prepare_transaction_ends_the_migrations_transaction() -> None:
    from tests.unit.rules.test_transactions_edges import TRANSACTION_RUN, found

    sql = "CREATE TABLE t (id int);\nPREPARE TRANSACTION 'tx1';"
    assert found(sql, "postgres", "SG602") == [(2, f"PREPARE {TRANSACTION_RUN}")]


def test_begin_inside_a_mysql_procedure_is_part_of_its_body() -> None:
    sql = "CREATE PROCEDURE p() BEGIN START TRANSACTION; DELETE FROM t; COMMIT; END"
    info = classify(sql, "mysql")
    assert (info.kind, info.object_type, info.table) == ("create_other", "procedure", Name("p"))
    assert controls_transaction(sql, "mysql") is False


# -- CREATE INDEX ---------------------------------------------------------------------


@pytest.mark.parametrize(("sql", "dialect", "expected"), [
    ("CREATE INDEX i ON t (a)", "postgres",
     dict(index=Name("i"), table=Name("t"), unique=False, concurrently=False, if_exists=False)),
    ("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON ONLY app.t (a)", "postgres",
     dict(index=Name("i"), table=Name("t", "app"), unique=True, concurrently=True,
          if_exists=True)),
    ("create index concurrently on t using gin (a)", "postgres",
     dict(index=None, table=Name("t"), concurrently=True)),
    ("CREATE INDEX ON ONLY t (a)", "postgres", dict(index=None, table=Name("t"))),
    ('CREATE INDEX "Idx" ON app."T" (a)', "postgres",
     dict(index=Name("Idx"), table=Name("T", "app"))),
    ("CREATE UNIQUE INDEX IF NOT EXISTS i ON t (a)", "sqlite",
     dict(index=Name("i"), table=Name("t"), unique=True, if_exists=True)),
    ("CREATE FULLTEXT INDEX ft ON t (body)", "mysql",
     dict(index=Name("ft"), table=Name("t"), object_type="fulltext", unique=False)),
    ("CREATE SPATIAL INDEX sp ON t (g)", "mysql",
     dict(index=Name("sp"), table=Name("t"), object_type="spatial")),
    ("CREATE INDEX i ON t (a) ALGORITHM = INPLACE LOCK = NONE", "mysql",
     dict(index=Name("i"), table=Name("t"), options={"ALGORITHM": "INPLACE", "LOCK": "NONE"})),
    ("CREATE OR REPLACE INDEX i ON t (a)", "mysql", dict(index=Name("i"), table=Name("t"))),
    # MySQL/MariaDB: CREATE INDEX name [USING {BTREE | HASH | RTREE}] ON t (the table was
    # read as one named "using").
    ("CREATE INDEX i USING BTREE ON t (a)", "mysql", dict(index=Name("i"), table=Name("t"))),
    ("CREATE UNIQUE INDEX IF NOT EXISTS i USING HASH ON db.t (a)", "mysql",
     dict(index=Name("i"), table=Name("t", "db"), unique=True, if_exists=True)),
])
def test_create_index(sql: str, dialect: str, expected: dict[str, object]) -> None:
    info = classify(sql, dialect)
    assert info.kind == "create_index"
    assert {key: getattr(info, key) for key in expected} == expected


@pytest.mark.parametrize(("sql", "autocommit"), [
    ("CREATE INDEX CONCURRENTLY i ON t (a)", True),
    ("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a)", True),
    ("CREATE INDEX i ON t (a)", False),
    ("CREATE INDEX i ON t (a) WHERE note = 'concurrently'", False),
])
def test_create_index_concurrently_runs_outside_a_transaction(sql: str,
                                                               autocommit: bool) -> None:
    assert needs_autocommit(sql, "postgres") is autocommit


# -- CREATE TABLE ---------------------------------------------------------------------


@pytest.mark.parametrize(("sql", "dialect", "expected"), [
    ("CREATE TABLE t (id int)", "postgres",
     dict(table=Name("t"), if_exists=False, temporary=False, or_replace=False, filled=False)),
    ("CREATE TABLE IF NOT EXISTS app.t (id int)", "postgres",
     dict(table=Name("t", "app"), if_exists=True)),
    ("CREATE TEMP TABLE t (id int)", "postgres", dict(table=Name("t"), temporary=True)),
    ("create temporary table t (id int)", "sqlite", dict(table=Name("t"), temporary=True)),
    ("CREATE TEMPORARY TABLE IF NOT EXISTS t (id int)", "mysql",
     dict(table=Name("t"), temporary=True, if_exists=True)),
    ("CREATE GLOBAL TEMPORARY TABLE t (id int)", "postgres",
     dict(table=Name("t"), temporary=True)),
    ("CREATE LOCAL TEMP TABLE t (id int)", "postgres", dict(table=Name("t"), temporary=True)),
    ("CREATE UNLOGGED TABLE t (id int)", "postgres", dict(table=Name("t"), temporary=False)),
    ("CREATE OR REPLACE TABLE t (id int)", "mysql", dict(table=Name("t"), or_replace=True)),
    ("CREATE OR REPLACE TEMPORARY TABLE t (id int)", "mysql",
     dict(table=Name("t"), or_replace=True, temporary=True)),
    ("CREATE VIRTUAL TABLE docs USING fts5(body)", "sqlite",
     dict(table=Name("docs"), columns=())),
    ("CREATE TABLE t AS SELECT * FROM u", "postgres", dict(table=Name("t"), filled=True)),
    ("CREATE TABLE t AS TABLE u", "postgres", dict(table=Name("t"), filled=True)),
    ("CREATE TABLE t AS SELECT * FROM u WITH DATA", "postgres", dict(filled=True)),
    ("CREATE TABLE t AS SELECT * FROM u WITH NO DATA", "postgres",
     dict(table=Name("t"), filled=False)),
    ("CREATE TABLE t SELECT * FROM u", "mysql", dict(table=Name("t"), filled=True)),
    ("CREATE TABLE t (id int) SELECT id FROM u", "mysql", dict(filled=True)),
    ("CREATE TABLE t (a int GENERATED ALWAYS AS (1) STORED)", "postgres", dict(filled=False)),
    ("CREATE TABLE t (LIKE u INCLUDING ALL)", "postgres",
     dict(table=Name("t"), filled=False, columns=())),
    ("CREATE TABLE t LIKE u", "mysql", dict(table=Name("t"), filled=False, columns=())),
    ("CREATE TABLE t (id int) PARTITION BY RANGE (id)", "postgres", dict(filled=False)),
])
def test_create_table(sql: str, dialect: str, expected: dict[str, object]) -> None:
    info = classify(sql, dialect)
    assert info.kind == "create_table"
    assert {key: getattr(info, key) for key in expected} == expected


def test_create_table_columns_types_not_null_and_defaults() -> None:
    sql = """CREATE TABLE t (
        id bigint PRIMARY KEY,
        name text NOT NULL DEFAULT 'x',
        amount numeric(10, 2) DEFAULT 0 NOT NULL,
        flag boolean DEFAULT (NOT false),
        total int DEFAULT (1 + (2)),
        seen timestamp with time zone DEFAULT now(),
        note varchar(20) NULL,
        "Mixed Case" int CONSTRAINT pos CHECK ("Mixed Case" > 0),
        ref int REFERENCES u (id) ON DELETE CASCADE,
        serial_id int GENERATED BY DEFAULT AS IDENTITY (START WITH 10),
        label varchar(5) COLLATE "C" DEFAULT NULL,
        UNIQUE (name),
        CONSTRAINT pk PRIMARY KEY (id),
        FOREIGN KEY (ref) REFERENCES u (id),
        CHECK (amount > 0),
        EXCLUDE USING gist (ref WITH =),
        LIKE other
    )"""
    assert classify(sql, "postgres").columns == (
        ("id", "bigint", True, None),
        ("name", "text", True, "'x'"),
        ("amount", "numeric(10, 2)", True, "0"),
        ("flag", "boolean", False, "(NOT false)"),
        ("total", "int", False, "(1 +(2))"),
        ("seen", "timestamp with time zone", False, "now()"),
        ("note", "varchar(20)", False, None),
        ("Mixed Case", "int", False, None),
        ("ref", "int", False, None),
        # An identity column is NOT NULL without saying so (was read as nullable).
        ("serial_id", "int", True, None),
        ("label", "varchar(5)", False, "NULL"),
    )


def test_column_attributes_after_the_type_are_not_part_of_it() -> None:
    sql = ("CREATE TABLE t (a text STORAGE EXTERNAL, b text COMPRESSION lz4 NOT NULL, "
           "c jsonb STORAGE MAIN COMPRESSION pglz DEFAULT '{}')")
    assert classify(sql, "postgres").columns == (
        ("a", "text", False, None), ("b", "text", True, None), ("c", "jsonb", False, "'{}'"))
    sql = ("CREATE TABLE t (a blob COMPRESSED, b int INVISIBLE, c int COLUMN_FORMAT FIXED, "
           "d int STORAGE DISK, e int VISIBLE NOT NULL, g point SRID 4326 NOT NULL)")
    assert classify(sql, "mysql").columns == (
        ("a", "blob", False, None), ("b", "int", False, None), ("c", "int", False, None),
        ("d", "int", False, None), ("e", "int", True, None), ("g", "point", True, None))


def test_postgres_character_types_are_read_whole() -> None:
    # CHARACTER starts MySQL's CHARACTER SET after a type, but is a type itself in
    # PostgreSQL (the type was read as "").
    sql = ("CREATE TABLE t (a character varying(20) NOT NULL, b character(3), "
           "c national character varying(4), d varchar(5) CHARACTER SET utf8 DEFAULT 'x')")
    assert classify(sql, "postgres").columns == (
        ("a", "character varying(20)", True, None),
        ("b", "character(3)", False, None),
        ("c", "national character varying(4)", False, None),
        ("d", "varchar(5)", False, "'x'"),
    )


def test_mysql_create_table_columns() -> None:
    sql = """CREATE TABLE `t` (
        `id` INT UNSIGNED NOT NULL AUTO_INCREMENT,
        `name` VARCHAR(20) CHARACTER SET utf8mb4 NOT NULL DEFAULT '',
        `kind` ENUM('a', 'b') DEFAULT 'a' COMMENT 'k',
        `at` DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
        PRIMARY KEY (`id`),
        KEY `k` (`name`),
        INDEX `i` (`kind`),
        UNIQUE KEY `u` (`name`),
        FULLTEXT `f` (`name`),
        SPATIAL INDEX `s` (`at`)
    ) ENGINE=InnoDB"""
    assert classify(sql, "mysql").columns == (
        ("id", "int unsigned", True, None),
        ("name", "varchar(20)", True, "''"),
        ("kind", "enum('a', 'b')", False, "'a'"),
        ("at", "datetime", False, "CURRENT_TIMESTAMP"),
    )


def test_each_column_attribute_ends_the_type() -> None:
    sql = ("CREATE TABLE t (c int CHECK (c > 0), id int AUTO_INCREMENT PRIMARY KEY, "
           "g int AS (c + 1) STORED, v varchar(3) CHARSET utf8, "
           "ts timestamp ON UPDATE CURRENT_TIMESTAMP, k int COMMENT 'x', "
           "total int DEFAULT (abs(-1) + (2)) NOT NULL, n int DEFAULT (1) NOT NULL)")
    assert classify(sql, "mysql").columns == (
        ("c", "int", False, None), ("id", "int", True, None), ("g", "int", False, None),
        ("v", "varchar(3)", False, None), ("ts", "timestamp", False, None),
        ("k", "int", False, None), ("total", "int", True, "(abs(- 1)+(2))"),
        ("n", "int", True, "(1)"))
    # A parenthesis in a string is no parenthesis.
    sql = "CREATE TABLE t (k ENUM('(', 'b') NOT NULL, m varchar(3) DEFAULT '(' NOT NULL)"
    assert classify(sql, "mysql").columns == (
        ("k", "enum('(', 'b')", True, None), ("m", "varchar(3)", True, "'('"))
    for position in ("FIRST", "AFTER b"):
        info = classify(f"ALTER TABLE t ADD COLUMN a int {position}", "mysql")
        assert [(a.kind, a.column, a.type) for a in info.actions] == [("add_column", "a", "int")]
    # A half-written ADD COLUMN is an action nothing could read, of the ALTER TABLE.
    info = classify("ALTER TABLE t ADD COLUMN", "mysql")
    assert (info.kind, [a.kind for a in info.actions]) == ("alter_table", ["unknown"])


def test_table_constraints_anywhere_in_the_list_are_no_columns() -> None:
    sql = "CREATE TABLE t (a int, PRIMARY KEY (a), b text, CONSTRAINT u UNIQUE (b), c int)"
    assert [c[0] for c in classify(sql, "mysql").columns] == ["a", "b", "c"]
    sql = "CREATE TABLE t (id int) PARTITION BY HASH (id) PARTITIONS 4"
    assert classify(sql, "mysql").columns == (("id", "int", False, None),)


def test_sqlite_create_table_columns() -> None:
    sql = ("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, [Name] TEXT NOT NULL, "
           "n, x ANY UNIQUE)")
    assert classify(sql, "sqlite").columns == (
        ("id", "integer", True, None),
        ("Name", "text", True, None),
        ("n", "", False, None),
        ("x", "any", False, None),
    )


def test_a_column_list_read_to_its_closing_parenthesis_only() -> None:
    sql = "CREATE TABLE t (a int, b numeric(3, 1)) AS SELECT 1, 2"
    assert classify(sql, "postgres").columns == (
        ("a", "int", False, None), ("b", "numeric(3, 1)", False, None))
    # A half-written statement (the server refuses it) is read without raising.
    info = classify("CREATE TABLE t (a int UNIQUE NOT", "postgres")
    assert info.columns == (("a", "int", False, None),)
    info = classify("CREATE TABLE t (a int DEFAULT", "postgres")
    assert info.columns == (("a", "int", False, ""),)


# -- CREATE of other objects ------------------------------------------------------------


@pytest.mark.parametrize(("sql", "dialect", "kind", "object_type", "expected"), [
    ("CREATE SCHEMA app", "postgres", "create_schema", "schema",
     dict(table=Name("app"), if_exists=False)),
    ("create schema if not exists app", "postgres", "create_schema", "schema",
     dict(table=Name("app"), if_exists=True)),
    # PostgreSQL: CREATE SCHEMA AUTHORIZATION role names the schema after the role.
    ("CREATE SCHEMA AUTHORIZATION joe", "postgres", "create_schema", "schema",
     dict(table=Name("joe"), if_exists=False)),
    ("CREATE SCHEMA IF NOT EXISTS AUTHORIZATION joe", "postgres", "create_schema", "schema",
     dict(table=Name("joe"), if_exists=True)),
    ("CREATE SCHEMA app AUTHORIZATION joe", "postgres", "create_schema", "schema",
     dict(table=Name("app"))),
    ("CREATE DATABASE IF NOT EXISTS shop", "mysql", "create_schema", "database",
     dict(table=Name("shop"), if_exists=True)),
    ("CREATE VIEW v AS SELECT 1", "postgres", "create_other", "view",
     dict(table=Name("v"), or_replace=False, temporary=False, if_exists=False)),
    ("CREATE OR REPLACE VIEW app.v AS SELECT 1", "postgres", "create_other", "view",
     dict(table=Name("v", "app"), or_replace=True)),
    ("CREATE TEMP VIEW v AS SELECT 1", "sqlite", "create_other", "view",
     dict(table=Name("v"), temporary=True)),
    ("CREATE TEMPORARY VIEW IF NOT EXISTS v AS SELECT 1", "sqlite", "create_other", "view",
     dict(table=Name("v"), temporary=True, if_exists=True)),
    ("CREATE OR REPLACE TEMP RECURSIVE VIEW v (n) AS SELECT 1", "postgres", "create_other",
     "view", dict(table=Name("v"), temporary=True, or_replace=True)),
    ("CREATE MATERIALIZED VIEW mv AS SELECT * FROM t", "postgres", "create_other",
     "materialized", dict(table=Name("mv"), if_exists=False)),
    ("CREATE MATERIALIZED VIEW IF NOT EXISTS app.mv AS SELECT 1 WITH NO DATA", "postgres",
     "create_other", "materialized", dict(table=Name("mv", "app"), if_exists=True)),
    ("CREATE ALGORITHM = MERGE VIEW v AS SELECT 1", "mysql", "create_other", "view",
     dict(table=Name("v"))),
    ("CREATE OR REPLACE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER "
     "VIEW v AS SELECT 1", "mysql", "create_other", "view",
     dict(table=Name("v"), or_replace=True)),
    ("CREATE SQL SECURITY INVOKER VIEW v AS SELECT 1", "mysql", "create_other", "view",
     dict(table=Name("v"))),
    ("CREATE DEFINER = 'app'@'%' TRIGGER trg BEFORE INSERT ON t FOR EACH ROW SET @a = 1",
     "mysql", "create_other", "trigger", dict(table=Name("trg"))),
    ("CREATE DEFINER=CURRENT_USER PROCEDURE p() SELECT 1", "mysql", "create_other",
     "procedure", dict(table=Name("p"))),
    ("CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql", "postgres",
     "create_other", "function", dict(table=Name("f"))),
    ("CREATE OR REPLACE FUNCTION app.f() RETURNS int AS 'SELECT 1' LANGUAGE sql", "postgres",
     "create_other", "function", dict(table=Name("f", "app"), or_replace=True)),
    ("CREATE TEMPORARY SEQUENCE s", "postgres", "create_other", "sequence",
     dict(table=Name("s"), temporary=True)),
    ("CREATE EXTENSION IF NOT EXISTS pgcrypto", "postgres", "create_other", "extension",
     dict(table=Name("pgcrypto"), if_exists=True)),
    ("CREATE TYPE mood AS ENUM ('a')", "postgres", "create_other", "type",
     dict(table=Name("mood"))),
    ("CREATE USER 'app'@'%' IDENTIFIED BY 'x'", "mysql", "create_other", "user",
     dict(table=None)),
    ("CREATE FOO x", "postgres", "unknown", None, dict(table=None)),
    ("CREATE TABLESPACE ts LOCATION '/x'", "postgres", "unknown", None, dict(table=None)),
])
def test_create_other_objects(sql: str, dialect: str, kind: str, object_type: str | None,
                              expected: dict[str, object]) -> None:
    info = classify(sql, dialect)
    assert (info.kind, info.object_type) == (kind, object_type)
    assert {key: getattr(info, key) for key in expected} == expected


@pytest.mark.parametrize(("sql", "autocommit"), [
    ("CREATE DATABASE shop", True),
    ("CREATE SCHEMA database_tools", False),
])
def test_create_database_runs_outside_a_transaction(sql: str, autocommit: bool) -> None:
    assert needs_autocommit(sql, "postgres") is autocommit


# -- RENAME TABLE ---------------------------------------------------------------------


@pytest.mark.parametrize(("sql", "renames"), [
    ("RENAME TABLE a TO b", [("a", "b")]),
    ("rename table a to b, c to d", [("a", "b"), ("c", "d")]),
    ("RENAME TABLE t TO tmp, t_new TO t, tmp TO t_old",
     [("t", "tmp"), ("t_new", "t"), ("tmp", "t_old")]),
    ("RENAME TABLE db1.a TO db2.b", [("db1.a", "db2.b")]),
    ("RENAME TABLE IF EXISTS a TO b", [("a", "b")]),
    ("RENAME TABLE a WAIT 5 TO b, c NOWAIT TO d", [("a", "b"), ("c", "d")]),
    ("RENAME TABLE `Big` TO `Bigger`", [("Big", "Bigger")]),
    # MariaDB: RENAME TABLE[S] (was unknown).
    ("RENAME TABLES a TO b, c TO d", [("a", "b"), ("c", "d")]),
])
def test_rename_table_pairs_in_order(sql: str, renames: list[tuple[str, str]]) -> None:
    info = classify(sql, "mysql")
    assert info.kind == "rename_table"
    assert [(str(old), str(new)) for old, new in info.renames] == renames
    assert (str(info.table), str(info.new_name)) == renames[0]


@pytest.mark.parametrize("sql", [
    "RENAME TABLE", "RENAME TABLE a", "RENAME TABLE a b", "RENAME TABLE a TO",
    "RENAME TABLE a TO b, c", "RENAME TABLE a TO b, TO d", "RENAME TABLE a TO (b)",
    "RENAME USER a TO b", "RENAME",
])
def test_rename_that_names_no_table_pair_is_unknown(sql: str) -> None:
    info = classify(sql, "mysql")
    assert (info.kind, info.table, info.renames) == ("unknown", None, ())


# -- DO, PREPARE / EXECUTE / DEALLOCATE, RESET, FLUSH ---------------------------------------


@pytest.mark.parametrize(("sql", "dialect", "kind", "language"), [
    ("DO $$ BEGIN DELETE FROM t; END $$", "postgres", "do", "plpgsql"),
    ("DO $$ BEGIN END $$", None, "do", "plpgsql"),
    ("DO 'BEGIN END'", "postgres", "do", "plpgsql"),
    ("DO LANGUAGE plpython3u $$ pass $$", "postgres", "do", "plpython3u"),
    ("do $$ print(1) $$ language PLPERL", "postgres", "do", "plperl"),
    ("DO LANGUAGE 'plperl' 'print 1'", "postgres", "do", "plperl"),
    ('DO LANGUAGE "PLv8" $$ 1 $$', "postgres", "do", "PLv8"),
    ("DO LANGUAGE PLV8X $$ 1 $$", "postgres", "do", "plv8x"),
    ("DO $$ BEGIN END $$ LANGUAGE", "postgres", "do", "plpgsql"),
    ("DO LANGUAGE plpgsql", "postgres", "do", None),
    ("DO pg_sleep(1)", "postgres", "do", None),
    ("DO 'x' 'y' LANGUAGE plperl", "postgres", "do", "plpgsql"),
    ("DO SLEEP(1), RELEASE_LOCK('x')", "mysql", "do", None),
    ("DO 'x'", "mysql", "do", None),
    ("DO $$ BEGIN END $$", "sqlite", "unknown", None),
])
def test_do_blocks(sql: str, dialect: str | None, kind: str, language: str | None) -> None:
    info = classify(sql, dialect)
    assert (info.kind, info.object_type) == (kind, language)


@pytest.mark.parametrize(("sql", "dialect", "expected"), [
    ("PREPARE stmt FROM 'DELETE FROM t'", "mysql", ("prepare", Name("stmt"), None)),
    ("PREPARE p (int) AS DELETE FROM t WHERE id = $1", "postgres",
     ("prepare", Name("p"), None)),
    ("PREPARE transaction_x FROM 'SELECT 1'", "mysql", ("prepare", Name("transaction_x"), None)),
    # PostgreSQL's PREPARE TRANSACTION ends the session's transaction (was read as the
    # definition of a statement named "transaction", which runs nothing).
    ("PREPARE TRANSACTION 'tx1'", "postgres", ("commit", None, "prepared")),
    ("prepare transaction $$tx1$$", "postgres", ("commit", None, "prepared")),
    ("EXECUTE p", "postgres", (DYNAMIC, Name("p"), "prepared")),
    ("EXECUTE stmt USING @a", "mysql", (DYNAMIC, Name("stmt"), "prepared")),
    ("execute immediate 'DROP TABLE t'", "mysql", (DYNAMIC, None, "immediate")),
    ("DEALLOCATE PREPARE stmt", "mysql", ("other", None, "prepared")),
    ("DEALLOCATE ALL", "postgres", ("other", None, "prepared")),
    ("RESET search_path", "postgres", ("set", None, None)),
    ("RESET ALL", "postgres", ("set", None, None)),
    ("RESET", "postgres", ("set", None, None)),
    ("RESET QUERY CACHE", "mysql", ("set", None, None)),
    ("RESET MASTER", "mysql", ("unknown", None, None)),
    ("reset slave", "mysql", ("unknown", None, None)),
    ("RESET REPLICA ALL", "mysql", ("unknown", None, None)),
    ("RESET BINARY LOGS AND GTIDS", "mysql", ("unknown", None, None)),
    ("FLUSH TABLES", "mysql", ("maintenance", None, None)),
    ("FLUSH LOGS", "mysql", ("maintenance", None, None)),
    ("FLUSH TABLES WITH READ LOCK", "mysql", ("lock", None, None)),
    ("flush tables t for export", "mysql", ("lock", None, None)),
])
def test_session_and_prepared_statements(sql: str, dialect: str,
                                         expected: tuple[str, Name | None, str | None]) -> None:
    info = classify(sql, dialect)
    assert (info.kind, info.table, info.object_type) == expected


# -- read_tables ----------------------------------------------------------------------


@pytest.mark.parametrize(("sql", "dialect", "tables"), [
    ("INSERT INTO n SELECT * FROM t JOIN u ON u.id = t.id LEFT JOIN app.v ON true",
     "postgres", ["t", "u", "v"]),
    ("CREATE TABLE n AS SELECT * FROM (SELECT 1) x, w", "postgres", []),
    ('SELECT "from" x FROM "T"', "postgres", ["T"]),
    ("SELECT 'from x' FROM t", "postgres", ["t"]),
    ("SELECT * FROM [old t]", "sqlite", ["old t"]),
    ("select * from t where a in (select b from u)", "mysql", ["t", "u"]),
    ("SELECT 1", None, []),
    ("SELECT * FROM", None, []),
])
def test_read_tables(sql: str, dialect: str | None, tables: list[str]) -> None:
    assert read_tables(sql, dialect) == tables


# -- the dialect's tokens reach every reader ---------------------------------------------


def test_postgres_nested_comments_hide_what_they_hold_from_every_reader() -> None:
    # PostgreSQL nests /* */: the inner */ does not end the comment (elsewhere it does).
    reindex = "REINDEX TABLE /* a /* b */ CONCURRENTLY */ t"
    assert classify(reindex, "postgres").concurrently is False
    assert classify(reindex, None).concurrently is True
    with_delete = "WITH d AS (DELETE FROM t /* x /* y */ WHERE id = 1 */ RETURNING id) SELECT 1"
    assert classify(with_delete, "postgres").has_where is False
    assert classify(with_delete, None).has_where is True
    delete = "DELETE FROM t /* x /* y */ WHERE id = 1 */"
    assert classify(delete, "postgres").has_where is False
    assert classify(delete, None).has_where is True
    create = "CREATE TABLE t (a int /* x /* y */ NOT NULL */)"
    assert classify(create, "postgres").columns == (("a", "int", False, None),)
    assert classify(create, None).columns == (("a", "int", True, None),)
