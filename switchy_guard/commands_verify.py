"""The ``verify`` verb: prove the down scripts on a scratch database (see :mod:`.verify`).

Exit codes: 0 no difference (irreversible migrations do not count), 1 any difference,
2 bad input (bad ``--scratch`` URL, a non-empty scratch database, a scratch database of
another dialect), 3 the scratch database could not be reached.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape

from .verify import STEP_UP, VerifyReport, verify

if TYPE_CHECKING:
    from rich.console import Console

    from .cli import Context


def cmd_verify(ctx: Context) -> int:
    """``verify [--scratch URL]``: up, down, up per migration; exit 1 on any difference."""
    settings = ctx.settings
    report = verify(
        ctx.source(),
        getattr(ctx.args, "scratch", None),
        database_url=settings.database_url,
        dialect=settings.dialect,
        table=settings.migration_table,
        checksum_mode=settings.checksum_mode,
    )
    if ctx.format == "json":
        ctx.emit_json(report.to_dict())
    else:
        print_report(ctx.console(), report)
    return 0 if report.ok else 1


def print_report(console: Console, report: VerifyReport) -> None:
    """The text report: one line per migration (✓, ✗, or irreversible) and its differences."""
    failing = set(report.failing)
    skipped = set(report.skipped)
    not_reached = set(report.not_reached)
    console.print(f"Verifying on {escape(report.scratch)}", highlight=False)
    for migration_id in report.order:
        shown = escape(migration_id)
        if migration_id in failing:
            console.print(f"[red]✗[/] {shown}", highlight=False)
            for difference in report.differences_of(migration_id):
                where = "up" if difference.step == STEP_UP else f"after {difference.step}"
                console.print(
                    f"    {where}: {escape(difference.kind)} {escape(difference.name)}: "
                    f"{escape(difference.detail)}",
                    highlight=False,
                )
        elif migration_id in skipped:
            console.print(f"[yellow]-[/] {shown}  irreversible, not verified (no down script)",
                          highlight=False)
        elif migration_id in not_reached:
            console.print(f"[yellow]?[/] {shown}  not reached (an earlier up failed)",
                          highlight=False)
        else:
            console.print(f"[green]✓[/] {shown}", highlight=False)
    verified = len(report.verified)
    console.print(
        f"{verified} verified, {len(failing)} with differences, "
        f"{len(report.skipped)} irreversible (not verified)"
        + (f", {len(report.not_reached)} not reached" if report.not_reached else ""),
        highlight=False,
    )
