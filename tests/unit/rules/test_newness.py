"""Which tables are new (created by the plan, still empty): only those surely so.

A table taken for new passes DELETE, UPDATE, DROP and locking hazards silently, so when
switchy-guard cannot be sure a name stands for a table the plan made empty, it is not new.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from switchy_guard.check.pipeline import validate
from switchy_guard.model.migration import Migration
from switchy_guard.sql.classify import Name
from tests.unit.rules.helpers import findings_for, messages

P, M, S = "postgres", "mysql", "sqlite"
ALL = (P, M, S)
BASE = "CREATE TABLE users (id INT, email VARCHAR(255));\n"


def codes(sql: str, dialect: str, *, live: object = None) -> set[str]:
    """Findings of ``sql`` as the one pending migration after one that made ``users``."""
    base = Migration("2024-01-01-000000_base", BASE, "", "a", "b", noop_down=True)
    case = Migration("2024-01-02-000000_case", sql, "", "a", "b", noop_down=True)
    extra = {"live": live} if live is not None else {}
    result = validate([base, case], dialect, plan_ids={case.id}, **extra)  # type: ignore[arg-type]
    return {f.code for f in result.findings}


def alone(*scripts: str, dialect: str) -> set[str]:
    """Findings of ``check`` without a database (no plan: each migration on its own)."""
    migrations = [Migration(f"2024-01-0{n}-000000_m{n}", sql, "", "a", "b", noop_down=True)
                  for n, sql in enumerate(scripts, 1)]
    return {f"{(f.migration or '')[-2:]}:{f.code}" for f in validate(migrations, dialect).findings}


class Live:
    """A live database holding the tables named (unqualified: the default schema)."""

    def __init__(self, *tables: str) -> None:
        self.tables = {t.lower() for t in tables}

    def may_exist(self, name: Name) -> bool:
        return str(name).lower() in self.tables


# -- IF NOT EXISTS makes nothing new ---------------------------------------------------


@pytest.mark.parametrize("dialect", ALL)
@pytest.mark.parametrize(("statement", "code"), [
    ("DELETE FROM users", "SG305"),
    ("UPDATE users SET email = ''", "SG306"),
    ("DROP TABLE users", "SG301"),
    ("TRUNCATE TABLE users", "SG304"),
])
def test_create_if_not_exists_of_an_existing_table_makes_nothing_new(
        dialect: str, statement: str, code: str) -> None:
    if code == "SG304" and dialect == S:
        statement = "DELETE FROM users"
        code = "SG305"
    sql = f"CREATE TABLE IF NOT EXISTS users (id INT, email VARCHAR(255));\n{statement}"
    assert code in codes(sql, dialect)
    # ... and in the very same migration that created it (no plan: check alone).
    assert f"m2:{code}" in alone(BASE, sql, dialect=dialect)


@pytest.mark.parametrize("dialect", ALL)
def test_if_not_exists_is_new_when_the_live_database_has_no_such_table(dialect: str) -> None:
    sql = "CREATE TABLE IF NOT EXISTS fresh (id INT);\nDELETE FROM fresh"
    assert "SG305" not in codes(sql, dialect, live=Live("users"))
    assert "SG305" in codes(sql, dialect, live=Live("users", "fresh"))
    assert "SG305" in codes(sql, dialect)  # no database: not sure it is absent


@pytest.mark.parametrize("dialect", ALL)
def test_a_plain_create_of_a_table_the_live_database_has_is_not_new(dialect: str) -> None:
    sql = "CREATE TABLE fresh (id INT);\nDELETE FROM fresh"
    assert "SG305" not in codes(sql, dialect, live=Live())
    assert "SG305" in codes(sql, dialect, live=Live("fresh"))


@pytest.mark.parametrize("dialect", ALL)
def test_create_or_replace_and_create_as_select_are_not_new_empty_tables(dialect: str) -> None:
    assert "SG305" in codes("CREATE TABLE copy AS SELECT * FROM users;\nDELETE FROM copy",
                            dialect)
    if dialect == M:
        assert "SG305" in codes("CREATE OR REPLACE TABLE users (id INT);\nDELETE FROM users",
                                dialect)
        assert "SG305" in codes("CREATE TABLE copy (id INT) SELECT id FROM users;\n"
                                "DELETE FROM copy", dialect)
    if dialect == P:  # WITH NO DATA: made empty
        assert "SG305" not in codes("CREATE TABLE copy AS SELECT * FROM users WITH NO DATA;\n"
                                    "DELETE FROM copy", dialect)


# -- names carry their schema ------------------------------------------------------------


@pytest.mark.parametrize(("dialect", "create", "statement"), [
    (P, "CREATE TABLE archive.users (id INT)", "DROP TABLE public.users"),
    (P, "CREATE TABLE archive.users (id INT)", "DROP TABLE users"),
    (P, "CREATE TABLE users (id INT)", "DROP TABLE archive.users"),
    (P, "CREATE TABLE public.users (id INT)", "DROP TABLE users"),
    (P, "CREATE TABLE users (id INT)", "DROP TABLE public.users"),
    (M, "CREATE TABLE archive.users (id INT)", "DROP TABLE app.users"),
    (M, "CREATE TABLE archive.users (id INT)", "DROP TABLE users"),
    (M, "CREATE TABLE users (id INT)", "DROP TABLE archive.users"),
    (S, "CREATE TABLE archive.users (id INT)", "DROP TABLE main.users"),
    (S, "CREATE TABLE archive.users (id INT)", "DROP TABLE users"),
    (S, "CREATE TABLE users (id INT)", "DROP TABLE archive.users"),
])
def test_a_table_of_another_schema_is_not_the_new_one(dialect: str, create: str,
                                                      statement: str) -> None:
    assert "SG301" in codes(f"{create};\n{statement}", dialect)


@pytest.mark.parametrize(("dialect", "create", "statement"), [
    (P, "CREATE TABLE archive.users (id INT)", "DROP TABLE archive.users"),
    (P, 'CREATE TABLE "Archive"."Users" (id INT)', 'DROP TABLE "Archive"."Users"'),
    (P, 'CREATE TABLE "users" (id INT)', "DROP TABLE users"),
    (M, "CREATE TABLE archive.users (id INT)", "DROP TABLE `archive`.`users`"),
    (S, "CREATE TABLE archive.users (id INT)", "DROP TABLE ARCHIVE.Users"),
    (S, "CREATE TABLE main.fresh (id INT)", "DROP TABLE main.fresh"),
])
def test_the_same_name_spelled_the_same_is_the_new_table(dialect: str, create: str,
                                                         statement: str) -> None:
    assert "SG301" not in codes(f"{create};\n{statement}", dialect)


@pytest.mark.parametrize(("dialect", "create", "statement"), [
    (P, 'CREATE TABLE "Users" (id INT)', "DELETE FROM users"),  # another table
    (P, "CREATE TABLE users2 (id INT)", 'DELETE FROM "Users2"'),
    (M, "CREATE TABLE Users (id INT)", "DELETE FROM users"),  # lower_case_table_names=0
    (M, "CREATE TABLE `Users` (id INT)", "DELETE FROM USERS"),
    (M, "CREATE TABLE Archive.t (id INT)", "DELETE FROM archive.t"),
])
def test_a_name_that_may_be_another_table_is_not_new(dialect: str, create: str,
                                                     statement: str) -> None:
    assert "SG305" in codes(f"{create};\n{statement}", dialect)


# -- temporary tables shadow only what they name ------------------------------------------


@pytest.mark.parametrize(("dialect", "statement", "fires"), [
    (S, "DELETE FROM main.users", True),
    (S, "DELETE FROM temp.users", False),
    (S, "DELETE FROM users", False),  # the temporary table
    (P, "DELETE FROM public.users", True),
    (P, "DELETE FROM pg_temp.users", False),
    (P, "DELETE FROM users", False),
    (M, "DELETE FROM app.users", True),  # app may or may not be the current database
    (M, "DELETE FROM users", False),
])
def test_a_temporary_table_shadows_only_what_it_names(dialect: str, statement: str,
                                                      fires: bool) -> None:
    keyword = "TEMPORARY" if dialect == M else "TEMP"
    sql = f"CREATE {keyword} TABLE users (id INT);\n{statement}"
    assert ("SG305" in codes(sql, dialect)) is fires


@pytest.mark.parametrize("dialect", ALL)
def test_a_temporary_table_written_into_is_not_new(dialect: str) -> None:
    keyword = "TEMPORARY" if dialect == M else "TEMP"
    sql = f"CREATE {keyword} TABLE t (id INT);\nINSERT INTO t VALUES (1);\nDELETE FROM t"
    assert "SG305" in codes(sql, dialect)


def test_sqlite_create_table_in_temp_is_temporary() -> None:
    assert "SG305" not in codes("CREATE TABLE temp.users (id INT);\nDELETE FROM users", S)
    assert "SG305" in codes("CREATE TABLE temp.users (id INT);\nDELETE FROM main.users", S)


# -- written to since, dropped since --------------------------------------------------------


@pytest.mark.parametrize("dialect", ALL)
@pytest.mark.parametrize("write", [
    "INSERT INTO fresh (id) VALUES (1)",
    "INSERT INTO fresh SELECT id FROM users",
    "UPDATE fresh SET id = 2 WHERE id = 1",
    "WITH s AS (SELECT id FROM users) INSERT INTO fresh SELECT id FROM s",
])
def test_a_new_table_written_into_is_no_longer_new(dialect: str, write: str) -> None:
    sql = f"CREATE TABLE fresh (id INT);\n{write};\nDELETE FROM fresh"
    assert "SG305" in codes(sql, dialect)
    drop = f"CREATE TABLE fresh (id INT);\n{write};\nDROP TABLE fresh"
    assert "SG301" in codes(drop, dialect)
    # Unwritten, it is new: deleting nothing loses nothing.
    assert "SG305" not in codes("CREATE TABLE fresh (id INT);\nDELETE FROM fresh", dialect)


@pytest.mark.parametrize(("dialect", "write"), [
    (P, "COPY fresh (id) FROM STDIN"),
    (P, "COPY public.fresh FROM '/tmp/rows.csv'"),
    (M, "LOAD DATA INFILE '/tmp/rows.csv' INTO TABLE fresh"),
    (M, "REPLACE INTO fresh (id) VALUES (1)"),
    (S, "INSERT OR REPLACE INTO fresh (id) VALUES (1)"),
    (P, "CALL fill_everything()"),
])
def test_loads_and_calls_fill_new_tables(dialect: str, write: str) -> None:
    sql = f"CREATE TABLE fresh (id INT);\n{write};\nDELETE FROM fresh"
    assert "SG305" in codes(sql, dialect)


def test_copy_to_reads_and_leaves_the_table_new() -> None:
    sql = "CREATE TABLE fresh (id INT);\nCOPY fresh TO STDOUT;\nDELETE FROM fresh"
    assert "SG305" not in codes(sql, P)


@pytest.mark.parametrize("dialect", ALL)
def test_a_write_through_another_spelling_may_fill_the_new_table(dialect: str) -> None:
    qualified = {P: "public.fresh", M: "app.fresh", S: "main.fresh"}[dialect]
    sql = f"CREATE TABLE fresh (id INT);\nINSERT INTO {qualified} VALUES (1);\nDELETE FROM fresh"
    assert "SG305" in codes(sql, dialect)


@pytest.mark.parametrize("dialect", ALL)
def test_drop_ends_newness_and_create_starts_it_again(dialect: str) -> None:
    recreated = ("CREATE TABLE fresh (id INT);\nINSERT INTO fresh VALUES (1);\n"
                 "DROP TABLE fresh;\nCREATE TABLE fresh (id INT);\nDELETE FROM fresh")
    found = codes(recreated, dialect)
    assert "SG301" in found  # the drop of a filled table
    assert "SG305" not in found  # the delete of the re-created, empty one
    # The existing users dropped and made again: new and empty after that.
    again = "DROP TABLE users;\nCREATE TABLE users (id INT);\nDELETE FROM users"
    assert codes(again, dialect) & {"SG301", "SG305"} == {"SG301"}
    # ... and IF NOT EXISTS after a drop surely creates it.
    surely = "DROP TABLE users;\nCREATE TABLE IF NOT EXISTS users (id INT);\nDELETE FROM users"
    assert "SG305" not in codes(surely, dialect)


@pytest.mark.parametrize("dialect", ALL)
def test_a_renamed_new_table_stays_new_and_the_old_name_is_not(dialect: str) -> None:
    rename = ("RENAME TABLE fresh TO renamed" if dialect == M
              else "ALTER TABLE fresh RENAME TO renamed")
    sql = f"CREATE TABLE fresh (id INT);\n{rename};\nDELETE FROM renamed"
    assert "SG305" not in codes(sql, dialect)
    moved = f"CREATE TABLE fresh (id INT);\n{rename};\nDELETE FROM fresh"
    assert "SG305" in codes(moved, dialect)
    existing = "ALTER TABLE users RENAME TO renamed;\nDELETE FROM renamed"
    assert "SG305" in codes(existing, dialect)


# -- earlier migrations ------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ALL)
def test_tables_of_earlier_migrations_exist_without_a_database(dialect: str) -> None:
    created = "CREATE TABLE t (id INT);\nINSERT INTO t VALUES (1);\n"
    assert "m2:SG305" in alone(created, "DELETE FROM t", dialect=dialect)
    assert "m2:SG301" in alone("CREATE TABLE t (id INT);\n", "DROP TABLE t", dialect=dialect)
    # The same statements in one migration: new, unless filled in between.
    assert alone("CREATE TABLE t (id INT);\nDELETE FROM t", dialect=dialect) & {
        "m1:SG305"} == set()
    assert "m1:SG305" in alone(created + "DELETE FROM t", dialect=dialect)


@pytest.mark.parametrize("dialect", ALL)
def test_a_plan_table_of_an_earlier_pending_migration_with_a_database(dialect: str) -> None:
    first = Migration("2024-01-01-000000_a", "CREATE TABLE t (id INT)", "", "a", "b",
                      noop_down=True)
    second = Migration("2024-01-02-000000_b", "DELETE FROM t", "", "a", "b", noop_down=True)
    plan = {first.id, second.id}
    assert not validate([first, second], dialect, plan_ids=plan, live=Live()).findings
    found = validate([first, second], dialect, plan_ids=plan, live=Live("t")).findings
    assert "SG305" in {f.code for f in found}
    filled = Migration("2024-01-01-000000_a", "CREATE TABLE t (id INT);\n"
                       "INSERT INTO t VALUES (1)", "", "a", "b", noop_down=True)
    assert "SG305" in {f.code for f in validate([filled, second], dialect, plan_ids=plan,
                                                live=Live()).findings}


def test_locking_rules_see_the_same_newness() -> None:
    sql = "CREATE TABLE IF NOT EXISTS users (id INT);\nCREATE INDEX users_id ON users (id)"
    assert "SG401" in codes(sql, P)
    sql = "CREATE TABLE fresh (id INT);\nCREATE INDEX fresh_id ON fresh (id)"
    assert "SG401" not in codes(sql, P)
    sql = ("CREATE TABLE fresh (id INT);\nINSERT INTO fresh VALUES (1);\n"
           "ALTER TABLE fresh ADD COLUMN n INT NOT NULL")
    assert "SG403" in codes(sql, P)


def test_new_tables_model_directly() -> None:
    from switchy_guard.rules.base import NewTables

    tables = NewTables(P)
    assert not tables.is_new("users") and not tables.is_new(None)


@pytest.mark.parametrize("dialect", ALL)
def test_check_in_two_processes_sees_the_same_newness(tmp_path: Path, dialect: str) -> None:
    """The parallel check (each half on its own) and the one-process run agree: a table
    of an earlier migration is existing, in either half."""
    from switchy_guard.check.parallel import check_in_two
    from switchy_guard.check.run import run_check
    from switchy_guard.discovery import DirectoryMigrations
    from tests.cli_helpers import write_migration

    scripts = [
        "CREATE TABLE t (id INT);\nINSERT INTO t VALUES (1);\n",
        "DELETE FROM t;\n",
        "CREATE TABLE IF NOT EXISTS t (id INT);\nDELETE FROM t;\n",
        "CREATE TABLE u (id INT);\nDELETE FROM u;\n",
    ]
    for n, sql in enumerate(scripts, 1):
        write_migration(tmp_path, f"2024-01-0{n}-000000_m{n}", sql, "SELECT 1;\n")
    split = check_in_two(DirectoryMigrations(tmp_path), dialect, min_folders=2)
    assert split is not None
    found = {(f.code, (f.migration or "")[-2:]) for f in split.findings if f.code == "SG305"}
    assert found == {("SG305", "m2"), ("SG305", "m3")}
    single = run_check(str(tmp_path), dialect, use_cache=False, jobs=1)
    assert {(f.code, (f.migration or "")[-2:]) for f in single.findings
            if f.code == "SG305"} == found


def test_create_index_if_not_exists_makes_no_new_index() -> None:
    assert "SG401" not in codes("CREATE INDEX CONCURRENTLY i ON users (id);\nDROP INDEX i", P)
    assert "SG401" in codes("CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON users (id);\n"
                            "DROP INDEX i", P)


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


def test_rules_stay_quiet_on_tables_created_in_the_plan() -> None:
    sql = (
        "CREATE TABLE fresh (id INT, email VARCHAR(255));\n"
        "CREATE INDEX fresh_email ON fresh (email);\n"
        "ALTER TABLE fresh ADD COLUMN plan TEXT NOT NULL;\n"
        "ALTER TABLE fresh ALTER COLUMN email SET NOT NULL;\n"
        "ALTER TABLE fresh ADD CONSTRAINT u UNIQUE (email);\n"
        "ALTER TABLE fresh ADD CONSTRAINT fk FOREIGN KEY (id) REFERENCES users (id);\n"
        "ALTER TABLE fresh ALTER COLUMN id TYPE bigint;\n"
        "ALTER TABLE fresh ADD COLUMN token uuid DEFAULT gen_random_uuid();\n"
        "DELETE FROM fresh"
    )
    assert findings_for(sql, P) == set()


def test_a_table_created_by_an_earlier_migration_of_the_plan_is_new() -> None:
    first = Migration("2024-01-01-000000_a", "CREATE TABLE t (id INT)", "", "a", "b",
                      noop_down=True)
    second = Migration("2024-01-02-000000_b", "CREATE INDEX t_id ON t (id)", "", "a", "b",
                       noop_down=True)
    assert validate([first, second], P, plan_ids={first.id, second.id}).findings == []
    applied_first = validate([first, second], P, plan_ids={second.id})
    assert [f.code for f in applied_first.findings] == ["SG401"]
    # Without a plan each migration stands alone, as a linter reading one file sees it.
    assert [f.code for f in validate([first, second], P).findings] == ["SG401"]


def test_an_index_on_a_materialized_view_of_the_plan_is_not_flagged() -> None:
    sql = ("CREATE MATERIALIZED VIEW totals AS SELECT 1 AS n;\n"
           "CREATE INDEX totals_n ON totals (n);\n")
    assert findings_for(sql, P) == set()
    # A view that exists already is read by someone: indexing it blocks them.
    assert findings_for("CREATE INDEX totals_n ON totals (n);\n", P) == {"SG401"}
