"""Under ``-d`` the rules judge by the live server's own version (issue 19): ``check``
reads it as ``plan`` and ``migrate`` do, a ``--server-version`` or ``server_version``
setting that contradicts it is one warning line, and down scripts (``rollback --plan``)
are judged by it too. Real servers: PostgreSQL 15 and MariaDB 10.11 (newer than every
version-aware rule's cut-off); an old server is stood in for by the version read, the
database itself staying real."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import switchy_guard.runtime.live as impact
from switchy_guard.model.server_version import describe
from switchy_guard.runtime.db import connect, create_database_engine
from tests.cli_helpers import run_cli, write_migration

#: Per dialect: an old version given, the rule it makes fire, and the migration.
OLD = {
    "postgres": ("10", "SG408", "ALTER TABLE items ADD COLUMN n int NOT NULL DEFAULT 0;\n"),
    "mysql": ("mariadb-10.2", "SG409", "ALTER TABLE items ADD COLUMN note text;\n"),
}


def _live(url: str, dialect: str) -> str:
    engine = create_database_engine(url)
    try:
        with connect(engine) as conn:
            return describe(dialect, impact.live_server_version(conn))
    finally:
        engine.dispose()


def _project(tmp_path: Path, url: str, up: str, down: str = "SELECT 1;\n") -> Path:
    root = tmp_path / "migrations"
    write_migration(root, "2024-01-01-000000_items", "CREATE TABLE items (id int);\n",
                    "DROP TABLE items;\n")
    assert run_cli("-d", url, "-m", root, "migrate").code == 0
    write_migration(root, "2024-01-02-000000_change", up, down)
    return root


@pytest.mark.only_on("postgres", "mysql")
def test_check_judges_by_the_live_server_and_warns_of_a_contradicting_flag(
        tmp_path: Path, db_url: str, db_kind: str) -> None:
    old, code, up = OLD[db_kind]
    root = _project(tmp_path, db_url, up)
    offline = run_cli("-m", root, "--dialect", db_kind, "check", "--server-version", old,
                      "--no-cache")
    assert code in offline.out  # the old server's hazard, with no database to ask
    live = run_cli("-d", db_url, "-m", root, "check", "--server-version", old)
    assert live.code == 0, live.out + live.err
    assert code not in live.out
    server = _live(db_url, db_kind)
    assert server.split()[0] in ("PostgreSQL", "MariaDB")
    assert live.error_lines == [f"warning: --server-version {old} ignored: the database is "
                                f"{server}, and the rules judge by the server they run on"]


@pytest.mark.only_on("postgres", "mysql")
def test_a_version_the_live_server_agrees_with_says_nothing(tmp_path: Path, db_url: str,
                                                            db_kind: str) -> None:
    root = _project(tmp_path, db_url, OLD[db_kind][2])
    major = _live(db_url, db_kind).split()[1].split(".")[0]
    result = run_cli("-d", db_url, "-m", root, "check", "--server-version", major)
    assert result.code == 0 and result.err == ""


@pytest.mark.only_on("postgres")
def test_the_setting_is_judged_against_the_live_server_too(
        tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path, db_url, OLD["postgres"][2])
    (tmp_path / "switchy-guard.toml").write_text('server_version = "postgresql-10"\n')
    monkeypatch.chdir(tmp_path)
    result = run_cli("-d", db_url, "-m", root, "check")
    assert result.code == 0 and "SG408" not in result.out
    (line,) = result.error_lines
    assert line.startswith(f"warning: server_version in {tmp_path}")
    assert "switchy-guard.toml postgresql-10 ignored: the database is PostgreSQL 15." in line


@pytest.mark.only_on("postgres")
def test_plan_reports_a_contradicting_flag_in_its_warnings(tmp_path: Path,
                                                           db_url: str) -> None:
    root = _project(tmp_path, db_url, OLD["postgres"][2])
    text = run_cli("-d", db_url, "-m", root, "plan", "--server-version", "10")
    data = json.loads(run_cli("-d", db_url, "-m", root, "plan", "--server-version", "10",
                              "--format", "json").out)
    assert text.code == 0, text.err
    assert "warning: --server-version 10 ignored: the database is PostgreSQL 15." in text.out
    assert "SG408" not in text.out  # judged as the PostgreSQL 15 it is
    assert any(w.startswith("--server-version 10 ignored") for w in data["warnings"])


@pytest.mark.only_on("sqlite")
def test_a_version_given_for_a_sqlite_database_is_a_warning(tmp_path: Path,
                                                            db_url: str) -> None:
    root = _project(tmp_path, db_url, "ALTER TABLE items ADD COLUMN n int DEFAULT 0;\n")
    result = run_cli("-d", db_url, "-m", root, "check", "--server-version", "postgresql-10")
    assert result.code == 0
    assert result.error_lines == ["warning: --server-version postgresql-10 ignored: the "
                                  "database is SQLite, and the rules judge by the server "
                                  "they run on"]


@pytest.mark.only_on("postgres")
def test_an_old_live_server_is_judged_in_check_plan_and_rollback_plan(
        tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # PostgreSQL 10 stood in for by the version read: only PostgreSQL 15 is at hand.
    root = _project(tmp_path, db_url, "ALTER TYPE mood ADD VALUE 'happy';\n",
                    down=OLD["postgres"][2])
    write_migration(root, "2024-01-01-000001_mood", "CREATE TYPE mood AS ENUM ('ok');\n",
                    "DROP TYPE mood;\n")
    assert run_cli("-d", db_url, "-m", root, "migrate", "--to",
                   "2024-01-01-000001_mood").code == 0
    monkeypatch.setattr(impact, "live_server_version", lambda conn: (10, 23))
    check = run_cli("-d", db_url, "-m", root, "check")
    plan = run_cli("-d", db_url, "-m", root, "plan")
    assert check.code == 1 and "SG604" in check.out and "the server is 10.23" in check.out
    assert "SG604" in plan.out and "the server is 10.23" in plan.out
    assert "SG408" in check.out  # the down script, rollback-time
    monkeypatch.undo()  # the real PostgreSQL 15 takes it
    assert run_cli("-d", db_url, "-m", root, "migrate").code == 0
    monkeypatch.setattr(impact, "live_server_version", lambda conn: (10, 23))
    back = run_cli("-d", db_url, "-m", root, "rollback", "--plan", "--steps", "1",
                   "--format", "json")
    data = json.loads(back.out)
    codes = [f["code"] for m in data["migrations"] for f in m["findings"]]
    assert "SG408" in codes, back.out


@pytest.mark.only_on("postgres")
def test_add_value_in_a_transaction_applies_on_postgres_15(tmp_path: Path,
                                                           db_url: str) -> None:
    # Why SG604 is quiet from 12 on (and with no version): a real server takes it.
    root = tmp_path / "migrations"
    write_migration(root, "2024-01-01-000000_mood", "CREATE TYPE mood AS ENUM ('ok');\n")
    write_migration(root, "2024-01-02-000000_happy", "ALTER TYPE mood ADD VALUE 'happy';\n"
                    "CREATE TABLE t (m mood);\n")
    result = run_cli("-d", db_url, "-m", root, "migrate")
    assert result.code == 0, result.err
    check = run_cli("-d", db_url, "-m", root, "check")
    assert "SG604" not in check.out


E5_REVISION = '''"""a column with a constant default

Revision ID: e5
Revises: d4
Create Date: 2024-01-05 00:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "e5"
down_revision = "d4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("n", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("users", "n")
'''


def test_check_alembic_judges_by_the_version(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    import alembic  # noqa: F401  (a dev dependency: a missing one fails, never skips)
    data = Path(__file__).resolve().parent.parent / "data" / "alembic_project"
    project = tmp_path / "alembic_project"
    shutil.copytree(data, project, ignore=shutil.ignore_patterns("__pycache__"))
    (project / "versions" / "e5_default.py").write_text(E5_REVISION)
    monkeypatch.chdir(project)

    def codes(*args: str) -> list[object]:
        result = run_cli("--dialect", "postgres", "check", "--alembic", "--format", "json",
                         *args)
        return [(f["code"], f["migration"]) for f in json.loads(result.out)["findings"]]

    assert ("SG408", "e5") in codes("--server-version", "10")
    assert ("SG408", "e5") not in codes("--server-version", "11")
    refused = run_cli("--dialect", "postgres", "check", "--alembic", "--server-version",
                      "mysql-8.0")
    assert refused.code == 2 and "names a MySQL server" in refused.err
