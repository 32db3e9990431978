"""How a fleet run is shown: a line per target (logs, pipes), live progress at a
terminal (rich), and the summary table as text, JSON or Markdown."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any, TextIO

from switchy_guard.fleet.rollout import TargetResult, Wave
from switchy_guard.fleet.targets import Target
from switchy_guard.masking import mask_text, printable

#: The order of outcomes in the totals.
_ORDER = ("applied", "rolled back", "planned", "up to date", "nothing to do", "pending",
          "dirty", "refused", "failed", "skipped")


def _migrations(result: TargetResult) -> str:
    if result.done and result.outcome != "up to date" and result.outcome not in (
            "pending", "dirty"):
        return f"{len(result.done)} done"
    if result.pending:
        return f"{len(result.pending)} pending"
    return ""


def line_for(result: TargetResult) -> str:
    """One line for a finished target."""
    parts = [f"[{result.wave}]" if result.wave else "", result.name, result.outcome]
    detail = _migrations(result)
    if detail:
        timed = result.done and result.outcome in ("applied", "rolled back")
        parts.append(f"({detail}, {result.seconds:.2f} s)" if timed else f"({detail})")
    if result.reason:
        parts.append(f"- {result.reason}")
    return printable(" ".join(p for p in parts if p), newlines=False)


class LineReporter:
    """A line per finished target (and per wave), for logs and pipes."""

    def __init__(self, out: TextIO, quiet: bool = False) -> None:
        self.out = out
        self.quiet = quiet

    def wave(self, wave: Wave, number: int, total: int) -> None:
        """A wave starts."""
        if not self.quiet:
            self.out.write(f"== {wave.label}: {len(wave.targets)} target(s) "
                           f"({number}/{total})\n")
            self.out.flush()

    def start(self, target: Target, wave: Wave) -> None:
        """Targets starting are not shown line by line."""

    def end(self, result: TargetResult) -> None:
        """A target has ended."""
        if not self.quiet or result.failed:
            self.out.write(line_for(result) + "\n")
            self.out.flush()

    def close(self) -> None:
        """Nothing to tidy up."""


#: The escape sequences rich's live display writes: cursor up, erase line, cursor
#: hide/show, colours. Nothing else of outside origin reaches it (target names are
#: checked, reasons made printable), and secrets are still masked.
_LIVE = re.compile(r"\x1b\[(?:\d{1,3}(?:;\d{1,3})*)?[mAK]|\x1b\[\?25[lh]|\r")


class LiveOutput:
    """The stream under :class:`~switchy_guard.masking.SafeOutput` for the live display:
    each write masked, made printable, then rich's own cursor and colour sequences put
    back (SafeOutput would escape them, and the bars would print as text)."""

    def __init__(self, out: TextIO) -> None:
        self._safe = out
        self._raw: TextIO = getattr(out, "_stream", out)

    def write(self, text: str) -> int:
        """Write ``text`` masked, keeping only the live display's sequences."""
        pieces, last = [], 0
        for match in _LIVE.finditer(text):
            pieces += [printable(mask_text(text[last:match.start()])), match.group()]
            last = match.end()
        pieces.append(printable(mask_text(text[last:])))
        return self._raw.write("".join(pieces))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class RichReporter:
    """Live progress at a terminal: a bar per wave, the targets running, the failures."""

    def __init__(self, console: Any) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TextColumn("{task.fields[running]}"),
                                 console=console, transient=False)
        self.progress.start()
        self.task: Any = None
        self.running: list[str] = []

    def _running(self) -> str:
        shown = ", ".join(self.running[:4])
        more = len(self.running) - 4
        return printable(shown + (f" +{more}" if more > 0 else ""), newlines=False)

    def wave(self, wave: Wave, number: int, total: int) -> None:
        """A new bar for the wave."""
        self.running = []
        self.task = self.progress.add_task(f"{wave.label} ({number}/{total})",
                                           total=len(wave.targets), running="")

    def start(self, target: Target, wave: Wave) -> None:
        """A target is running."""
        self.running.append(target.name)
        self.progress.update(self.task, running=self._running())

    def end(self, result: TargetResult) -> None:
        """A target has ended: the bar moves; a failure is printed above the bars."""
        if result.name in self.running:
            self.running.remove(result.name)
        if self.task is not None:
            self.progress.update(self.task, advance=1, running=self._running())
        if result.failed:
            self.progress.console.print(line_for(result), markup=False, highlight=False)

    def close(self) -> None:
        """Stop the live display."""
        self.progress.stop()


def totals(results: Sequence[TargetResult]) -> dict[str, int]:
    """How many targets ended each way, in a fixed order."""
    counts = Counter(r.outcome for r in results)
    return {name: counts[name] for name in (*_ORDER, *sorted(set(counts) - set(_ORDER)))
            if counts[name]}


def summary_text(verb: str, results: Sequence[TargetResult]) -> str:
    """The summary table: target, result, migrations, reason; then the totals."""
    rows = [("TARGET", "RESULT", "MIGRATIONS", "REASON")]
    rows += [(r.name, r.outcome, _migrations(r), r.reason or "") for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True))
             + ("  " + row[3] if row[3] else "") for row in rows]
    counted = ", ".join(f"{count} {name}" for name, count in totals(results).items())
    lines.append(f"fleet {verb}: {len(results)} target(s): {counted or 'none'}")
    if verb in ("plan", "rollback --plan"):
        figures = plan_totals(results)
        lines.append(f"{figures['migrations_pending']} migration(s) to run; "
                     f"{figures['targets_destructive']} target(s) with destructive steps "
                     f"({figures['rows_affected']} row(s) affected where counted); "
                     f"{figures['targets_refused']} the gate would refuse")
    return printable("\n".join(line.rstrip() for line in lines)) + "\n"


def summary_markdown(verb: str, results: Sequence[TargetResult]) -> str:
    """The summary as a Markdown table."""
    def cell(text: str) -> str:
        return printable(text, newlines=False).replace("|", "\\|")

    lines = [f"## fleet {verb}", "", "| target | result | migrations | reason |",
             "|---|---|---|---|"]
    lines += [f"| {cell(r.name)} | {r.outcome} | {_migrations(r)} | {cell(r.reason or '')} |"
              for r in results]
    lines += ["", "**Totals:** " + (", ".join(f"{name}: {count}" for name, count
                                              in totals(results).items()) or "none"), ""]
    return "\n".join(lines)


def plan_totals(results: Sequence[TargetResult]) -> dict[str, int]:
    """Fleet-wide figures of a plan: targets with destructive steps, rows affected
    where counted, targets the gate would refuse."""
    return {
        "targets_destructive": sum(bool(r.extra.get("destructive")) for r in results),
        "rows_affected": sum(int(r.extra.get("rows_affected") or 0) for r in results),
        "targets_refused": sum(r.outcome == "refused" for r in results),
        "migrations_pending": sum(len(r.pending) for r in results),
    }


def summary_json(verb: str, results: Sequence[TargetResult]) -> dict[str, Any]:
    """The summary as one JSON document (a plan's also with :func:`plan_totals`)."""
    document = {"verb": f"fleet {verb}", "totals": totals(results),
                "targets": [r.to_dict() for r in results]}
    if verb in ("plan", "rollback --plan"):
        document["plan"] = plan_totals(results)
    return document
