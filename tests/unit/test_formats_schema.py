"""Every machine format against its schema: SARIF 2.1.0 (the OASIS schema, vendored),
GitLab Code Quality's documented fields, the JSON documents' own schemas (docs/schemas),
bounded Markdown, and docs/rules.md generated from the rule registry."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

from switchy_guard.model.findings import Finding, Severity
from switchy_guard.plan.impact import ImpactReport, MigrationImpact
from switchy_guard.report import findings as render
from switchy_guard.report.impact import render_markdown as render_plan_markdown
from switchy_guard.rules import all_rules
from switchy_guard.rules.docs import render as render_rules_doc
from tests.cli_helpers import run_cli, write_migration

ROOT = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif" / "sarif-schema-2.1.0.json"
SCHEMAS = ROOT / "docs" / "schemas"

UP = (
    "-- switchy-guard: allow drop-table -- retired in 2023, backed up\n"
    "DROP TABLE old;\n"
    "DROP TABLE users;\n"
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with one migration: an allowed DROP TABLE and one not allowed."""
    monkeypatch.chdir(tmp_path)
    write_migration(tmp_path / "migrations", "2024-01-01-000000_a", UP,
                    down="CREATE TABLE users (id int);\nCREATE TABLE old (id int);\n")
    return tmp_path


def _check(*extra: str) -> Any:
    result = run_cli("check", "-m", "migrations", "--dialect", "postgres", "--no-cache", *extra)
    assert result.code == 1, result.err
    return result


def _validator(name: str) -> jsonschema.protocols.Validator:
    resources = [(path.name, Resource.from_contents(json.loads(path.read_text())))
                 for path in SCHEMAS.glob("*.json")]
    registry: Registry[Any] = Registry().with_resources(resources)
    schema = json.loads((SCHEMAS / name).read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, registry=registry)  # type: ignore[call-arg]


# -- SARIF ---------------------------------------------------------------------------


def test_sarif_validates_and_keeps_allowed_findings_as_suppressed(project: Path) -> None:
    document = json.loads(_check("--format", "sarif").out)
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.Draft4Validator(schema).validate(document)
    run = document["runs"][0]
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["SG301", "SG301"]
    plain, suppressed = results
    assert "suppressions" not in plain
    assert suppressed["suppressions"] == [
        {"kind": "inSource", "justification": "retired in 2023, backed up"}]
    assert suppressed["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    prints = [r["partialFingerprints"][render.FINGERPRINT_KEY] for r in results]
    assert len(set(prints)) == 2
    assert run["automationDetails"]["id"] == "switchy-guard/postgres/migrations/"


def test_sarif_rules_link_to_their_section_of_docs_rules_md() -> None:
    document = json.loads(render.to_sarif([], all_rules(), version="0"))
    found = re.findall(r'<a id="([^"]+)"></a>', (ROOT / "docs" / "rules.md").read_text())
    anchors = set(found)
    assert len(found) == len(anchors) == len(all_rules())  # one section a rule, none shared
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    assert len(rules) == len(all_rules())
    for rule in rules:
        assert rule["helpUri"].startswith(render.RULES_DOC_URL + "#")
        assert rule["helpUri"].partition("#")[2] in anchors
        assert rule["help"]["markdown"].endswith(f"]({rule['helpUri']})")
    assert "sg301-drop-table" in anchors


def test_plan_sarif_has_the_allowed_finding_suppressed(project: Path) -> None:
    result = run_cli("plan", "-m", "migrations", "-d", f"sqlite:///{project / 'x.db'}",
                     "--format", "sarif")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(document)
    kinds = [r.get("suppressions", [{}])[0].get("kind") for r in document["runs"][0]["results"]]
    assert kinds == [None, "inSource"]  # the finding, then the allowed one


# -- fingerprints and GitLab -------------------------------------------------------------


def _finding(line: int, statement: str = "DROP TABLE users", file: str = "m/up.sql") -> Finding:
    return Finding("SG301", "drop-table", Severity.ERROR, "m", file, line, 1, statement,
                   "drops table users")


def test_fingerprints_survive_moved_lines_and_tell_identical_statements_apart() -> None:
    before = render.fingerprints([_finding(3), _finding(9), _finding(12, "DROP TABLE  x")])
    after = render.fingerprints([_finding(30), _finding(41), _finding(50, "drop table x")])
    assert before == after
    assert len(set(before)) == 3
    assert render.fingerprints([_finding(3, file="other/up.sql")])[0] != before[0]


GITLAB_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


def test_gitlab_code_quality_has_the_documented_fields(project: Path) -> None:
    issues = json.loads(_check("--format", "gitlab").out)
    assert len(issues) == 1  # the allowed DROP TABLE is left out
    (issue,) = issues
    assert issue["check_name"] == "SG301"
    assert issue["severity"] in GITLAB_SEVERITIES and issue["severity"] == "critical"
    assert issue["location"] == {"path": "migrations/2024-01-01-000000_a/up.sql",
                                 "lines": {"begin": 3}}
    assert isinstance(issue["description"], str) and "users" in issue["description"]
    assert re.fullmatch(r"[0-9a-f]{64}", issue["fingerprint"])
    sarif = json.loads(_check("--format", "sarif").out)["runs"][0]["results"][0]
    assert sarif["partialFingerprints"][render.FINGERPRINT_KEY] == issue["fingerprint"]


def test_gitlab_fingerprints_unique_across_many_findings() -> None:
    findings = [_finding(n, f"DROP TABLE t{n % 50}", f"m{n % 7}/up.sql") for n in range(1, 400)]
    issues = json.loads(render.to_gitlab(findings))
    assert len({i["fingerprint"] for i in issues}) == len(findings)
    for issue in issues:
        assert issue["severity"] in GITLAB_SEVERITIES
        assert issue["location"]["lines"]["begin"] >= 1


def test_gitlab_is_refused_for_verbs_without_findings(project: Path) -> None:
    result = run_cli("list", "-m", "migrations", "--format", "gitlab")
    assert result.code == 2
    assert "only for check and plan" in result.err


# -- Markdown ----------------------------------------------------------------------------


def test_markdown_of_thousands_of_findings_fits_a_comment() -> None:
    findings = [
        Finding("SG301" if n % 3 else "SG401", "drop-table" if n % 3 else "lock",
                Severity.WARNING if n % 3 == 0 else Severity.ERROR, f"m{n}",
                f"migrations/2024-01-01-{n:06d}_x/up.sql", n, 1, "DROP TABLE t",
                "drops table t and every row in it " + "x" * (n % 200), "Do not.")
        for n in range(4000)
    ]
    summary = render.CheckSummary.of(findings, 4000, 8000)
    text = render.to_markdown(findings, summary)
    assert len(text) <= render.MARKDOWN_LIMIT
    lines = text.splitlines()
    table = lines.index("| rule | severity | findings |")
    assert lines[table + 2] == "| `SG301` drop-table | error | 2666 |"
    assert lines[table + 3] == "| `SG401` lock | warning | 1334 |"
    rows = [line for line in lines if line.startswith(("| error |", "| warning |"))]
    assert rows and all(r.startswith("| error |") for r in rows)  # worst first
    shown = len(rows)
    assert f"**{4000 - shown} more finding(s) left out**" in text
    assert "--format json" in text


def test_markdown_that_fits_is_whole_and_says_nothing_was_cut() -> None:
    findings = [_finding(n) for n in range(1, 20)]
    text = render.to_markdown(findings, render.CheckSummary.of(findings, 1, 19))
    assert text.count("| error | `SG301`") == 19
    assert "left out" not in text


def _plan_of(n: int, direction: str = "up") -> ImpactReport:
    """A plan of ``n`` migrations: every tenth drops a table (an error), the rest add
    a long-named column; each creates and alters a long list of objects."""
    migrations = []
    for i in range(n):
        worst = i % 10 == 9
        finding = Finding("SG301" if worst else "SG401", "drop-table" if worst else "lock",
                          Severity.ERROR if worst else Severity.WARNING, f"m{i:05d}",
                          f"migrations/m{i:05d}/up.sql", 1, 1, "DROP TABLE t", "x" * 300)
        migrations.append(MigrationImpact(
            f"2024-01-01-{i:06d}_m", True, not worst, ["ALTER TABLE t ADD c int"],
            creates=[f"column t.c{j}" for j in range(40)], alters=["table t"],
            findings=[finding]))
    return ImpactReport(direction, "postgres", migrations, [], live=False)


@pytest.mark.parametrize("direction", ["up", "down"])
def test_plan_markdown_of_thousands_of_migrations_fits_a_comment(direction: str) -> None:
    text = render_plan_markdown(_plan_of(2600, direction))
    assert len(text) <= render.MARKDOWN_LIMIT
    lines = text.splitlines()
    assert lines[0] == "### switchy-guard plan: 2600 migration(s) on postgres"
    summary = "\n".join(lines[:lines.index("| rule | severity | findings |") + 4])
    assert "260 error(s), 2340 warning(s)" in summary  # the summary comes first
    assert "| `SG301` drop-table | error | 260 |" in summary
    rows = [line for line in lines if re.match(r"\| \d+ \|", line)]
    # The most severe first: the 260 migrations with an error, in run order, then the rest.
    worst_first = [*range(9, 2600, 10), *(i for i in range(2600) if i % 10 != 9)]
    assert 100 < len(rows) < 2600
    assert [r.split(" | ")[1] for r in rows] == [
        f"2024-01-01-{i:06d}_m" for i in worst_first[:len(rows)]]
    assert rows[0].startswith("| 10 |") and "error `SG301`" in rows[0]
    command = "plan" if direction == "up" else "rollback --plan"
    assert f"**{2600 - len(rows)} more migration(s) left out**" in lines[-1]
    assert f"`switchy-guard {command} --format text`" in lines[-1]


def test_plan_markdown_that_fits_is_whole() -> None:
    text = render_plan_markdown(_plan_of(12))
    assert len(re.findall(r"^\| \d+ \|", text, re.M)) == 12
    assert "left out" not in text


# -- several formats from one run (check --write FORMAT:FILE) -----------------------------


def test_check_writes_more_formats_from_one_run(project: Path) -> None:
    written = _check("--format", "github", "--write", "sarif:out.sarif",
                     "--write", "markdown:summary.md", "--write", "gitlab:gl.json",
                     "--write", "json:out.json")
    assert written.out == _check("--format", "github").out
    for fmt, file in (("sarif", "out.sarif"), ("markdown", "summary.md"),
                      ("gitlab", "gl.json"), ("json", "out.json")):
        assert (project / file).read_text() == _check("--format", fmt).out, fmt
    suppressed = json.loads((project / "out.sarif").read_text())["runs"][0]["results"][1]
    assert suppressed["suppressions"][0]["justification"] == "retired in 2023, backed up"


@pytest.mark.parametrize(("write", "error"), [
    ("sarif:missing/out.sarif", "error: --write sarif:missing/out.sarif: folder missing "
                                "does not exist"),
    ("text:out.txt", "error: argument --write: 'text:out.txt' is not FORMAT:FILE"),
    ("out.sarif", "error: argument --write: 'out.sarif' is not FORMAT:FILE"),
])
def test_check_write_refuses_bad_input_before_the_run(project: Path, write: str,
                                                      error: str) -> None:
    result = run_cli("check", "-m", "migrations", "--dialect", "postgres", "--no-cache",
                     "--write", write)
    assert result.code == 2
    assert result.out == ""  # refused before anything was checked or printed
    (line,) = result.error_lines
    assert line.startswith(error)


# -- JSON schemas ------------------------------------------------------------------------


def test_check_json_matches_its_schema(project: Path) -> None:
    validator = _validator("check-v1.json")
    validator.validate(json.loads(_check("--format", "json").out))
    # Without a dialect: the summary says which dialects were tried.
    result = run_cli("check", "-m", "migrations", "--no-cache", "--format", "json")
    validator.validate(json.loads(result.out))
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"findings": [{"code": "SG301"}], "summary": {}})


def test_plan_and_status_json_match_their_schemas(project: Path) -> None:
    url = f"sqlite:///{project / 'x.db'}"
    plan = run_cli("plan", "-m", "migrations", "-d", url, "--format", "json")
    assert plan.code == 0, plan.err
    document = json.loads(plan.out)
    _validator("plan-v1.json").validate(document)
    assert document["migrations"][0]["allowed"][0]["reason"] == "retired in 2023, backed up"
    status = run_cli("status", "-m", "migrations", "-d", url, "--format", "json")
    assert status.code == 0, status.err
    _validator("status-v1.json").validate(json.loads(status.out))


def test_failure_json_matches_its_schema(project: Path) -> None:
    result = run_cli("plan", "-m", "migrations", "-d", "sqlite:///x.db", "--to", "nope",
                     "--format", "json")
    assert result.code == 2
    _validator("failure-v1.json").validate(json.loads(result.out))


# -- docs/rules.md -------------------------------------------------------------------------


def test_docs_rules_md_is_generated_from_the_registry() -> None:
    on_disk = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert on_disk == render_rules_doc(), (
        "docs/rules.md is stale: run `python -m switchy_guard.rules.docs > docs/rules.md`")
    for rule in all_rules():
        assert f"## {rule.code} {rule.name}" in on_disk
