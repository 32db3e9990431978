"""verify (and the verbs that reflect columns) on histories as real projects write them:
one set of counts, extension types SQLAlchemy does not know, session settings, a host
application's tables, and verifying only what a pull request adds."""

from __future__ import annotations

import json
import subprocess
import warnings
from pathlib import Path

import pytest

from switchy_guard.verify.roundtrip import verify
from tests.cli_helpers import Result, run_cli, write_migration

A = "2024-01-01-000000_users"
B = "2024-01-02-000000_nickname"
C = "2024-01-03-000000_badge"
D = "2024-01-04-000000_seed"
E = "2024-01-05-000000_broken"
F = "2024-01-06-000000_later"


def scratch_args(db_url: str, db_kind: str) -> list[str]:
    return [] if db_kind == "sqlite" else ["--scratch", db_url]


# -- 1. one set of counts ---------------------------------------------------------------


def every_outcome(root: Path) -> Path:
    """A passes; B's down drops a view it did not make (with differences); C's down
    errors (failed); D has no down (irreversible); E's up errors (failed); F is not
    reached."""
    write_migration(root, A, "CREATE TABLE users (id INTEGER PRIMARY KEY);\n"
                             "CREATE VIEW user_ids AS SELECT id FROM users;\n",
                    "DROP VIEW user_ids;\nDROP TABLE users;\n")
    write_migration(root, B, "ALTER TABLE users ADD COLUMN nickname VARCHAR(30);\n",
                    "ALTER TABLE users DROP COLUMN nickname;\nDROP VIEW user_ids;\n")
    write_migration(root, C, "CREATE TABLE badges (id INTEGER);\n",
                    "DROP TABLE no_such_table;\n")
    write_migration(root, D, "INSERT INTO users (id) VALUES (1);\n")
    write_migration(root, E, "INSERT INTO no_such_table VALUES (1);\n", "SELECT 1;\n")
    write_migration(root, F, "CREATE TABLE later (id INTEGER);\n", "DROP TABLE later;\n")
    return root


def test_the_counts_add_up_in_text_and_json(tmp_path: Path, db_url: str,
                                            db_kind: str) -> None:
    """Before: "2 verified, 3 with differences" of 6, and ``verified`` listed B and C,
    whose round trips differed or failed."""
    root = every_outcome(tmp_path / "m")
    args = ["verify", "-m", root, *scratch_args(db_url, db_kind)]
    result = run_cli(*args, "--format", "json")
    assert result.out, result.err  # before: MySQL's failed down left a row that stopped it
    data = json.loads(result.out)
    assert data["counts"] == {"passed": 1, "with_differences": 1, "failed": 2,
                              "irreversible": 1, "not_reached": 1, "applied_up_only": 0,
                              "total": 6}
    assert (data["verified"], data["with_differences"], data["failed"], data["skipped"],
            data["not_reached"]) == ([A], [B], [C, E], [D], [F])
    assert data["failing"] == [B, C, E]
    if db_kind != "sqlite":  # a second scratch database for the text run
        return
    result = run_cli(*args)
    assert result.code == 1
    assert result.out.splitlines()[-1] == (
        "6 migrations: 1 passed, 1 with differences, 2 failed, 1 irreversible (not "
        "verified), 1 not reached")


# -- 2. types SQLAlchemy does not know --------------------------------------------------


def ltree_history(root: Path) -> Path:
    write_migration(root, A, "CREATE EXTENSION IF NOT EXISTS ltree;\n"
                             "CREATE EXTENSION IF NOT EXISTS citext;\n"
                             "CREATE EXTENSION IF NOT EXISTS cube;\n"
                             "CREATE TABLE tree (id INTEGER PRIMARY KEY, path ltree, "
                             "label citext, box cube, up ltree);\n",
                    "DROP TABLE tree;\n")
    # B's down puts back a citext column where the ltree one was: compared by name, it
    # is a difference (as NullType both printed "null", and it passed).
    write_migration(root, B, "ALTER TABLE tree DROP COLUMN up;\n",
                    "ALTER TABLE tree ADD COLUMN up citext;\n")
    for number in range(3):  # a long history: many reflections of the same columns
        write_migration(root, f"2024-02-0{number + 1}-000000_more_{number}",
                        f"ALTER TABLE tree ADD COLUMN p{number} ltree;\n",
                        f"ALTER TABLE tree DROP COLUMN p{number};\n")
    return root


NOTE = ("note: SQLAlchemy does not know the column types cube, ltree; they are compared "
        "by name")


def run_catching_warnings(*args: str | Path) -> tuple[Result, list[str]]:
    """run_cli, and SQLAlchemy's "Did not recognize type" warnings that left it (Python
    prints them on the real stderr)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_cli(*args)
    return result, [str(w.message) for w in caught if "recognize type" in str(w.message)]


@pytest.mark.only_on("postgres")
def test_unknown_column_types_are_one_note_and_compared_by_name(
        tmp_path: Path, db_url: str) -> None:
    """Before: one "Did not recognize type" warning per column and snapshot (387 lines
    for a real history), and every unknown type printed as "null", so a down script
    that put back a citext column for an ltree one passed."""
    root = ltree_history(tmp_path / "m")
    result, escaped = run_catching_warnings("verify", "-m", root, "--scratch", db_url)
    assert escaped == []
    assert result.error_lines == [NOTE], result.err
    assert result.code == 1, result.out
    assert ("    after down: column tree.up: ltree before up, citext after down"
            in result.out), result.out
    report_lines = [line for line in result.out.splitlines() if line.startswith("✗")]
    assert report_lines == [f"✗ {B}"], result.out


@pytest.mark.only_on("postgres")
def test_rollback_and_its_plan_say_unknown_types_once(tmp_path: Path, db_url: str) -> None:
    root = ltree_history(tmp_path / "m")
    assert run_catching_warnings("migrate", "-m", root, "-d", db_url)[0].code == 0
    for args in (["rollback", "--plan", "--steps", "3"], ["rollback", "--steps", "3"]):
        result, escaped = run_catching_warnings(*args, "-m", root, "-d", db_url)
        assert result.code == 0, result.out + result.err
        assert escaped == [], (args, escaped)
        assert result.error_lines == [NOTE], (args, result.err)


# -- 4. verify only what is new ---------------------------------------------------------


def linear_history(root: Path, count: int) -> list[str]:
    ids = []
    for number in range(count):
        migration_id = f"2024-03-{number + 1:02d}-000000_t{number}"
        write_migration(root, migration_id, f"CREATE TABLE t{number} (id INTEGER);\n",
                        f"DROP TABLE t{number};\n")
        ids.append(migration_id)
    return ids


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com",
                    "-c", "commit.gpgsign=false", *args], cwd=repo, check=True,
                   capture_output=True)


def test_only_verifies_the_named_ids_and_applies_the_rest_up(
        tmp_path: Path, db_url: str, db_kind: str) -> None:
    root = tmp_path / "m"
    ids = linear_history(root, 4)
    # The last one's down forgets its table: caught, though the others are not verified.
    (root / ids[3] / "down.sql").write_text("SELECT 1;\n")
    result = run_cli("verify", "-m", root, *scratch_args(db_url, db_kind), "--format",
                     "json", "--only", ids[1], ids[3])
    data = json.loads(result.out)
    assert result.code == 1
    assert data["applied_up_only"] == [ids[0], ids[2]]
    assert data["verified"] == [ids[1]] and data["failed"] == [ids[3]]
    assert data["counts"]["applied_up_only"] == 2 and data["counts"]["total"] == 4
    assert data["selection"] == f"--only {ids[1]} {ids[3]}"


def test_only_with_an_unknown_id_exits_2_naming_it(tmp_path: Path, db_url: str,
                                                    db_kind: str) -> None:
    root = tmp_path / "m"
    ids = linear_history(root, 2)
    result = run_cli("verify", "-m", root, *scratch_args(db_url, db_kind),
                     "--only", ids[0], "2099-01-01-000000_nope", "typo")
    assert result.code == 2
    assert result.error_lines == ["error: --only names unknown migration(s): "
                                  "2099-01-01-000000_nope, typo"]


def test_against_verifies_what_is_new_or_changed_since_the_base(
        tmp_path: Path, db_url: str, db_kind: str) -> None:
    repo = tmp_path / "repo"
    root = repo / "migrations"
    ids = linear_history(root, 3)
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    new = linear_history(tmp_path / "more", 5)[3:]
    for migration_id in new:
        (tmp_path / "more" / migration_id).rename(root / migration_id)
    (root / ids[1] / "down.sql").write_text("DROP TABLE t1;\n-- changed in the PR\n")
    result = run_cli("verify", "-m", root, *scratch_args(db_url, db_kind), "--against",
                     "HEAD")
    assert result.code == 0, result.out + result.err
    lines = result.out.splitlines()
    assert lines[0].endswith("(--against HEAD)")
    assert lines[1:-1] == [f"· {ids[0]}  applied up only", f"✓ {ids[1]}",
                           f"· {ids[2]}  applied up only", f"✓ {new[0]}", f"✓ {new[1]}"]
    assert lines[-1] == ("5 migrations: 3 passed, 0 with differences, 0 failed, 0 irreversible "
                         "(not verified), 0 not reached, 2 applied up only (--against HEAD)")


def test_only_and_against_are_one_or_the_other(tmp_path: Path) -> None:
    root = tmp_path / "m"
    ids = linear_history(root, 1)
    result = run_cli("verify", "-m", root, "--only", ids[0], "--against", "HEAD")
    assert result.code == 2 and "not allowed with" in result.err


def test_the_library_takes_only(tmp_path: Path) -> None:
    root = tmp_path / "m"
    ids = linear_history(root, 3)
    report = verify(str(root), only=[ids[2]])
    assert report.applied_up_only == ids[:2] and report.verified == [ids[2]]


# -- 3. session settings and the host application's tables -------------------------------

PARENT = "2024-04-01-000000_parent_child"
DROP_PARENT = "2024-04-02-000000_replace_parent"


def fk_history(root: Path) -> Path:
    """The second migration drops and makes again a table a foreign key refers to: MariaDB
    refuses the DROP unless FOREIGN_KEY_CHECKS=0 (as the project's deploy script sets)."""
    write_migration(root, PARENT,
                    "CREATE TABLE parent (id INTEGER PRIMARY KEY);\n"
                    "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER, "
                    "FOREIGN KEY (parent_id) REFERENCES parent (id));\n",
                    "DROP TABLE child;\nDROP TABLE parent;\n")
    write_migration(root, DROP_PARENT,
                    "DROP TABLE parent;\n"
                    "CREATE TABLE parent (id INTEGER PRIMARY KEY, name VARCHAR(20));\n",
                    "DROP TABLE parent;\nCREATE TABLE parent (id INTEGER PRIMARY KEY);\n")
    return root


@pytest.mark.only_on("mysql")
def test_session_init_lets_mariadb_drop_a_referenced_table(tmp_path: Path,
                                                            make_db_url: object) -> None:
    assert callable(make_db_url)
    root = fk_history(tmp_path / "m")
    without = run_cli("verify", "-m", root, "--scratch", make_db_url(), "--format", "json")
    assert json.loads(without.out)["failed"] == [DROP_PARENT], without.out
    flag = ["--session-init", "SET FOREIGN_KEY_CHECKS=0"]
    verified = run_cli("verify", "-m", root, "--scratch", make_db_url(), *flag,
                       "--format", "json")
    assert verified.code == 0, verified.out + verified.err
    assert json.loads(verified.out)["verified"] == [PARENT, DROP_PARENT]
    # The runner, plan and check -d: the same settings, from the config file this time.
    url = make_db_url()
    (tmp_path / "switchy-guard.toml").write_text(
        'session_init = { mysql = "SET FOREIGN_KEY_CHECKS=0", sqlite = "PRAGMA foo" }\n')
    config = ["--config", tmp_path / "switchy-guard.toml"]
    assert run_cli("migrate", "-m", root, "-d", url, *config).code == 0
    rolled = run_cli("rollback", "--steps", "1", "-m", root, "-d", url, *config)
    assert rolled.code == 0, rolled.err
    assert run_cli("plan", "-m", root, "-d", url, *config).code == 0
    checked = run_cli("check", "-m", root, "-d", url, *config)
    assert (checked.code, checked.err) == (1, "") and "SG301" in checked.out  # the DROP
    assert run_cli("migrate", "-m", root, "-d", url, *config).code == 0
    refused = run_cli("rollback", "--steps", "1", "-m", root, "-d", url)
    assert refused.code == 1 and "foreign key" in refused.err.lower(), refused.err


def tenant_history(root: Path, db_kind: str) -> Path:
    """Migrations that read a setting of the session the deploy script opens: a custom
    setting on PostgreSQL, a user variable on MariaDB. The first migration SETs another
    setting (the runner's RESET ALL after it must not lose the session's)."""
    read = "current_setting('myapp.tenant')" if db_kind == "postgres" else "@tenant"
    first = "SET statement_timeout = 0;\n" if db_kind == "postgres" else ""
    write_migration(root, A, f"{first}CREATE TABLE tenants (name VARCHAR(40));\n",
                    "DROP TABLE tenants;\n")
    write_migration(root, B, f"INSERT INTO tenants (name) SELECT {read};\n",
                    f"DELETE FROM tenants WHERE name = {read};\n")
    return root


def tenants(url: str) -> list[str]:
    from sqlalchemy import create_engine, text

    from switchy_guard.runtime.db import parse_url

    engine = create_engine(parse_url(url))
    with engine.connect() as conn:
        names = [row[0] for row in conn.execute(text("SELECT name FROM tenants"))]
    engine.dispose()
    return names


@pytest.mark.only_on("postgres", "mysql")
def test_session_init_precedence_flag_config_policy(tmp_path: Path, db_kind: str,
                                                    make_db_url: object) -> None:
    assert callable(make_db_url)
    root = tenant_history(tmp_path / "m", db_kind)

    def setting(value: str) -> str:
        return (f"SET myapp.tenant = '{value}'" if db_kind == "postgres"
                else f"SET @tenant = '{value}'")

    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "development.toml").write_text(f'session_init = ["{setting("policy")}"]\n')
    config = tmp_path / "switchy-guard.toml"
    config.write_text(f'session_init = "{setting("config")}"\n')
    common = ["-m", root, "--policy-dir", policies]
    cases = [([], "policy"), (["--config", config], "config"),
             (["--config", config, "--session-init", setting("flag")], "flag")]
    for extra, expected in cases:
        url = make_db_url()
        result = run_cli("migrate", *common, "-d", url, *extra)
        assert result.code == 0, (expected, result.err)
        assert tenants(url) == [expected]
        verified = run_cli("verify", *common, "--scratch", make_db_url(), *extra)
        assert verified.code == 0, (expected, verified.out + verified.err)
    # Without any, the setting is not there: PostgreSQL fails, MariaDB reads NULL.
    (policies / "development.toml").write_text("")
    url = make_db_url()
    result = run_cli("migrate", *common, "-d", url)
    if db_kind == "postgres":
        assert result.code == 1 and "myapp.tenant" in result.err, result.err
    else:
        assert result.code == 0 and tenants(url) == [None]


@pytest.mark.only_on("postgres")
def test_session_init_search_path_is_seen_by_the_runner_status_and_check(
        tmp_path: Path, db_url: str) -> None:
    from sqlalchemy import create_engine, text

    from switchy_guard.runtime.db import parse_url

    engine = create_engine(parse_url(db_url))
    with engine.begin() as conn:
        conn.execute(text("CREATE SCHEMA app"))
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE users (id INTEGER);\n", "DROP TABLE users;\n")
    flag = ["--session-init", "SET search_path TO app"]
    assert run_cli("migrate", "-m", root, "-d", db_url, *flag).code == 0
    with engine.connect() as conn:
        schemas = {row[0] for row in conn.execute(text(
            "SELECT table_schema FROM information_schema.tables WHERE table_name IN "
            "('users', '__switchy_migrations')"))}
    engine.dispose()
    assert schemas == {"app"}
    status = run_cli("status", "-m", root, "-d", db_url, *flag, "--format", "json")
    assert json.loads(status.out)["summary"]["completed"] == 1, status.out
    assert run_cli("check", "-m", root, "-d", db_url, *flag).code == 0
    plan = run_cli("plan", "-m", root, "-d", db_url, *flag, "--format", "json")
    assert plan.code == 0 and A not in plan.out, plan.out


def test_a_failing_session_init_exits_2_naming_it(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE users (id INTEGER);\n", "DROP TABLE users;\n")
    result = run_cli("migrate", "-m", root, "-d", db_url, "--session-init",
                     "SELECT 1; SELECT * FROM no_such_table")
    assert result.code == 2, result.out + result.err
    assert len(result.error_lines) == 1
    assert result.err.startswith("error: session_init statement 'SELECT * FROM no_such_table' "
                                 "(--session-init) failed on "), result.err
    assert "s3cret-pw" not in result.err


def test_setup_makes_the_host_application_tables(tmp_path: Path, db_url: str,
                                                 db_kind: str) -> None:
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE orders (id INTEGER PRIMARY KEY, account_id "
                             "INTEGER REFERENCES accounts (id));\n", "DROP TABLE orders;\n")
    setup = tmp_path / "host.sql"
    setup.write_text("-- the host application's tables\n"
                     "CREATE TABLE accounts (id INTEGER PRIMARY KEY);\n"
                     "INSERT INTO accounts (id) VALUES (1);\n")
    args = ["verify", "-m", root, *scratch_args(db_url, db_kind)]
    if db_kind == "sqlite":  # SQLite takes a reference to a missing table: no failure
        result = run_cli(*args, "--setup", setup)
        assert result.code == 0, result.out + result.err
        return
    without = run_cli(*args, "--format", "json")
    assert json.loads(without.out)["failed"] == [A]
    result = run_cli("verify", "-m", root, "--setup", setup, "-d", db_url)
    assert result.code == 0, result.out + result.err
    assert f"✓ {A}" in result.out


def test_a_failing_setup_exits_2_naming_the_file_and_line(tmp_path: Path, db_url: str,
                                                          db_kind: str) -> None:
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE users (id INTEGER);\n", "DROP TABLE users;\n")
    setup = tmp_path / "host.sql"
    setup.write_text("CREATE TABLE accounts (id INTEGER);\n\nINSERT INTO nowhere VALUES (1);\n")
    result = run_cli("verify", "-m", root, "--setup", setup,
                     *scratch_args(db_url, db_kind))
    assert result.code == 2, result.out + result.err
    assert len(result.error_lines) == 1
    assert result.err.startswith(f"error: {setup}: line 3: the --setup script failed"), result.err
    missing = run_cli("verify", "-m", root, "--setup", tmp_path / "nope.sql")
    assert missing.code == 2 and "nope.sql" in missing.err
