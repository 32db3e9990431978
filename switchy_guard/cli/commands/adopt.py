"""Taking over what another run or tool recorded: ``adopt-checksums`` (the current
checksums for rows holding unknown ones) and ``adopt --from TOOL`` (another tool's
history), each confirmed and journaled."""

from __future__ import annotations

from typing import TYPE_CHECKING

from switchy_guard.cli.context import command_line
from switchy_guard.cli.gating import check_id_argument, confirm_recovery
from switchy_guard.cli.options import add_confirm_option

if TYPE_CHECKING:
    from switchy_guard.cli.context import Context
    from switchy_guard.cli.options import Verbs
    from switchy_guard.runtime.adoption import Adoption

TOOLS = ("golang-migrate", "flyway", "diesel", "sqlx", "dbmate", "goose", "alembic")


def register(verbs: Verbs) -> None:
    """Add ``adopt-checksums`` and ``adopt``."""
    checksums = verbs.add("adopt-checksums",
                          "record current checksums for rows holding unknown ones (64 zeros)",
                          run_adopt_checksums)
    checksums.add_argument("ids", nargs="*", metavar="ID", help="only these migrations")
    checksums.add_argument("--force", action="store_true", help="skip the confirmation")
    add_confirm_option(checksums)
    adopt = verbs.add("adopt", "record as completed the migrations another tool's tracking "
                               "table says are applied (a database migrated by another tool)",
                      run_adopt)
    adopt.add_argument("--from", dest="tool", required=True, metavar="TOOL", choices=TOOLS,
                       help="golang-migrate, flyway, diesel, sqlx, dbmate, goose or alembic")
    adopt.add_argument("--table", metavar="NAME",
                       help="the tool's tracking table (default: the tool's own name)")
    adopt.add_argument("--dry-run", action="store_true",
                       help="print what would be recorded, change nothing")
    adopt.add_argument("--force", action="store_true", help="skip the confirmation")
    add_confirm_option(adopt)


def run_adopt_checksums(ctx: Context) -> int:
    """``adopt-checksums [ID...]``: record current checksums for unknown ones."""
    from switchy_guard.runtime.recovery import adopt_checksums

    migrator = ctx.migrator(must_exist=True)
    for migration_id in ctx.args.ids:
        check_id_argument(ctx, migrator, migration_id)
    policy = confirm_recovery(
        ctx, migrator,
        "Record the current files' checksums for rows holding unknown ones.")
    adopted = adopt_checksums(migrator, ctx.args.ids, environment=ctx.settings.env,
                              command=command_line(ctx), policy=policy)
    if ctx.format == "json":
        ctx.emit_json({"adopted": adopted})
    else:
        ctx.out.write(f"adopted the current checksums of {len(adopted)} migration(s)\n")
    return 0


def run_adopt(ctx: Context) -> int:
    """``adopt --from TOOL``: take over the history of a database another tool migrated."""
    from switchy_guard.runtime.adoption import adopt

    dry_run, tool = ctx.args.dry_run, ctx.args.tool
    migrator = ctx.migrator(reads_only=dry_run, must_exist=not dry_run)
    policy = None if dry_run else confirm_recovery(
        ctx, migrator, f"Record as completed the migrations {tool}'s tracking table says "
                       "are applied, without running them.")
    adoption = adopt(migrator, tool, table_name=ctx.args.table, dry_run=dry_run,
                     environment=ctx.settings.env, command=command_line(ctx), policy=policy)
    if ctx.format == "json":
        ctx.emit_json({**adoption.to_dict(), "dry_run": dry_run})
    else:
        _print_adoption(ctx, adoption, dry_run)
    return 0


def _print_adoption(ctx: Context, adoption: Adoption, dry_run: bool) -> None:
    verb = "would record" if dry_run else "recorded"
    ctx.out.write(f"{adoption.history.describe()}\n")
    for migration_id in adoption.adopt:
        ctx.out.write(f"  {verb} {migration_id} as completed\n")
    for note in adoption.notes:
        ctx.out.write(f"  {note}\n")
    already = f" ({len(adoption.already)} already completed)" if adoption.already else ""
    ctx.out.write(f"{'Dry run: ' if dry_run else ''}{verb} {len(adoption.adopt)} "
                  f"migration(s) as completed{already}\n")
