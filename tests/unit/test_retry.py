"""The retry policy (retry.py): backoff, jitter, which errors are retried, the session
statements, and where the settings come from (flag > config > policy)."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from switchy_guard.config import resolve_settings
from switchy_guard.errors import ConfigError
from switchy_guard.gates.policy import load_policies, policy_from_mapping
from switchy_guard.runtime.retry import (
    Timeouts,
    backoff,
    checked_timeouts,
    restore_statements,
    retryable,
    session_statements,
)


def test_backoff_doubles_up_to_the_cap_with_jitter_inside_bounds() -> None:
    timeouts = Timeouts(lock_retries=10, base_delay=0.5, max_delay=4.0)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 4.0), (30, 4.0)]:
        pauses = [backoff(attempt, timeouts, rng) for _ in range(200)]
        assert all(ceiling / 2 <= p <= ceiling for p in pauses), attempt
        assert max(pauses) - min(pauses) > ceiling / 10  # jittered, not fixed


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__("any text: lock timeout deadlock")
        self.sqlstate = sqlstate


class _Wrapped(Exception):
    def __init__(self, orig: BaseException) -> None:
        super().__init__(str(orig))
        self.orig = orig


def test_retryable_by_code_not_by_message() -> None:
    assert retryable(_PgError("55P03"), "postgres") == "lock timeout"
    assert retryable(_PgError("40P01"), "postgres") == "deadlock"
    assert retryable(_Wrapped(_PgError("40P01")), "postgres") == "deadlock"
    assert retryable(_PgError("57014"), "postgres") is None  # statement timeout
    assert retryable(_PgError("23505"), "postgres") is None
    assert retryable(Exception(1205, "Lock wait timeout exceeded"), "mysql") == \
        "lock wait timeout"
    assert retryable(Exception(1213, "Deadlock found"), "mysql") == "deadlock"
    assert retryable(Exception(1062, "Lock wait timeout (a duplicate key)"), "mysql") is None
    assert retryable(Exception("Lock wait timeout exceeded"), "mysql") is None
    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorcode = 5  # type: ignore[attr-defined]
    assert retryable(busy, "sqlite") == "database busy"
    busy.sqlite_errorcode = 5 | (2 << 8)  # type: ignore[attr-defined]  # SQLITE_BUSY_SNAPSHOT
    assert retryable(busy, "sqlite") == "database busy"
    other = sqlite3.OperationalError("database is locked (not really)")
    other.sqlite_errorcode = 1  # type: ignore[attr-defined]
    assert retryable(other, "sqlite") is None


def test_a_real_sqlite_busy_error_is_retryable(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path, isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    with pytest.raises(sqlite3.OperationalError) as caught:
        other.execute("BEGIN IMMEDIATE")
    assert retryable(caught.value, "sqlite") == "database busy"


def test_session_statements_per_dialect() -> None:
    t = Timeouts(statement_lock_timeout=1.5, statement_timeout=30)
    assert session_statements("postgres", t, local=True) == [
        "SET LOCAL lock_timeout = '1500ms'", "SET LOCAL statement_timeout = '30000ms'"]
    # CONCURRENTLY waits for older transactions by design: no lock timeout for it.
    assert session_statements("postgres", t, concurrently=True)[0] == "SET lock_timeout = '0ms'"
    assert session_statements("mysql", t) == [
        "SET SESSION lock_wait_timeout = 2", "SET SESSION innodb_lock_wait_timeout = 2"]
    assert session_statements("mysql", t, mariadb=True)[-1] == \
        "SET SESSION max_statement_time = 30"
    assert session_statements("sqlite", t) == ["PRAGMA busy_timeout = 1500"]
    assert session_statements("postgres", Timeouts()) == []
    assert restore_statements("sqlite", t, sqlite_busy_ms=30000) == ["PRAGMA busy_timeout = 30000"]
    assert "SET SESSION max_statement_time = DEFAULT" in restore_statements("mysql", t,
                                                                            mariadb=True)


@pytest.mark.parametrize("key,value", [
    ("statement_lock_timeout", -1), ("statement_lock_timeout", float("nan")),
    ("statement_lock_timeout", float("inf")), ("statement_timeout", "5"),
    ("lock_retries", 1.5), ("lock_retries", -2), ("lock_retries", True),
])
def test_bad_values_are_refused_naming_the_key(key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=key):
        checked_timeouts({key: value}, "settings")
    with pytest.raises(ConfigError, match=key):
        policy_from_mapping("production", {key: value})


def test_flag_beats_config_beats_policy(tmp_path: Path) -> None:
    (tmp_path / "switchy-guard.toml").write_text(
        "statement_lock_timeout = 7\nlock_retries = 4\n", encoding="utf-8")
    policy = Timeouts(statement_lock_timeout=5, statement_timeout=60, lock_retries=3)
    from_config = resolve_settings({}, environ={}, cwd=tmp_path)
    explicit = Timeouts(from_config.statement_lock_timeout, from_config.statement_timeout,
                        from_config.lock_retries)
    assert explicit.over(policy) == Timeouts(7.0, 60.0, 4)
    flagged = resolve_settings({"statement_lock_timeout": 1.0, "lock_retries": 0},
                               environ={}, cwd=tmp_path)
    explicit = Timeouts(flagged.statement_lock_timeout, flagged.statement_timeout,
                        flagged.lock_retries)
    assert explicit.over(policy) == Timeouts(1.0, 60.0, 0)  # 0 retries is a choice
    (tmp_path / "switchy-guard.toml").write_text("lock_retries = -1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="lock_retries"):
        resolve_settings({}, environ={}, cwd=tmp_path)


def test_shipped_production_policy_sets_a_lock_timeout_and_retries() -> None:
    production = load_policies(None, cwd=Path("/")).policies["production"]
    assert production.statement_lock_timeout is not None
    assert 0 < production.statement_lock_timeout <= 10
    assert (production.lock_retries or 0) >= 1


def test_plan_under_production_without_a_lock_timeout_says_so(tmp_path: Path) -> None:
    from tests.cli_helpers import run_cli, write_migration

    root = tmp_path / "migrations"
    write_migration(root, "2024-01-01-000000_t", "CREATE TABLE t (id INTEGER);\n",
                    "DROP TABLE t;\n")
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "production.toml").write_text('description = "no timeouts"\n',
                                              encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'app.db'}"
    bare = run_cli("-d", url, "-m", root, "--policy-dir", policies, "--env", "production",
                   "plan")
    assert "sets no statement_lock_timeout" in bare.out, bare.out + bare.err
    flagged = run_cli("-d", url, "-m", root, "--policy-dir", policies, "--env",
                      "production", "plan", "--statement-lock-timeout", "3")
    assert "statement_lock_timeout" not in flagged.out, flagged.out
    elsewhere = tmp_path / "project" / "migrations"  # no policies folder beside it
    write_migration(elsewhere, "2024-01-01-000000_t", "CREATE TABLE t (id INTEGER);\n",
                    "DROP TABLE t;\n")
    (tmp_path / "project" / ".git").mkdir()
    shipped = run_cli("-d", url, "-m", elsewhere, "--env", "production", "plan")
    assert "sets no statement_lock_timeout" not in shipped.out, shipped.out
