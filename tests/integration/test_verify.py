"""verify catches down scripts that forget things, on every database."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import create_engine, inspect

from switchy_guard.db import parse_url
from switchy_guard.verify import verify
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
    assert any(d.startswith(f"{B} after down: index users_email on users: left behind")
               for d in described), described
    assert {d.migration for d in report.differences} == {B}
    assert report.verified == [A, B, C] and report.skipped == [D]


def test_a_forgotten_column_is_caught(tmp_path: Path, db_url: str, db_kind: str) -> None:
    root = project(tmp_path / "m", forget_column=True)
    fix_mysql_drop_index(root, db_kind)
    result = run_cli("verify", "-m", root, *scratch_args(db_url, db_kind))
    assert result.code == 1
    assert f"FAIL {C}" in result.out
    assert f"{C} after down: column users.nickname: left behind" in result.out
    assert f"{C} after re-up: migration {C}: up failed after down" in result.out
    assert "1 with differences" in result.out  # the migrations after it still verify


def test_the_database_in_d_is_never_touched(tmp_path: Path, db_url: str, db_kind: str) -> None:
    root = project(tmp_path / "m")
    fix_mysql_drop_index(root, db_kind)
    result = run_cli("verify", "-m", root, "-d", db_url)
    assert result.code == 0, result.out + result.err
    engine = create_engine(parse_url(db_url))
    assert inspect(engine).get_table_names() == []
    engine.dispose()
