"""Migration order: ids sort as strings, ``depends_on`` adds edges.

A layout whose tool orders versions otherwise (golang-migrate's numbers, Flyway's dotted
versions) sets ``Migration.order_key``; it is compared first (see :func:`sort_key`).

A topological sort (Kahn's algorithm) whose ready set is a heap keyed by id, so without
dependencies the order is exactly the string order, and with them the id order breaks
every tie.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any

from switchy_guard.errors import InputError
from switchy_guard.model.migration import Migration


def sort_key(migration: Migration) -> tuple[Any, ...]:
    """Where ``migration`` sorts: its ``order_key`` (when its layout has one), then its id."""
    return (migration.order_key or (), migration.id)


def same_version(migrations: Sequence[Migration]) -> list[tuple[Migration, Migration]]:
    """Pairs of migrations with different ids but one version (``order_key``): their
    tool would refuse them or pick one, so their order is ambiguous."""
    seen: dict[tuple[Any, ...], Migration] = {}
    pairs = []
    for migration in migrations:
        if migration.order_key is None:
            continue
        first = seen.setdefault(migration.order_key, migration)
        if first is not migration and first.id != migration.id:
            pairs.append((first, migration))
    return pairs


def order_migrations(
    migrations: Sequence[Migration], *, all_known: Sequence[Migration] | None = None
) -> list[Migration]:
    """Check ids and dependencies and return the migrations in run order.

    ``all_known`` holds every migration of the source, including those for other
    dialects: a dependency on one of those is satisfied by its absence here.
    """
    by_id: dict[str, Migration] = {}
    for migration in migrations:
        if not migration.id or not migration.id.strip():
            raise InputError("empty migration id", path=migration.source or None)
        if migration.id in by_id:
            first = by_id[migration.id]
            raise InputError(
                f"duplicate migration id {migration.id!r} (also in {first.source})",
                path=migration.source or None,
            )
        by_id[migration.id] = migration
    for first, second in same_version(migrations):
        raise InputError(
            f"migration {second.id!r} has the same version as {first.id!r} (also in "
            f"{first.source}): their order is ambiguous; renumber one",
            path=second.source or None,
        )
    known = {m.id for m in all_known} if all_known is not None else set(by_id)
    dependents: dict[str, list[str]] = {mid: [] for mid in by_id}
    waiting: dict[str, int] = {}
    for migration in migrations:
        count = 0
        for dependency in migration.depends_on:
            if dependency not in known:
                raise InputError(
                    f"migration {migration.id!r} depends on unknown migration {dependency!r}",
                    path=migration.source or None,
                )
            if dependency in by_id:
                dependents[dependency].append(migration.id)
                count += 1
        waiting[migration.id] = count
    ready = [sort_key(by_id[mid]) for mid, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    ordered: list[Migration] = []
    while ready:
        current = heapq.heappop(ready)[-1]
        ordered.append(by_id[current])
        for dependent in dependents[current]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                heapq.heappush(ready, sort_key(by_id[dependent]))
    if len(ordered) < len(by_id):
        cycle = find_cycle(by_id, {mid for mid, count in waiting.items() if count > 0})
        first = by_id[cycle[0]]
        raise InputError("dependency cycle: " + " -> ".join(cycle), path=first.source or None)
    return ordered


def find_cycle(by_id: dict[str, Migration], stuck: set[str]) -> list[str]:
    """One cycle among the ``stuck`` migrations, as a path that returns to its start."""
    start = min(stuck)
    path: list[str] = []
    seen: dict[str, int] = {}
    current = start
    while current not in seen:
        seen[current] = len(path)
        path.append(current)
        current = min(d for d in by_id[current].depends_on if d in stuck)
    return [*path[seen[current] :], current]
