"""The impact report of what ``migrate`` or ``rollback`` would do, for a migrator: the
runtime is asked once for the state and the plan, and the plan room
(:func:`switchy_guard.plan.impact.report_of`) is handed plain data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from switchy_guard.plan.impact import ImpactReport, report_of, rollback_warnings

if TYPE_CHECKING:
    from switchy_guard.model.plan import Strategy
    from switchy_guard.model.server_version import GivenVersion
    from switchy_guard.model.state import MigrationState
    from switchy_guard.runtime.runner import Migrator


def rollback_report(migrator: Migrator, strategy: Strategy, *, force: bool = True,
                    state: MigrationState | None = None,
                    detailed: bool = True,
                    server_version: GivenVersion | None = None) -> ImpactReport:
    """The impact of what ``rollback`` would do: down scripts in order, their findings
    (rollback-time ones), what they drop, the rows that would be lost, changed down
    scripts and the dependents rolled back too.

    Migrations without a down script make it raise Refused, naming them, as rollback does.
    With ``force=False`` it also refuses what rollback refuses without ``--force``.
    ``detailed=False`` leaves out the findings, as :func:`impact_report` does for a
    policy that judges none of them. ``server_version``: as for :func:`impact_report`.
    """
    state = state or migrator.state()
    plan = migrator.plan_rollback(strategy, force=force, state=state)
    # The down scripts are judged as migrate judges up scripts: the same rules (over the
    # schema the applied migrations left), the same objects and live row counts.
    return report_of(plan, migrator.migrations(), migrator.engine,
                     rollback_warnings(plan, state), findings=detailed,
                     applied=[e.id for e in state.applied()], server_version=server_version)


def impact_report(
    migrator: Migrator,
    strategy: Strategy | None = None,
    *,
    live: bool = True,
    detailed: bool = True,
    state: MigrationState | None = None,
    server_version: GivenVersion | None = None,
    **plan_options: bool,
) -> ImpactReport:
    """The impact of what ``migrate`` would do with ``strategy``; ``plan_options``
    (``force``, ``retry_failed``, ``require_checksum_validation``) as for ``migrate``.

    ``detailed=False`` leaves out what costs a pass over every statement (findings, the
    objects touched, row counts): for a gate whose policy judges none of it.
    The rules and the lock report judge by the live server's version; a
    ``server_version`` given (``--server-version``, the setting) that contradicts it is
    a warning of the report (see model/server_version.py).
    """
    plan = migrator.plan(strategy, state=state, **plan_options)
    warnings = list(plan.warnings)
    if live and detailed:  # another tool's history; a CREATE of an object that exists
        from switchy_guard.runtime.existing import plan_warnings

        warnings += plan_warnings(migrator, plan, (state or migrator.state()).rows)
    return report_of(plan, migrator.migrations(), migrator.engine, warnings,
                     live=live and detailed, findings=detailed, objects=detailed,
                     server_version=server_version)
