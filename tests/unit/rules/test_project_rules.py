"""Suppressions, naming and graph rules."""

from __future__ import annotations

from switchy_guard.check.pipeline import validate
from switchy_guard.model.migration import Allow, Migration
from switchy_guard.rules import get_rule
from switchy_guard.rules.naming import graph_hits
from switchy_guard.rules.suppression import parse_allow_comment


def mig(mid: str, up: str = "SELECT 1", down: str | None = "DROP TABLE IF EXISTS x",
        **kw: object) -> Migration:
    return Migration(mid, up, down, "a", "b", up_path=f"m/{mid}/up.sql", **kw)  # type: ignore[arg-type]


def codes(*migrations: Migration, dialect: str = "postgres") -> list[str]:
    return [f.code for f in validate(list(migrations), dialect).findings]


def test_allow_comment_with_reason_suppresses() -> None:
    sql = "-- switchy-guard: allow drop-table -- archived in S3 first\nDROP TABLE old;"
    assert codes(mig("2024-01-01-000000_a", sql)) == []
    by_code = "-- switchy-guard: allow SG301 -- archived\nDROP TABLE old;"
    assert codes(mig("2024-01-01-000000_a", by_code)) == []


def test_allow_comment_only_covers_its_own_statement() -> None:
    sql = "-- switchy-guard: allow drop-table -- archived\nDROP TABLE a;\nDROP TABLE b;"
    assert codes(mig("2024-01-01-000000_a", sql)) == ["SG301"]


def test_allow_without_reason_is_an_error_and_does_not_suppress() -> None:
    sql = "-- switchy-guard: allow drop-table\nDROP TABLE old;"
    assert sorted(codes(mig("2024-01-01-000000_a", sql))) == ["SG301", "SG900"]


def test_unused_allows_are_reported() -> None:
    sql = "-- switchy-guard: allow drop-table -- cleanup\nSELECT 1;"
    meta = mig("2024-01-01-000000_a", "SELECT 1", allow=(Allow("truncate", "old"),))
    assert codes(mig("2024-01-01-000000_b", sql)) == ["SG901"]
    assert codes(meta) == ["SG901"]


def test_metadata_allow_covers_the_whole_migration_and_naming_rules() -> None:
    migration = mig("2024-01-01-000000_a", "DROP TABLE a;\nDROP TABLE b;", down=None,
                    allow=(Allow("drop-table", "both retired"), Allow("irreversible", "data")))
    assert codes(migration) == []


def test_several_rules_in_one_comment() -> None:
    assert parse_allow_comment("switchy-guard: allow drop-table, SG305 -- why") == (
        ["drop-table", "SG305"], "why")
    assert parse_allow_comment("just a comment") is None


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


def test_rule_lookup_and_docs() -> None:
    rule = get_rule("drop-column")
    assert rule is not None and get_rule("sg302") is rule
    docs = rule.docs()
    assert docs.startswith("SG302 drop-column (error; mysql, postgres, sqlite)")
    assert "Why:" in docs and "Instead:" in docs and "Use instead:" in docs
    assert get_rule("nope") is None


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
