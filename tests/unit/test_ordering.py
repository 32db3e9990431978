"""Order: string order, depends_on edges, id tie-breaker; bad graphs are errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchy_guard.errors import InputError
from switchy_guard.model.migration import Migration
from switchy_guard.model.ordering import order_migrations


def mig(mid: str, *deps: str) -> Migration:
    return Migration(mid, "", None, "x", "y", depends_on=deps, source=f"src/{mid}")


def ids(migrations: list[Migration]) -> list[str]:
    return [m.id for m in migrations]


def test_ids_sort_as_strings() -> None:
    given_ = [mig("2024-02-01_b"), mig("2024-01-01_a"), mig("2024-01-01_A")]
    assert ids(order_migrations(given_)) == ["2024-01-01_A", "2024-01-01_a", "2024-02-01_b"]


def test_depends_on_adds_edges_with_id_tie_breaker() -> None:
    ordered = order_migrations([mig("a", "c"), mig("b"), mig("c"), mig("d")])
    assert ids(ordered) == ["b", "c", "a", "d"]


def test_duplicate_id_is_an_error_naming_both() -> None:
    with pytest.raises(InputError) as info:
        order_migrations([mig("a"), Migration("a", "", None, "x", "y", source="other/a")])
    assert info.value.one_line() == "other/a: duplicate migration id 'a' (also in src/a)"


def test_cycle_is_printed_as_a_path() -> None:
    with pytest.raises(InputError) as info:
        order_migrations([mig("a", "c"), mig("b", "a"), mig("c", "b"), mig("d")])
    assert info.value.one_line() == "src/a: dependency cycle: a -> c -> b -> a"


def test_self_dependency_is_a_cycle() -> None:
    with pytest.raises(InputError, match=r"^src/a: dependency cycle: a -> a$"):
        order_migrations([mig("a", "a")])


def test_missing_dependency_is_an_error() -> None:
    with pytest.raises(InputError) as info:
        order_migrations([mig("b"), mig("a", "b", "zzz")])
    assert info.value.one_line() == "src/a: migration 'a' depends on unknown migration 'zzz'"
    assert info.value.path == "src/a"


def test_dependency_on_another_dialects_migration_is_satisfied() -> None:
    only_pg = mig("p")
    ordered = order_migrations([mig("a", "p")], all_known=[mig("a", "p"), only_pg])
    assert ids(ordered) == ["a"]


def test_empty_id_is_an_error() -> None:
    for empty in ("", " ", "\t"):
        with pytest.raises(InputError) as info:
            order_migrations([mig("a"), Migration(empty, "", None, "x", "y", source="m/blank")])
        assert info.value.one_line() == "m/blank: empty migration id"
        assert info.value.path == "m/blank"


def test_every_error_names_the_file_it_comes_from() -> None:
    # One case per error order_migrations raises; the file named is the migration at
    # fault (for a cycle, the one whose id starts the path printed).
    cases: list[tuple[list[Migration], str]] = [
        ([mig("a"), mig(" ")], "src/ : empty migration id"),
        ([mig("a"), mig("b"), Migration("b", "", None, "x", "y", source="other/b")],
         "other/b: duplicate migration id 'b' (also in src/b)"),
        ([mig("a"), mig("b", "a", "nope")],
         "src/b: migration 'b' depends on unknown migration 'nope'"),
        ([mig("a"), mig("b", "c"), mig("c", "b")], "src/b: dependency cycle: b -> c -> b"),
    ]
    for migrations, expected in cases:
        with pytest.raises(InputError) as info:
            order_migrations(migrations)
        assert str(info.value) == expected


def test_cycle_starts_at_its_smallest_stuck_id_outside_the_ready_ones() -> None:
    # "a" and "z" run; "b" and "c" wait on each other: only they are in the cycle.
    with pytest.raises(InputError, match=r"^src/b: dependency cycle: b -> c -> b$"):
        order_migrations([mig("a"), mig("b", "c", "a"), mig("c", "b"), mig("z", "a")])


def test_cycle_reached_through_a_waiting_migration_prints_the_cycle_alone() -> None:
    # "a" waits on "b", which is in the cycle b <-> c: "a" is stuck, not in the cycle.
    with pytest.raises(InputError, match=r"^src/b: dependency cycle: b -> c -> b$"):
        order_migrations([mig("a", "b"), mig("b", "c"), mig("c", "b")])


def test_cycle_follows_the_smallest_dependency() -> None:
    # "a" is in two cycles (a <-> b, a <-> c): the one through the smaller id is printed.
    with pytest.raises(InputError, match=r"^src/a: dependency cycle: a -> b -> a$"):
        order_migrations([mig("a", "c", "b"), mig("b", "a"), mig("c", "a")])


def test_errors_without_a_source_name_no_file() -> None:
    bare = [Migration("a", "", None, "x", "y", depends_on=("a",))]
    with pytest.raises(InputError) as info:
        order_migrations(bare)
    assert info.value.path is None
    assert str(info.value) == "dependency cycle: a -> a"


@given(st.lists(st.text(alphabet="abcdef0123", min_size=1, max_size=6), unique=True))
def test_without_dependencies_order_is_sorted(names: list[str]) -> None:
    assert ids(order_migrations([mig(n) for n in names])) == sorted(names)


@given(st.data())
def test_dependencies_always_come_first(data: st.DataObject) -> None:
    names = data.draw(
        st.lists(
            st.text(alphabet="abc123", min_size=1, max_size=4), unique=True, min_size=1, max_size=12
        )
    )
    # Only edges to earlier names in a random permutation: always acyclic.
    order = data.draw(st.permutations(names))
    migrations = []
    for index, name in enumerate(order):
        deps = data.draw(st.lists(st.sampled_from(order[:index]), unique=True)) if index else []
        migrations.append(mig(name, *deps))
    ordered = ids(order_migrations(migrations))
    position = {name: i for i, name in enumerate(ordered)}
    for migration in migrations:
        for dep in migration.depends_on:
            assert position[dep] < position[migration.id]
