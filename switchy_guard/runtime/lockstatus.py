"""``lock status`` and ``lock break``: who holds the migration lock, and clearing a stale one.

A lock is *held* while the database says so (PostgreSQL ``pg_locks``, MySQL/MariaDB
``IS_USED_LOCK``, or the SQLite lock file being locked). Its record is *stale* when the
holder is gone: the lock is free but the record was left behind (the run was killed), or
the record's process is dead on this host while its database session lingers.

``lock break`` deletes a stale record and ends a lingering session of a dead holder. A
lock whose holder is alive is only broken with ``force`` (its record is deleted, so the
holder commits nothing more, then its lock's database session is terminated); a live
SQLite holder cannot be broken at all. ``lock break --stale-only`` is the same break
without a confirmation, refused whenever the holder is alive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from switchy_guard.errors import Refused
from switchy_guard.runtime.db import connect, connect_for_write
from switchy_guard.runtime.lock import lock_name, postgres_lock_key, sqlite_lock_path
from switchy_guard.runtime.lockrecord import LockHolder, LockRecord, holder_text


@dataclass(frozen=True)
class LockStatus:
    """What is known about the migration lock."""

    held: bool
    holder: LockHolder | None
    session: int | None  # the database session holding it (PostgreSQL/MySQL)
    stale: bool
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``lock status``."""
        return {
            "held": self.held, "stale": self.stale, "session": self.session,
            # The fencing token stays out: it is the holder's, not for scripts to reuse.
            "holder": ({k: v for k, v in vars(self.holder).items() if k != "token"}
                       if self.holder else None),
            "explanation": self.explanation,
        }


def _holding_session(conn: Connection, table: str) -> int | None:
    if conn.dialect.name == "postgresql":
        key = postgres_lock_key(conn, table) & 0xFFFFFFFFFFFFFFFF
        value = conn.execute(
            text("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                 "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                 " AND classid = :hi AND objid = :lo AND objsubid = 1"),
            {"hi": key >> 32, "lo": key & 0xFFFFFFFF},
        ).scalar()
    else:
        value = conn.execute(text("SELECT IS_USED_LOCK(:name)"),
                             {"name": lock_name(conn, table)}).scalar()
    return int(value) if value is not None else None


def _sqlite_held(engine: Engine) -> bool:
    path = sqlite_lock_path(engine)
    if path is None or not path.exists():
        return False
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: ask filelock itself
        return _held_by_filelock(str(path))
    # filelock locks the whole file with flock() on Unix: probe the same way, without
    # importing filelock (a tenth of status's own start-up).
    with open(path, "rb") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def _held_by_filelock(path: str) -> bool:  # pragma: no cover - Windows
    from filelock import FileLock
    from filelock import Timeout as FileLockTimeout

    probe = FileLock(path, timeout=0)
    try:
        probe.acquire()
    except FileLockTimeout:
        return True
    probe.release()
    return False


def lock_status(engine: Engine, table: str) -> LockStatus:
    """Whether the migration lock of ``table`` is held, by whom, and whether it is stale."""
    with connect(engine) as conn:
        holder = LockRecord(table).read(conn)
        session = None if engine.dialect.name == "sqlite" else _holding_session(conn, table)
        conn.rollback()
    held = _sqlite_held(engine) if engine.dialect.name == "sqlite" else session is not None
    if not held:
        if holder is None:
            return LockStatus(False, None, None, False, "the migration lock is free")
        return LockStatus(False, holder, None, True,
                          f"stale record: {holder_text(holder)} ended without releasing "
                          "the lock (the lock itself is free)")
    if holder is None:
        return LockStatus(True, None, session, False,
                          "held, but the holder left no record (an older switchy-guard?)")
    if holder.session is not None and session is not None and holder.session != str(session):
        return LockStatus(True, holder, session, False,
                          f"held by database session {session}; the record "
                          f"({holder_text(holder)}) is an older holder's")
    if holder.process_alive() is False:
        return LockStatus(True, holder, session, True,
                          f"stale: held by {holder_text(holder)}, whose process is gone; "
                          "its database session lingers")
    return LockStatus(True, holder, session, False, f"held by {holder_text(holder)}")


def break_lock_journaled(
    engine: Engine,
    table: str,
    *,
    force: bool = False,
    environment: str = "development",
    policy: str | None = None,
    command: str = "lock break",
    confirm: Callable[[LockStatus], object] | None = None,
) -> str:
    """:func:`break_lock`, recorded in the audit journal whether done or refused.

    ``confirm`` (the confirmation gate) is shown the lock's status first; a Refused it
    raises is journaled and raised without the lock being touched.
    """
    from switchy_guard.runtime.audit import AuditJournal

    status = lock_status(engine, table)
    record = status.holder
    outcome, detail = "ok", ""
    try:
        if confirm is not None:
            confirm(status)
        # break_lock looks again: the holder may have finished while a person confirmed.
        detail = break_lock(engine, table, force=force)
    except Refused as refused:
        outcome, detail = "refused", refused.one_line()
        raise
    finally:
        with connect_for_write(engine) as conn:
            AuditJournal(table).record(
                conn, command, environment=environment, policy=policy,
                target=f"{record.os_user}@{record.host} pid {record.pid}" if record else None,
                outcome=outcome, detail=detail,
            )
            conn.commit()
    return detail


def break_lock(engine: Engine, table: str, *, force: bool = False) -> str:
    """Clear the migration lock of ``table``; what was done. Refused when the holder is
    alive (unless ``force``, which terminates its database session).

    The record goes first, and only the record seen (by its fencing token): from then on
    the holder can commit nothing more it would record (see :meth:`HeldLock.fence`), and
    a record a newer holder wrote meanwhile is never deleted.
    """
    status = lock_status(engine, table)
    token = status.holder.token if status.holder else None
    if not status.held:
        if status.holder is None:
            return "nothing to break: the migration lock is free and has no record"
        with connect_for_write(engine) as conn:
            if not LockRecord(table).clear(conn, token):
                raise _changed_hands()
        return f"cleared the stale record of {holder_text(status.holder)}"
    if engine.dialect.name == "sqlite":
        raise Refused(f"{status.explanation}: a live SQLite holder cannot be broken; "
                      "stop that process")
    if not status.stale and not force:
        raise Refused(f"{status.explanation}: the holder looks alive; wait for it, or "
                      "break it with --force (its session is terminated)")
    with connect(engine) as conn:
        if status.holder is not None and not LockRecord(table).clear(conn, token):
            raise _changed_hands()
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": status.session})
        else:
            conn.exec_driver_sql(f"KILL {int(status.session or 0)}")
        conn.commit()
    return f"terminated database session {status.session} and cleared its lock"


def _changed_hands() -> Refused:
    return Refused("the migration lock changed hands while it was being broken (its "
                   "record is another run's now); nothing was done: look again with "
                   "lock status")
