"""No password in any output, log or journal entry (SECURITY.md, "Secrets in URLs").

The test servers log in as ``switchy`` with the password ``s3cret-pw``, so every command
below is given a URL holding it; SQLite URLs hold none, so there the password rides in a
second, unreachable URL and in the command line the journal records.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from switchy_guard.runtime.db import create_database_engine
from tests.cli_helpers import run_cli, write_migration

SECRET = "s3cret-pw"


def everything_written(url: str) -> str:
    """Every row of switchy-guard's own tables, as text."""
    engine = create_database_engine(url)
    try:
        with engine.connect() as conn:
            rows = []
            for table in ("__switchy_migrations", "__switchy_migrations_audit",
                          "__switchy_migrations_lock", "__switchy_migrations_statements"):
                quoted = conn.dialect.identifier_preparer.quote(table)
                try:
                    rows += [repr(r) for r in conn.execute(text(f"SELECT * FROM {quoted}"))]
                except Exception:  # a table that was never made
                    conn.rollback()
            return "\n".join(rows)
    finally:
        engine.dispose()


def test_passwords_are_masked_everywhere(tmp_path: Path, db_url: str, db_kind: str) -> None:
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);\n",
                    "DROP TABLE a;\n")
    write_migration(root, "2024-01-02-000000_b", "INSERT INTO nowhere VALUES (1);\n",
                    "SELECT 1;\n")
    unreachable = f"postgresql://switchy:{SECRET}@127.0.0.1:1/nothing"
    common = ["-m", root, "-d", db_url]
    outputs = [
        run_cli("plan", *common, "--format", "json"),
        run_cli("migrate", *common),  # b fails: the database error is printed
        run_cli("status", *common, "--history"),
        run_cli("status", *common, "--history", "--format", "json"),
        run_cli("list", *common),
        run_cli("lock", "status", "-d", db_url),
        run_cli("mark-failed", "2024-01-02-000000_b", "--force", "--reason",
                f"see {unreachable}", *common),
        run_cli("rollback", "--all", "--plan", *common),
        run_cli("rollback", "--all", "--confirm", "development", *common),
        run_cli("migrate", "-m", root, "-d", unreachable),
        run_cli("status", "-m", root, "-d", unreachable, "--debug"),
    ]
    assert outputs[1].code == 1 and outputs[-2].code == 3
    assert "***" in outputs[-2].err  # the unreachable URL is named, masked
    for result in outputs:
        assert SECRET not in result.out + result.err, result
    stored = everything_written(db_url)
    assert "switchy-guard migrate" in stored and "mark-failed" in stored
    assert SECRET not in stored
    if db_kind != "sqlite":
        assert SECRET in db_url  # the test did hand the password to every command
    history = json.loads(outputs[3].out)
    assert all(SECRET not in json.dumps(entry) for entry in history["audit"])


def test_a_mistyped_url_is_refused_without_its_password(tmp_path: Path) -> None:
    """A URL that does not parse was echoed whole (a missing ``:`` or ``//``, no scheme),
    and a port that is not a number crashed with a traceback (exit 1)."""
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);\n")
    for url in (f"postgres//switchy:{SECRET}@127.0.0.1/db",
                f"postgresql:/switchy:{SECRET}@127.0.0.1/db",
                f"switchy:{SECRET}@127.0.0.1/db",
                f"postgresql://switchy:{SECRET}@127.0.0.1:54x32/db",
                f"mysql://switchy:{SECRET}@[::1/db"):
        for verb in ("status", "migrate"):
            result = run_cli(verb, "-m", root, "-d", url)
            assert result.code == 2, (url, result)
            assert result.error_lines == [result.error_lines[0]]
            assert result.error_lines[0].startswith("error: invalid database URL '"), result
            assert SECRET not in result.out + result.err, result
            assert "switchy:***@" in result.err or ":***@127.0.0.1" in result.err, result


@pytest.mark.only_on("postgres", "mysql")
def test_a_password_given_as_a_query_parameter_is_masked(tmp_path: Path, db_url: str) -> None:
    """psycopg and PyMySQL take the password from the query too
    (``postgresql://app@db/x?password=...``): status printed such URLs whole, and the
    audit journal stored them."""
    parsed = make_url(db_url)
    url = URL.create(parsed.drivername, parsed.username, None, parsed.host, parsed.port,
                     parsed.database, {"password": SECRET}).render_as_string()
    assert SECRET in url and f":{SECRET}@" not in url
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);\n",
                    "DROP TABLE a;\n")
    unreachable = f"postgresql://switchy@127.0.0.1:1/nothing?sslmode=disable&password={SECRET}"
    outputs = [
        run_cli("status", "-m", root, "-d", url),
        run_cli("status", "-m", root, "-d", url, "--format", "json"),
        run_cli("migrate", "-m", root, "-d", url),
        run_cli("rollback", "--all", "--confirm", "development", "-m", root, "-d", url),
        run_cli("status", "-m", root, "-d", unreachable),
    ]
    assert [r.code for r in outputs] == [0, 0, 0, 0, 3], outputs
    assert "password=***" in outputs[0].out and "password=***" in outputs[-1].err
    for result in outputs:
        assert SECRET not in result.out + result.err, result
    stored = everything_written(db_url)
    assert "password=***" in stored
    assert SECRET not in stored


# Each hides a secret the regexes of db.py let through (or masked only in part).
HOSTILE = [
    "postgresql://u:a#Hostile1x@db/x",
    "postgresql://u:it's\"Hostile2x@db/x",
    "postgresql://u@db/x?pass%77ord=Hostile3x",
    "postgresql://u@db/x?sslmode=require&sslpassword=Hostile4x",
    "host=db password='a b#Hostile5x' dbname=x",
    "PGPASSWORD=Hostile6x",
    "postgresql://u:a b Hostile7x@db/x",
    "postgresql://u:p@Hostile8x@db/x",
    "Authorization: Bearer Hostile9x",
]


def test_hostile_passwords_never_reach_the_lock_record(
        tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lock record stores the holder's command line (for `lock status` and for the
    message of a run that waits): read while the lock is held."""
    import sys

    from switchy_guard.runtime.lock import migration_lock

    engine = create_database_engine(db_url)
    try:
        for hostile in [*HOSTILE, "--password"]:
            argv = ["switchy-guard", "migrate", "-d", hostile]
            if hostile == "--password":
                argv += ["Hostile0x"]
            monkeypatch.setattr(sys, "argv", argv)
            with migration_lock(engine, "__switchy_migrations", 10):
                stored = everything_written(db_url)
            assert "switchy-guard migrate -d" in stored, stored
            assert "Hostile" not in stored, stored
    finally:
        engine.dispose()


def test_hostile_passwords_never_reach_the_journal_or_the_reasons(
        tmp_path: Path, db_url: str) -> None:
    """The audit journal stores the command line and the tracking table the failure
    reason: both masked before they are written."""
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);\n",
                    "DROP TABLE a;\n")
    assert run_cli("migrate", "-m", root, "-d", db_url).code == 0
    for hostile in HOSTILE:
        result = run_cli("mark-failed", "2024-01-01-000000_a", "--reason", f"see {hostile}",
                         "--force", "-m", root, "-d", db_url)
        assert result.code == 0, result
        assert "Hostile" not in result.out + result.err, result
    shown = run_cli("status", "--history", "-m", root, "-d", db_url)
    assert "Hostile" not in shown.out + shown.err
    stored = everything_written(db_url)
    assert stored.count("mark-failed") >= len(HOSTILE), stored
    assert "Hostile" not in stored, stored


@pytest.mark.only_on("sqlite", "postgres")
def test_a_huge_error_message_is_masked_quickly_and_stored_cut(tmp_path: Path, db_url: str,
                                                              db_kind: str) -> None:
    """Masking a 100 KB database error took a minute (quadratic regexes), with the lock
    held; the whole message was then stored as the failure reason and printed."""
    import time

    huge = "a" * 100_000
    sql = (f'SELECT * FROM "{huge}";\n' if db_kind == "sqlite"
           else f"SELECT '{huge}'::integer;\n")
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_huge", sql)
    started = time.monotonic()
    result = run_cli("migrate", "-m", root, "-d", db_url)
    assert time.monotonic() - started < 10
    assert result.code == 1 and "characters cut)" in result.err, result.err[:300]
    assert len(result.err) < 10_000
    status = json.loads(run_cli("status", "-m", root, "-d", db_url, "--format", "json").out)
    reason = status["migrations"][0]["failure_reason"]
    assert 2000 <= len(reason) < 3000 and "characters cut)" in reason, reason[-300:]
