"""How the impact report words what a plan touches."""

from __future__ import annotations

from switchy_guard.plan.impact import MigrationImpact, _objects
from switchy_guard.plan.rowcounts import RowImpact
from switchy_guard.report.impact import _rows_text
from switchy_guard.sql.classify import classify


def test_the_impact_report_names_other_created_objects() -> None:
    impact = MigrationImpact("m", True, True, [])
    for sql in ("CREATE TRIGGER audit AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()",
                "CREATE EXTENSION IF NOT EXISTS pgcrypto",
                "CREATE USER 'app'@'%' IDENTIFIED BY 'x'"):
        _objects(classify(sql, "mysql" if "USER" in sql else "postgres"), impact)
    assert impact.creates == ["trigger audit", "extension pgcrypto", "user"]


def test_the_impact_report_names_every_object_a_drop_lists() -> None:
    impact = MigrationImpact("m", True, True, [])
    for sql in ("DROP VIEW a, b", "DROP SCHEMA s1, s2 CASCADE", "DROP FUNCTION f(int), g(text)"):
        _objects(classify(sql, "postgres"), impact)
    assert impact.drops == ["view a", "view b", "schema s1", "schema s2", "function f",
                            "function g"]


def test_row_counts_read_as_english() -> None:
    assert _rows_text(RowImpact(1, "t", "drop column c", 1, non_null=1)) == \
        "1 row, 1 non-NULL value"
    assert _rows_text(RowImpact(1, "t", "drop column c", 1200, non_null=0)) == \
        "1,200 rows, 0 non-NULL values"
    assert _rows_text(RowImpact(1, "t", "drop table", 5000, estimate=True)) == \
        "~5,000 rows (estimate from statistics)"
    assert _rows_text(RowImpact(1, "t", "drop table", None)) == "unknown"
