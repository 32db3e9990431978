"""Fixtures of the bad-input tests: a history of one good migration, a SQLite file path."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_helpers import write_migration

#: The one migration of the ``root`` history.
GOOD = "2024-01-01-000000_create_a"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A migrations folder holding GOOD (creates table ``a``)."""
    folder = tmp_path / "migrations"
    write_migration(folder, GOOD, "CREATE TABLE a (id INTEGER);\n", "DROP TABLE a;\n")
    return folder


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """A SQLite database file that does not exist yet."""
    return tmp_path / "app.db"
