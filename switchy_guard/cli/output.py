"""Printing helpers several verbs share: the impact report in the chosen format, what a
gated run shows of it, the layout line, and a message made safe for stderr."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from switchy_guard.cli.context import Context
    from switchy_guard.plan.impact import ImpactReport
    from switchy_guard.runtime.runner import Migrator


def print_impact(ctx: Context, report: ImpactReport) -> None:
    """The impact report in the chosen format."""
    from switchy_guard.report.impact import render_markdown, render_text

    if ctx.format == "json":
        ctx.emit_json(report.to_dict())
    elif ctx.format in ("sarif", "github", "gitlab"):  # the plan's findings, as check's
        from switchy_guard.report.findings import automation_id, for_code_scanning

        findings = [finding for m in report.migrations for finding in m.findings]
        allowed = [item for m in report.migrations for item in m.allowed]
        ctx.out.write(for_code_scanning(
            findings, ctx.format, allowed=allowed,
            automation=automation_id(ctx.settings.dialect, ctx.settings.migrations_dir)))
    elif ctx.format == "markdown":
        ctx.out.write(render_markdown(report))
    else:
        ctx.out.write(render_text(report))


def impact_shower(ctx: Context) -> Callable[[ImpactReport], None]:
    """What a gated run (migrate, rollback, retry) shows of its judged report: the impact
    summary before a refusal or a question, not on every run."""
    def show(report: ImpactReport) -> None:
        gate = report.gate
        if gate is None:
            return
        if ctx.format == "json":
            if gate.refused:  # a CI job reading JSON gets the verdict that stopped it
                ctx.emit_json({**report.to_dict(), "refused": True})
            else:  # carried by the failure document if the confirmation is refused
                ctx.partial_json = report.to_dict()
            return
        if not ctx.quiet and (gate.refused
                              or any(c.outcome == "required" for c in gate.checks)):
            print_impact(ctx, report)

    return show


def layout_read(migrator: Migrator) -> str | None:
    """The layout the migrations folder was read in (None: not a folder)."""
    from switchy_guard.discovery import layout_of

    return layout_of(migrator.source)


def write_layout(ctx: Context, layout: str | None) -> None:
    """``Layout: flyway (detected)``, for another tool's layout; switchy's own output
    stays as it was."""
    if layout not in (None, "switchy"):
        how = " (detected)" if ctx.settings.layout == "auto" else ""
        ctx.out.write(f"Layout: {layout}{how}\n")


def masked(text: str) -> str:
    """A message for stderr: secrets masked, control characters made harmless."""
    from switchy_guard.masking import mask_text, printable

    return printable(mask_text(text), newlines=False)
