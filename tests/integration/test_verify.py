"""verify catches down scripts that forget things, on every database."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from switchy_guard.errors import ConfigError
from switchy_guard.runtime.db import parse_url
from switchy_guard.verify.roundtrip import verify
from switchy_guard.verify.scratch import scratch_database_for
from tests.cli_helpers import run_cli, write_migration

A = "2024-01-01-000000_create_users"
B = "2024-01-02-000000_index_email"
C = "2024-01-03-000000_add_nickname"
D = "2024-01-04-000000_seed"


def project(root: Path, *, forget_index: bool = False, forget_column: bool = False) -> Path:
    write_migration(root, A, "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(100) "
                             "NOT NULL);\n", "DROP TABLE users;\n")
    write_migration(root, B, "CREATE INDEX users_email ON users (email);\n",
                    "SELECT 1;\n" if forget_index else "DROP INDEX users_email;\n")
    write_migration(root, C, "ALTER TABLE users ADD COLUMN nickname VARCHAR(30);\n",
                    "SELECT 1;\n" if forget_column else
                    "ALTER TABLE users DROP COLUMN nickname;\n")
    write_migration(root, D, "INSERT INTO users (id, email) VALUES (1, 'a@example.com');\n")
    return root


def scratch_args(db_url: str, db_kind: str) -> list[str]:
    return [] if db_kind == "sqlite" else ["--scratch", db_url]


def fix_mysql_drop_index(root: Path, db_kind: str) -> None:
    if db_kind == "mysql":  # MySQL names the table in DROP INDEX
        down = root / B / "down.sql"
        if "DROP INDEX" in down.read_text():
            down.write_text("DROP INDEX users_email ON users;\n")


def test_a_correct_project_verifies(tmp_path: Path, db_url: str, db_kind: str) -> None:
    root = project(tmp_path / "m")
    fix_mysql_drop_index(root, db_kind)
    result = run_cli("verify", "-m", root, *scratch_args(db_url, db_kind), "--format", "json")
    assert result.code == 0, result.out + result.err
    data = json.loads(result.out)
    assert data["ok"] and data["verified"] == [A, B, C] and data["skipped"] == [D]


def test_a_forgotten_index_is_caught(tmp_path: Path, db_url: str, db_kind: str) -> None:
    root = project(tmp_path / "m", forget_index=True)
    report = verify(str(root), scratch_url=db_url if db_kind != "sqlite" else None)
    assert not report.ok
    described = [str(d) for d in report.differences]
    assert f"{B}: index users_email on users: absent before up, still present after down" \
        in described, described
    assert {d.migration for d in report.differences} == {B}
    # B's re-up fails (the index is still there): B failed, C is verified on top of it
    assert report.verified == [A, C] and report.failed == [B] and report.skipped == [D]


def test_a_forgotten_column_is_caught(tmp_path: Path, db_url: str, db_kind: str) -> None:
    root = project(tmp_path / "m", forget_column=True)
    fix_mysql_drop_index(root, db_kind)
    result = run_cli("verify", "-m", root, *scratch_args(db_url, db_kind))
    assert result.code == 1
    assert f"✗ {C}" in result.out and f"✓ {B}" in result.out
    assert ("    after down: column users.nickname: absent before up, still present after down"
            in result.out)
    assert f"    after re-up: migration {C}: up failed after down" in result.out
    assert f"- {D}  irreversible, not verified" in result.out
    # C's re-up fails (the column is still there); the migrations after it still verify
    assert result.out.splitlines()[-1] == ("4 migrations: 2 passed, 0 with differences, "
                                           "1 failed, 1 irreversible (not verified), "
                                           "0 not reached")


def test_the_database_in_d_is_never_touched(tmp_path: Path, db_url: str, db_kind: str) -> None:
    root = project(tmp_path / "m")
    fix_mysql_drop_index(root, db_kind)
    result = run_cli("verify", "-m", root, "-d", db_url)
    assert result.code == 0, result.out + result.err
    engine = create_engine(parse_url(db_url))
    assert inspect(engine).get_table_names() == []
    engine.dispose()


def server_databases(db_url: str, db_kind: str) -> set[str]:
    engine = create_engine(parse_url(db_url))
    query = ("SELECT datname FROM pg_database" if db_kind == "postgres" else "SHOW DATABASES")
    with engine.connect() as conn:
        names = {row[0] for row in conn.execute(text(query))}
    engine.dispose()
    return names


def test_a_scratch_database_beside_d_is_dropped_afterwards(db_url: str, db_kind: str) -> None:
    if db_kind == "sqlite":
        with scratch_database_for(db_url) as url:
            assert url != db_url and url.endswith("/scratch.db")
        return
    before = server_databases(db_url, db_kind)
    with scratch_database_for(db_url) as url:
        name = parse_url(url).database
        assert name and name.startswith("switchy_verify_") and name not in before
        assert name in server_databases(db_url, db_kind)
        engine = create_engine(parse_url(url))
        assert inspect(engine).get_table_names() == []
        engine.dispose()
    assert server_databases(db_url, db_kind) == before


def test_a_forgotten_foreign_key_and_index_on_every_database(tmp_path: Path, db_url: str,
                                                             db_kind: str) -> None:
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE orgs (id INTEGER PRIMARY KEY);\n"
                             "CREATE TABLE users (id INTEGER PRIMARY KEY, org_id INTEGER);\n",
                    "DROP TABLE users;\nDROP TABLE orgs;\n")
    up = ("ALTER TABLE users ADD CONSTRAINT users_org FOREIGN KEY (org_id) REFERENCES orgs (id)"
          if db_kind != "sqlite" else
          "CREATE TABLE members (id INTEGER PRIMARY KEY, org_id INTEGER REFERENCES orgs (id))")
    down = "SELECT 1" if db_kind != "sqlite" else "CREATE TABLE other (id INTEGER)"
    write_migration(root, B, up + ";\n", down + ";\n")
    report = verify(str(root), db_url if db_kind != "sqlite" else None, dialect=db_kind)
    described = [str(d) for d in report.differences if d.step == "down"]
    if db_kind == "sqlite":
        assert described == [
            f"{B}: table members: absent before up, still present after down",
            f"{B}: table other: absent before up, still present after down",
        ]
    else:
        assert (f"{B}: foreign key users(org_id) -> orgs(id): absent before up, still present "
                "after down") in described, described
    assert report.verified == [A] and report.with_differences + report.failed == [B]


def test_a_non_empty_scratch_is_refused_untouched(tmp_path: Path, db_url: str,
                                                  db_kind: str) -> None:
    engine = create_engine(parse_url(db_url))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE precious (id INTEGER)"))
    root = project(tmp_path / "m")
    with pytest.raises(ConfigError, match="is not empty"):
        verify(str(root), db_url)
    result = run_cli("verify", "-m", root, "--scratch", db_url)
    assert result.code == 2 and "is not empty (precious)" in result.err
    assert inspect(engine).get_table_names() == ["precious"]
    engine.dispose()


def test_session_objects_of_one_run_do_not_leak_into_the_next(
    tmp_path: Path, db_url: str, db_kind: str
) -> None:
    """A temporary table lives as long as the session that made it. migrate, rollback
    and migrate again, run as commands, each have their own session; verify ran them on
    one pooled connection, so the re-up found the first up's temporary table and
    reported 'up failed after down' for a down script that is right."""
    root = tmp_path / "m"
    write_migration(root, A,
                    "CREATE TABLE users (id INTEGER PRIMARY KEY);\n"
                    "CREATE TEMPORARY TABLE staging (id INTEGER);\n"
                    "INSERT INTO staging (id) VALUES (1);\n"
                    "INSERT INTO users (id) SELECT id FROM staging;\n",
                    "DROP TABLE users;\n")
    result = run_cli("verify", "-m", root, *scratch_args(db_url, db_kind), "--format", "json")
    data = json.loads(result.out)
    assert data["differences"] == []
    assert (result.code, data["verified"]) == (0, [A])


def test_an_up_failing_after_an_earlier_failed_re_up_points_at_it(
    tmp_path: Path, db_url: str, db_kind: str
) -> None:
    """A's down forgets table x, so A's re-up fails and A is recorded applied without
    table y; B's up then fails for want of y. The failure is B's, the cause A's."""
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE x (id INTEGER);\nCREATE TABLE y (id INTEGER);\n",
                    "DROP TABLE y;\n")
    write_migration(root, B, "ALTER TABLE y ADD COLUMN z INTEGER;\n",
                    "ALTER TABLE y DROP COLUMN z;\n")
    report = verify(str(root), scratch_url=db_url if db_kind != "sqlite" else None)
    messages = {(d.migration, d.step): d.detail for d in report.differences}
    assert "down left something behind" in messages[(A, "re-up")]
    assert (f"(the re-up of {A} failed earlier, so this up ran on a schema it did not "
            "build: look there first)") in messages[(B, "up")]


def test_a_forgotten_trigger_and_a_wrong_default_are_caught(
        tmp_path: Path, make_db_url: Callable[[], str], db_kind: str) -> None:
    create, drop = {
        "sqlite": ("CREATE TRIGGER users_touch AFTER INSERT ON users BEGIN SELECT 1; END;\n",
                   "DROP TRIGGER users_touch;\n"),
        "postgres": ("CREATE TRIGGER users_touch BEFORE INSERT ON users FOR EACH ROW "
                     "EXECUTE FUNCTION touch();\n", "DROP TRIGGER users_touch ON users;\n"),
        "mysql": ("CREATE TRIGGER users_touch BEFORE INSERT ON users FOR EACH ROW "
                  "SET @touched = 1;\n", "DROP TRIGGER users_touch;\n"),
    }[db_kind]
    function, drop_function = (
        ("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql "
         "AS $$ BEGIN RETURN NEW; END $$;\n", "DROP FUNCTION touch();\n")
        if db_kind == "postgres" else ("", ""))

    def differences_after_down(root: Path, down: str) -> list[str]:
        write_migration(root, A, "CREATE TABLE users (id INTEGER PRIMARY KEY, n INTEGER "
                                 f"DEFAULT 0);\n{function}", f"DROP TABLE users;\n{drop_function}")
        write_migration(root, B, f"ALTER TABLE users DROP COLUMN n;\n{create}", down)
        report = verify(str(root), make_db_url() if db_kind != "sqlite" else None,
                        dialect=db_kind)
        return [f"{d.kind} {d.name}: {d.detail}" for d in report.differences if d.step == "down"]

    right = f"{drop}ALTER TABLE users ADD COLUMN n INTEGER DEFAULT 0;\n"
    assert differences_after_down(tmp_path / "right", right) == []
    described = differences_after_down(tmp_path / "wrong",
                                       "ALTER TABLE users ADD COLUMN n INTEGER DEFAULT 1;\n")
    name = "users_touch on users" if db_kind == "postgres" else "users_touch"
    assert f"trigger {name}: absent before up, still present after down" in described, described
    assert any(line.startswith("column users.n: default ") and "0" in line and "1" in line
               for line in described), described


# -- objects beyond tables: each case is a migration whose down is right and a copy whose
# down is wrong ({n} is "r" or "w", so the two touch objects of their own), verified in
# one run. The right downs write the SQL differently from the up before them (layout,
# case, quotes): the database may keep such text as written, and that is no difference.

Case = tuple[str, str, str, list[str]]  # up, right down, wrong down, lines the wrong gives


def verify_cases(root: Path, url: str | None, db_kind: str, base_up: str, base_down: str,
                 cases: dict[str, Case]) -> None:
    write_migration(root, A, "".join(base_up.format(n=n) for n in "rw"),
                    "".join(base_down.format(n=n) for n in "wr"))
    ids: dict[str, tuple[str, str]] = {}
    for number, (slug, (up, right, wrong, _)) in enumerate(cases.items()):
        ids[slug] = (f"2024-02-01-{number:04d}00_{slug}_right",
                     f"2024-02-01-{number:04d}01_{slug}_wrong")
        write_migration(root, ids[slug][0], up.format(n="r"), right.format(n="r"))
        write_migration(root, ids[slug][1], up.format(n="w"), wrong.format(n="w"))
    report = verify(str(root), url, dialect=db_kind)
    for slug, (_, _, _, expected) in cases.items():
        right, wrong = ids[slug]
        assert [str(d) for d in report.differences_of(right)] == [], slug
        described = [f"{d.kind} {d.name}: {d.detail}" for d in report.differences_of(wrong)
                     if d.step == "down"]
        for line in expected:
            assert line in described, (slug, described)
    assert report.failing == [wrong for _, wrong in ids.values()]
    assert report.verified == [A, *(right for right, _ in ids.values())]
    assert sorted(report.with_differences + report.failed) == sorted(
        wrong for _, wrong in ids.values())


def test_foreign_key_actions_views_and_checks_are_compared(
        tmp_path: Path, db_url: str, db_kind: str) -> None:
    fk = ("CONSTRAINT users_{n}_org FOREIGN KEY (org_id) REFERENCES orgs_{n} (id)")

    def users(actions: str) -> str:
        if db_kind == "sqlite":  # no ALTER for constraints: the table is made again
            return ("DROP TABLE users_{n};\nCREATE TABLE users_{n} (id INTEGER PRIMARY KEY, "
                    f"org_id INTEGER, {fk} {actions});\n")
        drop = "FOREIGN KEY" if db_kind == "mysql" else "CONSTRAINT"
        return (f"ALTER TABLE users_{{n}} DROP {drop} users_{{n}}_org;\n"
                f"ALTER TABLE users_{{n}} ADD {fk} {actions};\n")

    def prices(check: str) -> str:
        if db_kind == "sqlite":
            return ("DROP TABLE prices_{n};\nCREATE TABLE prices_{n} (id INTEGER PRIMARY KEY, "
                    f"amount INTEGER, CONSTRAINT prices_{{n}}_amount CHECK ({check}));\n")
        return ("ALTER TABLE prices_{n} DROP CONSTRAINT prices_{n}_amount;\n"
                f"ALTER TABLE prices_{{n}} ADD CONSTRAINT prices_{{n}}_amount CHECK ({check});\n")

    def view(where: str) -> str:
        replace = ("DROP VIEW cheap_{n};\nCREATE VIEW" if db_kind == "sqlite"
                   else "CREATE OR REPLACE VIEW")
        return f"{replace} cheap_{{n}} AS SELECT id, amount FROM prices_{{n}} WHERE {where};\n"

    base_up = ("CREATE TABLE orgs_{n} (id INTEGER PRIMARY KEY);\n"
               "CREATE TABLE users_{n} (id INTEGER PRIMARY KEY, org_id INTEGER, "
               f"{fk} ON DELETE CASCADE);\n"
               "CREATE TABLE prices_{n} (id INTEGER PRIMARY KEY, amount INTEGER, "
               "CONSTRAINT prices_{n}_amount CHECK (amount > 0));\n"
               "CREATE VIEW cheap_{n} AS SELECT id, amount FROM prices_{n} WHERE amount < 10;\n")
    base_down = ("DROP VIEW cheap_{n};\nDROP TABLE prices_{n};\nDROP TABLE users_{n};\n"
                 "DROP TABLE orgs_{n};\n")
    verify_cases(tmp_path / "m", db_url if db_kind != "sqlite" else None, db_kind,
                 base_up, base_down, {
        "fk": (users("ON DELETE SET NULL"), users("ON  DELETE  cascade"), users(""), [
            "foreign key users_w(org_id) -> orgs_w(id): ON DELETE CASCADE before up, "
            "no actions after down"]),
        "check": (prices("amount >= 0"), prices("(AMOUNT>0)" if db_kind != "sqlite" else
                                                "amount>0"), prices("amount <> 0"), [
            "check constraint prices_w CHECK (amount>0): present before up, missing after "
            "down",
            "check constraint prices_w CHECK (amount<>0): absent before up, still present "
            "after down"]),
        "view": (view("amount < 20"), view("amount<10").replace(" FROM", "\n  FROM"),
                 "SELECT 1;\n", ["view cheap_w: defined differently after down than before up"]),
    })


@pytest.mark.only_on("sqlite", "postgres")
def test_partial_and_expression_indexes_are_compared(tmp_path: Path, db_url: str,
                                                     db_kind: str) -> None:
    def index(name: str, rest: str) -> str:
        return f"DROP INDEX {name}_{{n}};\nCREATE INDEX {name}_{{n}} ON accounts_{{n}} {rest};\n"

    verify_cases(tmp_path / "m", db_url if db_kind != "sqlite" else None, db_kind,
                 "CREATE TABLE accounts_{n} (id INTEGER PRIMARY KEY, email VARCHAR(50), "
                 "active INTEGER);\n"
                 "CREATE INDEX live_{n} ON accounts_{n} (email) WHERE active = 1;\n"
                 "CREATE INDEX lower_{n} ON accounts_{n} (lower(email));\n",
                 "DROP TABLE accounts_{n};\n", {
        "partial": (index("live", "(email) WHERE active = 2"),
                    index("live", '("email")\n  WHERE active=1'),
                    index("live", "(email) WHERE active > 0"), [
            "index live_w on accounts_w: (email) WHERE {} before up, (email) WHERE {} after "
            "down".format(*(("(active=1)", "(active>0)") if db_kind == "postgres"
                            else ("active=1", "active>0")))]),
        "expression": (index("lower", "(upper(email))"), index("lower", "(LOWER( email ))"),
                       index("lower", "(lower(email), id)"), [
            "index lower_w on accounts_w: ({}) before up, ({}, id) after down".format(
                *(["lower(email::text)"] * 2 if db_kind == "postgres"
                  else ["lower(email)"] * 2))]),
    })


@pytest.mark.only_on("postgres")
def test_postgres_functions_sequences_and_comments_are_compared(tmp_path: Path,
                                                               db_url: str) -> None:
    def double(body: str) -> str:
        return (f"CREATE OR REPLACE FUNCTION double_{{n}}(x integer) RETURNS integer "
                f"LANGUAGE sql AS $$ {body} $$;\n")

    verify_cases(tmp_path / "m", db_url, "postgres",
                 "CREATE TABLE notes_{n} (id INTEGER PRIMARY KEY, body TEXT);\n"
                 "COMMENT ON TABLE notes_{n} IS 'what people wrote';\n"
                 "COMMENT ON COLUMN notes_{n}.body IS 'markdown';\n"
                 "CREATE MATERIALIZED VIEW counts_{n} AS SELECT count(*) AS n FROM notes_{n};\n"
                 + double("SELECT x * 2"),
                 "DROP MATERIALIZED VIEW counts_{n};\nDROP TABLE notes_{n};\n"
                 "DROP FUNCTION double_{n}(integer);\n", {
        "changed_function": (double("SELECT x * 3"), double("select  x*2 -- as before"),
                             "SELECT 1;\n", [
            "function double_w(x integer): defined differently after down than before up"]),
        "new_function": (
            "CREATE FUNCTION tax_{n}(amount numeric) RETURNS numeric LANGUAGE sql "
            "AS $$ SELECT amount * 0.2 $$;\n"
            "CREATE PROCEDURE purge_{n}() LANGUAGE sql AS $$ DELETE FROM notes_{n} $$;\n",
            "DROP FUNCTION tax_{n};\nDROP PROCEDURE purge_{n};\n", "SELECT 1;\n", [
                "function tax_w(amount numeric): absent before up, still present after down",
                "procedure purge_w(): absent before up, still present after down"]),
        "materialized_view": (
            "DROP MATERIALIZED VIEW counts_{n};\nCREATE MATERIALIZED VIEW counts_{n} AS "
            "SELECT count(body) AS n FROM notes_{n};\n",
            "DROP MATERIALIZED VIEW counts_{n};\nCREATE MATERIALIZED VIEW counts_{n} AS "
            "SELECT COUNT(*) n FROM notes_{n};\n", "SELECT 1;\n", [
                "view counts_w: defined differently after down than before up"]),
        "sequence": ("CREATE SEQUENCE invoice_{n} START 1000;\n",
                     "DROP SEQUENCE invoice_{n};\n", "SELECT 1;\n", [
            "sequence invoice_w: absent before up, still present after down"]),
        "comments": ("COMMENT ON TABLE notes_{n} IS 'notes';\n"
                     "COMMENT ON COLUMN notes_{n}.body IS NULL;\n",
                     "COMMENT ON TABLE notes_{n} IS 'what people wrote';\n"
                     "COMMENT ON COLUMN notes_{n}.body IS 'markdown';\n",
                     "COMMENT ON TABLE notes_{n} IS NULL;\n", [
            "table notes_w: comment 'what people wrote' before up, no comment after down",
            "column notes_w.body: comment 'markdown' before up, no comment after down"]),
    })


@pytest.mark.only_on("mysql")
def test_mariadb_routines_sequences_and_comments_are_compared(tmp_path: Path,
                                                              db_url: str) -> None:
    verify_cases(tmp_path / "m", db_url, "mysql",
                 "CREATE TABLE notes_{n} (id INTEGER PRIMARY KEY, "
                 "body TEXT COMMENT 'markdown') COMMENT 'what people wrote';\n"
                 "CREATE FUNCTION double_{n}(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;\n",
                 "DROP TABLE notes_{n};\nDROP FUNCTION double_{n};\n", {
        "changed_function": (
            "DROP FUNCTION double_{n};\n"
            "CREATE FUNCTION double_{n}(x INT) RETURNS INT DETERMINISTIC RETURN x * 3;\n",
            "DROP FUNCTION double_{n};\n"
            "CREATE FUNCTION double_{n}(x INT) RETURNS INT DETERMINISTIC RETURN  x*2;\n",
            "DROP FUNCTION double_{n};\n"
            "CREATE FUNCTION double_{n}(x BIGINT) RETURNS INT DETERMINISTIC RETURN x * 2;\n",
            ["function double_w: defined differently after down than before up"]),
        "new_routine": (
            "CREATE FUNCTION tax_{n}(amount INT) RETURNS INT DETERMINISTIC RETURN amount;\n"
            "CREATE PROCEDURE purge_{n}() DELETE FROM notes_{n};\n",
            "DROP FUNCTION tax_{n};\nDROP PROCEDURE purge_{n};\n", "SELECT 1;\n", [
                "function tax_w: absent before up, still present after down",
                "procedure purge_w: absent before up, still present after down"]),
        "sequence": ("CREATE SEQUENCE invoice_{n} START WITH 1000;\n",
                     "DROP SEQUENCE invoice_{n};\n", "SELECT 1;\n", [
            "sequence invoice_w: absent before up, still present after down"]),
        "comments": ("ALTER TABLE notes_{n} COMMENT 'notes', "
                     "MODIFY body TEXT COMMENT '';\n",
                     "ALTER TABLE notes_{n} COMMENT 'what people wrote', "
                     "MODIFY body TEXT COMMENT 'markdown';\n",
                     "ALTER TABLE notes_{n} COMMENT '';\n", [
            "table notes_w: comment 'what people wrote' before up, no comment after down",
            "column notes_w.body: comment 'markdown' before up, no comment after down"]),
    })
