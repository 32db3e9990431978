"""Databases set up differently from the other tests' fixtures: URL options, read-only
databases, roles without privileges. Each either works or stops with one clear line and
the right exit code, with nothing applied."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from tests.cli_helpers import run_cli, write_migration


def _project(root: Path) -> None:
    write_migration(root, "2024-01-01-000000_users",
                    "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50));\n",
                    "DROP TABLE users;\n")


def _tables(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


@pytest.mark.only_on("sqlite")
def test_sqlite_uri_options_that_would_not_take_effect_are_refused(
    tmp_path: Path, db_url: str
) -> None:
    """``?mode=ro`` without ``uri=true`` was dropped by the driver (a warning, then the
    file was migrated for writing), and ``app.db?mode=ro&uri=true`` opened and migrated a
    new file literally named ``app.db?mode=ro``."""
    root = tmp_path / "m"
    _project(root)
    path = Path(db_url.removeprefix("sqlite:///"))
    sqlite3.connect(path).close()  # the database exists, empty
    for url, suggestion in (
        (f"{db_url}?mode=ro", f"write sqlite:///file:{path}?mode=ro&uri=true"),
        (f"{db_url}?mode=ro&uri=true", f"write sqlite:///file:{path}?mode=ro&uri=true"),
        (f"sqlite:///file:{path}?mode=ro", f"write sqlite:///file:{path}?mode=ro&uri=true"),
    ):
        for verb in ("migrate", "status"):
            result = run_cli(verb, "-m", root, "-d", url)
            assert result.code == 2, (url, result)
            assert len(result.error_lines) == 1 and suggestion in result.err, result
            assert "Warning" not in result.err, result
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name)) == [
        path.name]  # no 'test.db?mode=ro'
    assert _tables(db_url) == []
    # The spelling it suggests works: reading, and refusing to write.
    uri = f"sqlite:///file:{path}?mode=ro&uri=true"
    assert run_cli("status", "-m", root, "-d", uri).code == 0
    assert run_cli("migrate", "-m", root, "-d", uri).code != 0
    assert _tables(db_url) == []
    # pysqlite's own options stay accepted.
    assert run_cli("migrate", "-m", root, "-d", f"{db_url}?timeout=5").code == 0
    assert _tables(db_url) == ["__switchy_migrations", "__switchy_migrations_audit",
                               "__switchy_migrations_lock", "users"]


@contextmanager
def _user_who_cannot_write(db_url: str, db_kind: str) -> Iterator[str]:
    """The URL of ``db_url``'s database for a user that may read but not create tables
    (PostgreSQL 15: no CREATE on public; MariaDB: SELECT only; SQLite: opened read-only)."""
    if db_kind == "sqlite":
        path = db_url.removeprefix("sqlite:///")
        sqlite3.connect(path).close()
        yield f"sqlite:///file:{path}?mode=ro&uri=true"
        return
    name = f"r_{uuid.uuid4().hex[:12]}"
    admin = create_engine(db_url, isolation_level="AUTOCOMMIT")
    parsed = make_url(db_url)
    with admin.connect() as conn:
        if db_kind == "postgres":
            conn.execute(text(f"CREATE ROLE {name} LOGIN PASSWORD 'pw'"))
        else:
            conn.execute(text(f"CREATE USER '{name}'@'%' IDENTIFIED BY 'pw'"))
            conn.execute(text(f"GRANT SELECT ON `{parsed.database}`.* TO '{name}'@'%'"))
    try:
        yield parsed.set(username=name, password="pw").render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            if db_kind == "postgres":
                conn.execute(text(f"REASSIGN OWNED BY {name} TO CURRENT_USER"))
                conn.execute(text(f"DROP OWNED BY {name}"))
                conn.execute(text(f"DROP ROLE {name}"))
            else:
                conn.execute(text(f"DROP USER '{name}'@'%'"))
        admin.dispose()


def test_a_user_who_may_not_create_tables_gets_one_line_naming_it(
    tmp_path: Path, db_url: str, db_kind: str
) -> None:
    """A role without CREATE on public (PostgreSQL 15's default), a read-only MariaDB
    user or a read-only SQLite database got 'database error: permission denied for
    schema public' with exit 3 ('database unavailable'), naming neither what was being
    written nor why it matters."""
    root = tmp_path / "m"
    _project(root)
    with _user_who_cannot_write(db_url, db_kind) as url:
        assert run_cli("status", "-m", root, "-d", url).code == 0  # reading works
        for verb in (["migrate"], ["rollback", "--all", "--force"],
                     ["mark-completed", "2024-01-01-000000_users", "--force"]):
            result = run_cli(*verb, "-m", root, "-d", url)
            assert result.code == 2, (verb, result)
            assert len(result.error_lines) == 1, result
            line = result.error_lines[0]
            assert line.startswith("error: the database refused switchy-guard's first write"
                                   " (its lock record __switchy_migrations_lock): "), line
            assert ("permission denied" in line or "denied to user" in line
                    or "readonly database" in line), line
    assert _tables(db_url) == []


@pytest.mark.only_on("postgres")
def test_a_role_without_create_on_public_uses_tables_an_admin_made(
    tmp_path: Path, db_url: str
) -> None:
    """An admin bootstraps switchy-guard's tables and grants the application role DML on
    them; the role migrates into its own schema. The lock record's CREATE TABLE IF NOT
    EXISTS was refused anyway (PostgreSQL checks CREATE on the schema before looking
    for the table), so the role could never run."""
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_a", "CREATE TABLE appdata.a (id INTEGER);\n",
                    "DROP TABLE appdata.a;\n")
    write_migration(root, "2024-01-02-000000_b", "CREATE TABLE appdata.b (id INTEGER);\n",
                    "DROP TABLE appdata.b;\n")
    with _user_who_cannot_write(db_url, "postgres") as url:
        role = make_url(url).username
        admin = create_engine(db_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA appdata AUTHORIZATION {role}"))
        assert run_cli("migrate", "--to", "2024-01-01-000000_a", "-m", root,
                       "-d", db_url).code == 0
        with admin.connect() as conn:
            for table in ("__switchy_migrations", "__switchy_migrations_lock",
                          "__switchy_migrations_audit"):
                conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}"))
        admin.dispose()
        result = run_cli("migrate", "-m", root, "-d", url)
        assert result.code == 0, result
        assert "b" in inspect(create_engine(db_url)).get_table_names(schema="appdata")
        status = run_cli("status", "-m", root, "-d", url)
        assert "2 applied, 0 pending" in status.out, status


@pytest.mark.only_on("postgres", "mysql")
def test_verify_without_the_right_to_create_a_scratch_database_says_so(
    tmp_path: Path, db_url: str, db_kind: str
) -> None:
    """verify makes its scratch database beside -d; a user who may not create databases
    (the usual application user) got 'database error: permission denied to create
    database' with exit 3, and no word about --scratch."""
    root = tmp_path / "m"
    _project(root)
    with _user_who_cannot_write(db_url, db_kind) as url:
        result = run_cli("verify", "-m", root, "-d", url)
        assert result.code == 2, result
        assert len(result.error_lines) == 1, result
        line = result.error_lines[0]
        assert line.startswith("error: verify could not create a scratch database on "), line
        assert ":***@" in line and "give --scratch URL" in line, line
    assert _tables(db_url) == []


@pytest.mark.only_on("sqlite")
def test_a_sqlite_database_in_a_folder_the_user_may_not_write_in(db_url: str) -> None:
    """A database file readable by everyone in a folder only its owner may write in
    (another user's, a shared mount): reading verbs work, and migrate stopped with
    filelock's PermissionError traceback when making its lock file."""
    folder = Path(tempfile.mkdtemp(prefix="switchy-ro-"))
    try:
        root = folder / "m"
        _project(root)
        database = folder / "app.db"
        sqlite3.connect(database).close()
        for path in (folder, root, *root.rglob("*")):
            path.chmod(0o755 if path.is_dir() else 0o644)
        folder.chmod(0o555)
        as_other_user = (["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
                         if os.geteuid() == 0 else [])

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [*as_other_user, sys.executable, "-m", "switchy_guard", *args, "-m",
                 str(root), "-d", f"sqlite:///{database}"],
                capture_output=True, text=True, check=False, cwd="/")

        assert run("status").returncode == 0
        result = run("migrate")
        assert result.returncode == 2, result
        assert result.stderr.splitlines() == [
            f"error: cannot create the lock file {database}.switchy-lock: Permission denied;"
            " a SQLite database is migrated by a user who may write in its folder"], result
        assert _tables(f"sqlite:///{database}") == []
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)


@pytest.mark.only_on("postgres")
def test_a_tracking_table_the_user_may_not_read_is_one_line(tmp_path: Path, db_url: str) -> None:
    """The tracking table belongs to another role (an admin ran the first migrations)
    and this one was granted nothing on it: status, plan and migrate said 'database
    error: permission denied for table __switchy_migrations', exit 3 (unreachable)."""
    root = tmp_path / "m"
    _project(root)
    assert run_cli("migrate", "-m", root, "-d", db_url).code == 0
    with _user_who_cannot_write(db_url, "postgres") as url:
        for verb in ("status", "plan"):
            result = run_cli(verb, "-m", root, "-d", url)
            assert result.code == 2, (verb, result)
            assert result.error_lines == [
                "error: cannot read the migration tracking table '__switchy_migrations': "
                "permission denied for table __switchy_migrations"], result
        # migrate stops at its first write, the lock record (its table exists, not
        # granted): that refusal was hidden by the clean-up's 'current transaction is
        # aborted' (exit 3), and the lock released only when the connection closed.
        result = run_cli("migrate", "-m", root, "-d", url)
        assert result.code == 2, result
        assert result.error_lines == [
            "error: the database refused switchy-guard's first write (its lock record "
            "__switchy_migrations_lock): permission denied for table "
            "__switchy_migrations_lock; the user must be able to create and write tables "
            "beside the tracking table, in a database that is not read-only"], result


@pytest.mark.only_on("postgres")
def test_any_other_refusal_by_the_database_is_configuration_not_unavailability(
    tmp_path: Path, db_url: str
) -> None:
    """A privilege missing where no verb expected one (the lock record, read by ``lock
    status``) is exit 2 naming the verb, not 'database error', exit 3 (unreachable)."""
    root = tmp_path / "m"
    _project(root)
    assert run_cli("migrate", "-m", root, "-d", db_url).code == 0
    with _user_who_cannot_write(db_url, "postgres") as url:
        result = run_cli("lock", "status", "-m", root, "-d", url)
        assert result.code == 2, result
        assert result.error_lines == [
            "error: 'lock': the database refused it: permission denied for table "
            "__switchy_migrations_lock"], result
