"""The command-line side of ``check --alembic``, ``check --django`` and ``plan --alembic``
(helpers of :mod:`.check` and :mod:`.migrate`; no verb of its own)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from switchy_guard.cli.output import print_impact
from switchy_guard.errors import ConfigError

if TYPE_CHECKING:
    from switchy_guard.check.report import CheckReport
    from switchy_guard.cli.context import Context


def _dialect(ctx: Context) -> str | None:
    settings = ctx.settings
    if settings.dialect:
        return str(settings.dialect)
    if settings.database_url:
        from switchy_guard.runtime.db import dialect_of

        return dialect_of(settings.database_url)
    return None


def check_framework(ctx: Context) -> CheckReport:
    """``check --alembic [INI]`` or ``check --django MANAGE_PY [--settings MODULE]``."""
    args = ctx.args
    if args.alembic and args.django:
        raise ConfigError("check: --alembic and --django are one project each: give one")
    if args.settings and not args.django:
        raise ConfigError("--settings names the settings of --django's project")
    if args.alembic:
        from switchy_guard.frameworks import alembic

        return alembic.check(args.alembic, _dialect(ctx), against=args.against,
                             server_version=ctx.server_version())
    from switchy_guard.frameworks import django

    return django.check(args.django, _dialect(ctx), settings=args.settings,
                        against=args.against, server_version=ctx.server_version())


def plan_alembic(ctx: Context) -> int:
    """``plan --alembic [INI] -d URL``: the impact report of the pending revisions."""
    from switchy_guard.frameworks import alembic

    if not ctx.settings.database_url:
        raise ConfigError("plan --alembic needs the database (-d URL): the pending "
                          "revisions are those after its alembic_version rows")
    if ctx.args.to or ctx.args.steps:
        raise ConfigError("plan --alembic plans every pending revision: --to and --steps "
                          "do not apply")
    print_impact(ctx, alembic.plan(ctx.args.alembic, ctx.settings.database_url,
                                   server_version=ctx.server_version()))
    return 0
