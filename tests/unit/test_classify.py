"""Statement classification, and the fast tokenizer against sqlparse's lexer."""

from __future__ import annotations

import pytest

from switchy_guard.sql.classify import STRING, classify, tokenize, tokenize_sqlparse
from tests.unit.rules.test_registry import CASES, SETUP


def _statements() -> list[str]:
    out = [SETUP]
    for cases in CASES.values():
        for _, fires, quiet in cases:
            out += [*fires.split(";\n"), *quiet.split(";\n")]
    out += [
        "INSERT INTO t (a, b) VALUES (1.5e3, 'it''s'), (.5, 'x')",
        'SELECT "Quoted ""Name""", `back``tick`, x::int, a <> b, c || d FROM t',
        "UPDATE t SET a = a + 1 WHERE b >= 2 AND c != 3",
    ]
    return out


@pytest.mark.parametrize("sql", _statements())
def test_fast_tokenizer_agrees_with_sqlparse(sql: str) -> None:
    fast = [(t.kind, t.up) for t in tokenize(sql)]
    reference = [(t.kind, t.up) for t in tokenize_sqlparse(sql)]
    # sqlparse files dollar-quoted bodies as punctuation; they are strings.
    reference = [(STRING, up) if up.startswith("$") and len(up) > 2 else (kind, up)
                 for kind, up in reference]
    assert fast == reference


def test_backslashes_escape_only_in_mysql_and_e_strings() -> None:
    assert [t.text for t in tokenize("SELECT 'C:\\', 1")][1:] == ["'C:\\'", ",", "1"]
    assert [t.text for t in tokenize("SELECT E'a\\'b', 1")][1:] == ["E'a\\'b'", ",", "1"]
    assert [t.text for t in tokenize("SELECT 'a\\'b', 1", "mysql")][1:] == ["'a\\'b'", ",", "1"]


def test_unterminated_tokens_do_not_raise() -> None:
    assert [t.kind for t in tokenize("SELECT 'open")] == ["w", "s"]
    assert [t.text for t in tokenize('SELECT "open')] == ["SELECT", "open"]
    assert [t.kind for t in tokenize("SELECT $$ open")] == ["w", "s"]


@pytest.mark.parametrize(
    ("sql", "kind", "table"),
    [
        ("CREATE TABLE IF NOT EXISTS app.users (id INT)", "create_table", "app.users"),
        ('CREATE TEMP TABLE "Mixed" (id INT)', "create_table", "Mixed"),
        ("DROP TABLE IF EXISTS a, b CASCADE", "drop_table", "a"),
        ("ALTER TABLE ONLY public.t ADD COLUMN x int", "alter_table", "public.t"),
        ("DELETE FROM ONLY t WHERE (a) IN (SELECT 1)", "delete", "t"),
        ("UPDATE OR REPLACE t SET a = 1", "update", "t"),
        ("INSERT OR IGNORE INTO `t` VALUES (1)", "insert", "t"),
        ("TRUNCATE ONLY t", "truncate", "t"),
        ("RENAME TABLE a TO b", "rename_table", "a"),
        ("DROP EXTENSION IF EXISTS pgcrypto", "drop_other", "pgcrypto"),
        ("CREATE OR REPLACE VIEW v AS SELECT 1", "create_other", "v"),
        ("CREATE MATERIALIZED VIEW IF NOT EXISTS s.mv AS SELECT 1", "create_other", "s.mv"),
        ("CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()",
         "create_other", "trg"),
        ("ALTER SEQUENCE s RESTART", "alter_other", None),
        ("WITH x AS (SELECT 1) SELECT * FROM x", "select", None),
        ("PRAGMA foreign_keys = ON", "pragma", None),
        ("REFRESH MATERIALIZED VIEW CONCURRENTLY totals", "maintenance", None),
        ("UNLOCK TABLES", "lock", None),
        ("COMMIT", "commit", None),
        ("ROLLBACK TO SAVEPOINT a", "savepoint", None),
        ("ROLLBACK WORK TO SAVEPOINT a", "savepoint", None),
        ("rollback transaction to a", "savepoint", None),
        ("ROLLBACK WORK", "rollback", None),
        ("ABORT", "rollback", None),
        ("END IF", "unknown", None),
        ("START SLAVE", "unknown", None),
        ("ALTER TABLE", "unknown", None),
        ("42", "unknown", None),
    ],
)
def test_kinds_and_targets(sql: str, kind: str, table: str | None) -> None:
    info = classify(sql, "postgres")
    assert info.kind == kind
    assert (str(info.table) if info.table else None) == table


def test_alter_table_actions() -> None:
    info = classify(
        "ALTER TABLE t ADD COLUMN a INT NOT NULL DEFAULT 0 AFTER b, DROP COLUMN IF EXISTS c, "
        "ALTER COLUMN d SET DATA TYPE varchar(20), ALTER COLUMN e DROP NOT NULL, "
        "ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES u (id) NOT VALID, "
        "VALIDATE CONSTRAINT ck, RENAME COLUMN f TO g, DROP INDEX ix, ALGORITHM = INPLACE",
        "mysql",
    )
    kinds = [(a.kind, a.column) for a in info.actions]
    assert kinds == [
        ("add_column", "a"), ("drop_column", "c"), ("alter_type", "d"),
        ("drop_not_null", "e"), ("add_constraint", None), ("validate_constraint", None),
        ("rename_column", "f"), ("drop_index", None),
    ]
    add = info.actions[0]
    assert (add.type, add.not_null, add.default, add.position) == ("int", True, "0", True)
    assert info.actions[2].type == "varchar(20)"
    assert info.actions[4].not_valid and info.actions[4].constraint == "foreign_key"
    assert info.options == {"ALGORITHM": "INPLACE"}


def test_create_table_columns() -> None:
    info = classify(
        "CREATE TABLE t (id BIGINT PRIMARY KEY, price NUMERIC(10, 2) NOT NULL DEFAULT 0.0, "
        "note TEXT, CONSTRAINT u UNIQUE (price), FOREIGN KEY (id) REFERENCES x (id))"
    )
    assert info.columns == (
        ("id", "bigint", True, None),
        ("price", "numeric(10, 2)", True, "0.0"),
        ("note", "text", False, None),
    )


@pytest.mark.parametrize(
    ("sql", "object_type"),
    [
        ("CREATE DEFINER=`root`@`localhost` PROCEDURE `p`(IN d INT) BEGIN SELECT 1; END",
         "procedure"),
        ("CREATE DEFINER=CURRENT_USER TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET NEW.a = 1",
         "trigger"),
        ("CREATE OR REPLACE DEFINER = `app`@`%` VIEW v AS SELECT 1", "view"),
    ],
)
def test_mysql_definer_clause_is_skipped(sql: str, object_type: str) -> None:
    info = classify(sql, "mysql")
    assert (info.kind, info.object_type) == ("create_other", object_type)


@pytest.mark.parametrize(
    ("sql", "kind", "object_type"),
    [
        ("/*!40101 SET NAMES utf8mb4 */", "set", None),
        ("/*!40014 SET @OLD_FK=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */", "set", None),
        ("/*M!100100 ALTER TABLE t DROP COLUMN c */", "alter_table", None),
        ("/*!50001 CREATE ALGORITHM=UNDEFINED */\n/*!50013 DEFINER=`root`@`localhost` SQL "
         "SECURITY DEFINER */\n/*!50001 VIEW `v` AS select 1 AS `a` */", "create_other", "view"),
        ("CREATE ALGORITHM = MERGE VIEW v AS SELECT 1", "create_other", "view"),
        ("CREATE SQL SECURITY INVOKER VIEW v AS SELECT 1", "create_other", "view"),
    ],
)
def test_mysql_executable_comments_and_view_options(sql: str, kind: str,
                                                    object_type: str | None) -> None:
    """mysqldump wraps statements in /*!NNNNN ... */: the server runs them, so they are code."""
    info = classify(sql, "mysql")
    assert (info.kind, info.object_type) == (kind, object_type)


def test_recursive_views_and_virtual_tables() -> None:
    recursive = classify("CREATE OR REPLACE RECURSIVE VIEW nums (n) AS VALUES (1)", "postgres")
    assert (recursive.kind, recursive.object_type) == ("create_other", "view")
    virtual = classify("CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(body)", "sqlite")
    assert (virtual.kind, str(virtual.table), virtual.if_exists) == (
        "create_table", "docs_fts", True)


def test_mariadb_compound_statement_is_a_block_not_a_transaction() -> None:
    block = "BEGIN NOT ATOMIC\n  DECLARE x INT DEFAULT 0;\n  SELECT x;\nEND"
    info = classify(block, "mysql")
    assert (info.kind, info.object_type) == ("do", "compound")
    assert classify("BEGIN WORK", "mysql").kind == "begin"


@pytest.mark.parametrize(
    ("sql", "dialect", "kind", "language"),
    [
        ("DO $$ BEGIN DROP TABLE t; END $$", "postgres", "do", "plpgsql"),
        ("DO $$ BEGIN DROP TABLE t; END $$", None, "do", "plpgsql"),
        ("DO LANGUAGE plpgsql $body$ BEGIN NULL; END $body$", "postgres", "do", "plpgsql"),
        ("DO 'BEGIN NULL; END' LANGUAGE 'PLPGSQL'", "postgres", "do", "plpgsql"),
        ("DO LANGUAGE plpython3u $py$ plpy.execute('DROP TABLE t') $py$", "postgres", "do",
         "plpython3u"),
        # A quoted language name keeps its case: "PLPGSQL" is no language PostgreSQL has.
        ('DO LANGUAGE "PLPGSQL" $$ BEGIN NULL; END $$', "postgres", "do", "PLPGSQL"),
        # MySQL's DO evaluates expressions: no block to read.
        ("DO RELEASE_LOCK('migrations')", "mysql", "do", None),
        ("DO RELEASE_LOCK('migrations')", None, "do", None),
        ("DO $$ BEGIN NULL; END $$", "sqlite", "unknown", None),
    ],
)
def test_do_blocks_name_their_language(sql: str, dialect: str | None, kind: str,
                                       language: str | None) -> None:
    info = classify(sql, dialect)
    assert (info.kind, info.object_type) == (kind, language)


@pytest.mark.parametrize(
    ("sql", "kind", "table", "has_where"),
    [
        ("WITH gone AS (DELETE FROM sessions RETURNING *) SELECT count(*) FROM gone",
         "delete", "sessions", False),
        ("WITH moved AS (\n  DELETE FROM orders WHERE created_at < now() RETURNING *\n)\n"
         "INSERT INTO archived SELECT * FROM moved", "delete", "orders", True),
        ("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 9)\n"
         "UPDATE t SET a = 1", "update", "t", False),
        ("WITH a AS (UPDATE t SET a = 1 WHERE id = 1 RETURNING id), "
         "b AS NOT MATERIALIZED (UPDATE u SET b = 2 RETURNING id) SELECT 1", "update", "u", False),
        ("WITH x (k) AS (SELECT 1) INSERT INTO s VALUES (1) ON CONFLICT (k) DO UPDATE SET v = 1",
         "insert", "s", False),
        ("WITH x AS (SELECT 'delete') SELECT * FROM x", "select", None, False),
    ],
)
def test_data_modifying_ctes(sql: str, kind: str, table: str | None, has_where: bool) -> None:
    info = classify(sql, "postgres")
    assert (info.kind, str(info.table) if info.table else None, info.has_where) == (
        kind, table, has_where)


def test_sqlite_bracket_quoted_names_agree_with_sqlparse() -> None:
    sql = "DROP TABLE IF EXISTS [order items], [users]"
    assert [(t.kind, t.text) for t in tokenize(sql, "sqlite")] == [
        (t.kind, t.text) for t in tokenize_sqlparse(sql)]
    info = classify(sql, "sqlite")
    assert [str(t) for t in info.tables] == ["order items", "users"]
    assert str(classify("INSERT INTO [users] (id) VALUES (1)", "sqlite").table) == "users"


def test_brackets_are_subscripts_outside_sqlite() -> None:
    assert [t.kind for t in tokenize("SELECT a[1]", "postgres")] == ["w", "w", "p", "n", "p"]


@pytest.mark.parametrize(
    ("sql", "has_where"),
    [
        ("DELETE FROM users WHERE 1=1", False),
        ("DELETE FROM users WHERE TRUE", False),
        ("DELETE FROM users WHERE 1", False),
        ("DELETE FROM users WHERE 'a' = 'a'", False),
        ("DELETE FROM users WHERE NOT FALSE", False),
        ("DELETE FROM users WHERE id = 0 OR 1 = 1", False),
        ("DELETE FROM users WHERE id = 0 OR TRUE", False),
        ("DELETE FROM users WHERE id = id", False),
        ("DELETE FROM users WHERE u.id = u.id", False),
        ("DELETE FROM users WHERE (1 = 1) RETURNING id", False),
        ("UPDATE users SET name = NULL WHERE TRUE", False),
        ("DELETE FROM users WHERE 1 = 0", True),
        ("DELETE FROM users WHERE FALSE", True),
        ("DELETE FROM users WHERE id = 3", True),
        ("DELETE FROM users WHERE id = 3 AND 1 = 1", True),
        ("DELETE FROM users WHERE id = other_id", True),
        ("DELETE FROM users WHERE id IN (SELECT 1) ORDER BY id", True),
        ("UPDATE users SET name = NULL WHERE name = ''", True),
    ],
)
def test_a_where_clause_that_is_always_true_bounds_nothing(sql: str, has_where: bool) -> None:
    assert classify(sql, "postgres").has_where is has_where


@pytest.mark.parametrize(
    ("sql", "dialect", "kind", "has_where"),
    [
        ("EXPLAIN ANALYZE DELETE FROM users", "postgres", "delete", False),
        ("EXPLAIN ANALYZE VERBOSE UPDATE users SET a = 1", "postgres", "update", False),
        ("EXPLAIN (ANALYZE, BUFFERS) DELETE FROM users", "postgres", "delete", False),
        ("EXPLAIN (ANALYZE true) DELETE FROM users WHERE id = 1", "postgres", "delete", True),
        ("ANALYZE DELETE FROM users", "mysql", "delete", False),
        ("ANALYZE FORMAT=JSON UPDATE users SET a = 1", "mysql", "update", False),
        ("EXPLAIN ANALYZE DELETE FROM users", "mysql", "delete", False),
        # Only described, not run:
        ("EXPLAIN DELETE FROM users", "postgres", "select", False),
        ("EXPLAIN (ANALYZE false) DELETE FROM users", "postgres", "select", False),
        ("EXPLAIN (ANALYZE off) DELETE FROM users", "postgres", "select", False),
        ("ANALYZE users", "postgres", "maintenance", False),
        ("ANALYZE TABLE users", "mysql", "maintenance", False),
    ],
)
def test_explain_analyze_runs_the_statement_it_describes(sql: str, dialect: str, kind: str,
                                                         has_where: bool) -> None:
    info = classify(sql, dialect)
    assert (info.kind, info.has_where) == (kind, has_where)


def test_double_bar_is_or_only_on_mysql() -> None:
    assert classify("DELETE FROM users WHERE id = 0 || TRUE", "mysql").has_where is False
    assert classify("DELETE FROM users WHERE name = 'a' || 'b'", "postgres").has_where is True


# Statements real histories hold that were SG603 "unparseable" noise (issue 15): each is
# classified, and none that may destroy data is passed as harmless.
@pytest.mark.parametrize(("sql", "dialect", "kind"), [
    ("CREATE STATISTICS s1 (ndistinct) ON a, b FROM t", "postgres", "create_other"),
    ("CREATE STATISTICS IF NOT EXISTS s1 ON a, b FROM t", "postgres", "create_other"),
    ("ALTER TRIGGER tr ON t RENAME TO tr2", "postgres", "alter_other"),
    ("ALTER POLICY p ON t RENAME TO p2", "postgres", "alter_other"),
    ("ALTER STATISTICS s1 SET STATISTICS 100", "postgres", "alter_other"),
    ("ALTER DOMAIN d SET DEFAULT 0", "postgres", "alter_other"),
    ("ALTER EVENT e ON SCHEDULE EVERY 2 HOUR", "mysql", "alter_other"),
    ("SECURITY LABEL FOR selinux ON TABLE t IS 'system_u'", "postgres", "comment"),
    ("DEALLOCATE PREPARE stmt", "mysql", "other"),
    ("DEALLOCATE ALL", "postgres", "other"),
    ("DROP PREPARE stmt", "mysql", "other"),
    ("PREPARE stmt FROM @s", "mysql", "prepare"),
    ("PREPARE p (int) AS DELETE FROM t WHERE id = $1", "postgres", "prepare"),
    ("FLUSH PRIVILEGES", "mysql", "maintenance"),
    ("FLUSH TABLES t WITH READ LOCK", "mysql", "lock"),
    ("OPTIMIZE TABLE t", "mysql", "maintenance"),
    ("CHECK TABLE t", "mysql", "maintenance"),
    ("RESET search_path", "postgres", "set"),
    ("DISCARD ALL", "postgres", "set"),
    ("LISTEN jobs", "postgres", "other"),
    # Not harmless: RESET MASTER deletes the binary logs; an EXECUTE alone runs SQL
    # this statement does not show.
    ("RESET MASTER", "mysql", "unknown"),
    ("EXECUTE stmt", "mysql", "dynamic"),
    ("EXECUTE IMMEDIATE CONCAT('DROP TABLE ', @t)", "mysql", "dynamic"),
])
def test_statements_real_histories_hold_are_classified(sql: str, dialect: str,
                                                       kind: str) -> None:
    assert classify(sql, dialect).kind == kind


def _run_by(sql: str, dialect: str) -> list[tuple[str, str]]:
    from switchy_guard.sql.parse import parse_statements
    from switchy_guard.sql.split import split_statements

    return [(info.kind, info.via) for _, info in
            parse_statements(split_statements(sql, dialect), dialect)]


def test_execute_runs_what_the_migration_prepared() -> None:
    mysql = ("SET @s = 'ALTER TABLE t DROP COLUMN c';\nPREPARE stmt FROM @s;\n"
             "EXECUTE stmt;\nDEALLOCATE PREPARE stmt;\nEXECUTE stmt;\n"
             "PREPARE s2 FROM 'DELETE FROM t';\nEXECUTE s2;\n"
             "EXECUTE IMMEDIATE 'TRUNCATE t';\n")
    assert _run_by(mysql, "mysql") == [
        ("set", ""), ("prepare", ""),
        ("alter_table", "run by EXECUTE stmt, prepared on line 2"),
        ("other", ""),
        ("dynamic", ""),  # deallocated: nothing this migration prepared
        ("prepare", ""), ("delete", "run by EXECUTE s2, prepared on line 6"),
        ("truncate", "run by EXECUTE IMMEDIATE"),
    ]
    postgres = "PREPARE q AS DELETE FROM t;\nEXECUTE q;\n"
    assert _run_by(postgres, "postgres")[1] == ("delete", "run by EXECUTE q, prepared on line 1")


def test_execute_of_sql_built_at_run_time_stays_unknown() -> None:
    built = ("SET @s = IF(@x, 'ALTER TABLE t ADD c INT', 'SELECT 1');\n"
             "PREPARE stmt FROM @s;\nEXECUTE stmt;\n")
    assert _run_by(built, "mysql")[2][0] == "dynamic"
    # A variable set to a literal, then changed in a way not read here.
    changed = ("SET @s = 'SELECT 1';\nSELECT 'DROP TABLE t' INTO @s;\n"
               "PREPARE stmt FROM @s;\nEXECUTE stmt;\n")
    assert _run_by(changed, "mysql")[3][0] == "dynamic"
    called = "SET @s = 'SELECT 1';\nCALL change_it();\nPREPARE stmt FROM @s;\nEXECUTE stmt;\n"
    assert _run_by(called, "mysql")[3][0] == "dynamic"
