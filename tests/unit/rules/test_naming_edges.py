"""Naming and graph rules (rules/naming.py): each hit's rule, migration and message, where
it points (a down script's file and line), and the ids that must stay silent."""

from __future__ import annotations

from switchy_guard.model.migration import Migration
from switchy_guard.rules.naming import (
    DIRECTORY_IDS,
    IdRule,
    empty_down_message,
    graph_hits,
    naming_hits,
    ordering_hits,
)

Hit = tuple[str, str, str]


def mig(mid: str, up: str = "SELECT 1", down: str | None = "DROP TABLE IF EXISTS x",
        **kw: object) -> Migration:
    return Migration(mid, up, down, "a", "b", up_path=f"m/{mid}/up.sql",
                     down_path=f"m/{mid}/down.sql", **kw)  # type: ignore[arg-type]


def named(*migrations: Migration, pattern: str | IdRule = DIRECTORY_IDS,
          earlier: tuple[str, ...] = ()) -> list[Hit]:
    return [(h.rule.code, h.migration.id, h.message)
            for h in naming_hits(list(migrations), pattern, earlier_ids=earlier)]


def shares(mid: str, stamp: str, other: str) -> Hit:
    return ("SG103", mid, f"shares timestamp {stamp} with {other}: their order rests on the "
                          "names alone")


def diesel_first(mid: str, after: str, version: str) -> Hit:
    return ("SG101", mid, f"sorts after {after!r} as text (the order ids run in here) but its "
                          f"version {version} is earlier: Diesel would run it before")


def test_directory_ids_shared_stamps_impossible_times_and_misorders() -> None:
    found = named(mig("2024-01-01-000000_a"), mig("2024-01-01-000000_b"),
                  mig("20240101000000_c"), mig("2024-02-30-000000_x"),
                  mig("00000000000000_setup"), mig("add-users"))
    assert found == [
        shares("2024-01-01-000000_b", "2024-01-01-000000", "2024-01-01-000000_a"),
        # The same time spelt without hyphens is the same Diesel version.
        shares("20240101000000_c", "20240101000000", "2024-01-01-000000_a"),
        diesel_first("20240101000000_c", "2024-02-30-000000_x", "20240101000000"),
        ("SG101", "2024-02-30-000000_x",
         "2024-02-30-000000 in '2024-02-30-000000_x' is not a real time"),
        ("SG101", "add-users", "id 'add-users' does not match <version>_<name> with a "
                               "YYYY-MM-DD-HHMMSS (or YYYYMMDDHHMMSS) version"),
    ]


def test_earlier_ids_share_and_misorder_but_are_not_reported_themselves() -> None:
    assert named(mig("2024-01-01-000000_a"), earlier=("2024-01-01-000000_z", "junk")) == [
        shares("2024-01-01-000000_a", "2024-01-01-000000", "2024-01-01-000000_z")]
    assert named(mig("20240103000000_a"), earlier=("2024-01-05-000000_e",)) == [
        diesel_first("20240103000000_a", "2024-01-05-000000_e", "20240103000000")]
    assert named(mig("2024-01-05-000000_e"), earlier=("20240103000000_a",)) == []
    assert named(mig("2024-01-02-000000_b"), earlier=("20240103000000_a",)) == []
    # Only the first of a run of smaller versions is not the latest: each is reported.
    assert named(mig("2024-01-02-000000_b"), mig("20240101000000_a"),
                 mig("2024-01-03-000000_c")) == [
        diesel_first("20240101000000_a", "2024-01-03-000000_c", "20240101000000")]


def test_a_custom_pattern_reads_its_first_group_or_no_stamp() -> None:
    assert named(mig("V1__a"), mig("V1__b"), pattern=r"V(\d+)__\w+") == [
        shares("V1__b", "1", "V1__a")]
    # No group: no timestamp to share or to judge.
    assert named(mig("x1"), mig("x1b"), pattern=r"x\d\w*") == []
    assert named(mig("20241301000000_a"), mig("2024-01-01-24000_b"), pattern=r"(\d+)_\w+") == [
        ("SG101", "20241301000000_a", "20241301000000 in '20241301000000_a' is not a real time"),
        ("SG101", "2024-01-01-24000_b", "id '2024-01-01-24000_b' does not match (\\d+)_\\w+")]
    # A plain pattern has no run order of its own: text order is the order.
    assert named(mig("2024-01-02-000000_b"), mig("2024-01-01-000000_a"),
                 pattern=r"(\d{4}-\d{2}-\d{2}-\d{6})_\w+") == []


def test_down_hits_point_at_the_down_script() -> None:
    hits = list(naming_hits([
        mig("2024-01-01-000000_a", down=None), mig("2024-01-02-000000_b", down=""),
        mig("2024-01-03-000000_c", down="SELECT 1;\n-- switchy-guard: noop-down\n"),
        mig("2024-01-04-000000_d", down="-- switchy-guard: noop-down -- nothing made\n"),
        mig("2024-01-05-000000_e", up="CREATE TABLE t (id int);", down="  ")]))
    assert [(h.rule.code, h.migration.id, h.message, h.severity, h.file, h.line)
            for h in hits] == [
        ("SG203", "2024-01-01-000000_a", "no down script: it cannot be rolled back", None, None,
         None),
        ("SG900", "2024-01-03-000000_c", "noop-down has no reason: it declares nothing (write "
         "the reason after a second --)", None, "m/2024-01-03-000000_c/down.sql", 2),
        ("SG203", "2024-01-05-000000_e", "the down script is empty: rolling back would leave "
         "table t in place (write the down, or declare a deliberate no-op: down = \"noop\" in "
         "metadata.toml, or a `-- switchy-guard: noop-down -- reason` line in down.sql)",
         "warning", "m/2024-01-05-000000_e/down.sql", None),
    ]


def test_graph_hits_report_each_cycle_once_and_unknown_dependencies() -> None:
    def graph(*migrations: Migration) -> list[Hit]:
        return [(r.code, m.id, message) for r, m, message in graph_hits(list(migrations))]

    assert graph(mig("a", depends_on=("b",)), mig("b", depends_on=("a",)),
                 mig("c", depends_on=("d",)), mig("d", depends_on=("c",)),
                 mig("e", depends_on=("a", "zzz")), mig("f", depends_on=("e",))) == [
        ("SG201", "e", "depends on unknown migration 'zzz'"),
        ("SG202", "a", "dependency cycle: a -> b -> a"),
        ("SG202", "c", "dependency cycle: c -> d -> c")]
    assert graph(mig("a"), mig("b", depends_on=("a",)), mig("c", depends_on=("b", "a"))) == []
    assert graph(mig("a", depends_on=("a",))) == [("SG202", "a", "dependency cycle: a -> a")]


def test_ordering_hits_for_string_sorted_versions_and_shared_versions() -> None:
    def ordering(migrations: list[Migration], layout: str | None) -> list[Hit]:
        return [(r.code, m.id, message) for r, m, message in ordering_hits(migrations, layout)]

    numbers = [mig("9"), mig("10"), mig("100"), mig("11")]
    assert ordering(numbers, "dbmate") == [
        ("SG101", "11", "dbmate runs 100 before 11 (it sorts versions as text) though 11 is "
                        "the smaller number: pad versions to one width"),
        ("SG101", "9", "dbmate runs 11 before 9 (it sorts versions as text) though 9 is the "
                       "smaller number: pad versions to one width")]
    for layout in ("auto", "switchy", None, "flyway"):
        assert ordering(numbers, layout) == []
    padded = [mig("009"), mig("010")]
    assert ordering(padded, "dbmate") == []
    # One number in two widths is no misorder (it is one version, SG004's when a layout
    # reads it so).
    assert ordering([mig("010"), mig("10")], "dbmate") == []
    twins = [mig("V1__a", order_key=(1,), source="V1__a.sql"),
             mig("V1.0__b", order_key=(1,), source="V1.0__b.sql"), mig("V2__c", order_key=(2,))]
    assert ordering(twins, "flyway") == [
        ("SG004", "V1.0__b", "same version as V1__a (V1__a.sql): the order of the two is "
                             "ambiguous; renumber one")]


def test_a_real_time_is_checked_field_by_field() -> None:
    """Each field of YYYYMMDDHHMMSS at its own place: the last valid value of each passes,
    the first invalid one is SG101 (April has 30 days)."""
    valid = ["2024-12-31-235959", "20231130225858", "2024-02-29-120000"]
    assert named(*[mig(f"{stamp}_a") for stamp in valid]) == []
    for stamp in ("2024-13-01-000000", "2024-04-31-000000", "2023-02-29-000000",
                  "2024-01-01-240000", "2024-01-01-006000", "2024-01-01-000060"):
        assert named(mig(f"{stamp}_a")) == [
            ("SG101", f"{stamp}_a", f"{stamp} in '{stamp}_a' is not a real time")], stamp


def test_an_id_rule_reads_its_stamp_group_wherever_it_is() -> None:
    rule = IdRule(pattern=r"(v)(?P<stamp>\d+)_\w+", describe="v<n>_<name>")
    assert named(mig("v1_a"), mig("v1_b"), mig("v2_c"), pattern=rule) == [
        shares("v1_b", "1", "v1_a")]


def test_cycles_are_found_past_settled_dependencies() -> None:
    """A migration depending on a settled one is no part of a cycle; a cycle member that
    also depends on a settled (or unknown) migration still is."""
    def graph(*migrations: Migration) -> list[Hit]:
        return [(r.code, m.id, message) for r, m, message in graph_hits(list(migrations))]

    assert graph(mig("a", depends_on=("q",)), mig("q"), mig("c", depends_on=("d", "q")),
                 mig("d", depends_on=("c",))) == [
        ("SG202", "c", "dependency cycle: c -> d -> c")]
    # A chain settled only in a second pass (b's dependency z1 sorts after it).
    assert graph(mig("b", depends_on=("z1",)), mig("z1", depends_on=("q",)), mig("q"),
                 mig("c", depends_on=("d",)), mig("d", depends_on=("c",))) == [
        ("SG202", "c", "dependency cycle: c -> d -> c")]
    assert graph(mig("a", depends_on=("b", "zzz")), mig("b", depends_on=("a",))) == [
        ("SG201", "a", "depends on unknown migration 'zzz'"),
        ("SG202", "a", "dependency cycle: a -> b -> a")]


def test_a_misorder_names_the_first_id_of_the_greatest_version() -> None:
    rule = IdRule(pattern=r"(\d+)_\w+", describe="<n>_<name>",
                  order_key=lambda mid: mid.split("_")[1])
    assert named(mig("1_b"), mig("2_b"), mig("3_a"), pattern=rule) == [
        ("SG101", "3_a", "sorts after '1_b' as text (the order ids run in here) but its "
                         "version a is earlier: Diesel would run it before")]


def test_an_empty_downs_message_names_what_the_up_made_in_its_dialect() -> None:
    up = "CREATE TABLE t (id int);\n/* old /* nested */ CREATE TABLE u (id int); */"
    migration = Migration("2024-01-01-000000_a", up, "", "a", "b")
    tail = ("in place (write the down, or declare a deliberate no-op: down = \"noop\" in "
            "metadata.toml, or a `-- switchy-guard: noop-down -- reason` line in down.sql)")
    assert empty_down_message(migration, "postgres") == (
        f"the down script is empty: rolling back would leave table t {tail}")
    data = Migration("2024-01-01-000000_a", "UPDATE users SET a = 1", "", "a", "b")
    assert empty_down_message(data) == (
        f"the down script is empty: rolling back would leave what the up changed {tail}")
