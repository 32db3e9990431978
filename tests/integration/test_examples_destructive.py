"""examples/destructive_project: plan and rollback --plan report the real row counts."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import create_engine

from switchy_guard.runtime.db import parse_url
from tests.cli_helpers import run_cli

ROOT = Path(__file__).resolve().parents[2] / "examples" / "destructive_project" / "migrations"


def real_counts(db_url: str) -> tuple[int, int]:
    engine = create_engine(parse_url(db_url))
    with engine.connect() as conn:
        rows, with_fax = conn.exec_driver_sql("SELECT COUNT(*), COUNT(fax) FROM customers").one()
    engine.dispose()
    return int(rows), int(with_fax)


def test_plan_and_rollback_plan_figures_are_the_real_counts(db_url: str) -> None:
    common = ["-m", ROOT, "-d", db_url]
    assert run_cli("migrate", "--steps", "2", *common).code == 0
    rows, with_fax = real_counts(db_url)
    assert (rows, with_fax) == (5, 2)
    plan = json.loads(run_cli("plan", *common, "--format", "json").out)
    (step,) = plan["migrations"]
    (impact,) = step["rows"]
    assert (impact["what"], impact["rows"], impact["non_null"]) == ("drop column fax", rows,
                                                                    with_fax)
    assert step["findings"] == []  # the drop is allowed, with its reason
    assert run_cli("migrate", *common).code == 0
    back = json.loads(run_cli("rollback", "--all", "--plan", *common, "--format", "json").out)
    figures = {m["id"]: [(r["what"], r["rows"]) for r in m["rows"]] for m in back["migrations"]}
    assert figures["2024-03-01-090000_create_customers"] == [("drop table", rows)]
    assert figures["2024-03-03-090000_drop_fax"] == []  # its down adds a column back
    text = run_cli("rollback", "--all", "--plan", *common).out
    assert f"drop table on customers: {rows} rows" in text
