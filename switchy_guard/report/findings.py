"""Renderers of ``check`` findings: text, json, sarif, github and markdown.

JSON shape (documented in the README)::

    {"findings": [{"code", "name", "severity", "migration", "file", "line", "column",
                   "statement", "message", "hint"[, "direction": "down"]}],
     "summary": {"errors", "warnings", "infos", "migrations", "statements"[,
                 "rollback_time": how many findings are rollback-time ones]}}

A finding in a down script (it bites at rollback) carries ``"direction": "down"``; every
format labels it "rollback-time" (SARIF: ``properties.direction`` and the message).

The JSON documents' schemas are in docs/schemas/ (versioned; see docs/json-output.md).
SARIF and GitLab Code Quality results carry the same fingerprint (:func:`fingerprints`):
the file, the rule, the direction and the statement, not the line, so a finding keeps its
identity when lines above it move.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from switchy_guard.model.findings import CheckSummary, Finding, Severity
from switchy_guard.rules.base import rule_anchor

if TYPE_CHECKING:
    from switchy_guard.check.pipeline import AllowedFinding

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_URI = "https://pypi.org/project/switchy-guard/"
#: Where docs/rules.md is read on the web; each rule's section is ``#<anchor>`` (rule_anchor).
#: Absolute, as SARIF ``helpUri`` must be; the one place the repository's URL is kept in
#: code (the README, action.yml and .pre-commit-hooks.yaml name the same repository:
#: tests/integration/test_ci_snippets.py checks they agree).
RULES_DOC_URL = "https://github.com/switchy-guard/switchy-guard/blob/main/docs/rules.md"
#: The key of switchy-guard's fingerprint in SARIF ``partialFingerprints``.
FINGERPRINT_KEY = "switchyGuard/v1"


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


def _normalised(finding: Finding) -> str:
    """What identifies a finding inside its file, whatever its line: the statement with
    whitespace collapsed and case folded (or the message, for findings on no statement)."""
    text = finding.statement if finding.statement is not None else finding.message
    return " ".join(text.split()).lower()


def fingerprints(findings: Sequence[Finding], base: Path | None = None) -> list[str]:
    """One stable fingerprint per finding: a hash of the file (relative to ``base``),
    the rule, the direction, the normalised statement and, for findings identical in
    all of those, their order of occurrence. The line is left out, so moving a statement
    (or adding lines above it) keeps its fingerprint; the occurrence index keeps two
    identical statements of one file apart."""
    seen: dict[str, int] = {}
    out = []
    for finding in findings:
        path = _relative_uri(finding.file, base) if finding.file else (finding.migration or "")
        key = "\0".join((path, finding.code, finding.direction, _normalised(finding)))
        index = seen.get(key, 0)
        seen[key] = index + 1
        out.append(hashlib.sha256(f"{key}\0{index}".encode()).hexdigest())
    return out


def _sarif_result(finding: Finding, fingerprint: str, index: dict[str, int],
                  base: Path | None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "level": _SARIF_LEVEL[finding.severity],
        "message": {
            "text": _when(finding) + finding.message
            + (f" Hint: {finding.hint}" if finding.hint else "")
        },
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
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
    return result


def _sarif_rule(rule: RuleDocs) -> dict[str, Any]:
    anchor = rule_anchor(rule.code, rule.name)
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.why},
        "helpUri": f"{RULES_DOC_URL}#{anchor}",
        "help": {
            "text": f"{rule.why}\n\nInstead: {rule.instead}",
            "markdown": f"{rule.why}\n\n**Instead:** {rule.instead}\n\n"
                        f"[{rule.code} {rule.name} in docs/rules.md]"
                        f"({RULES_DOC_URL}#{anchor})",
        },
    }


def automation_id(dialect: str | None, folder: str | Sequence[str] | None) -> str:
    """SARIF ``automationDetails.id``: ``switchy-guard/<dialect>/<folder>/`` (the part
    before the last slash is the category code scanning keeps one analysis per)."""
    folders = [folder] if isinstance(folder, str) else list(folder or ())
    where = ",".join(Path(f).as_posix().strip("/") for f in folders) or "-"
    return f"switchy-guard/{dialect or 'any-dialect'}/{where}/"


def to_sarif(
    findings: Sequence[Finding],
    rules: Iterable[RuleDocs],
    *,
    version: str,
    base: Path | None = None,
    allowed: Sequence[AllowedFinding] = (),
    automation: str | None = None,
) -> str:
    """SARIF 2.1.0: one result per finding, rules with help text, 1-based regions.

    File URIs are made relative to ``base`` (the repository root) where possible, as
    GitHub code scanning expects. ``allowed`` findings (an ``allow`` with a reason in
    the migration) are results too, suppressed ``inSource`` with the reason as the
    justification. ``automation`` is the run's ``automationDetails.id``.
    """
    rule_list = sorted(rules, key=lambda r: r.code)
    index = {rule.code: i for i, rule in enumerate(rule_list)}
    every = [*findings, *(a.finding for a in allowed)]
    prints = fingerprints(every, base)
    results = [_sarif_result(f, fp, index, base)
               for f, fp in zip(findings, prints, strict=False)]
    for item, fp in zip(allowed, prints[len(findings):], strict=True):
        result = _sarif_result(item.finding, fp, index, base)
        result["suppressions"] = [{"kind": "inSource", "justification": item.reason}]
        results.append(result)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "switchy-guard",
                "version": version,
                "informationUri": TOOL_URI,
                "rules": [_sarif_rule(rule) for rule in rule_list],
            }
        },
        "results": results,
    }
    if automation:
        run["automationDetails"] = {"id": automation}
    document = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2)


#: GitLab Code Quality severities (info, minor, major, critical, blocker) of ours.
GITLAB_SEVERITY = {Severity.ERROR: "critical", Severity.WARNING: "major",
                   Severity.INFO: "info"}


def to_gitlab(findings: Sequence[Finding], base: Path | None = None) -> str:
    """GitLab Code Quality (a Code Climate JSON array): description, check_name,
    fingerprint, severity, location.path and location.lines.begin of each finding."""
    issues = []
    for finding, fp in zip(findings, fingerprints(findings, base), strict=True):
        path = (_relative_uri(finding.file, base) if finding.file
                else finding.migration or "")
        issues.append({
            "type": "issue",
            "description": f"{finding.label}: {_when(finding)}{finding.message}",
            "check_name": finding.code,
            "fingerprint": fp,
            "severity": GITLAB_SEVERITY[finding.severity],
            "categories": ["Bug Risk"],
            "location": {"path": path, "lines": {"begin": finding.line or 1}},
        })
    return json.dumps(issues, indent=2)


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


def for_code_scanning(findings: Sequence[Finding], fmt: str, *,
                      allowed: Sequence[AllowedFinding] = (),
                      automation: str | None = None) -> str:
    """``findings`` as ``sarif``, ``gitlab`` or ``github`` output, paths relative to the
    current folder, ready to write (``check`` and ``plan`` print them alike)."""
    if fmt == "sarif":
        from switchy_guard.rules import all_rules
        from switchy_guard.version import __version__

        return to_sarif(findings, all_rules(), version=__version__, base=Path.cwd(),
                        allowed=allowed, automation=automation) + "\n"
    if fmt == "gitlab":
        return to_gitlab(findings, base=Path.cwd()) + "\n"
    text = to_github(findings, base=Path.cwd())
    return text + ("\n" if text else "")


def _md_cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


#: GitHub refuses a comment over 65,536 characters; the report stays under this.
MARKDOWN_LIMIT = 65_000
#: The characters of a message or hint shown at most in a Markdown table cell.
_MD_CELL = 400


def md_clip(text: str | None) -> str:
    """``text`` as one Markdown table cell of at most a few hundred characters."""
    text = _md_cell(text)
    return text if len(text) <= _MD_CELL else text[:_MD_CELL - 1] + "…"


def _md_row(f: Finding) -> str:
    where = f"`{f.file}:{f.line}`" if f.file and f.line else (f"`{f.file}`" if f.file else "")
    return (f"| {f.severity.value} | `{f.code}` {f.name}"
            f"{' (rollback-time)' if f.rollback_time else ''} | {md_clip(where)} | "
            f"{md_clip(f.message)} | {md_clip(f.hint)} |")


def md_counts(findings: Sequence[Finding]) -> list[str]:
    """The summary table: findings counted by rule and severity, worst first."""
    counts: dict[tuple[Severity, str, str], int] = {}
    for f in findings:
        counts[f.severity, f.code, f.name] = counts.get((f.severity, f.code, f.name), 0) + 1
    rows = ["| rule | severity | findings |", "|---|---|---:|"]
    for (severity, code, name), n in sorted(counts.items(),
                                            key=lambda kv: (-kv[0][0].rank, kv[0][1])):
        rows.append(f"| `{code}` {name} | {severity.value} | {n} |")
    return rows


def fit_comment(parts: Sequence[str], rows: Sequence[str], *, noun: str, see_all: str,
                limit: int = MARKDOWN_LIMIT) -> str:
    """``parts`` (the summary and a table's header), then as many of ``rows`` (worst
    first) as fit in ``limit`` characters. When some must be left out, the last line says
    how many ``noun`` (s) were and how to see them all (``see_all``)."""
    def note(left: int, shown: int) -> str:
        return (f"**{left} more {noun}(s) left out** to fit a pull-request comment "
                f"({shown} of {len(rows)} shown, worst first). See them all with {see_all}.")

    out = list(parts)
    size = sum(len(p) + 1 for p in out)
    budget = limit - len(note(len(rows), len(rows))) - 2  # room for the note and its gap
    shown = 0
    for row in rows:
        if size + len(row) + 1 > budget:
            break
        out.append(row)
        size += len(row) + 1
        shown += 1
    if shown < len(rows):
        out += ["", note(len(rows) - shown, shown)]
    return "\n".join(out) + "\n"


def to_markdown(findings: Sequence[Finding], summary: CheckSummary, *,
                allowed: int = 0, limit: int = MARKDOWN_LIMIT) -> str:
    """A pull-request comment of at most ``limit`` characters: the counts, a table of
    findings by rule and severity, then the findings, errors first. When they do not
    all fit, the last line says how many were left out and how to see them all."""
    icon = "❌" if summary.errors else ("⚠️" if summary.warnings else "✅")
    head = (
        f"### {icon} switchy-guard: {summary.errors} error(s), {summary.warnings} warning(s), "
        f"{summary.infos} note(s){summary.rollback_note}\n\n"
        f"Checked {summary.migrations} migration(s), {summary.statements} statement(s).\n"
        + summary.dialect_note
        + (f"{allowed} finding(s) allowed by their migrations (with a reason).\n"
           if allowed else "")
    )
    if not findings:
        return head
    ordered = sorted(findings, key=lambda f: -f.severity.rank)  # stable: file order kept
    parts = [head, *md_counts(ordered), "",
             "| severity | rule | where | message | instead |", "|---|---|---|---|---|"]
    return fit_comment(parts, [_md_row(f) for f in ordered], noun="finding",
                       see_all="`switchy-guard check --format text` (or `--format json`, "
                               "`--format sarif`)", limit=limit)


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
