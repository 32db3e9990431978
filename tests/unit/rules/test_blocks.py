"""The rules see the statements an anonymous block runs (DO, MariaDB's BEGIN NOT ATOMIC)."""

from __future__ import annotations

import pytest

from switchy_guard.check.pipeline import validate
from switchy_guard.model.findings import Finding
from switchy_guard.model.migration import Migration
from tests.unit.rules.helpers import findings_for

P, M = "postgres", "mysql"
SETUP = "CREATE TABLE users (id INT, email VARCHAR(255));\n"


def found(sql: str, dialect: str | None, setup: str = SETUP) -> list[Finding]:
    existing = Migration("2024-01-01-000000_base", setup, "", "a", "b", noop_down=True)
    migration = Migration("2024-01-02-000000_case", sql, "", "a", "b",
                          noop_down=True, up_path="case/up.sql")
    return validate([existing, migration], dialect, plan_ids={migration.id}).findings


def where(sql: str, dialect: str | None) -> list[tuple[str, int, int, str]]:
    return [(f.code, f.line or 0, f.column or 0, f.statement or "")
            for f in found(sql, dialect)]


@pytest.mark.parametrize("dialect", [P, None])
def test_hazards_inside_a_do_block_are_reported_where_they_are(dialect: str | None) -> None:
    sql = ("SELECT 1;\n"
           "DO $$\n"
           "BEGIN\n"
           "  DROP TABLE users;\n"
           "END $$;\n")
    assert where(sql, dialect) == [("SG301", 4, 3, "DROP TABLE users")]
    sql = ("DO $$ BEGIN ALTER TABLE users ADD COLUMN c int NOT NULL; "
           "EXECUTE 'CREATE INDEX i ON users(email)'; END $$")
    assert {(code, line, column) for code, line, column, _ in where(sql, P)} == {
        ("SG403", 1, 13), ("SG401", 1, sql.index("CREATE INDEX") + 1)}


def test_hazards_in_every_branch_and_loop_count() -> None:
    sql = """DO $body$
DECLARE
  r record;
BEGIN
  IF EXISTS (SELECT 1 FROM pg_tables WHERE tablename = 'users') THEN
    ALTER TABLE users DROP COLUMN email;
  ELSE
    DELETE FROM users;
  END IF;
  FOR r IN SELECT id FROM users LOOP
    UPDATE users SET email = NULL;
  END LOOP;
END
$body$;"""
    assert [(code, line) for code, line, _, _ in where(sql, P)] == [
        ("SG302", 6), ("SG305", 8), ("SG306", 11)]


def test_a_mariadb_compound_statement_is_checked_statement_by_statement() -> None:
    sql = ("BEGIN NOT ATOMIC\n"
           "  DECLARE n INT DEFAULT 0;\n"
           "  IF n = 0 THEN\n"
           "    ALTER TABLE users DROP COLUMN email;\n"
           "  END IF;\n"
           "  UPDATE users SET email = '';\n"
           "END;\n")
    codes = [(code, line) for code, line, _, _ in where(sql, M)]
    assert ("SG302", 4) in codes and ("SG306", 6) in codes
    # One block with DDL and data changes: MySQL commits the DDL inside it too.
    (sg601,) = [f for f in found(sql, M) if f.code == "SG601"]
    assert sg601.line == 4 and "2 statements" in sg601.message


@pytest.mark.parametrize(
    ("sql", "dialect"),
    [
        # A DO block that only does safe things.
        ("DO $$ DECLARE n int; BEGIN SELECT count(*) INTO n FROM users; "
         "IF n = 0 THEN RAISE NOTICE 'empty'; END IF; PERFORM pg_sleep(0); "
         "INSERT INTO users (id) VALUES (1); END $$", P),
        # A table the block itself creates is new: indexing it blocks no one.
        ("DO $$ BEGIN CREATE TABLE fresh (id int); CREATE INDEX fresh_id ON fresh (id); "
         "ALTER TABLE fresh ADD COLUMN n int NOT NULL; END $$", P),
        # Function and procedure bodies do not run when the migration runs.
        ("CREATE FUNCTION purge() RETURNS void AS $$ BEGIN DROP TABLE users; "
         "DELETE FROM users; END $$ LANGUAGE plpgsql", P),
        ("CREATE PROCEDURE purge() BEGIN DROP TABLE users; DELETE FROM users; END", M),
        ("BEGIN NOT ATOMIC\n  DECLARE x INT;\n  SET x = 1;\n  SELECT x;\nEND", M),
        # MySQL's DO evaluates an expression.
        ("DO RELEASE_LOCK('migrations')", M),
    ],
)
def test_safe_look_alikes_stay_quiet(sql: str, dialect: str) -> None:
    assert [f.code for f in found(sql, dialect)] == []


def test_a_table_created_in_a_do_block_is_new_for_later_statements() -> None:
    sql = ("DO $$ BEGIN CREATE TABLE fresh (id int); END $$;\n"
           "CREATE INDEX fresh_id ON fresh (id);\n"
           "DO $$ BEGIN CREATE INDEX users_id ON users (id); END $$;")
    assert where(sql, P) == [("SG401", 3, 13, "CREATE INDEX users_id ON users (id)")]


def test_an_allow_before_the_block_covers_its_statements() -> None:
    sql = ("-- switchy-guard: allow drop-table -- archived in v3\n"
           "DO $$ BEGIN DROP TABLE users; DROP TABLE orders; END $$;\n"
           "DROP TABLE sessions;")
    assert where(sql, P) == [("SG301", 3, 1, "DROP TABLE sessions")]
    # An allow at the end of the block's last line, or inside it before a statement.
    sql = ("DO $$\nBEGIN\n  DROP TABLE users;\n"
           "  -- switchy-guard: allow SG401 -- tiny table\n"
           "  EXECUTE 'CREATE INDEX i ON users (id)';\n"
           "END $$; -- switchy-guard: allow drop-table -- archived")
    assert where(sql, P) == []


def test_an_allow_before_the_block_that_matches_nothing_in_it_is_reported_once() -> None:
    sql = ("-- switchy-guard: allow drop-column -- not needed\n"
           "DO $$ BEGIN DROP TABLE users; INSERT INTO users VALUES (1); END $$;")
    assert [(code, line) for code, line, _, _ in where(sql, P)] == [
        ("SG301", 2), ("SG901", 2)]
    without_reason = "-- switchy-guard: allow drop-table\nDO $$ BEGIN DROP TABLE users; END $$"
    assert [code for code, _, _, _ in where(without_reason, P)] == ["SG900", "SG301"]


def test_dynamic_sql_and_other_languages_warn() -> None:
    sql = ("DO $$ BEGIN\n"
           "  EXECUTE format('DROP TABLE %I', 'users');\n"
           "  EXECUTE 'DROP TABLE ' || quote_ident('users');\n"
           "END $$;\n"
           "DO LANGUAGE plpython3u $py$ plpy.execute('DROP TABLE users') $py$;")
    findings = found(sql, P)
    assert [(f.code, f.severity.value, f.line) for f in findings] == [
        ("SG603", "warning", 2), ("SG603", "warning", 3), ("SG603", "warning", 5)]
    assert "builds at run time" in findings[0].message
    assert "plpython3u" in findings[2].message
    allowed = "-- switchy-guard: allow unparseable-statement -- reviewed\n" + sql
    assert [f.line for f in found(allowed, P)] == [6]
    mariadb = ("BEGIN NOT ATOMIC\n  PREPARE s FROM @ddl;\n  EXECUTE s;\n"
               "  EXECUTE IMMEDIATE 'DROP TABLE users';\nEND")
    assert [(code, line) for code, line, _, _ in where(mariadb, M) if code != "SG601"] == [
        ("SG603", 2), ("SG301", 4)]


def test_concurrently_inside_a_block_fails() -> None:
    sql = "DO $$ BEGIN EXECUTE 'CREATE INDEX CONCURRENTLY i ON users (id)'; END $$"
    (finding,) = found(sql, P)
    assert finding.code == "SG402" and "DO block" in finding.message
    # The statements a block runs are not more statements of the migration.
    alone = "DROP INDEX CONCURRENTLY users_old"
    assert [f.code for f in found(alone, P)] == []


def test_statement_count_is_the_files() -> None:
    sql = "DO $$ BEGIN INSERT INTO users VALUES (1); INSERT INTO users VALUES (2); END $$"
    existing = Migration("2024-01-01-000000_base", SETUP, "", "a", "b", noop_down=True)
    migration = Migration("2024-01-02-000000_case", sql, "", "a", "b", noop_down=True)
    assert validate([existing, migration], P, plan_ids={migration.id}).statements == 1


@pytest.mark.parametrize(("sql", "dialect", "codes"), [
    ("PREPARE s FROM 'DROP TABLE users';\nEXECUTE s;\nDEALLOCATE PREPARE s;", M, {"SG301"}),
    ("SET @q = 'DELETE FROM users';\nPREPARE s FROM @q;\nEXECUTE s;", M, {"SG305"}),
    ("PREPARE s FROM @built;\nEXECUTE s;\nDEALLOCATE PREPARE s;", M, {"SG603"}),
    ("PREPARE s FROM 'SELECT 1';\nEXECUTE s;\nDEALLOCATE PREPARE s;", M, set()),
    ("PREPARE s AS DELETE FROM users;\nEXECUTE s;", P, {"SG305"}),
    ("PREPARE s AS DELETE FROM users;\nDEALLOCATE s;", P, set()),  # never run
    ("CREATE STATISTICS st ON id, email FROM users;\n"
     "ALTER TRIGGER tr ON users RENAME TO tr2;", P, set()),
])
def test_prepared_statements_are_checked_where_they_run(sql: str, dialect: str,
                                                        codes: set[str]) -> None:
    assert findings_for(sql, dialect) - {"SG601"} == codes
