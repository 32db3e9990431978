"""verify on SQLite: snapshots, comparisons, the report, bad input and the CLI output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection

from switchy_guard.discovery import CodeMigrations
from switchy_guard.errors import ConfigError
from switchy_guard.verify.compare import Difference, compare
from switchy_guard.verify.roundtrip import verify
from switchy_guard.verify.scratch import scratch_database_for
from switchy_guard.verify.snapshot import canonical_sql, snapshot
from tests.cli_helpers import run_cli, write_migration

USERS = "2024-01-01-000000_users"
INDEX = "2024-01-02-000000_add_index"
COLUMN = "2024-01-03-000000_add_column"
SEED = "2024-01-04-000000_seed"


def project(*, index_down: str = "DROP INDEX users_email",
            column_down: str = "ALTER TABLE users DROP COLUMN nickname") -> CodeMigrations:
    migrations = CodeMigrations()
    migrations.add_sql(USERS, "CREATE TABLE users (id INTEGER PRIMARY KEY, "
                              "email VARCHAR(100) NOT NULL)", "DROP TABLE users")
    migrations.add_sql(INDEX, "CREATE INDEX users_email ON users (email)", index_down)
    migrations.add_sql(COLUMN, "ALTER TABLE users ADD COLUMN nickname VARCHAR(30)", column_down)
    migrations.add_sql(SEED, "INSERT INTO users (id, email) VALUES (1, 'a@example.com')")
    return migrations


# -- verify -----------------------------------------------------------------------------


def test_a_correct_project_passes_and_irreversible_ones_are_skipped() -> None:
    report = verify(project())
    assert report.ok, report.differences
    assert report.verified == [USERS, INDEX, COLUMN]
    assert report.skipped == [SEED]
    assert report.order == [USERS, INDEX, COLUMN, SEED]
    assert report.not_reached == [] and report.failing == []
    assert report.scratch.startswith("sqlite:///")


def test_a_down_that_forgets_the_index_is_caught() -> None:
    report = verify(project(index_down="SELECT 1"))
    assert not report.ok
    assert [str(d) for d in report.differences] == [
        f"{INDEX}: index users_email on users: absent before up, still present after down",
        f"{INDEX}: migration {INDEX}: up failed after down (down left something behind): "
        + report.differences[1].detail.split(": ", 1)[1],
    ]
    first = report.differences[0]
    assert (first.migration, first.step, first.kind, first.name) == (
        INDEX, "down", "index", "users_email on users")
    assert report.failing == [INDEX]
    # the re-up failed: INDEX failed, and the migrations after it are still verified
    assert report.verified == [USERS, COLUMN] and report.failed == [INDEX]


def test_a_down_that_forgets_the_column_is_caught() -> None:
    report = verify(project(column_down="SELECT 1"))
    kinds = [(d.migration, d.step, d.kind, d.name) for d in report.differences]
    assert (COLUMN, "down", "column", "users.nickname") in kinds
    assert report.failing == [COLUMN]


def test_a_down_that_drops_too_much_is_caught() -> None:
    report = verify(project(column_down="ALTER TABLE users DROP COLUMN nickname;\n"
                                        "DROP INDEX users_email"))
    assert [str(d) for d in report.differences] == [
        f"{COLUMN}: index users_email on users: present before up, missing after down",
        f"{COLUMN}: index users_email on users: present after the first up, missing after "
        "re-up",
    ]


def test_a_re_up_that_differs_is_caught() -> None:
    migrations = CodeMigrations()
    state = {"runs": 0}

    def up(conn: Connection) -> None:
        state["runs"] += 1
        column_type = "INTEGER" if state["runs"] == 1 else "TEXT"
        conn.execute(text(f"CREATE TABLE t (id {column_type})"))

    def down(conn: Connection) -> None:
        conn.execute(text("DROP TABLE t"))

    migrations.add("2024-01-01-000000_t", up, down)
    report = verify(migrations)
    assert [str(d) for d in report.differences] == [
        "2024-01-01-000000_t: column t.id: integer after the first up, text after re-up",
    ]
    assert report.differences[0].step == "re-up"


def test_a_down_that_changes_a_type_or_nullability_is_caught() -> None:
    migrations = CodeMigrations()
    migrations.add_sql("2024-01-01-000000_t", "CREATE TABLE t (id INTEGER NOT NULL)",
                       "DROP TABLE t")
    migrations.add_sql("2024-01-02-000000_loosen",
                       "CREATE TABLE t2 (id INTEGER NOT NULL);\nINSERT INTO t2 SELECT id FROM t;"
                       "\nDROP TABLE t;\nALTER TABLE t2 RENAME TO t",
                       "CREATE TABLE t2 (id BIGINT);\nDROP TABLE t;\nALTER TABLE t2 RENAME TO t")
    report = verify(migrations)
    assert [str(d) for d in report.differences] == [
        "2024-01-02-000000_loosen: column t.id: integer NOT NULL before up, bigint after down",
    ]


def test_views_foreign_keys_and_unique_constraints_are_compared() -> None:
    migrations = CodeMigrations()
    migrations.add_sql("2024-01-01-000000_orgs",
                       "CREATE TABLE orgs (id INTEGER PRIMARY KEY, code TEXT)", "DROP TABLE orgs")
    migrations.add_sql(
        "2024-01-02-000000_users",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, org_id INTEGER REFERENCES orgs (id), "
        "login TEXT, UNIQUE (login));\nCREATE VIEW user_logins AS SELECT login FROM users",
        "DROP TABLE users",  # forgets the view
    )
    report = verify(migrations)
    assert [str(d) for d in report.differences][:1] == [
        "2024-01-02-000000_users: view user_logins: absent before up, still present after down",
    ]


def test_a_failing_down_script_is_a_difference_and_verify_goes_on() -> None:
    migrations = project(index_down="DROP INDEX no_such_index")
    report = verify(migrations)
    down = [d for d in report.differences if d.step == "down"]
    assert len(down) == 1 and down[0].kind == "migration"
    assert down[0].detail.startswith("the down script failed: ")
    assert report.verified == [USERS, COLUMN] and report.skipped == [SEED]
    assert report.failed == [INDEX] and report.with_differences == []


def test_a_failing_first_up_ends_verification() -> None:
    migrations = project()
    migrations.add_sql("2024-01-02-500000_broken", "CREATE TABLE oops (", "SELECT 1")
    report = verify(migrations)
    assert [(d.migration, d.step) for d in report.differences] == [
        ("2024-01-02-500000_broken", "up")]
    assert report.verified == [USERS, INDEX]
    assert report.failed == ["2024-01-02-500000_broken"]
    assert report.not_reached == [COLUMN, SEED]
    assert report.counts == {"passed": 2, "with_differences": 0, "failed": 1,
                             "irreversible": 0, "not_reached": 2, "applied_up_only": 0,
                             "total": 5}
    assert report.order == [USERS, INDEX, "2024-01-02-500000_broken", COLUMN, SEED]


def test_the_tracking_table_and_its_side_tables_are_not_compared(tmp_path: Path) -> None:
    migrations = CodeMigrations()
    # A migration that makes something that looks like a side table is not compared
    # either: that is the price of leaving switchy-guard's own tables out.
    migrations.add_sql("2024-01-01-000000_a", "CREATE TABLE real_table (id INTEGER)",
                       "DROP TABLE real_table")
    report = verify(migrations, table="my_tracking")
    assert report.ok
    engine = create_engine(f"sqlite:///{tmp_path / 's.db'}")
    with engine.begin() as conn:
        for name in ("my_tracking", "my_tracking_audit", "my_tracking_statements",
                     "my_tracking_future", "kept"):
            conn.execute(text(f"CREATE TABLE {name} (id INTEGER)"))
    assert list(snapshot(engine, "my_tracking")) == ["kept"]
    engine.dispose()


def test_a_snapshot_reads_the_schema_over_one_connection(tmp_path: Path) -> None:
    # Each inspector call on an engine took a connection of its own: on a server with no
    # pool, lemmy's first 8 migrations opened 1,600 connections and verify took 20 s.
    engine = create_engine(f"sqlite:///{tmp_path / 's.db'}")
    with engine.begin() as conn:
        for name in ("users", "posts", "comments"):
            conn.execute(text(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
    checkouts: list[object] = []
    event.listen(engine, "checkout", lambda *args: checkouts.append(args))
    assert sorted(snapshot(engine)) == ["comments", "posts", "users"]
    assert len(checkouts) == 1
    engine.dispose()


def test_the_scratch_must_be_empty(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'used.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE precious (id INTEGER)"))
    engine.dispose()
    with pytest.raises(ConfigError, match="is not empty"):
        verify(project(), url)
    engine = create_engine(url)
    assert inspect(engine).get_table_names() == ["precious"]
    engine.dispose()


def test_the_scratch_cannot_be_the_d_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    with pytest.raises(ConfigError, match="is the -d database"):
        verify(project(), url, database_url=url)
    assert not (tmp_path / "app.db").exists()


def test_a_given_scratch_is_used(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'scratch.db'}"
    report = verify(project(), url)
    assert report.ok and report.scratch == url
    engine = create_engine(url)
    assert "users" in inspect(engine).get_table_names()  # left as the last up made it
    engine.dispose()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"dialect": "oracle"}, "unknown dialect 'oracle'"),
    ({"dialect": "postgres"}, "needs a postgres scratch database"),
    ({"scratch_url": "sqlite://", "dialect": "mysql"}, "is a sqlite database but"),
    ({"scratch_url": "nonsense"}, "invalid database URL"),
    ({"scratch_url": "oracle://u@h/db"}, "unsupported database"),
])
def test_bad_input_is_a_config_error(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        verify(project(), **kwargs)


def test_sqlite_scratch_files_are_removed() -> None:
    with scratch_database_for(None) as url:
        path = Path(url.removeprefix("sqlite:///"))
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (id INTEGER)"))
        engine.dispose()
        assert path.exists()
    assert not path.exists() and not path.parent.exists()


# -- compare ----------------------------------------------------------------------------


def table(columns: dict[str, tuple[str, bool]], **parts: Any) -> dict[str, Any]:
    return {"columns": columns, "primary_key": parts.get("pk", ()),
            "indexes": parts.get("indexes", {}), "unique": parts.get("unique", []),
            "foreign_keys": parts.get("fks", [])}


def test_compare_names_every_kind_of_object() -> None:
    before = {"a": table({"id": ("integer", False), "x": ("text", True)}, pk=("id",),
                         indexes={"a_x": (("x",), False)}, unique=[("x",)],
                         fks=[(("x",), "b", ("id",))]),
              "view v": {"view": True}}
    after = {"a": table({"id": ("bigint", True), "y": ("text", True)}, pk=(),
                        indexes={"a_x": (("y",), True)}),
             "c": table({})}
    got = [str(d) for d in compare(before, after, "m", "down")]
    assert got == [
        "m: column a.id: integer NOT NULL before up, bigint after down",
        "m: column a.x: present before up, missing after down",
        "m: column a.y: absent before up, still present after down",
        "m: primary key a: (id) before up, () after down",
        "m: index a_x on a: (x) before up, unique (y) after down",
        "m: unique constraint a(x): present before up, missing after down",
        "m: foreign key a(x) -> b(id): present before up, missing after down",
        "m: table c: absent before up, still present after down",
        "m: view v: present before up, missing after down",
    ]


def test_compare_names_changed_definitions_actions_checks_and_comments() -> None:
    before = {"a": {**table({"x": ("text", True)}, indexes={"a_x": (("x",), False, "WHERE x>0")},
                            fks=[(("x",), "b", ("id",), "ON DELETE CASCADE")]),
                    "checks": ["x<>''"], "comments": {"x": "the x"}, "comment": "as"},
              "view v": {"definition": "select 1"}, "function f(integer)": {"definition": "1"},
              "sequence s": {"definition": ""}}
    after = {"a": {**table({"x": ("text", True)}, indexes={"a_x": (("x",), False, "")},
                           fks=[(("x",), "b", ("id",), "")]),
                   "checks": ["x<>'-'"], "comments": {"x": None}, "comment": None},
             "view v": {"definition": "select 2"}, "function f(integer)": {"definition": "2"},
             "procedure p": {"definition": ""}}
    assert [str(d) for d in compare(before, after, "m", "down")] == [
        "m: column a.x: comment 'the x' before up, no comment after down",
        "m: table a: comment 'as' before up, no comment after down",
        "m: index a_x on a: (x) WHERE x>0 before up, (x) after down",
        "m: check constraint a CHECK (x<>''): present before up, missing after down",
        "m: check constraint a CHECK (x<>'-'): absent before up, still present after down",
        "m: foreign key a(x) -> b(id): ON DELETE CASCADE before up, no actions after down",
        "m: function f(integer): defined differently after down than before up",
        "m: procedure p: absent before up, still present after down",
        "m: sequence s: present before up, missing after down",
        "m: view v: defined differently after down than before up",
    ]


@pytest.mark.parametrize(("one", "other"), [
    ("CREATE VIEW v AS SELECT id,\n  email FROM users WHERE id > 1",
     'create view "v" as select id, email from users where id>1'),
    ("CREATE INDEX i ON t (lower(email)) WHERE a = 'X  y'",
     "CREATE INDEX i ON t(LOWER( email ))\n  WHERE a='X  y' -- restored"),
    ("AS $function$ SELECT x * 2 $function$", "AS $function$ select x*2 -- same $function$"),
    ("a /* note */ b", "a b"),
])
def test_canonical_sql_ignores_layout_case_quotes_and_comments(one: str, other: str) -> None:
    assert canonical_sql(one) == canonical_sql(other)


@pytest.mark.parametrize(("one", "other"), [
    ("WHERE a = 'x'", "WHERE a = 'X'"),  # string literals keep their case
    ("SELECT a b", "SELECT ab"),
    ("WHERE a > 1", "WHERE a >= 1"),
    ("$$ SELECT x * 2 $$", "$$ SELECT x * 3 $$"),
])
def test_canonical_sql_keeps_what_means_something(one: str, other: str) -> None:
    assert canonical_sql(one) != canonical_sql(other)


def test_a_changed_partial_or_expression_index_is_caught_on_sqlite() -> None:
    migrations = CodeMigrations()
    migrations.add_sql(USERS, "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, "
                              "active INTEGER); CREATE INDEX live ON users (email) WHERE active "
                              "= 1; CREATE INDEX lower_email ON users (lower(email))",
                       "DROP TABLE users")
    migrations.add_sql(INDEX, "DROP INDEX live; CREATE INDEX live ON users (email) WHERE\n"
                              "active = 2; DROP INDEX lower_email",
                       "DROP INDEX live; CREATE INDEX live ON users (email) WHERE\n active = 3;"
                       "CREATE INDEX lower_email ON users (upper(email))")
    report = verify(migrations)
    assert [str(d) for d in report.differences if d.step == "down"] == [
        f"{INDEX}: index live on users: (email) WHERE active=1 before up, "
        "(email) WHERE active=3 after down",
        f"{INDEX}: index lower_email on users: (lower(email)) before up, "
        "(upper(email)) after down",
    ]


def test_difference_as_data() -> None:
    difference = Difference("m", "re-up", "table", "t", "present after the first up, "
                                                        "missing after re-up")
    assert difference.to_dict() == {
        "migration": "m", "step": "re-up", "kind": "table", "name": "t",
        "detail": "present after the first up, missing after re-up",
        "message": "m: table t: present after the first up, missing after re-up",
    }


# -- the command line -------------------------------------------------------------------


def folder_project(root: Path, *, forget_index: bool = False) -> Path:
    write_migration(root, USERS, "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n",
                    "DROP TABLE users;\n")
    write_migration(root, INDEX, "CREATE INDEX users_email ON users (email);\n",
                    "SELECT 1;\n" if forget_index else "DROP INDEX users_email;\n")
    write_migration(root, SEED, "INSERT INTO users (id, email) VALUES (1, 'a');\n")
    return root


def test_cli_text_marks_each_migration(tmp_path: Path) -> None:
    root = folder_project(tmp_path / "m", forget_index=True)
    result = run_cli("verify", "-m", root)
    assert result.code == 1, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith("Verifying on sqlite:///")
    assert lines[4].startswith(f"    after re-up: migration {INDEX}: up failed after down "
                               "(down left something behind): index users_email already exists")
    assert lines[1:] == [
        f"✓ {USERS}",
        f"✗ {INDEX}  failed",
        "    after down: index users_email on users: absent before up, still present after "
        "down",
        lines[4],
        f"- {SEED}  irreversible, not verified (no down script)",
        "3 migrations: 1 passed, 0 with differences, 1 failed, 1 irreversible (not "
        "verified), 0 not reached",
    ]


def test_cli_ok_exits_0(tmp_path: Path) -> None:
    result = run_cli("verify", "-m", folder_project(tmp_path / "m"))
    assert result.code == 0, result.out + result.err
    assert f"✓ {INDEX}" in result.out
    assert ("3 migrations: 2 passed, 0 with differences, 0 failed, 1 irreversible (not "
            "verified), 0 not reached") in result.out


def test_cli_json(tmp_path: Path) -> None:
    root = folder_project(tmp_path / "m", forget_index=True)
    result = run_cli("verify", "-m", root, "--format", "json")
    assert result.code == 1
    data = json.loads(result.out)
    assert set(data) == {"ok", "scratch", "verified", "with_differences", "failed",
                         "skipped", "not_reached", "applied_up_only", "failing", "counts",
                         "selection", "unknown_types", "differences"}
    assert data["ok"] is False and data["failing"] == [INDEX]
    assert data["verified"] == [USERS] and data["skipped"] == [SEED]
    assert data["failed"] == [INDEX] and data["with_differences"] == []
    assert data["counts"] == {"passed": 1, "with_differences": 0, "failed": 1,
                              "irreversible": 1, "not_reached": 0, "applied_up_only": 0,
                              "total": 3}
    assert data["differences"][0] == {
        "migration": INDEX, "step": "down", "kind": "index", "name": "users_email on users",
        "detail": "absent before up, still present after down",
        "message": f"{INDEX}: index users_email on users: absent before up, still present "
                   "after down",
    }


@pytest.mark.parametrize("args", [
    ["--scratch", "nonsense"],
    ["--scratch", "oracle://u@h/db"],
    ["--dialect", "postgres"],
])
def test_cli_bad_input_exits_2(tmp_path: Path, args: list[str]) -> None:
    result = run_cli("verify", "-m", folder_project(tmp_path / "m"), *args)
    assert result.code == 2, result.out + result.err
    assert len(result.error_lines) == 1 and result.error_lines[0].startswith("error: ")


def test_cli_non_empty_scratch_exits_2_and_is_untouched(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'used.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE users (id INTEGER)"))
    engine.dispose()
    result = run_cli("verify", "-m", folder_project(tmp_path / "m"), "--scratch", url)
    assert result.code == 2
    assert "is not empty (users)" in result.err
    engine = create_engine(url)
    assert inspect(engine).get_table_names() == ["users"]
    engine.dispose()


def test_cli_missing_migrations_dir_exits_2(tmp_path: Path) -> None:
    assert run_cli("verify", "-m", tmp_path / "nope").code == 2


def test_other_warnings_still_show_while_unknown_types_are_collected() -> None:
    import warnings

    from switchy_guard.runtime.unknown_types import collect_unknown_types, unknown_types_note

    with warnings.catch_warnings(record=True) as outer:
        warnings.simplefilter("always")
        with collect_unknown_types() as found:
            for column in ("a", "b"):
                warnings.warn(f"Did not recognize type 'ltree' of column '{column}'",
                              stacklevel=1)
            warnings.warn("Did not recognize type 'cube' of column 'c'", stacklevel=1)
            warnings.warn("something else", stacklevel=1)
    assert found == {"ltree", "cube"}
    assert [str(w.message) for w in outer] == ["something else"]
    assert unknown_types_note(found) == ("note: SQLAlchemy does not know the column types "
                                         "cube, ltree; they are compared by name")
    assert unknown_types_note(()) is None
