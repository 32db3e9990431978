"""Naming and graph rules over the whole set of migrations (SG004, SG101-SG203)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from switchy_guard.model.findings import Severity
from switchy_guard.model.migration import Migration
from switchy_guard.rules.base import ALL, Rule
from switchy_guard.rules.suppression import ALLOW_WITHOUT_REASON

#: What ``switchy-guard create`` makes: a timestamp and a snake_case name.
DEFAULT_ID_PATTERN = r"(\d{4}-\d{2}-\d{2}-\d{6})_[a-z0-9][a-z0-9_]*"


@dataclass(frozen=True, kw_only=True)
class IdRule:
    """The ids a layout's own tool accepts and the order it runs them in: what SG101
    holds a history of that layout to.

    ``pattern`` must match the whole id; its group ``stamp`` (else its first group) is
    the timestamp, which must be a real time (all zeros is the deliberate "before
    everything" of a setup migration). ``order_key``, when given, is the key the tool
    runs migrations by: an id whose key is smaller than one before it in this tool's
    run order (ids sorted as text) would run in another order there. ``stamp_key``
    gives the part of the id two migrations must not share (SG103).
    """

    pattern: str
    describe: str
    order_key: Callable[[str], str] | None = None

    def stamp_key(self, stamp: str) -> str:
        """The timestamp as the tool compares it (hyphens dropped)."""
        return stamp.replace("-", "") if self.order_key is not None else stamp


def diesel_version(migration_id: str) -> str:
    """The version Diesel (and switchy_schema's directory layout after it) reads from a
    folder name: the part before the first ``_``, hyphens removed. Diesel runs
    migrations in the order of these versions compared as text."""
    return migration_id.partition("_")[0].replace("-", "")


#: The directory layout shared by switchy_schema and Diesel (``<id>/up.sql``): a
#: version of 14 digits (``YYYY-MM-DD-HHMMSS``, or ``YYYYMMDDHHMMSS`` as Diesel's docs
#: write it), ``_``, then any name (Diesel accepts hyphens and capitals there; its own
#: ``00000000000000_diesel_initial_setup`` comes first by design).
DIRECTORY_IDS = IdRule(
    pattern=r"(?P<stamp>\d{4}-\d{2}-\d{2}-\d{6}|\d{14})_\S.*",
    describe="<version>_<name> with a YYYY-MM-DD-HHMMSS (or YYYYMMDDHHMMSS) version",
    order_key=diesel_version,
)


def _as_id_rule(pattern: str | IdRule) -> IdRule:
    return pattern if isinstance(pattern, IdRule) else IdRule(pattern=pattern, describe=pattern)


def _not_a_time(stamp: str) -> bool:
    """Whether ``stamp`` (14 digits, hyphens allowed) is neither a real time nor all
    zeros; other shapes (a custom pattern's) are not judged."""
    digits = stamp.replace("-", "")
    if len(digits) != 14 or not digits.isdigit() or not digits.strip("0"):
        return False
    try:
        # The constructor checks the calendar, and is far cheaper than strptime.
        datetime(int(digits[:4]), int(digits[4:6]), int(digits[6:8]),
                 int(digits[8:10]), int(digits[10:12]), int(digits[12:14]))
    except ValueError:
        return True
    return False

Hit = tuple[Migration, str]

DUPLICATE_ID = Rule(
    code="SG004", name="duplicate-id", severity=Severity.ERROR, dialects=ALL,
    summary="Two migrations share an id.",
    why="The tracking table knows migrations by id: one of the two would never run, or run in "
        "place of the other.",
    instead="Rename one of them (switchy-guard create gives a fresh timestamp).",
    example="migrations/2024-01-01-000000_a/ and code migration 2024-01-01-000000_a",
    fixed="2024-01-01-000000_a and 2024-01-01-000001_b",
)

INVALID_ID = Rule(
    code="SG101", name="invalid-id", severity=Severity.WARNING, dialects=ALL,
    summary="An id its layout's own tool would reject or run in another order: not "
            "<version>_<name> with a YYYY-MM-DD-HHMMSS (or YYYYMMDDHHMMSS) version, a version "
            "that is no date, or one that sorts before an earlier migration's.",
    why="Ids sort as plain strings: only a fixed-width timestamp prefix makes that order "
        "chronological, and Diesel orders by the version alone (hyphens dropped), so a "
        "history mixing the two spellings runs in different orders. A bad date shows a "
        "hand-edited name. Diesel's names (hyphens or capitals after the version, its "
        "00000000000000_diesel_initial_setup) are accepted.",
    instead="Create migrations with `switchy-guard create NAME`.",
    example="migrations/add-users/  or  2024-13-45-000000_x",
    fixed="migrations/2024-03-01-120000_add_users/",
)

UNKNOWN_DIALECT_FOLDER = Rule(
    code="SG102", name="unknown-dialect-folder", severity=Severity.ERROR, dialects=ALL,
    summary="A folder under the root that is neither a migration nor a database folder: sqlite/, "
            "postgres/ or mysql/, or the names other tools use for them (sqlite3/, postgresql/, "
            "mariadb/); or two folders for one database (postgres/ and postgresql/).",
    why="A typo such as postgress/ would make a whole tree of migrations invisible. It is "
        "reported as bad input (exit code 2) when the migrations are read.",
    instead="Rename it to sqlite, postgres or mysql, or move it out of the migrations folder.",
    example="migrations/postgress/2024-01-01-000000_a/",
    fixed="migrations/postgres/2024-01-01-000000_a/",
)

SHARED_TIMESTAMP = Rule(
    code="SG103", name="shared-timestamp", severity=Severity.WARNING, dialects=ALL,
    summary="Two ids with the same timestamp prefix.",
    why="Their order then rests on the names alone, which is rarely what their authors meant "
        "(two branches merged the same second).",
    instead="Give one of them a later timestamp, or add depends_on to say the order.",
    example="2024-01-01-000000_add_a\n2024-01-01-000000_add_b",
    fixed="2024-01-01-000000_add_a\n2024-01-01-000100_add_b",
)

MISSING_DEPENDENCY = Rule(
    code="SG201", name="missing-dependency", severity=Severity.ERROR, dialects=ALL,
    summary="depends_on names a migration that does not exist.",
    why="The order the author asked for cannot be honoured.",
    instead="Fix the id in metadata.toml.",
    example='depends_on = ["2024-01-01-000000_creat_users"]',
    fixed='depends_on = ["2024-01-01-000000_create_users"]',
)

DEPENDENCY_CYCLE = Rule(
    code="SG202", name="dependency-cycle", severity=Severity.ERROR, dialects=ALL,
    summary="Migrations that depend on each other in a circle.",
    why="No order satisfies a cycle, so nothing can run.",
    instead="Remove one of the depends_on edges; the message prints the cycle as a path.",
    example="a depends_on b, b depends_on a",
    fixed="b depends_on a",
)

IRREVERSIBLE = Rule(
    code="SG203", name="irreversible", severity=Severity.INFO, dialects=ALL,
    summary="A migration without a down script (info), or whose down script is empty or holds "
            "only comments while its up changes the schema (warning).",
    why="It cannot be rolled back: a rollback past it stops before anything runs. An empty "
        "down (Diesel writes one holding only a comment) would report success and undo "
        "nothing: the column the up added stays, and the next migrate fails on it.",
    instead="Write the down script. If rolling back is meant to do nothing, say so: down = "
            "\"noop\" in metadata.toml, or a `-- switchy-guard: noop-down -- reason` line in "
            "down.sql.",
    example="up.sql:   ALTER TABLE users ADD COLUMN manage boolean;\n"
            "down.sql: -- This file should undo anything in `up.sql`",
    fixed="down.sql: ALTER TABLE users DROP COLUMN manage;",
)

UNMERGED_BRANCHES = Rule(
    code="SG204", name="unmerged-branches", severity=Severity.WARNING, dialects=ALL,
    summary="A framework's migration graph (Alembic revisions, Django migrations of one app) has "
            "more than one head: two branches that were never merged.",
    why="The tool refuses to migrate (Alembic: multiple heads; Django: conflicting "
        "migrations) until someone merges them, often in the middle of a deploy; and the two "
        "branches run in an order nobody chose.",
    instead="Merge the branches with a merge revision or migration (`alembic merge heads`, "
            "`manage.py makemigrations --merge`) and review its order.",
    example="b2 (down_revision a1) and c3 (down_revision a1), nothing after them",
    fixed="d4 (down_revision (b2, c3)): the merge",
)

RULES = (
    DUPLICATE_ID, INVALID_ID, UNKNOWN_DIALECT_FOLDER, SHARED_TIMESTAMP, MISSING_DEPENDENCY,
    DEPENDENCY_CYCLE, IRREVERSIBLE, UNMERGED_BRANCHES,
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
    migrations: Sequence[Migration], pattern: str | IdRule = DIRECTORY_IDS,
    *, earlier_ids: Sequence[str] = (),
) -> Iterator[NamingHit]:
    """SG101, SG103 and SG203 over ``migrations`` (in run order), and SG900 for a
    noop-down comment without a reason.

    ``pattern``: the layout's id rule (a plain regex: its first group the timestamp).
    ``earlier_ids`` run before ``migrations`` and are not reported on themselves: a
    timestamp they used is shared by a migration here that uses it too.
    """
    rule = _as_id_rule(pattern)
    compiled = re.compile(rule.pattern)
    seen_prefix: dict[str, str] = {}

    def stamp_of(migration_id: str) -> str | None:
        match = compiled.fullmatch(migration_id)
        if match is None:
            return None
        named = match.groupdict().get("stamp")
        return named if named is not None else (match.group(1) if match.groups() else "")

    for earlier in earlier_ids:
        stamp = stamp_of(earlier)
        if stamp:
            seen_prefix.setdefault(rule.stamp_key(stamp), earlier)
    misordered = _misordered(rule, [m.id for m in migrations if stamp_of(m.id) is not None],
                             [e for e in earlier_ids if stamp_of(e) is not None])
    for migration in migrations:
        stamp = stamp_of(migration.id)
        if stamp is None:
            yield NamingHit(INVALID_ID, migration,
                            f"id {migration.id!r} does not match {rule.describe}")
        elif stamp:
            if _not_a_time(stamp):
                yield NamingHit(INVALID_ID, migration,
                                f"{stamp} in {migration.id!r} is not a real time")
            shared = rule.stamp_key(stamp)
            if shared in seen_prefix:
                yield NamingHit(SHARED_TIMESTAMP, migration,
                                f"shares timestamp {stamp} with {seen_prefix[shared]}: their "
                                "order rests on the names alone")
            else:
                seen_prefix[shared] = migration.id
        if migration.id in misordered:
            yield NamingHit(INVALID_ID, migration, misordered[migration.id])
        yield from _down_hits(migration)


def _down_hits(migration: Migration) -> Iterator[NamingHit]:
    """SG203 for a missing or empty down; SG900 for a noop-down comment without reason."""
    down = migration.down
    if isinstance(down, str) and "noop-down" in down.lower():
        from switchy_guard.sql.objects import noop_down_comment

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
    from switchy_guard.sql.objects import created_objects, describe, left_behind, parse_script

    up = migration.up
    made = left_behind(created_objects(parse_script(up, dialect or migration.parse_dialect)),
                       ()) if isinstance(up, str) else []
    what = describe(made) if made else "what the up changed"
    return (f"the down script is empty: rolling back would leave {what} in place (write "
            "the down, or declare a deliberate no-op: down = \"noop\" in metadata.toml, or "
            "a `-- switchy-guard: noop-down -- reason` line in down.sql)")


def _misordered(rule: IdRule, ids: Sequence[str], earlier_ids: Sequence[str]) -> dict[str, str]:
    """The ``ids`` that sort after an id with a greater order key (this tool sorts ids
    as text; the layout's tool by its key), each with the message saying so."""
    if rule.order_key is None:
        return {}
    mine = set(ids)
    latest: tuple[str, str] | None = None  # the greatest key so far, and its id
    out: dict[str, str] = {}
    for migration_id in sorted({*ids, *earlier_ids}):
        key = rule.order_key(migration_id)
        if latest is not None and key < latest[0]:
            if migration_id in mine:
                out[migration_id] = (
                    f"sorts after {latest[1]!r} as text (the order ids run in here) but its "
                    f"version {key} is earlier: Diesel would run it before")
        elif latest is None or key > latest[0]:
            latest = (key, migration_id)
    return out


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
    from switchy_guard.model.ordering import find_cycle

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


def ordering_hits(migrations: Sequence[Migration],
                  layout: str | None) -> list[tuple[Any, Migration, str]]:
    """Ambiguous order in a history, as (rule, migration, message): two migrations of
    one version (SG004), and in a layout whose tool sorts versions as strings, numeric
    versions that would sort otherwise as numbers (SG101)."""
    from switchy_guard.discovery.layouts import layout_named
    from switchy_guard.model.ordering import same_version

    hits: list[tuple[Any, Migration, str]] = [
        (DUPLICATE_ID, second, f"same version as {first.id} ({first.source}): the order "
                               "of the two is ambiguous; renumber one")
        for first, second in same_version(migrations)
    ]
    if layout is not None and layout not in ("auto", "switchy") \
            and layout_named(layout).string_order:
        numeric = sorted((m for m in migrations if m.id.isdigit()), key=lambda m: m.id)
        for before, after in itertools.pairwise(numeric):
            if int(before.id) > int(after.id):
                hits.append((INVALID_ID, after, f"{layout} runs {before.id} before "
                             f"{after.id} (it sorts versions as text) though {after.id} is "
                             "the smaller number: pad versions to one width"))
    return hits
