"""Every layout's fixture history checked, applied, listed, rolled back and verified on
real SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_helpers import run_cli
from tests.layout_fixtures import DETECTED, ORDER, write_history


@pytest.mark.parametrize("layout", sorted(ORDER))
def test_history_of_each_layout_runs_end_to_end(layout: str, db_url: str, tmp_path: Path
                                                ) -> None:
    root = write_history(tmp_path / "migrations", layout)
    common = ["-m", root, "-d", db_url, "--layout", layout]
    checked = run_cli("check", *common, "--format", "json")
    assert checked.code in (0, 1), checked.err
    migrate = run_cli("migrate", *common)
    assert migrate.code == 0, migrate.err
    status = run_cli("status", *common, "--format", "json")
    data = json.loads(status.out)
    assert data["layout"] == layout
    assert [m["id"] for m in data["migrations"]] == ORDER[layout]
    assert data["summary"]["pending"] == 0
    again = run_cli("migrate", *common)
    assert "Nothing to do" in again.out, again.out + again.err
    rollback = run_cli("rollback", "--all", *common)
    assert rollback.code == 0, rollback.err
    after = json.loads(run_cli("list", *common, "--format", "json").out)
    versioned = [m for m in after["migrations"] if not m["id"].startswith("R__")]
    assert all(m["state"] == "pending" for m in versioned), after
    assert run_cli("migrate", *common).code == 0


@pytest.mark.parametrize("layout", sorted(ORDER))
def test_auto_detects_each_layout_and_verify_round_trips(layout: str, db_url: str,
                                                         tmp_path: Path) -> None:
    root = write_history(tmp_path / "migrations", layout)
    listed = run_cli("list", "-m", root, "-d", db_url, "--format", "json")
    assert listed.code == 0, listed.err
    assert json.loads(listed.out)["layout"] == DETECTED[layout]
    verify = run_cli("verify", "-m", root, "-d", db_url, "--layout", layout)
    assert verify.code == 0, verify.out + verify.err
