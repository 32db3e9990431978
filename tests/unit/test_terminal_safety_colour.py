"""On a colour terminal (FORCE_COLOR) switchy-guard's own colour sequences stay, but one
that came from outside (a folder name, a failure_reason, a lock record, an audit row) is
escaped where that text is rendered: an outside ``ESC[8m`` hides nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.cli_helpers import run_cli, write_migration

HIDE = "\x1b[8m"  # SGR "conceal": the one a colour terminal keeps
HOSTILE = f"{HIDE}\x1b[30;40m\x1b[2J\x1b]0;owned\x07"
_OUTSIDE = re.compile(r"\x1b\[8m|\x1b\[30;40m|\x1b\[2J|\x1b\]")


@pytest.fixture(autouse=True)
def colour_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)


def test_outside_escape_sequences_reach_a_colour_terminal_escaped(tmp_path: Path) -> None:
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);\n")
    write_migration(root, f"2024-01-02-000000_b{HOSTILE}", "SELECT 1;\n")
    database = f"sqlite:///{tmp_path / 'app.db'}"
    run_cli("migrate", "--to", "2024-01-01-000000_a", "-m", root, "-d", database)
    results = {
        "check": run_cli("check", "-m", root, "--dialect", "sqlite"),
        "list": run_cli("list", "-m", root, "-d", database),
        "mark-failed": run_cli("mark-failed", "2024-01-01-000000_a", "--force", "--reason",
                               f"stop {HOSTILE} here", "-m", root, "-d", database),
        "status": run_cli("status", "-m", root, "-d", database),
        "history": run_cli("status", "--history", "-m", root, "-d", database),
        "plan": run_cli("plan", "-m", root, "-d", database),
    }
    for name, result in results.items():
        assert not _OUTSIDE.search(result.out + result.err), (name, result)
    assert "\\x1b[8m" in results["status"].out + results["history"].out
    assert "\x1b[36m" in results["check"].out  # switchy-guard's own colours stay


def test_a_lock_record_reaches_a_colour_terminal_escaped(tmp_path: Path) -> None:
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);\n")
    database = f"sqlite:///{tmp_path / 'app.db'}"
    assert run_cli("migrate", "-m", root, "-d", database).code == 0
    # A record left behind by a dead holder whose command line held escape sequences.
    engine = create_engine(database)
    with engine.begin() as conn:
        columns = [r[1] for r in conn.exec_driver_sql(
            "PRAGMA table_info(__switchy_migrations_lock)")]
        assert columns, "no lock record table"
        values = {c: f"x{HOSTILE}" for c in columns}
        values.update({c: 999999 for c in columns if c in ("pid",)})
        conn.execute(text(
            f"INSERT INTO __switchy_migrations_lock ({', '.join(columns)}) VALUES "
            f"({', '.join(':' + c for c in columns)})"), values)
    engine.dispose()
    for result in (run_cli("lock", "status", "-d", database, "-m", root),
                   run_cli("status", "-m", root, "-d", database)):
        assert not _OUTSIDE.search(result.out + result.err), result
