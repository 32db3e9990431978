"""Lock and statement timeouts for the migrations' own statements, and the retry policy of
a migration (or statement) that gave up waiting for a lock.

A harmless ``ALTER TABLE`` waiting behind a long transaction holds every later query on
that table in the queue behind it: the outage is the wait, not the statement. So each
migration runs under ``statement_lock_timeout`` (it gives up the wait early, releasing the
queue) and is tried again ``lock_retries`` times after a capped, jittered exponential
pause. Only a lock timeout or a deadlock is retried (PostgreSQL SQLSTATE 55P03 and 40P01,
MySQL/MariaDB errors 1205 and 1213, SQLite SQLITE_BUSY), never by matching the message.

What each database is told (see :func:`session_statements`):

- PostgreSQL: ``lock_timeout`` and ``statement_timeout``, ``SET LOCAL`` in a migration's
  transaction, for the session around statements run outside one. A ``CREATE/DROP INDEX
  CONCURRENTLY`` (or ``REINDEX CONCURRENTLY``) waits for every older transaction by
  design, and its lock does not stop reads or writes: it runs without the lock timeout.
- MySQL/MariaDB: ``lock_wait_timeout`` (metadata locks: DDL) and
  ``innodb_lock_wait_timeout`` (row locks), whole seconds, at least 1; MariaDB's
  ``max_statement_time`` for the statement timeout. MySQL has no bound on a DDL or
  DML statement's run time (``max_execution_time`` bounds read-only SELECTs only): the
  statement timeout is not applied there, and says so.
- SQLite: the busy timeout (how long a write waits for another connection's write lock).

No SQLAlchemy import: this module is plain policy, tested on its own.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from switchy_guard.errors import ConfigError

#: Retryable errors: PostgreSQL SQLSTATEs and MySQL/MariaDB error numbers, and what each is.
PG_RETRYABLE = {"55P03": "lock timeout", "40P01": "deadlock"}
MYSQL_RETRYABLE = {1205: "lock wait timeout", 1213: "deadlock"}
#: SQLite's primary result codes for "another connection holds the lock".
SQLITE_RETRYABLE = {5: "database busy"}  # SQLITE_BUSY (SQLITE_BUSY_* share its low byte)

#: The policy and config keys, and the flags that set them.
KEYS = ("statement_lock_timeout", "statement_timeout", "lock_retries")


@dataclass(frozen=True)
class Timeouts:
    """The timeouts and retries of a run. None: not set (the server's own setting stays).

    ``statement_lock_timeout`` and ``statement_timeout`` are seconds (0: no limit, as the
    databases read it); ``lock_retries`` how many times a migration (or a statement run
    outside a transaction) that timed out on a lock or deadlocked is tried again. The
    pause before retry ``n`` is drawn from [d/2, d] with d = min(``max_delay``,
    ``base_delay`` * 2**(n-1)).
    """

    statement_lock_timeout: float | None = None
    statement_timeout: float | None = None
    lock_retries: int | None = None
    base_delay: float = 0.5
    max_delay: float = 10.0

    @property
    def attempts(self) -> int:
        """How many times a migration may be tried in all."""
        return (self.lock_retries or 0) + 1

    @property
    def active(self) -> bool:
        """Whether any timeout is set (otherwise no session setting is made)."""
        return bool(self.statement_lock_timeout or self.statement_timeout)

    def over(self, other: Timeouts | None) -> Timeouts:
        """These values, each one not set taken from ``other`` (flag > config > policy)."""
        if other is None:
            return self

        def pick(key: str) -> Any:
            mine = getattr(self, key)
            return mine if mine is not None else getattr(other, key)

        return Timeouts(pick("statement_lock_timeout"), pick("statement_timeout"),
                        pick("lock_retries"), self.base_delay, self.max_delay)

    def describe(self) -> str:
        """The settings in a few words, for messages."""
        parts = []
        if self.statement_lock_timeout:
            parts.append(f"lock timeout {self.statement_lock_timeout:g}s")
        if self.statement_timeout:
            parts.append(f"statement timeout {self.statement_timeout:g}s")
        if self.lock_retries:
            parts.append(f"{self.lock_retries} retries")
        return ", ".join(parts) or "no timeouts"


def checked_timeouts(values: Mapping[str, Any], origin: str) -> Timeouts:
    """``values`` (keys of :data:`KEYS`, None or missing: not set) as Timeouts; a value
    that is not a finite number of 0 or more (a whole one for ``lock_retries``) is a
    ConfigError naming ``origin`` and the key."""
    found: dict[str, Any] = {}
    for key in KEYS:
        value = values.get(key)
        if value is None:
            continue
        whole = key == "lock_retries"
        if isinstance(value, bool) or not isinstance(value, int | float) or (
                whole and not isinstance(value, int)) or not 0 <= value < math.inf:
            kind = "a whole number, 0 or more" if whole else "a number of seconds, 0 or " \
                                                            "more, finite"
            raise ConfigError(f"{origin}: {key} must be {kind}, not {value!r}")
        found[key] = int(value) if whole else float(value)
    return Timeouts(**found)


def backoff(attempt: int, timeouts: Timeouts, rng: random.Random | None = None) -> float:
    """Seconds to pause before attempt ``attempt + 1`` after attempt ``attempt`` failed
    (1-based): capped exponential, with "equal jitter" (half fixed, half random), so
    runners retrying together spread out and never wait longer than the cap."""
    ceiling = min(timeouts.max_delay, timeouts.base_delay * 2 ** max(0, attempt - 1))
    return (rng or random).uniform(ceiling / 2, ceiling)


def retryable(error: BaseException, dialect: str) -> str | None:
    """What kind of lock failure ``error`` is (``lock timeout``, ``deadlock``, ...), or
    None when it is not one to retry. Read from the driver's SQLSTATE (PostgreSQL), error
    number (MySQL/MariaDB) or result code (SQLite), never from its message. A SQLAlchemy
    error is looked through to the driver's."""
    orig = getattr(error, "orig", None) or error
    if dialect == "postgres":
        return PG_RETRYABLE.get(str(getattr(orig, "sqlstate", None) or ""))
    if dialect == "mysql":
        args = getattr(orig, "args", ())
        return MYSQL_RETRYABLE.get(args[0]) if args and isinstance(args[0], int) else None
    if dialect == "sqlite":
        code = getattr(orig, "sqlite_errorcode", None)
        return SQLITE_RETRYABLE.get(code & 0xFF) if isinstance(code, int) else None
    return None


def _pg_duration(seconds: float) -> str:
    return f"'{max(0, round(seconds * 1000))}ms'"


def session_statements(dialect: str, timeouts: Timeouts, *, local: bool = False,
                       mariadb: bool = False, concurrently: bool = False) -> list[str]:
    """The statements that put ``timeouts`` in force on a connection of ``dialect``:
    ``local`` for the current transaction only (PostgreSQL's ``SET LOCAL``);
    ``concurrently`` for a PostgreSQL statement that waits for older transactions by
    design (no lock timeout: it does not hold up the queue)."""
    lock, run = timeouts.statement_lock_timeout, timeouts.statement_timeout
    if dialect == "postgres":
        scope = "SET LOCAL" if local else "SET"
        out = []
        if lock is not None or concurrently:
            out.append(f"{scope} lock_timeout = {_pg_duration(0 if concurrently else lock or 0)}")
        if run is not None:
            out.append(f"{scope} statement_timeout = {_pg_duration(run)}")
        return out
    if dialect == "mysql":
        out = []
        if lock:  # 0 would mean "the server's default", not "no limit": left alone
            whole = max(1, math.ceil(lock))
            out += [f"SET SESSION lock_wait_timeout = {whole}",
                    f"SET SESSION innodb_lock_wait_timeout = {whole}"]
        if run is not None and mariadb:
            out.append(f"SET SESSION max_statement_time = {run:g}")
        return out
    if dialect == "sqlite" and lock is not None:
        return [f"PRAGMA busy_timeout = {round(lock * 1000)}"]
    return []


def pg_set_config(timeouts: Timeouts, *, local: bool = False) -> str | None:
    """PostgreSQL: :func:`session_statements` as one ``SELECT set_config(...)`` (``local``:
    for the transaction, as ``SET LOCAL``), one round trip on any driver; None when
    nothing is set."""
    lock, run = timeouts.statement_lock_timeout, timeouts.statement_timeout
    settings = [(name, _pg_duration(value)) for name, value in
                (("lock_timeout", lock), ("statement_timeout", run)) if value is not None]
    if not settings:
        return None
    flag = "true" if local else "false"
    return "SELECT " + ", ".join(f"set_config('{name}', {value}, {flag})"
                                 for name, value in settings)


def restore_statements(dialect: str, timeouts: Timeouts, *, mariadb: bool = False,
                       sqlite_busy_ms: int = 30000) -> list[str]:
    """The statements that put a session's settings back after :func:`session_statements`
    (PostgreSQL: none, its runner resets the session or the transaction ends them)."""
    if dialect == "mysql":
        out = []
        if timeouts.statement_lock_timeout:
            out += ["SET SESSION lock_wait_timeout = DEFAULT",
                    "SET SESSION innodb_lock_wait_timeout = DEFAULT"]
        if timeouts.statement_timeout is not None and mariadb:
            out.append("SET SESSION max_statement_time = DEFAULT")
        return out
    if dialect == "sqlite" and timeouts.statement_lock_timeout is not None:
        return [f"PRAGMA busy_timeout = {sqlite_busy_ms}"]
    return []
