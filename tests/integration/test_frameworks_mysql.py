"""The Python frameworks for MySQL: ``check --alembic --dialect mysql`` (offline, no
server), and ``check --django`` on the Django project in tests/data with Django's MySQL
backend, against the test MariaDB server, with PyMySQL standing in for mysqlclient; and
the one line (no traceback) when neither driver, or no server, is there."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.cli_helpers import run_cli
from tests.integration.test_frameworks import (
    HAZARDS,
    _django_findings,
    _findings,
    alembic_project,
    django_project,
)

__all__ = ["alembic_project", "django_project"]  # fixtures: imported to be used by name

ALEMBIC_FIRST, ALEMBIC_HAZARDS = "versions/a1_create_users.py", "versions/b2_hazards.py"
#: (code, file, line, direction) of check --alembic for MySQL: the same hazards as on
#: SQLite (an index is built online: no SG401), and SG601 for each revision with several
#: DDL statements, which MySQL commits one by one.
ALEMBIC_MYSQL = sorted([
    ("SG601", ALEMBIC_FIRST, 17, "up"), ("SG601", ALEMBIC_FIRST, 32, "down"),
    ("SG302", ALEMBIC_HAZARDS, 17, "up"), ("SG601", ALEMBIC_HAZARDS, 17, "up"),
    ("SG403", ALEMBIC_HAZARDS, 18, "up"), ("SG305", ALEMBIC_HAZARDS, 20, "up"),
    ("SG601", ALEMBIC_HAZARDS, 24, "down")])

INITIAL = "shop/migrations/0001_initial.py"

#: (code, file, line, direction) on MariaDB. As on SQLite, CREATE INDEX is no hazard
#: (InnoDB builds it online; CONCURRENTLY is PostgreSQL's). MySQL commits each DDL
#: statement on its own, so every migration with several of them is SG601, both ways.
MYSQL = sorted([
    ("SG601", INITIAL, 9, "up"), ("SG601", INITIAL, 17, "down"),
    ("SG302", HAZARDS, 8, "up"), ("SG601", HAZARDS, 8, "up"), ("SG403", HAZARDS, 9, "up"),
    ("SG305", HAZARDS, 19, "up"), ("SG601", HAZARDS, 15, "down")])


def _mysql_settings(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    """Point the test project's settings (SHOP_MY_*) at a MySQL database."""
    url = make_url(db_url)
    for key, value in (("NAME", url.database), ("USER", url.username),
                       ("PASSWORD", url.password), ("HOST", url.host), ("PORT", url.port)):
        monkeypatch.setenv(f"SHOP_MY_{key}", str(value or ""))


def _shadow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    """Make ``modules`` fail to import in Django's helper process, as an uninstalled
    package (or mysqlclient without its C library) does."""
    shim = tmp_path / "shadow"
    for name in modules:
        (shim / name).mkdir(parents=True)
        (shim / name / "__init__.py").write_text(f"raise ImportError('no {name} here')\n")
    monkeypatch.setenv("PYTHONPATH", f"{shim}:{Path(__file__).resolve().parents[2]}")


def test_alembic_check_for_mysql_finds_the_hazards(alembic_project: Path) -> None:
    result = run_cli("--dialect", "mysql", "check", "--alembic", "--format", "json")
    assert result.code == 1, result.err
    found = [(f["code"], f["file"], f["line"], f.get("direction", "up"))
             for f in _findings(result.out)]
    assert sorted(found) == ALEMBIC_MYSQL
    drop = next(f for f in _findings(result.out) if f.get("direction") == "down"
                and f["file"] == ALEMBIC_HAZARDS)
    assert drop["statement"] == "DROP INDEX ix_orders_user_id ON orders"  # MySQL's form


@pytest.mark.only_on("mysql")
def test_django_check_on_mariadb_finds_the_hazards_with_pymysql(
        django_project: Path, db_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _mysql_settings(monkeypatch, db_url)
    _shadow(tmp_path, monkeypatch, "MySQLdb")  # mysqlclient absent, whatever is installed
    result = run_cli("check", "--django", "manage.py", "--format", "json")
    assert result.code == 1, result.err
    assert sorted(_django_findings(result.out)) == MYSQL
    statements = {(f["code"], f.get("direction")): f["statement"]
                  for f in json.loads(result.out)["findings"]}
    # Rendered by Django's MySQL backend itself: backquoted names, MySQL's DROP INDEX.
    assert statements[("SG403", None)] == (
        "ALTER TABLE `shop_customer` ADD COLUMN `email` varchar(100) NOT NULL")
    assert statements[("SG601", "down")] == "DROP INDEX `order_customer_idx` ON `shop_order`"


def test_django_mysql_without_any_driver_exits_2(
        django_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _mysql_settings(monkeypatch, "mysql://app:pw@127.0.0.1:1/app")
    _shadow(tmp_path, monkeypatch, "MySQLdb", "pymysql")
    result = run_cli("check", "--django", "manage.py")
    assert result.code == 2
    assert result.error_lines == [
        "error: manage.py: Django's MySQL backend (django.db.backends.mysql) needs a "
        "MySQL driver and neither mysqlclient nor PyMySQL is installed: "
        "pip install 'switchy-guard[mysql]'"], result.err


@pytest.mark.parametrize("backend", ["SHOP_MY", "SHOP_PG"])
def test_django_server_unreachable_exits_3(
        django_project: Path, monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for key, value in (("NAME", "shop"), ("USER", "app"), ("PASSWORD", "s3cret-pw"),
                       ("HOST", "127.0.0.1"), ("PORT", str(port))):
        monkeypatch.setenv(f"{backend}_{key}", value)
    result = run_cli("check", "--django", "manage.py")
    assert result.code == 3, result.err
    assert len(result.error_lines) == 1 and "Traceback" not in result.err
    assert "Django could not connect to its " in result.err and "database 'shop'" in result.err
    assert "s3cret-pw" not in result.err, result.err
