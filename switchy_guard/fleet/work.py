"""What the fleet does to one target: migrate or roll back it through the same gates as a
single ``migrate``, plan it, or read its state. Each call makes its own engine and
disposes of it, so targets running at once share no connection; they share what the job
reads once for all of them (the migrations, per dialect, and the policies)."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from switchy_guard.errors import SwitchyError
from switchy_guard.fleet.rollout import TargetResult, Wave
from switchy_guard.fleet.targets import Target
from switchy_guard.masking import mask_message

if TYPE_CHECKING:
    from switchy_guard.config import Settings
    from switchy_guard.gates.policy import PolicySet
    from switchy_guard.model.migration import Migration
    from switchy_guard.model.plan import Strategy
    from switchy_guard.runtime.runner import Migrator


class ReadOnce:
    """A migrations source read once per dialect for the whole fleet: every target gets
    the same history (files changed during a rollout do not reach half of it), and the
    files are not read, parsed and hashed again per target. A failed read is not kept:
    the next target reads again, and fails alike."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self._loaded: dict[str | None, list[Migration]] = {}
        self._lock = threading.Lock()

    @property
    def label(self) -> str:
        """How reports name the source."""
        return str(self.source.label)

    def load(self, dialect: str | None = None) -> list[Migration]:
        """The source's migrations for ``dialect`` (read on the first call)."""
        with self._lock:
            if dialect not in self._loaded:
                self._loaded[dialect] = list(self.source.load(dialect))
            return list(self._loaded[dialect])

    def __getattr__(self, name: str) -> Any:  # detected_layout and the like
        if name == "source":  # not set yet (a copy being made): no recursion
            raise AttributeError(name)
        return getattr(self.source, name)


class _Shared:
    """What one fleet run reads once for all its targets (built on first use)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.source: ReadOnce | None = None
        self.policies: PolicySet | None = None


@dataclass(frozen=True)
class FleetJob:
    """What the person asked of every target."""

    verb: str  # migrate, rollback, plan, status
    settings: Settings
    source: Any
    strategy: Strategy
    #: Environments whose confirmation was typed once for the fleet.
    confirmed: frozenset[str] = frozenset()
    retry_failed: bool = False
    force: bool = False
    ack_backup: bool = False
    command: str = "switchy-guard fleet"
    lock_timeout: float | None = None
    _shared: _Shared = field(default_factory=_Shared, compare=False, repr=False)

    def settings_for(self, target: Target) -> Settings:
        """The settings of one target: its own ``env`` over ``--env``."""
        if target.env:
            return dataclasses.replace(self.settings, env=target.env)
        return self.settings

    def read_once(self) -> ReadOnce:
        """The job's migrations source, read once per dialect for every target (the
        targets' settings differ in ``env`` only, so one checksum mode serves all)."""
        from switchy_guard.discovery import as_source

        with self._shared.lock:
            if self._shared.source is None:
                self._shared.source = ReadOnce(
                    as_source(self.source, checksum_mode=self.settings.checksum_mode))
            return self._shared.source

    def policies(self) -> PolicySet:
        """Every policy the fleet knows, read once (the set does not depend on ``env``)."""
        from switchy_guard.gates.policy import policies_for

        with self._shared.lock:
            if self._shared.policies is None:
                self._shared.policies = policies_for(self.settings)
            return self._shared.policies


def engine_for(target: Target, *, reads_only: bool = False) -> Any:
    """A new engine for the target (``search_path`` pinned to its schema, if any); a
    SQLite file that does not exist is read as empty by a verb that only reads."""
    from switchy_guard.runtime.db import absent_sqlite_file, create_database_engine, empty_stand_in

    if reads_only and absent_sqlite_file(target.url) is not None:
        return empty_stand_in(target.url)
    if target.schema:
        from switchy_guard.fleet.schemas import schema_engine

        return schema_engine(target)
    from switchy_guard.runtime.db import refuse_missing_sqlite_folder

    refuse_missing_sqlite_folder(target.url)
    return create_database_engine(target.url)


@contextmanager
def migrator_for(job: FleetJob, target: Target, *, reads_only: bool) -> Iterator[Migrator]:
    """A Migrator on the target's own engine, disposed of at the end."""
    from switchy_guard.runtime.runner import Migrator

    settings = job.settings_for(target)
    engine = engine_for(target, reads_only=reads_only)
    try:
        yield Migrator(job.read_once(), engine, table=settings.migration_table,
                       lock_timeout=settings.lock_timeout,
                       checksum_mode=settings.checksum_mode)
    finally:
        engine.dispose()


def run_target(job: FleetJob, target: Target, wave: Wave) -> TargetResult:
    """Do the job's verb on one target; every error becomes a failed result (one line,
    masked), never an exception: the other targets go on."""
    from sqlalchemy.exc import SQLAlchemyError

    began = time.monotonic()
    try:
        result = _VERBS[job.verb](job, target)
    except SwitchyError as error:
        outcome = "refused" if _is_refusal(error) else "failed"
        result = TargetResult(target.name, outcome, reason=mask_message(error.one_line()))
        if hasattr(error, "migration_id"):
            result.extra["migration"] = error.migration_id
    except SQLAlchemyError as error:
        from switchy_guard.runtime.reasons import database_reason

        result = TargetResult(target.name, "failed",
                              reason=mask_message("database error: " + database_reason(error)))
    except Exception as error:  # a bug on one target must not stop the others silently
        result = TargetResult(target.name, "failed",
                              reason=mask_message(f"{type(error).__name__}: {error}"))
    result.wave = wave.label
    result.seconds = time.monotonic() - began
    return result


def _is_refusal(error: SwitchyError) -> bool:
    from switchy_guard.errors import MigrationFailed, Refused

    return isinstance(error, Refused) and not isinstance(error, MigrationFailed)


def _gated(job: FleetJob, target: Target) -> TargetResult:
    from switchy_guard.gates.policy import choose_policy
    from switchy_guard.gates.run import GateOptions, gated_run

    direction = "up" if job.verb == "migrate" else "down"
    with migrator_for(job, target, reads_only=False) as migrator:
        state = migrator.state()
        if direction == "up" and not (state.pending() or state.failed()
                                      or state.in_progress()):
            # Its own tracking table says it is up to date: no lock, no gate needed.
            return TargetResult(target.name, "up to date")
        choice = choose_policy(job.settings_for(target), migrator.engine,
                               policies=job.policies())
        options = GateOptions(
            choice, ask=None, ack_backup=job.ack_backup, force=job.force,
            confirm=choice.environment if choice.environment in job.confirmed else None,
            command=job.command, lock_timeout=job.lock_timeout)
        result = gated_run(migrator, direction, job.strategy, options,
                           retry_failed=job.retry_failed)
    if not result.done:
        return TargetResult(target.name, "up to date" if direction == "up" else "nothing to do",
                            environment=choice.environment)
    return TargetResult(target.name, "applied" if direction == "up" else "rolled back",
                        done=list(result.done), environment=choice.environment)


def _plan(job: FleetJob, target: Target) -> TargetResult:
    from switchy_guard.gates.evaluate import evaluate
    from switchy_guard.gates.policy import choose_policy
    from switchy_guard.gates.reports import impact_report, rollback_report

    with migrator_for(job, target, reads_only=True) as migrator:
        choice = choose_policy(job.settings_for(target), migrator.engine,
                               policies=job.policies())
        state = migrator.state()
        if job.verb == "plan":
            report = impact_report(migrator, job.strategy, state=state, force=job.force,
                                   retry_failed=job.retry_failed)
        else:
            report = rollback_report(migrator, job.strategy, state=state)
        verdict = evaluate(choice, report, state, force=job.force, ack_backup=job.ack_backup,
                           confirm=None)
    ids = [m.id for m in report.migrations]
    rows = [r for m in report.migrations for r in m.rows]
    counted = [getattr(r, "rows", None) for r in rows]
    result = TargetResult(
        target.name, "refused" if verdict.refused else ("planned" if ids else "up to date"),
        pending=ids, environment=choice.environment,
        reason=verdict.summary() if verdict.refused else None)
    result.extra.update(destructive=verdict.destructive,
                        rows_affected=sum(c for c in counted if isinstance(c, int)),
                        warnings=[mask_message(w) for w in report.warnings])
    return result


def _status(job: FleetJob, target: Target) -> TargetResult:
    with migrator_for(job, target, reads_only=True) as migrator:
        state = migrator.state()
    pending = [m.id for m in state.pending()]
    failed = [e.id for e in state.failed()]
    in_progress = [e.id for e in state.in_progress()]
    outcome = ("dirty" if failed or in_progress else "pending" if pending else "up to date")
    result = TargetResult(target.name, outcome, done=[e.id for e in state.applied()],
                          pending=pending)
    if failed or in_progress:
        result.reason = "; ".join(part for part in (
            f"failed: {', '.join(failed)}" if failed else "",
            f"in_progress: {', '.join(in_progress)}" if in_progress else "") if part)
    result.extra.update(drifted=[e.id for e in state.drifted()])
    return result


_VERBS: dict[str, Callable[[FleetJob, Target], TargetResult]] = {
    "migrate": _gated, "rollback": _gated, "plan": _plan, "rollback-plan": _plan,
    "status": _status,
}
