"""Renderers of ``check`` findings: text, json, sarif, github and markdown.

JSON shape (documented in the README)::

    {"findings": [{"code", "name", "severity", "migration", "file", "line", "column",
                   "statement", "message", "hint"[, "direction": "down"]}],
     "summary": {"errors", "warnings", "infos", "migrations", "statements"[,
                 "rollback_time": how many findings are rollback-time ones]}}

A finding in a down script (it bites at rollback) carries ``"direction": "down"``; every
format labels it "rollback-time" (SARIF: ``properties.direction`` and the message).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from ..findings import Finding, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_URI = "https://pypi.org/project/switchy-guard/"


class RuleDocs(Protocol):
    """What renderers need to know of a rule (read-only)."""

    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def why(self) -> str: ...
    @property
    def instead(self) -> str: ...


@dataclass(frozen=True)
class CheckSummary:
    """Counts of a check run."""

    errors: int
    warnings: int
    infos: int
    migrations: int
    statements: int
    #: The dialects tried when none was given (see check_dialects); empty otherwise.
    dialects_tried: tuple[str, ...] = ()
    #: How many of the findings are rollback-time ones (in down scripts).
    rollback_time: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "dialects_tried", tuple(self.dialects_tried))  # from JSON

    @property
    def dialect_note(self) -> str:
        """A line saying the dialect was unknown and which were tried, or ""."""
        if not self.dialects_tried:
            return ""
        return (f"dialect unknown (no --dialect or database URL): judged as "
                f"{', '.join(self.dialects_tried)} each read it; findings are the union\n")

    @classmethod
    def of(cls, findings: Sequence[Finding], migrations: int, statements: int) -> CheckSummary:
        """Count ``findings`` by severity."""
        count = {s: 0 for s in Severity}
        down = 0
        for finding in findings:
            count[finding.severity] += 1
            down += finding.rollback_time
        return cls(
            count[Severity.ERROR],
            count[Severity.WARNING],
            count[Severity.INFO],
            migrations,
            statements,
            rollback_time=down,
        )

    @property
    def rollback_note(self) -> str:
        """``" (N rollback-time)"`` when some findings are in down scripts, else ""."""
        return f" ({self.rollback_time} rollback-time)" if self.rollback_time else ""


def to_json(findings: Sequence[Finding], summary: CheckSummary) -> str:
    """The documented JSON document, one finding per line.

    Each finding goes through json's C encoder (``indent`` would switch to the pure-Python
    one, which was a tenth of a 10,000-migration check).
    """
    summary_json = json.dumps({
        "errors": summary.errors, "warnings": summary.warnings, "infos": summary.infos,
        "migrations": summary.migrations, "statements": summary.statements,
        **({"rollback_time": summary.rollback_time} if summary.rollback_time else {}),
        **({"dialect": None, "dialects_tried": list(summary.dialects_tried)}
           if summary.dialects_tried else {}),
    })
    if not findings:
        return f'{{"findings": [], "summary": {summary_json}}}'
    lines = ",\n  ".join(json.dumps(f.to_dict()) for f in findings)
    return f'{{"findings": [\n  {lines}\n], "summary": {summary_json}}}'


_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _relative_uri(file: str, base: Path | None) -> str:
    path = Path(file)
    if base is not None and path.is_absolute():
        with contextlib.suppress(ValueError):
            path = path.resolve().relative_to(base.resolve())
    return path.as_posix()


def _sarif_uri(file: str, base: Path | None) -> str:
    """``file`` as a SARIF artifact URI: percent-encoded, relative to ``base`` when it is
    inside it, else an absolute ``file:`` URI (a relative one climbing out of ``base``
    with ``..`` names no file of the repository; GitHub's upload relativizes absolute
    URIs against the checkout)."""
    path = Path(file)
    if base is None:
        return quote(path.as_posix())
    if path.is_absolute():
        relative = _relative_uri(file, base)
        return path.resolve().as_uri() if Path(relative).is_absolute() else quote(relative)
    joined = Path(os.path.normpath(base / path))
    try:
        return quote(joined.relative_to(base).as_posix())
    except ValueError:
        return joined.resolve().as_uri()


def to_sarif(
    findings: Sequence[Finding],
    rules: Iterable[RuleDocs],
    *,
    version: str,
    base: Path | None = None,
) -> str:
    """SARIF 2.1.0: one result per finding, rules with help text, 1-based regions.

    File URIs are made relative to ``base`` (the repository root) where possible, as
    GitHub code scanning expects.
    """
    rule_list = sorted(rules, key=lambda r: r.code)
    index = {rule.code: i for i, rule in enumerate(rule_list)}
    results = []
    for finding in findings:
        result: dict[str, Any] = {
            "ruleId": finding.code,
            "level": _SARIF_LEVEL[finding.severity],
            "message": {
                "text": _when(finding) + finding.message
                + (f" Hint: {finding.hint}" if finding.hint else "")
            },
        }
        if finding.rollback_time:
            result["properties"] = {"direction": "down"}
        if finding.code in index:
            result["ruleIndex"] = index[finding.code]
        if finding.file:
            region: dict[str, int] = {"startLine": finding.line or 1}
            if finding.column:
                region["startColumn"] = finding.column
            result["locations"] = [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _sarif_uri(finding.file, base)},
                        "region": region,
                    }
                }
            ]
        results.append(result)
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "switchy-guard",
                        "version": version,
                        "informationUri": TOOL_URI,
                        "rules": [
                            {
                                "id": rule.code,
                                "name": rule.name,
                                "shortDescription": {"text": rule.summary},
                                "fullDescription": {"text": rule.why},
                                "help": {
                                    "text": f"{rule.why}\n\nInstead: {rule.instead}",
                                    "markdown": f"{rule.why}\n\n**Instead:** {rule.instead}",
                                },
                            }
                            for rule in rule_list
                        ],
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2)


def _when(finding: Finding) -> str:
    """``Rollback-time: `` before the message of a down script's finding."""
    return "Rollback-time (down script): " if finding.rollback_time else ""


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


_GITHUB_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def to_github(findings: Sequence[Finding], base: Path | None = None) -> str:
    """GitHub Actions workflow commands (``::error file=...,line=...::message``)."""
    lines = []
    for finding in findings:
        props = [f"title={_escape_property(finding.label)}"]
        if finding.file:
            props.insert(0, f"file={_escape_property(_relative_uri(finding.file, base))}")
            if finding.line:
                props.insert(1, f"line={finding.line}")
                if finding.column:
                    props.insert(2, f"col={finding.column}")
        message = _when(finding) + finding.message + (f" Hint: {finding.hint}"
                                                      if finding.hint else "")
        lines.append(
            f"::{_GITHUB_COMMAND[finding.severity]} {','.join(props)}::{_escape_data(message)}"
        )
    return "\n".join(lines)


def for_code_scanning(findings: Sequence[Finding], fmt: str) -> str:
    """``findings`` as ``sarif`` or ``github`` output, paths relative to the current
    folder, ready to write (``check`` and ``plan`` print them alike)."""
    if fmt == "sarif":
        from .. import __version__
        from ..rules import all_rules

        return to_sarif(findings, all_rules(), version=__version__, base=Path.cwd()) + "\n"
    text = to_github(findings, base=Path.cwd())
    return text + ("\n" if text else "")


def _md_cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def to_markdown(findings: Sequence[Finding], summary: CheckSummary) -> str:
    """A pull-request comment."""
    icon = "❌" if summary.errors else ("⚠️" if summary.warnings else "✅")
    head = (
        f"### {icon} switchy-guard: {summary.errors} error(s), {summary.warnings} warning(s), "
        f"{summary.infos} note(s){summary.rollback_note}\n\n"
        f"Checked {summary.migrations} migration(s), {summary.statements} statement(s).\n"
        + summary.dialect_note
    )
    if not findings:
        return head
    rows = ["", "| severity | rule | where | message | instead |", "|---|---|---|---|---|"]
    for f in findings:
        where = f"`{f.file}:{f.line}`" if f.file and f.line else (f"`{f.file}`" if f.file else "")
        rows.append(
            f"| {f.severity.value} | `{f.code}` {f.name}"
            f"{' (rollback-time)' if f.rollback_time else ''} | {_md_cell(where)} | "
            f"{_md_cell(f.message)} | {_md_cell(f.hint)} |"
        )
    return head + "\n".join(rows) + "\n"


def print_text(console: Any, findings: Sequence[Finding], summary: CheckSummary) -> None:
    """Findings for people: each with a code frame around the statement and its hint."""
    style = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
    frames = _FileLines()
    pieces: list[tuple[str, str | None]] = []
    for finding in findings:
        where = finding.file or finding.migration or ""
        if finding.file and finding.line:
            where = f"{finding.file}:{finding.line}:{finding.column or 1}"
        pieces += [(finding.severity.value, style[finding.severity]), (" ", None),
                   (finding.code, "bold"), (f" {finding.label.partition(' ')[2]}  {where}\n"
                                            f"  {finding.message}\n", None)]
        frame = _code_frame(finding, lines_of=frames)
        if frame:
            pieces.append((frame + "\n", None))
        if finding.hint:
            pieces += [("  ", None), ("instead:", "green"), (f" {finding.hint}\n", None)]
        pieces.append(("\n", None))
    pieces.append((
        f"{summary.errors} error(s), {summary.warnings} warning(s), {summary.infos} note(s)"
        f"{summary.rollback_note} in {summary.migrations} migration(s), "
        f"{summary.statements} statement(s)\n"
        + summary.dialect_note, None))
    if console.color_system is None:
        # Logs and pipes: no styles to render, so the text goes out as it is (rich took
        # 0.3 s for the 2,500 findings of a 10,000-migration backlog).
        console.file.write("".join(text for text, _ in pieces))
        return
    from rich.text import Text

    # Appended pieces are never read as markup, so SQL with [brackets] prints as it is.
    out = Text()
    for text, piece_style in pieces:
        out.append(text, style=piece_style)
    console.print(out, highlight=False, end="")


class _FileLines:
    """The lines of each file framed, read once however many findings it has."""

    def __init__(self) -> None:
        self._lines: dict[str, list[str] | None] = {}

    def __call__(self, file: str) -> list[str] | None:
        if file not in self._lines:
            try:
                text = Path(file).read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError):
                self._lines[file] = None
            else:
                # Lines end at \n only, as the splitter counts them: str.splitlines() also
                # breaks at \f, \x1c-\x1e, \x85 and U+2028/2029, which would frame the
                # wrong line.
                self._lines[file] = [line.removesuffix("\r") for line in text.split("\n")]
        return self._lines[file]


def _code_frame(finding: Finding, context: int = 1,
                lines_of: Callable[[str], list[str] | None] | None = None) -> str:
    """Lines of the file around the finding, the finding's line marked with ``>``."""
    if not finding.file or not finding.line:
        return ""
    lines = (lines_of or _FileLines())(finding.file)
    if lines is None:
        return ""
    start = max(finding.line - 1 - context, 0)
    end = min(finding.line + context, len(lines))
    width = len(str(end))
    column = (finding.column or 1) - 1
    # A long line (minified SQL, a one-line DO block) shows the part around the column:
    # printed whole, 10,000 findings on a 110 KB line made a gigabyte of output.
    left = max(column - FRAME_WIDTH // 2, 0)
    out = []
    for number in range(start + 1, end + 1):
        marker = ">" if number == finding.line else " "
        out.append(f"  {marker} {number:>{width}} | {_clipped(lines[number - 1], left)}")
        if number == finding.line and finding.column:
            caret = column - left + (3 if left else 0)
            out.append(f"    {' ' * width} | {' ' * caret}^")
    return "\n".join(out)


#: The characters of a framed line shown at most ("..." marks what is cut).
FRAME_WIDTH = 160


def _clipped(line: str, left: int) -> str:
    """``line`` from ``left`` on, at most FRAME_WIDTH characters of it."""
    if (len(line) <= FRAME_WIDTH and not left) or not line:
        return line
    part = line[left:left + FRAME_WIDTH]
    return ("..." if left else "") + part + ("..." if left + FRAME_WIDTH < len(line) else "")
