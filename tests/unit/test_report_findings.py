"""Renderers of findings: JSON shape, SARIF 2.1.0, GitHub annotations, Markdown, text."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from switchy_guard.model.findings import CheckSummary, Finding, Severity
from switchy_guard.report.findings import print_text, to_github, to_json, to_markdown, to_sarif


@dataclass
class Doc:
    code: str
    name: str
    summary: str
    why: str
    instead: str


RULES = [
    Doc(
        "SG302",
        "drop-column",
        "drops a column",
        "Old code still reads it.",
        "Stop reading it first.",
    ),
    Doc("SG203", "irreversible", "no down script", "Cannot roll back.", "Write down.sql."),
]


def findings(tmp_path: Path) -> list[Finding]:
    sql = tmp_path / "repo" / "m" / "2024-01-01-000000_a" / "up.sql"
    sql.parent.mkdir(parents=True)
    sql.write_text("SELECT 1;\nALTER TABLE users DROP COLUMN email;\nSELECT 2;\n")
    return [
        Finding(
            "SG302",
            "drop-column",
            Severity.ERROR,
            "2024-01-01-000000_a",
            str(sql),
            2,
            1,
            "ALTER TABLE users DROP COLUMN email",
            "drops users.email: 50%, data, lost",
            "Stop reading it first.",
        ),
        Finding(
            "SG203",
            "irreversible",
            Severity.INFO,
            "2024-01-01-000000_a",
            None,
            None,
            None,
            None,
            "no down script",
            None,
        ),
    ]


def test_json_shape(tmp_path: Path) -> None:
    items = findings(tmp_path)
    data = json.loads(to_json(items, CheckSummary.of(items, 1, 3)))
    assert data["summary"] == {
        "errors": 1,
        "warnings": 0,
        "infos": 1,
        "migrations": 1,
        "statements": 3,
    }
    assert set(data["findings"][0]) == {
        "code",
        "name",
        "severity",
        "migration",
        "file",
        "line",
        "column",
        "statement",
        "message",
        "hint",
    }
    assert data["findings"][0]["severity"] == "error"
    assert data["findings"][1]["line"] is None


def test_sarif_document(tmp_path: Path) -> None:
    items = findings(tmp_path)
    doc = json.loads(to_sarif(items, RULES, version="9.9", base=tmp_path / "repo"))
    assert doc["version"] == "2.1.0" and "sarif-2.1.0" in doc["$schema"]
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["SG203", "SG302"]
    assert rules[1]["help"]["text"].startswith("Old code still reads it.")
    first, second = run["results"]
    assert first["ruleId"] == "SG302" and first["ruleIndex"] == 1 and first["level"] == "error"
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "m/2024-01-01-000000_a/up.sql"
    assert location["region"] == {"startLine": 2, "startColumn": 1}
    assert second["level"] == "note" and "locations" not in second


def test_github_annotations_are_escaped(tmp_path: Path) -> None:
    items = findings(tmp_path)
    lines = to_github(items, base=tmp_path / "repo").splitlines()
    assert lines[0] == (
        "::error file=m/2024-01-01-000000_a/up.sql,line=2,col=1,title=SG302 drop-column::"
        "drops users.email: 50%25, data, lost Hint: Stop reading it first."
    )
    assert lines[1] == "::notice title=SG203 irreversible::no down script"


def test_markdown_comment(tmp_path: Path) -> None:
    items = findings(tmp_path)
    text = to_markdown(items, CheckSummary.of(items, 1, 3))
    assert text.startswith("### ❌ switchy-guard: 1 error(s), 0 warning(s), 1 note(s)")
    assert "| error | `SG302` drop-column |" in text
    clean = to_markdown([], CheckSummary.of([], 2, 5))
    assert clean.startswith("### ✅") and "|" not in clean


def test_text_has_a_code_frame(tmp_path: Path) -> None:
    items = findings(tmp_path)
    out = io.StringIO()
    print_text(Console(file=out, no_color=True, width=200), items, CheckSummary.of(items, 1, 3))
    text = out.getvalue()
    assert "error SG302 drop-column" in text
    assert "  > 2 | ALTER TABLE users DROP COLUMN email" in text
    assert "    1 | SELECT 1;" in text
    assert "instead: Stop reading it first." in text
    assert text.rstrip().endswith(
        "1 error(s), 0 warning(s), 1 note(s) in 1 migration(s), 3 statement(s)"
    )


def test_json_without_findings_is_valid_and_one_finding_per_line(tmp_path: Path) -> None:
    empty = json.loads(to_json([], CheckSummary(0, 0, 0, 2, 5)))
    assert empty == {"findings": [], "summary": {"errors": 0, "warnings": 0, "infos": 0,
                                                 "migrations": 2, "statements": 5}}
    items = findings(tmp_path)
    text = to_json(items, CheckSummary.of(items, 1, 2))
    assert len(text.splitlines()) == 4  # "[", one line per finding, "], summary"
    assert json.loads(text)["findings"] == [f.to_dict() for f in items]
    assert json.loads(text)["findings"][1]["severity"] == "info"


def test_code_frame_counts_lines_like_the_splitter(tmp_path: Path) -> None:
    """A form feed or U+2028 inside a line is not a line break for the finding's line."""
    sql = tmp_path / "up.sql"
    sql.write_bytes("-- note\u2028still the note\r\nSELECT 1;\fSELECT 2;\r\nDROP TABLE users;\r\n"
                    .encode())
    finding = Finding("SG301", "drop-table", Severity.ERROR, "m", str(sql), 3, 1,
                      "DROP TABLE users", "drops table users", None)
    out = io.StringIO()
    print_text(Console(file=out, no_color=True, width=200), [finding],
               CheckSummary.of([finding], 1, 3))
    assert "  > 3 | DROP TABLE users;\n" in out.getvalue()


def test_a_long_line_is_framed_around_the_column(tmp_path: Path) -> None:
    """A one-line file of 100 KB printed whole for each of its findings."""
    from switchy_guard.report.findings import FRAME_WIDTH, _code_frame

    sql = tmp_path / "up.sql"
    head = "SELECT 1; " * 5_000
    sql.write_text(head + "DROP TABLE users; " + "SELECT 2; " * 5_000 + "\n")
    finding = Finding("SG301", "drop-table", Severity.ERROR, "m", str(sql), 1,
                      len(head) + 1, "DROP TABLE users", "drops table users", None)
    frame = _code_frame(finding).splitlines()
    assert len(frame) == 3 and all(len(line) < FRAME_WIDTH + 20 for line in frame)
    shown, caret, after = frame
    assert after == "    2 | "  # the empty line after it
    assert shown.startswith("  > 1 | ...") and shown.endswith("...")
    assert shown[caret.index("^"):].startswith("DROP TABLE users")
    short = Finding("SG301", "drop-table", Severity.ERROR, "m", str(sql), 1, 3,
                    None, "m", None)
    first, caret_line, _ = _code_frame(short).splitlines()
    assert first.startswith("  > 1 | SELECT 1;") and not first.startswith("  > 1 | ...")
    assert first[caret_line.index("^"):].startswith("LECT 1;")


def test_sarif_uris_are_uri_references_inside_the_base(tmp_path: Path) -> None:
    # A SARIF uri is a URI, not a path: a space or % is percent-encoded, and a file
    # outside the base (``-m ../db/migrations`` from a subfolder) is an absolute file:
    # URI, never a relative one climbing out of the repository with ``..``.
    base = tmp_path / "repo" / "sub"
    outside = "../db/2024-01-01-000000_a b%/up.sql"
    items = [Finding("SG302", "drop-column", Severity.ERROR, "m", file, 1, 1, None, "x", None)
             for file in ("m/2024-01-01-000000_a b%/up.sql", outside)]
    doc = json.loads(to_sarif(items, RULES, version="9.9", base=base))
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in doc["runs"][0]["results"]]
    assert uris == ["m/2024-01-01-000000_a%20b%25/up.sql",
                    (tmp_path / "repo" / "db" / "2024-01-01-000000_a b%" / "up.sql").as_uri()]


def test_text_on_a_colour_terminal_says_the_same_as_plain_text(tmp_path: Path) -> None:
    """Two paths print findings: plain text (logs, pipes) and a styled rich Text on a
    colour terminal. Without its escapes the styled one must read the same, SQL with
    [brackets] included (no markup is read from it)."""
    import re
    from dataclasses import replace

    items = findings(tmp_path)
    items[0] = replace(items[0], message="drops [users].[email] [bold]now[/]")
    summary = CheckSummary.of(items, 1, 3)
    plain, styled = io.StringIO(), io.StringIO()
    print_text(Console(file=plain, no_color=True, width=200), items, summary)
    colour = Console(file=styled, force_terminal=True, color_system="standard", width=200)
    print_text(colour, items, summary)
    assert "\x1b[" in styled.getvalue()  # the styled path ran
    assert re.sub(r"\x1b\[[0-9;]*m", "", styled.getvalue()) == plain.getvalue()
    assert "drops [users].[email] [bold]now[/]" in plain.getvalue()
