"""Naming and graph rules over the whole set of migrations (rules/naming.py, SG004, SG101-SG204)."""

from __future__ import annotations

from switchy_guard.model.migration import Migration
from switchy_guard.rules.naming import graph_hits
from tests.unit.rules.helpers import history_codes as codes
from tests.unit.rules.helpers import mig


def test_naming_rules() -> None:
    found = codes(
        mig("2024-01-01-000000_a"),
        mig("2024-01-01-000000_b"),
        mig("2024-13-01-000000_bad_month"),
        mig("add-users"),
        mig("2024-01-02-000000_no_down", down=None),
    )
    assert found.count("SG103") == 1
    assert found.count("SG101") == 2
    assert found.count("SG203") == 1


def test_graph_hits() -> None:
    dup = [mig("a"), Migration("a", "", None, "x", "y", source="other")]
    assert [(r.code, m) for r, _, m in graph_hits(dup)] == [
        ("SG004", "duplicate migration id 'a' (also in )")
    ]
    missing = [mig("a", depends_on=("zzz",))]
    assert [r.code for r, _, _ in graph_hits(missing)] == ["SG201"]
    cycle = [mig("a", depends_on=("b",)), mig("b", depends_on=("a",)),
             mig("c", depends_on=("a",)), mig("d")]
    hits = list(graph_hits(cycle))
    assert [(r.code, m) for r, _, m in hits] == [("SG202", "dependency cycle: a -> b -> a")]


def test_diesel_ids_are_no_naming_noise() -> None:
    """Ids Diesel itself accepts: hyphens and capitals in the name, its initial setup
    folder, the compact version of its docs (issue 15)."""
    found = codes(
        mig("00000000000000_diesel_initial_setup"),
        mig("2020-01-01-000000_create-users"),
        mig("2020-01-02-000000_Add_Posts"),
        mig("2020-01-03-000000_add.index"),
    )
    assert "SG101" not in found
    compact = codes(mig("20200101000000_create_users"), mig("20200102000000_posts"))
    assert "SG101" not in compact


def test_ids_diesel_rejects_or_misorders_are_sg101() -> None:
    from switchy_guard.rules.naming import naming_hits

    def sg101(*ids: str) -> list[str]:
        return [h.migration.id for h in naming_hits([mig(i) for i in ids])
                if h.rule.code == "SG101"]

    # No version before the first _, an empty name, no date.
    assert sg101("add-users", "2020-01-01-000000_", "2020-02-30-000000_x") == [
        "add-users", "2020-01-01-000000_", "2020-02-30-000000_x"]
    # Mixed spellings: as text 2020-01-02-... sorts first, Diesel runs 20200101... first.
    assert sg101("2020-01-02-000000_b", "20200101000000_a") == ["20200101000000_a"]
    # The same time in two spellings is one Diesel version: SG103.
    shared = [h.rule.code for h in naming_hits(
        [mig("2020-01-01-000000_a"), mig("20200101000000_b")])]
    assert shared == ["SG103"]
    # A custom pattern is still honoured as before.
    assert [h.migration.id for h in naming_hits([mig("2020-01-01-000000_Bad")],
                                            r"(\d{4}-\d{2}-\d{2}-\d{6})_[a-z_]+")
            if h.rule.code == "SG101"] == ["2020-01-01-000000_Bad"]
