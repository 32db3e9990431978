"""Naming and graph rules over the whole set of migrations (SG004, SG101-SG203)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import NamedTuple

from ..findings import Severity
from ..migration import Migration
from .base import ALL, Rule
from .suppression import ALLOW_WITHOUT_REASON

DEFAULT_ID_PATTERN = r"(\d{4}-\d{2}-\d{2}-\d{6})_[a-z0-9][a-z0-9_]*"

Hit = tuple[Migration, str]

DUPLICATE_ID = Rule(
    "SG004", "duplicate-id", Severity.ERROR, ALL,
    "Two migrations share an id.",
    "The tracking table knows migrations by id: one of the two would never run, or run in "
    "place of the other.",
    "Rename one of them (switchy-guard create gives a fresh timestamp).",
    "migrations/2024-01-01-000000_a/ and code migration 2024-01-01-000000_a",
    "2024-01-01-000000_a and 2024-01-01-000001_b",
)

INVALID_ID = Rule(
    "SG101", "invalid-id", Severity.WARNING, ALL,
    "An id that does not follow YYYY-MM-DD-HHMMSS_snake_name, or whose timestamp is no date.",
    "Ids sort as plain strings: only a fixed-width timestamp prefix makes that order "
    "chronological. A bad date shows a hand-edited name.",
    "Create migrations with `switchy-guard create NAME`.",
    "migrations/add-users/  or  2024-13-45-000000_x",
    "migrations/2024-03-01-120000_add_users/",
)

UNKNOWN_DIALECT_FOLDER = Rule(
    "SG102", "unknown-dialect-folder", Severity.ERROR, ALL,
    "A folder under the root that is neither a migration nor sqlite/, postgres/ or mysql/.",
    "A typo such as postgresql/ would make a whole tree of migrations invisible. It is "
    "reported as bad input (exit code 2) when the migrations are read.",
    "Rename it to sqlite, postgres or mysql, or move it out of the migrations folder.",
    "migrations/postgresql/2024-01-01-000000_a/",
    "migrations/postgres/2024-01-01-000000_a/",
)

SHARED_TIMESTAMP = Rule(
    "SG103", "shared-timestamp", Severity.WARNING, ALL,
    "Two ids with the same timestamp prefix.",
    "Their order then rests on the names alone, which is rarely what their authors meant "
    "(two branches merged the same second).",
    "Give one of them a later timestamp, or add depends_on to say the order.",
    "2024-01-01-000000_add_a\n2024-01-01-000000_add_b",
    "2024-01-01-000000_add_a\n2024-01-01-000100_add_b",
)

MISSING_DEPENDENCY = Rule(
    "SG201", "missing-dependency", Severity.ERROR, ALL,
    "depends_on names a migration that does not exist.",
    "The order the author asked for cannot be honoured.",
    "Fix the id in metadata.toml.",
    'depends_on = ["2024-01-01-000000_creat_users"]',
    'depends_on = ["2024-01-01-000000_create_users"]',
)

DEPENDENCY_CYCLE = Rule(
    "SG202", "dependency-cycle", Severity.ERROR, ALL,
    "Migrations that depend on each other in a circle.",
    "No order satisfies a cycle, so nothing can run.",
    "Remove one of the depends_on edges; the message prints the cycle as a path.",
    "a depends_on b, b depends_on a",
    "b depends_on a",
)

IRREVERSIBLE = Rule(
    "SG203", "irreversible", Severity.INFO, ALL,
    "A migration without a down script (info), or whose down script is empty or holds "
    "only comments while its up changes the schema (warning).",
    "It cannot be rolled back: a rollback past it stops before anything runs. An empty "
    "down (Diesel writes one holding only a comment) would report success and undo "
    "nothing: the column the up added stays, and the next migrate fails on it.",
    "Write the down script. If rolling back is meant to do nothing, say so: down = "
    "\"noop\" in metadata.toml, or a `-- switchy-guard: noop-down -- reason` line in "
    "down.sql.",
    "up.sql:   ALTER TABLE users ADD COLUMN manage boolean;\n"
    "down.sql: -- This file should undo anything in `up.sql`",
    "down.sql: ALTER TABLE users DROP COLUMN manage;",
)

RULES = (
    DUPLICATE_ID, INVALID_ID, UNKNOWN_DIALECT_FOLDER, SHARED_TIMESTAMP, MISSING_DEPENDENCY,
    DEPENDENCY_CYCLE, IRREVERSIBLE,
)


class NamingHit(NamedTuple):
    """A naming rule's hit: the rule, the migration, the message, and where it is when
    that is not the migration itself (a file and line of its down script)."""

    rule: Rule
    migration: Migration
    message: str
    severity: Severity | None = None
    file: str | None = None
    line: int | None = None


def naming_hits(
    migrations: Sequence[Migration], pattern: str = DEFAULT_ID_PATTERN,
    *, earlier_ids: Sequence[str] = (),
) -> Iterator[NamingHit]:
    """SG101, SG103 and SG203 over ``migrations`` (in run order), and SG900 for a
    noop-down comment without a reason.

    ``earlier_ids`` run before ``migrations`` and are not reported on themselves: a
    timestamp they used is shared by a migration here that uses it too.
    """
    compiled = re.compile(pattern)
    seen_prefix: dict[str, str] = {}
    for earlier in earlier_ids:
        match = compiled.fullmatch(earlier)
        if match is not None and match.groups():
            seen_prefix.setdefault(match.group(1), earlier)
    for migration in migrations:
        match = compiled.fullmatch(migration.id)
        if match is None:
            yield NamingHit(INVALID_ID, migration,
                            f"id {migration.id!r} does not match {pattern}")
        elif match.groups():
            stamp = match.group(1)
            try:
                # The constructor checks the calendar, and is far cheaper than strptime.
                datetime(int(stamp[:4]), int(stamp[5:7]), int(stamp[8:10]),
                         int(stamp[11:13]), int(stamp[13:15]), int(stamp[15:17]))
            except ValueError:
                yield NamingHit(INVALID_ID, migration,
                                f"{stamp} in {migration.id!r} is not a real time")
            if stamp in seen_prefix:
                yield NamingHit(SHARED_TIMESTAMP, migration,
                                f"shares timestamp {stamp} with {seen_prefix[stamp]}: their "
                                "order rests on the names alone")
            else:
                seen_prefix[stamp] = migration.id
        yield from _down_hits(migration)


def _down_hits(migration: Migration) -> Iterator[NamingHit]:
    """SG203 for a missing or empty down; SG900 for a noop-down comment without reason."""
    down = migration.down
    if isinstance(down, str) and "noop-down" in down.lower():
        from ..objects import noop_down_comment

        declared = noop_down_comment(down)
        if declared is not None and not declared[1]:
            yield NamingHit(ALLOW_WITHOUT_REASON, migration,
                            "noop-down has no reason: it declares nothing (write the reason "
                            "after a second --)", file=migration.down_path, line=declared[0])
    if migration.irreversible == "missing":
        yield NamingHit(IRREVERSIBLE, migration, "no down script: it cannot be rolled back")
    elif migration.irreversible == "empty":
        yield NamingHit(IRREVERSIBLE, migration, empty_down_message(migration),
                        severity=Severity.WARNING, file=migration.down_path)


def empty_down_message(migration: Migration, dialect: str | None = None) -> str:
    """SG203's message for an empty down: what rolling back would leave in place, and
    how to declare a deliberate no-op."""
    from ..objects import created_objects, describe, left_behind, parse_script

    up = migration.up
    made = left_behind(created_objects(parse_script(up, dialect or migration.parse_dialect)),
                       ()) if isinstance(up, str) else []
    what = describe(made) if made else "what the up changed"
    return (f"the down script is empty: rolling back would leave {what} in place (write "
            "the down, or declare a deliberate no-op: down = \"noop\" in metadata.toml, or "
            "a `-- switchy-guard: noop-down -- reason` line in down.sql)")


def graph_hits(migrations: Sequence[Migration]) -> Iterator[tuple[Rule, Migration, str]]:
    """SG004, SG201 and SG202 (the loader refuses these; ``check`` reports them all)."""
    by_id: dict[str, Migration] = {}
    for migration in migrations:
        if migration.id in by_id:
            first = by_id[migration.id].source
            yield (DUPLICATE_ID, migration,
                   f"duplicate migration id {migration.id!r} (also in {first})")
        else:
            by_id[migration.id] = migration
    for migration in migrations:
        for dependency in migration.depends_on:
            if dependency not in by_id:
                yield (MISSING_DEPENDENCY, migration,
                       f"depends on unknown migration {dependency!r}")
    from ..ordering import find_cycle

    remaining = {m for m in by_id if any(d in by_id for d in by_id[m].depends_on)}
    # Peel off migrations whose dependencies are all settled; what stays is in a cycle
    # or depends on one.
    changed = True
    while changed:
        changed = False
        for mid in sorted(remaining):
            if not any(d in remaining for d in by_id[mid].depends_on if d in by_id):
                remaining.discard(mid)
                changed = True
    reported: set[str] = set()
    while remaining - reported:
        try:
            cycle = find_cycle(by_id, remaining - reported)
        except ValueError:
            break
        reported.update(cycle)
        yield DEPENDENCY_CYCLE, by_id[cycle[0]], "dependency cycle: " + " -> ".join(cycle)
