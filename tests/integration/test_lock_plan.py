"""``plan`` says which locks each statement takes and who would block it right now; a
policy's ``refuse_when_blocked_longer_than`` refuses to start while such a transaction is
older than that, naming it (issue 19 §2). Real servers: another session holds a lock that
conflicts with the plan's ALTER in an open transaction."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sqlalchemy import inspect

from switchy_guard.runtime.db import create_database_engine
from tests.cli_helpers import run_cli, write_migration
from tests.integration.test_lock_timeouts import _holder, _setup


def _columns(url: str) -> set[str]:
    engine = create_database_engine(url)
    try:
        return {c["name"] for c in inspect(engine).get_columns("items")}
    finally:
        engine.dispose()


@pytest.mark.only_on("postgres", "mysql")
def test_plan_names_the_session_that_would_block_with_its_age(tmp_path: Path, db_url: str,
                                                              db_kind: str) -> None:
    root = _setup(tmp_path, db_url)
    with _holder(db_url, db_kind) as (_conn, pid):
        time.sleep(1.2)
        text = run_cli("-d", db_url, "-m", root, "plan")
        data = json.loads(run_cli("-d", db_url, "-m", root, "plan", "--format", "json").out)
    assert text.code == 0, text.err
    lock_line = next(line for line in text.out.splitlines() if "lock: statement 1" in line)
    if db_kind == "postgres":
        assert "ACCESS EXCLUSIVE on items" in lock_line, lock_line
    else:
        assert "EXCLUSIVE metadata lock" in lock_line and "ALGORITHM=" in lock_line
    assert "[size: items " in lock_line, lock_line  # the live table's size
    waits = [line for line in text.out.splitlines() if "would wait for" in line]
    assert len(waits) == 1 and f"pid {pid} " in waits[0], text.out
    if db_kind == "postgres":  # MariaDB's process list shows no finished query
        assert "transaction open" in waits[0] and "SELECT count(*) FROM items" in waits[0]
    (entry,) = data["migrations"][0]["locks"]
    assert entry["table_bytes"]["items"] > 0
    (blocker,) = entry["blockers"]
    assert blocker["pid"] == pid and blocker["table"] == "items"
    assert blocker["transaction_seconds"] >= 1  # its age, as it is now


@pytest.mark.only_on("postgres")
def test_plan_shows_no_blocker_for_a_lock_that_does_not_conflict(tmp_path: Path,
                                                                 db_url: str) -> None:
    # The holder's ACCESS SHARE (a SELECT) does not conflict with the SHARE UPDATE
    # EXCLUSIVE a VALIDATE CONSTRAINT takes: nobody would block it.
    root = _setup(tmp_path, db_url)
    write_migration(root, "2024-01-02-000000_note",
                    "ALTER TABLE items ADD CONSTRAINT v_pos CHECK (v > 0) NOT VALID;\n")
    assert run_cli("-d", db_url, "-m", root, "migrate").code == 0
    write_migration(root, "2024-01-03-000000_validate",
                    "ALTER TABLE items VALIDATE CONSTRAINT v_pos;\n")
    with _holder(db_url, "postgres"):
        data = json.loads(run_cli("-d", db_url, "-m", root, "plan", "--format", "json").out)
    (entry,) = data["migrations"][0]["locks"]
    assert entry["locks"] == [{"table": "items", "mode": "SHARE UPDATE EXCLUSIVE"}]
    assert entry["effect"] == "scan" and entry["blockers"] == []


def _policy(tmp_path: Path, seconds: float) -> Path:
    policies = tmp_path / "policies"
    policies.mkdir(exist_ok=True)
    (policies / "development.toml").write_text(
        f"refuse_when_blocked_longer_than = {seconds}\n")
    return policies


@pytest.mark.only_on("postgres", "mysql")
def test_migrate_refuses_while_a_blocking_transaction_is_too_old(tmp_path: Path, db_url: str,
                                                                 db_kind: str) -> None:
    root = _setup(tmp_path, db_url)
    policies = _policy(tmp_path, 0)
    with _holder(db_url, db_kind) as (_conn, pid):
        time.sleep(1.1)
        result = run_cli("-d", db_url, "-m", root, "--policy-dir", policies, "migrate")
    assert result.code == 1, result.err
    error = result.error_lines[-1]
    assert "refuse_when_blocked_longer_than" in error and f"pid {pid} " in error, error
    assert "nothing was changed" in error
    assert "note" not in _columns(db_url)  # nothing applied
    # Once the holder is gone, the same policy lets the run through.
    again = run_cli("-d", db_url, "-m", root, "--policy-dir", policies, "migrate")
    assert again.code == 0, again.err
    assert "note" in _columns(db_url)


@pytest.mark.only_on("postgres")
def test_a_younger_blocking_transaction_does_not_refuse(tmp_path: Path, db_url: str) -> None:
    root = _setup(tmp_path, db_url)
    policies = _policy(tmp_path, 3600)
    with _holder(db_url, "postgres"):
        result = run_cli("-d", db_url, "-m", root, "--policy-dir", policies, "plan")
    assert result.code == 0, result.err
    assert "would wait for pid" in result.out
    assert "REFUSED" not in result.out
