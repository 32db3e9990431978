"""Databases set up differently from the other tests' fixtures: URL options, read-only
databases, roles without privileges. Each either works or stops with one clear line and
the right exit code, with nothing applied."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

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
