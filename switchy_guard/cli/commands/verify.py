"""``verify``: prove the down scripts on a scratch database (see :mod:`switchy_guard.verify`).

Exit codes: 0 no difference (irreversible migrations do not count), 1 any difference
or failed script, 2 bad input (bad ``--scratch`` URL, a non-empty scratch database, a
scratch database of another dialect, an unknown ``--only`` id, a ``--setup`` script that
fails), 3 the scratch database could not be reached.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from switchy_guard.cli.context import Context
    from switchy_guard.cli.options import Verbs
    from switchy_guard.verify.roundtrip import VerifyReport


def register(verbs: Verbs) -> None:
    """Add ``verify``."""
    verify = verbs.add("verify", "apply up, down and up on a scratch database and compare "
                                 "schemas", run)
    verify.add_argument("--scratch", metavar="URL",
                        help="scratch database (default: a temporary SQLite file, or a new "
                             "database beside -d on a PostgreSQL/MySQL server)")
    verify.add_argument("--setup", metavar="FILE.sql",
                        help="SQL run on the scratch database before the first up (tables "
                             "of the host application the migrations refer to)")
    verify_less = verify.add_mutually_exclusive_group()
    verify_less.add_argument("--against", metavar="GITREF",
                             help="verify only the migrations new or changed since this git "
                                  "revision; the older ones are applied up only")
    verify_less.add_argument("--only", nargs="+", metavar="ID",
                             help="verify only these migrations; the others are applied up "
                                  "only")


def run(ctx: Context) -> int:
    """``verify [--scratch URL] [--setup FILE] [--against GITREF | --only ID ...]``: up,
    down, up per migration; exit 1 on any difference or failure."""
    from switchy_guard.runtime.unknown_types import unknown_types_note
    from switchy_guard.verify.roundtrip import verify

    settings = ctx.settings
    dirs = ctx.source()
    report = verify(
        dirs,
        getattr(ctx.args, "scratch", None),
        database_url=settings.database_url,
        dialect=settings.dialect,
        table=settings.migration_table,
        checksum_mode=settings.checksum_mode,
        only=getattr(ctx.args, "only", None),
        against=getattr(ctx.args, "against", None),
        migrations_dir=dirs if isinstance(dirs, str) else None,
        setup=getattr(ctx.args, "setup", None),
    )
    note = unknown_types_note(report.unknown_types)
    if note:
        ctx.notes.append(note)
    if ctx.format == "json":
        ctx.emit_json(report.to_dict())
    else:
        print_report(ctx.console(), report)
    return 0 if report.ok else 1


def _marks() -> dict[str, tuple[str, str]]:
    """How the text report marks each outcome, and what it adds after the id."""
    from switchy_guard.verify import roundtrip as outcome

    return {
        outcome.PASSED: ("[green]✓[/]", ""),
        outcome.WITH_DIFFERENCES: ("[red]✗[/]", ""),
        outcome.FAILED: ("[red]✗[/]", "  failed"),
        outcome.IRREVERSIBLE: ("[yellow]-[/]", "  irreversible, not verified (no down script)"),
        outcome.NOT_REACHED: ("[yellow]?[/]", "  not reached (an earlier up failed)"),
        outcome.APPLIED_UP_ONLY: ("[dim]·[/]", "  applied up only"),
    }


def summary_line(report: VerifyReport) -> str:
    """``4 migrations: 2 passed, 1 with differences, 0 failed, 1 irreversible (not
    verified), 0 not reached``, and the applied-up-only ones when there are: the counts
    add up to the total."""
    from switchy_guard.verify.roundtrip import (
        APPLIED_UP_ONLY,
        FAILED,
        IRREVERSIBLE,
        NOT_REACHED,
        PASSED,
        WITH_DIFFERENCES,
    )

    counts = report.counts
    parts = [f"{counts[PASSED]} passed", f"{counts[WITH_DIFFERENCES]} with differences",
             f"{counts[FAILED]} failed", f"{counts[IRREVERSIBLE]} irreversible (not verified)",
             f"{counts[NOT_REACHED]} not reached"]
    if counts[APPLIED_UP_ONLY] or report.selection:
        parts.append(f"{counts[APPLIED_UP_ONLY]} applied up only ({report.selection})")
    total = counts["total"]
    return f"{total} migration{'' if total == 1 else 's'}: {', '.join(parts)}"


def print_report(console: Console, report: VerifyReport) -> None:
    """The text report: one line per migration (✓ passed, ✗ with differences or failed,
    - irreversible, ? not reached, · applied up only), its differences, and the counts."""
    from rich.markup import escape

    from switchy_guard.verify.compare import STEP_UP

    marks = _marks()
    console.print(f"Verifying on {escape(report.scratch)}"
                  + (f" ({escape(report.selection)})" if report.selection else ""),
                  highlight=False)
    for migration_id in report.order:
        mark, words = marks[report.outcomes[migration_id]]
        console.print(f"{mark} {escape(migration_id)}{words}", highlight=False)
        for difference in report.differences_of(migration_id):
            where = "up" if difference.step == STEP_UP else f"after {difference.step}"
            console.print(
                f"    {where}: {escape(difference.kind)} {escape(difference.name)}: "
                f"{escape(difference.detail)}",
                highlight=False,
            )
    console.print(escape(summary_line(report)), highlight=False)
