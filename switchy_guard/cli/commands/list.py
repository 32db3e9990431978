"""``list``: every known migration with its state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from switchy_guard.cli.output import layout_read, write_layout

if TYPE_CHECKING:
    from switchy_guard.cli.context import Context
    from switchy_guard.cli.options import Verbs


def register(verbs: Verbs) -> None:
    """Add ``list``."""
    verbs.add("list", "every known migration with its state", run)


def run(ctx: Context) -> int:
    """``list``: every migration with its state."""
    from switchy_guard.report.state import list_text, status_entry

    migrator = ctx.migrator(reads_only=True)
    state = migrator.state()
    layout = layout_read(migrator)
    if ctx.format == "json":
        ctx.emit_json({"layout": layout,
                       "migrations": [status_entry(e) for e in state.entries]})
        return 0
    console = ctx.console()
    color = console.is_terminal and not getattr(ctx.args, "no_color", False)
    write_layout(ctx, layout)
    ctx.out.write(list_text(state, color_system=console.color_system if color else None))
    return 0
