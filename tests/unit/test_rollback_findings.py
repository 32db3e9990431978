"""Down scripts through the validator pipeline: the same rules, over the schema the
applied migrations left, their findings rollback-time ones in every report format."""

from __future__ import annotations

import json

from switchy_guard.check.pipeline import ValidationResult, parse_migration, validate_rollback
from switchy_guard.model.findings import CheckSummary, Finding
from switchy_guard.model.migration import Allow, Migration
from switchy_guard.report.findings import to_github, to_json, to_markdown, to_sarif
from switchy_guard.rules import all_rules

P = "postgres"
BASE = "2024-01-01-000000_users"
SECOND = "2024-01-02-000000_second"


def migration(migration_id: str, up: str, down: str | None, *,
              allow: tuple[Allow, ...] = ()) -> Migration:
    return Migration(migration_id, up, down, "u", "d", allow=allow,
                     up_path=f"{migration_id}/up.sql",
                     down_path=None if down is None else f"{migration_id}/down.sql")


def rolled_back(down: str, *, dialect: str = P, allow: tuple[Allow, ...] = (),
                second_up: str = "SELECT 1;\n") -> ValidationResult:
    """Roll back SECOND (whose down script is ``down``) over BASE's users table."""
    base = migration(BASE, "CREATE TABLE users (id INT, email VARCHAR(255));\n",
                     "DROP TABLE users;\n")
    second = migration(SECOND, second_up, down, allow=allow)
    return validate_rollback([base, second], dialect, applied={BASE, SECOND},
                             plan=[SECOND])


def codes(result: ValidationResult) -> list[str]:
    return [f.code for f in result.findings]


def test_a_down_scripts_findings_are_rollback_time_and_point_at_down_sql() -> None:
    result = rolled_back("SELECT 1;\nDROP TABLE users;\n")
    (finding,) = result.findings
    assert (finding.code, finding.direction, finding.rollback_time) == ("SG301", "down", True)
    assert (finding.file, finding.line, finding.migration) == (f"{SECOND}/down.sql", 2, SECOND)
    assert finding.label == "SG301 drop-table (rollback-time)"
    assert result.migrations == 1 and result.statements == 2


def test_a_do_block_in_a_down_script_is_opened() -> None:
    down = "DO $$ BEGIN EXECUTE 'DROP TABLE users'; END $$;\n"
    parsed = parse_migration(migration(SECOND, "SELECT 1;", down), P, "down")
    assert [info.kind for _, info in parsed] == ["do", "drop_table"]
    assert codes(rolled_back(down)) == ["SG301"]
    mariadb = "BEGIN NOT ATOMIC\n  EXECUTE IMMEDIATE 'DELETE FROM users';\nEND;\n"
    assert "SG305" in codes(rolled_back(mariadb, dialect="mysql"))


def test_the_schema_model_starts_where_the_applied_migrations_left_it() -> None:
    # users exists (BASE applied): indexing it without CONCURRENTLY locks it.
    assert codes(rolled_back("CREATE INDEX i ON users (email);\n")) == ["SG401"]
    # A table the down script itself creates again is new and empty: nothing to lock.
    assert codes(rolled_back("CREATE TABLE old (id INT);\nCREATE INDEX j ON old (id);\n")) == []


def test_an_allow_in_down_sql_or_metadata_covers_the_down_script() -> None:
    commented = rolled_back("-- switchy-guard: allow drop-table -- rolled back with the app\n"
                            "DROP TABLE users;\n")
    assert commented.findings == []
    (allowed,) = commented.allowed
    assert allowed.finding.rollback_time and allowed.reason == "rolled back with the app"
    in_metadata = rolled_back("DROP TABLE users;\n",
                              allow=(Allow("drop-table", "first release"),))
    assert in_metadata.findings == [] and in_metadata.allowed[0].reason == "first release"
    # A metadata allow for the up script is not "unused" in the down script's pass (the
    # up script's pass reports that).
    unrelated = rolled_back("SELECT 1;\n", allow=(Allow("drop-column", "up only"),))
    assert unrelated.findings == []


def down_finding() -> Finding:
    (finding,) = rolled_back("DROP TABLE users;\n").findings
    return finding


def test_every_format_labels_a_rollback_time_finding() -> None:
    finding = down_finding()
    summary = CheckSummary.of([finding], 1, 1)
    assert json.loads(to_json([finding], summary))["findings"][0]["direction"] == "down"
    (result,) = json.loads(to_sarif([finding], all_rules(), version="0"))["runs"][0]["results"]
    assert result["properties"] == {"direction": "down"}
    assert result["message"]["text"].startswith("Rollback-time (down script): ")
    assert "title=SG301 drop-table (rollback-time)" in to_github([finding])
    assert "`SG301` drop-table (rollback-time)" in to_markdown([finding], summary)


def test_an_up_scripts_finding_keeps_its_shape() -> None:
    finding = Finding("SG301", "drop-table", down_finding().severity, BASE, "up.sql", 1, 1,
                      "DROP TABLE users", "drops", None)
    assert "direction" not in finding.to_dict() and finding.label == "SG301 drop-table"
    (result,) = json.loads(to_sarif([finding], all_rules(), version="0"))["runs"][0]["results"]
    assert "properties" not in result and result["message"]["text"] == "drops"
