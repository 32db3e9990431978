"""Bad settings met at the database (issue 14, section 7): a URL setting the driver
refuses, an audit journal that cannot be written, and a tracking table named in another
case on a MariaDB server that ignores the case of table names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from switchy_guard.errors import LockTimeout
from switchy_guard.runtime.db import create_database_engine, parse_url
from switchy_guard.runtime.lock import hold_migration_lock, lock_name
from tests.cli_helpers import run_cli, write_migration
from tests.dbservers import Server, start_mariadb

A = "2024-01-01-000000_a"
AUDIT = "__switchy_migrations_audit"


@pytest.mark.only_on("postgres")
@pytest.mark.parametrize("setting", [
    "sslmode=bogus", "connect_timeout=abc", "bogus_option=1",
    "options=-c%20statement_timeout%3Dabc",
])
def test_a_url_setting_libpq_refuses_is_exit_2(tmp_path: Path, db_url: str,
                                               setting: str) -> None:
    # It was exit 3, "the database could not be reached", sending people to the network.
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\n", "DROP TABLE a;\n")
    result = run_cli("migrate", "-m", root, "-d", f"{db_url}?{setting}")
    assert result.code == 2, result.err
    assert len(result.error_lines) == 1, result.err
    assert "a connection setting of the URL was refused" in result.err
    assert "s3cret" not in result.err


def _tables(url: str) -> list[str]:
    engine = create_engine(parse_url(url))
    try:
        with engine.connect() as conn:
            return sorted(t.lower() for t in inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_an_unwritable_audit_journal(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\n", "DROP TABLE a;\n")
    engine = create_engine(parse_url(db_url))
    with engine.begin() as conn:  # a table of that name, not a journal: no entry fits
        conn.exec_driver_sql(f"CREATE TABLE {AUDIT} (note VARCHAR(10) NOT NULL)")
    engine.dispose()
    production = run_cli("migrate", "-m", root, "-d", db_url, "--env", "production",
                         "--confirm", "production", "--ack-backup")
    assert production.code == 2, production.err
    assert len(production.error_lines) == 1, production.err
    assert (f"the audit journal '{AUDIT}' cannot be written" in production.err
            and "policy production requires a record of every run: nothing was run"
            in production.err)
    assert "a" not in _tables(db_url)
    # Development: the run goes on, and says the journal was not written.
    with pytest.warns(UserWarning, match="the audit journal could not be written"):
        development = run_cli("migrate", "-m", root, "-d", db_url)
    assert development.code == 0, development.err
    assert "a" in _tables(db_url)


@pytest.fixture(scope="module")
def folding_server() -> Iterator[Server]:
    """A second MariaDB that compares table names ignoring case."""
    server = start_mariadb(["--lower-case-table-names=1"])
    try:
        yield server
    finally:
        server.stop()


# Long enough that the lock's name (with the database's) is hashed to fit 64 characters.
LONG = "Tracking_Table_Of_The_Billing_Service_Two"


@pytest.mark.only_on("mysql")
def test_a_table_named_in_another_case_shares_the_lock(folding_server: Server,
                                                       db_url: str) -> None:
    folding_url = folding_server.new_database()
    engine = create_database_engine(folding_url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT @@lower_case_table_names").scalar() == 1
            assert lock_name(conn, LONG) == lock_name(conn, LONG.lower())
        # One table to this server: a second run naming it in lower case must wait.
        with (hold_migration_lock(engine, LONG, timeout=1), pytest.raises(LockTimeout),
              hold_migration_lock(engine, LONG.lower(), timeout=0.2)):
            pass
    finally:
        engine.dispose()
    # On a server that tells the cases apart (the default on Linux) they are two tables,
    # and two locks.
    plain = create_database_engine(db_url)
    try:
        with plain.connect() as conn:
            assert conn.exec_driver_sql("SELECT @@lower_case_table_names").scalar() == 0
            assert lock_name(conn, LONG) != lock_name(conn, LONG.lower())
    finally:
        plain.dispose()


@pytest.mark.only_on("mysql")
def test_migrate_through_a_table_named_in_another_case(folding_server: Server,
                                                       tmp_path: Path) -> None:
    """The whole run on the folding server: the second spelling sees the first's rows."""
    url = folding_server.new_database()
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\n", "DROP TABLE a;\n")
    first = run_cli("migrate", "-m", root, "-d", url, "--migration-table", LONG)
    assert first.code == 0, first.err
    again = run_cli("migrate", "-m", root, "-d", url, "--migration-table", LONG.upper())
    assert again.code == 0 and "up to date" in again.out, again.out + again.err
