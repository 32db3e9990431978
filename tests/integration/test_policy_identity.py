"""Policies follow the database, not its spelling; and the project's policy folder is
found from the project, not from the current directory.

A production policy's ``match_urls`` used to be compared with the URL's text only: the
same production database reached as ``?dbname=``, ``?database=``, ``PGDATABASE``,
``?host=``, ``127.1`` instead of ``localhost``, or a SQLite hard link was migrated under
the development policy. Now the database is asked what it is after connecting.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import text

from switchy_guard.gates.policy import SHIPPED_DIR
from switchy_guard.runtime.db import create_database_engine, parse_url, sqlite_file
from tests.cli_helpers import Result, run_cli, write_migration
from tests.db_helpers import journal, tables

M = "2024-01-01-000000_create_users"
REFUSED = "policy production requires confirmation"


def _project(folder: Path, *, match_urls: Sequence[str] = (),
             match_servers: Sequence[str] = ()) -> tuple[Path, Path]:
    """``folder/migrations`` (one migration) and ``folder/policies/production.toml`` (the
    shipped production policy with these match rules); returns both folders."""
    migrations = folder / "migrations"
    write_migration(migrations, M, "CREATE TABLE users (id INTEGER PRIMARY KEY);\n",
                    "DROP TABLE users;\n")
    policies = folder / "policies"
    policies.mkdir(parents=True, exist_ok=True)
    shipped = (SHIPPED_DIR / "production.toml").read_text()
    shipped = shipped.replace("match_urls = []\n", "").replace("match_servers = []\n", "")
    rules = (f"match_urls = {json.dumps(list(match_urls))}\n"
             f"match_servers = {json.dumps(list(match_servers))}\n")
    (policies / "production.toml").write_text(shipped + rules)
    return migrations, policies


def _migrate_as_development(migrations: Path, url: str, *extra: str | Path) -> Result:
    return run_cli("migrate", "-m", migrations, "-d", url, "--env", "development", *extra)


def _assert_forced_into_production(result: Result, real_url: str, spelling: str) -> None:
    assert result.code == 1, (spelling, result)
    assert REFUSED in result.err, (spelling, result.err)
    assert "chosen by match_" in result.out, (spelling, result.out)
    assert "users" not in tables(real_url), spelling


def _url(base: str, *, host: str | None = None, database: str | None = "",
         query: dict[str, str] | None = None) -> str:
    """``base`` with another host, database (None: none) or query, as a string."""
    parsed = parse_url(base)
    if host is not None:
        parsed = parsed.set(host=host)
    if database != "":
        parsed = parsed.set(database=database)
    if query:
        parsed = parsed.update_query_dict(query)
    return parsed.render_as_string(hide_password=False)


def _server_spellings(db_url: str, db_kind: str) -> dict[str, str]:
    """Other spellings of the database ``db_url`` names (each a URL reaching it)."""
    parsed = parse_url(db_url)
    name = parsed.database or ""
    admin = "postgres" if db_kind == "postgres" else "mysql"
    by_query = "dbname" if db_kind == "postgres" else "database"
    return {
        # The URL's path names another database; the query names the real one.
        f"?{by_query}=": _url(db_url, database=admin, query={by_query: name}),
        # The URL's host is a decoy; the query names the real one.
        "?host=": _url(db_url, host="db.example.invalid", query={"host": "127.0.0.1"}),
        "127.1": _url(db_url, host="127.1"),
        "localhost": _url(db_url, host="localhost"),
        "127.0.0.1": db_url,
    }


@pytest.mark.only_on("postgres", "mysql")
def test_a_production_server_database_is_known_by_every_spelling(
        tmp_path: Path, db_url: str, db_kind: str) -> None:
    name = parse_url(db_url).database
    for pattern in (f"localhost/{name}", f"127.0.0.1/{name}", f"*/{name}"):
        migrations, policies = _project(tmp_path / pattern.replace("/", "_").replace(
            "*", "any"), match_urls=[pattern])
        for spelling, url in _server_spellings(db_url, db_kind).items():
            result = _migrate_as_development(migrations, url, "--policy-dir", policies)
            if spelling == "127.0.0.1" and pattern.startswith("127"):
                assert "match_urls pattern" in result.out  # matched by text, as before
            _assert_forced_into_production(result, db_url, f"{pattern} <- {spelling}")
    entry = journal(db_url)[-1]
    assert entry["outcome"] == "refused" and entry["policy"] == "production"
    # Which database it was, in the server's own words.
    assert f"server: {db_kind} database '{name}' at localhost:" in str(entry["detail"])


@pytest.mark.only_on("postgres")
def test_pgdatabase_in_the_environment_is_the_database_matched(
        tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    name = parse_url(db_url).database or ""
    migrations, policies = _project(tmp_path, match_urls=[f"*/{name}"])
    monkeypatch.setenv("PGDATABASE", name)
    monkeypatch.setenv("PGHOST", "127.0.0.1")
    # Neither host nor database in the URL: libpq takes both from the environment.
    parsed = parse_url(db_url)
    bare = f"postgresql://{parsed.username}:{parsed.password}@/?port={parsed.port}"
    assert not parse_url(bare).database and not parse_url(bare).host
    result = _migrate_as_development(migrations, bare, "--policy-dir", policies)
    _assert_forced_into_production(result, db_url, "PGDATABASE")


@pytest.mark.only_on("sqlite")
def test_a_production_sqlite_file_is_known_by_every_name(
        tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    real = Path(sqlite_file(db_url) or "")
    sqlite3.connect(real).close()  # the production file exists
    migrations, policies = _project(tmp_path / "proj", match_urls=[str(real)])
    other = tmp_path / "elsewhere"
    (other / "x").mkdir(parents=True)
    os.link(real, other / "hard.db")
    (other / "soft.db").symlink_to(real)
    (tmp_path / "x").mkdir()
    monkeypatch.chdir(other)
    spellings = {
        "hard link": f"sqlite:///{other / 'hard.db'}",
        "relative hard link": "sqlite:///./x/../hard.db",
        "symlink": f"sqlite:///{other / 'soft.db'}",
        "x/../": f"sqlite:///{tmp_path / 'x' / '..' / real.name}",
        "uri": f"sqlite:///file:{other / 'hard.db'}?mode=rw&uri=true",
    }
    for spelling, url in spellings.items():
        result = _migrate_as_development(migrations, url, "--policy-dir", policies)
        _assert_forced_into_production(result, db_url, spelling)
    assert "the same file as" in result.out
    detail = str(journal(db_url)[-1]["detail"])
    assert f"server: sqlite {other / 'hard.db'} (device " in detail
    # Another file is not production.
    fresh = f"sqlite:///{other / 'dev.db'}"
    assert _migrate_as_development(migrations, fresh, "--policy-dir", policies).code == 0


def _pin(db_url: str, db_kind: str) -> str:
    """A ``match_servers`` pin naming the test server by its identity."""
    engine = create_database_engine(db_url)
    try:
        with engine.connect() as conn:
            if db_kind == "postgres":
                system_id = conn.execute(text(
                    "SELECT system_identifier FROM pg_control_system()")).scalar()
                return f"postgres:system_identifier={system_id}"
            rows: dict[str, str] = dict(conn.execute(text(
                "SHOW VARIABLES WHERE Variable_name IN ('server_uuid', 'server_uid')")).all())
    finally:
        engine.dispose()
    fact = "server_uuid" if rows.get("server_uuid") else "server_uid"  # MySQL / MariaDB
    return f"mysql:{fact}={rows[fact]}"


@pytest.mark.only_on("postgres", "mysql")
def test_match_servers_pins_a_server_by_its_identity(tmp_path: Path, db_url: str,
                                                     db_kind: str) -> None:
    pin = _pin(db_url, db_kind)
    name = parse_url(db_url).database
    migrations, policies = _project(tmp_path / "a", match_servers=[pin])
    for url in _server_spellings(db_url, db_kind).values():
        result = _migrate_as_development(migrations, url, "--policy-dir", policies)
        _assert_forced_into_production(result, db_url, url)
        assert f"chosen by match_servers '{pin}'" in result.out
    # Every fact of a pin must match: another database of the same server is not pinned.
    narrow, narrow_policies = _project(tmp_path / "b",
                                       match_servers=[f"{pin}, database=other_db"])
    result = _migrate_as_development(narrow, db_url, "--policy-dir", narrow_policies)
    assert result.code == 0, result.err
    assert "users" in tables(db_url)
    wide, wide_policies = _project(tmp_path / "c",
                                   match_servers=[f"{pin}, database={name}"])
    refused = run_cli("rollback", "--all", "-m", wide, "-d", db_url, "--env", "development",
                      "--policy-dir", wide_policies)
    assert refused.code == 1 and "chosen by match_servers" in refused.out, refused
    assert "users" in tables(db_url)  # nothing rolled back


@pytest.mark.only_on("sqlite")
def test_match_servers_pins_a_sqlite_file(tmp_path: Path, db_url: str) -> None:
    real = Path(sqlite_file(db_url) or "")
    sqlite3.connect(real).close()
    os.link(real, tmp_path / "alias.db")
    migrations, policies = _project(tmp_path / "proj", match_servers=[f"sqlite:file={real}"])
    result = _migrate_as_development(migrations, f"sqlite:///{tmp_path / 'alias.db'}",
                                     "--policy-dir", policies)
    _assert_forced_into_production(result, db_url, "hard link")


@pytest.mark.only_on("sqlite")
def test_check_gate_asks_the_database_too(tmp_path: Path, db_url: str) -> None:
    real = Path(sqlite_file(db_url) or "")
    sqlite3.connect(real).close()
    os.link(real, tmp_path / "alias.db")
    migrations, policies = _project(tmp_path / "proj", match_urls=[str(real)])
    result = run_cli("check", "--gate", "-m", migrations, "-d",
                     f"sqlite:///{tmp_path / 'alias.db'}", "--policy-dir", policies)
    assert "gate: policy production (match_urls pattern" in result.err, result.err


# The policy folder is the project's, wherever the command runs from.

def _sqlite_project(tmp_path: Path, project: Path) -> tuple[Path, str]:
    database = tmp_path / "data" / "app.db"
    database.parent.mkdir()
    sqlite3.connect(database).close()
    migrations, _ = _project(project, match_urls=[str(database)])
    return migrations, f"sqlite:///{database}"


def test_the_project_policy_applies_when_run_from_elsewhere(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    migrations, url = _sqlite_project(tmp_path, tmp_path / "proj")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("SWITCHY_POLICY_DIR", raising=False)
    result = _migrate_as_development(migrations.resolve(), url)
    _assert_forced_into_production(result, url, "from another cwd")
    assert str(tmp_path / "proj" / "policies" / "production.toml") in result.out


def test_the_project_root_policy_applies_to_nested_migrations(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A project keeping its migrations deeper (db/migrations) and its policies at its
    root, beside pyproject.toml."""
    root = tmp_path / "proj"
    migrations, url = _sqlite_project(tmp_path, root / "db")
    (root / "db" / "policies").rename(root / "policies")
    (root / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    monkeypatch.chdir(tmp_path)
    result = _migrate_as_development(migrations, url)
    _assert_forced_into_production(result, url, "nested migrations")


def test_switchy_policy_dir_does_not_drop_the_projects_policies(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    migrations, url = _sqlite_project(tmp_path, tmp_path / "proj")
    ambient = tmp_path / "org-policies"
    ambient.mkdir()
    (ambient / "qa.toml").write_text('description = "the org QA policy"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SWITCHY_POLICY_DIR", str(ambient))
    # Merged: the project's production (and its match_urls) and the org's qa both apply.
    result = _migrate_as_development(migrations, url)
    _assert_forced_into_production(result, url, "SWITCHY_POLICY_DIR beside the project's")
    flag = run_cli("migrate", "-m", migrations, "-d", url, "--env", "development",
                   "--policy-dir", ambient)
    _assert_forced_into_production(flag, url, "--policy-dir beside the project's")
    # The same environment defined differently in both: an error naming both files.
    (ambient / "production.toml").write_text("require_confirmation = false\n")
    clash = _migrate_as_development(migrations, url)
    assert clash.code == 2, clash
    assert str(ambient / "production.toml") in clash.err
    assert str(tmp_path / "proj" / "policies" / "production.toml") in clash.err
    assert "users" not in tables(url)


def test_a_config_files_policy_dir_is_relative_to_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "proj"
    migrations, url = _sqlite_project(tmp_path, root)
    (root / "ops").mkdir()
    (root / "policies").rename(root / "ops" / "policies")
    (root / "switchy-guard.toml").write_text('policy_dir = "ops/policies"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = run_cli("--config", root / "switchy-guard.toml", "migrate", "-m", migrations,
                     "-d", url, "--env", "development")
    _assert_forced_into_production(result, url, "config policy_dir")


@pytest.mark.only_on("postgres")
def test_an_ordinary_postgres_role_reads_the_cluster_identity(db_url: str) -> None:
    """pg_control_system() is executable by every role unless revoked; where it is
    revoked, the identity is still read (without system_identifier), and the session is
    not left in an aborted transaction."""
    import uuid

    from switchy_guard.runtime.identity import identify_database

    role = f"plain_{uuid.uuid4().hex[:8]}"
    admin = create_database_engine(db_url)
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD 'pw'"))
            conn.commit()
        owner = identify_database(db_url)
        plain_url = parse_url(db_url).set(username=role, password="pw")
        plain = identify_database(plain_url)
        assert plain.facts["system_identifier"] == owner.facts["system_identifier"]
        assert (plain.facts["user"], plain.database) == (role, owner.database)
        with admin.connect() as conn:
            conn.execute(text("REVOKE EXECUTE ON FUNCTION pg_control_system() FROM PUBLIC"))
            conn.commit()
        denied = identify_database(plain_url)
        assert "system_identifier" not in denied.facts
        assert denied.database == owner.database and denied.hosts == ("localhost",)
    finally:
        with admin.connect() as conn:
            conn.execute(text("GRANT EXECUTE ON FUNCTION pg_control_system() TO PUBLIC"))
            conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
            conn.commit()
        admin.dispose()
