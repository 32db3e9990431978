"""The validator pipeline: every migration's statements through the hazard rules.

Schema-aware: a table created earlier in the plan (or earlier in the same migration) is
new and empty, so locking rules do not fire on it, as long as nothing wrote into it and
its CREATE surely made it (see rules.base.NewTables). The *plan* is the set of migrations
that would run (``plan_ids``); when it is not known (no database, no base revision) each
migration is its own plan, as a linter reading one file at a time would see it.
Suppressions are honoured here, and reported when they lack a reason or match nothing.
"""

from __future__ import annotations

import re
from collections import ChainMap
from collections.abc import Collection, Iterable, Iterator, MutableSet, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from typing import Literal

from switchy_guard.model.findings import Finding, Severity
from switchy_guard.model.migration import Migration
from switchy_guard.rules import Rule, Schema, StatementContext, statement_rules
from switchy_guard.rules.base import LiveTables, NewTables
from switchy_guard.rules.learn import learn_routine_or_type
from switchy_guard.rules.naming import DIRECTORY_IDS, IdRule, naming_hits
from switchy_guard.rules.suppression import (
    ALLOW_WITHOUT_REASON,
    UNUSED_ALLOW,
    Allowance,
    parse_allow_comment,
)
from switchy_guard.sql.classify import StatementInfo, read_tables
from switchy_guard.sql.excerpt import excerpt
from switchy_guard.sql.parse import Parsed, parse_statements
from switchy_guard.sql.split import Statement, split_statements


@dataclass
class ValidationResult:
    """Findings of a validation run, and what it looked at."""

    findings: list[Finding] = field(default_factory=list)
    migrations: int = 0
    statements: int = 0
    #: Findings an ``allow`` with a reason suppressed, with that reason.
    allowed: list[AllowedFinding] = field(default_factory=list)


@dataclass(frozen=True)
class AllowedFinding:
    """A finding the migration's author allowed, and the reason they gave."""

    finding: Finding
    reason: str


def make_finding(
    rule: Rule,
    message: str,
    migration: Migration | None,
    *,
    migration_id: str | None = None,
    statement: Statement | None = None,
    file: str | None = None,
    severity: Severity | None = None,
) -> Finding:
    """A Finding of ``rule`` at ``statement`` (or at the migration)."""
    if file is None and migration is not None:
        file = migration.up_path if statement is not None else (migration.up_path
                                                              or migration.source or None)
    return Finding(
        code=rule.code,
        name=rule.name,
        severity=severity or rule.severity,
        migration=migration.id if migration else migration_id,
        file=file,
        line=statement.line if statement else None,
        column=statement.column if statement else None,
        statement=excerpt(statement.text) if statement else None,
        message=message,
        hint=rule.instead,
    )


def _rebuilt_tables(parsed: Sequence[tuple[Statement, StatementInfo]],
                    dialect: str | None) -> set[str]:
    """Tables rebuilt within one migration: their rows copied into another table
    (``INSERT INTO t_new ... SELECT ... FROM t`` or ``CREATE TABLE t_new AS SELECT ...
    FROM t``), then ``t`` dropped and the copy renamed to ``t``. A table dropped and
    replaced without its rows copied first is not rebuilt: its rows are gone (SG301)."""
    copies: set[tuple[str, str]] = set()  # (copy, source) where rows went
    dropped: dict[str, set[str]] = {}  # dropped table -> the tables holding its rows
    rebuilt: set[str] = set()
    for statement, info in parsed:
        copied_into = info.table.name if info.table else None
        if copied_into and (info.kind == "insert" or (info.kind == "create_table"
                                                      and info.filled)):
            copies.update((copied_into, source)
                          for source in read_tables(statement.text, dialect))
        elif info.kind == "drop_table":
            for table in info.tables:
                dropped[table.name] = {copy for copy, source in copies if source == table.name}
        elif info.new_name is not None and info.table is not None:
            for old, new in info.renames or ((info.table, info.new_name),):
                if old.name in dropped.get(new.name, ()):
                    rebuilt.add(new.name)
    return rebuilt


def _learn(schema: Schema, info: StatementInfo, in_plan: bool, text: str = "") -> None:
    """Update the schema model after ``info`` (of statement ``text``) ran."""
    table = info.table.name if info.table else None
    schema.new_tables.observe(info, in_plan)
    if info.kind in ("create_other", "alter_other", "drop_other") and info.object_type in (
        "function", "type"
    ):
        learn_routine_or_type(schema, info, text)
    if info.kind == "rename_table":
        for old, new in info.renames:  # the column facts go with each renamed table
            _move_columns(schema, old.name, new.name)
    if info.kind == "create_table" and table:
        for name, type_, not_null, _ in info.columns:
            schema.column_types[(table, name)] = type_
            if not_null:
                schema.not_null.add((table, name))
    elif info.kind == "create_index" and in_plan and info.index and not info.if_exists:
        schema.new_indexes.add(info.index.name)
    elif info.kind == "alter_table" and table:
        for action in info.actions:
            column = action.new_name or action.column
            if action.kind in ("add_column", "alter_type") and column and action.type:
                schema.column_types[(table, column)] = action.type
            if column and (action.not_null or action.kind == "set_not_null"):
                schema.not_null.add((table, column))
            elif action.kind == "drop_not_null" or (
                action.redefines and action.generated is None
            ):
                schema.not_null.discard((table, action.column or ""))
        if info.new_name is not None and info.new_name.name != table:
            _move_columns(schema, table, info.new_name.name)


def _move_columns(schema: Schema, old: str, new: str) -> None:
    """What the schema model knows of table ``old``'s columns now holds for ``new``."""
    types = {c: t for (name, c), t in schema.column_types.items() if name == old}
    not_null = {c for name, c in schema.not_null if name == old}
    # A copy without them, not deletions: a down script's schema is a layer over the
    # history's (reversal_schema), which a deletion would reach into (or fail on).
    schema.column_types = {k: t for k, t in schema.column_types.items()
                           if k[0] not in (old, new)}
    schema.not_null = {k for k in schema.not_null if k[0] not in (old, new)}
    schema.column_types.update(((new, c), t) for c, t in types.items())
    schema.not_null.update((new, c) for c in not_null)


def _statement_allowances(statement: Statement, migration: Migration,
                          findings: list[Finding]) -> list[Allowance]:
    allowances: list[Allowance] = []
    leading = zip(statement.leading_comments, statement.comment_lines, strict=True)
    for comment, line in (*leading, *statement.trailing_comments):
        parsed = parse_allow_comment(comment)
        if parsed is None:
            continue
        rules, reason = parsed
        if not reason:
            findings.append(Finding(
                ALLOW_WITHOUT_REASON.code, ALLOW_WITHOUT_REASON.name,
                ALLOW_WITHOUT_REASON.severity, migration.id, migration.up_path, line, 1,
                excerpt(statement.text), f"allow of {', '.join(rules)} has no reason",
                ALLOW_WITHOUT_REASON.instead,
            ))
            continue
        allowances.extend(Allowance(rule, reason, line) for rule in rules)
    return allowances


def _suppress(raw: Iterable[Finding], allowances: Sequence[Allowance],
              allowed: list[AllowedFinding] | None = None) -> list[Finding]:
    if not allowances:
        return list(raw)
    # The allows by rule, first first, each rule's marked used once: matched one by one,
    # thousands of allow comments before a statement with thousands of findings were
    # quadratic (4,000 of each took 3 s).
    by_rule: dict[str, list[tuple[int, Allowance]]] = {}
    for index, allowance in enumerate(allowances):
        by_rule.setdefault(allowance.rule.lower(), []).append((index, allowance))
    kept = []
    marked: set[str] = set()
    for finding in raw:
        keys = {finding.code.lower(), finding.name.lower()} & by_rule.keys()
        if not keys:
            kept.append(finding)
            continue
        for key in keys - marked:
            for _, allowance in by_rule[key]:
                allowance.used = True
        marked |= keys
        if allowed is not None:
            allowed.append(AllowedFinding(finding, min(by_rule[k][0] for k in keys)[1].reason))
    return kept


def _inside(statement: Statement, block: Statement) -> bool:
    """Whether ``statement`` is one that the anonymous block ``block`` runs."""
    outer = statement.block
    while outer is not None:
        if outer is block:
            return True
        outer = outer.block
    return False


def _unused(statement: Statement, allowances: Sequence[Allowance],
            migration: Migration) -> list[Finding]:
    return [
        make_finding(UNUSED_ALLOW, f"allow of {a.rule!r} matches no finding here", migration,
                     statement=statement)
        for a in allowances if not a.used
    ]


#: Which script of a migration: ``up`` (applied by migrate) or ``down`` (by rollback).
Direction = Literal["up", "down"]


def parse_migration(migration: Migration, dialect: str | None,
                    direction: Direction = "up") -> Parsed:
    """Split and classify the up (or ``direction="down"``: the down) script of
    ``migration``; see :func:`parse_statements` for what follows blocks and calls."""
    script = migration.up if direction == "up" else migration.down
    sql = script if isinstance(script, str) else ""
    return parse_statements(split_statements(sql, dialect), dialect)


def learn_migration(schema: Schema, parsed: Parsed, in_plan: bool = True) -> None:
    """Update ``schema`` as if the parsed migration ran, finding nothing."""
    for statement, info in parsed:
        _learn(schema, info, in_plan, statement.text)


def validate_migration(
    migration: Migration, dialect: str | None, schema: Schema, rules: Sequence[Rule],
    *, lint: bool = True, in_plan: bool = True, extra: Sequence[Finding] = (),
    allowed: list[AllowedFinding] | None = None, parsed: Parsed | None = None,
    direction: Direction = "up", metadata: list[Allowance] | None = None,
    server_version: tuple[int, ...] | None = None,
) -> tuple[list[Finding], int]:
    """Findings of one migration (its SQL, plus ``extra`` migration-level findings that
    its metadata allows may suppress), and its statement count (those of the file: not
    the ones a block runs); updates ``schema``.
    Suppressed findings are appended to ``allowed`` when it is given. ``parsed`` is the
    migration's :func:`parse_migration`, when the caller has it already.

    ``direction="down"`` lints the down script with the same rules: its findings are
    rollback-time ones (``Finding.direction``, the down file). An allow comment in the
    down script or an ``allow`` in metadata.toml suppresses them as in the up script; a
    metadata allow that matches nothing is reported by the up script's pass only.
    ``metadata``: the migration's metadata allows, shared by the passes over its up and
    down scripts; the caller then reports those that matched nothing (check_migration)."""
    if parsed is None:
        parsed = parse_migration(migration, dialect, direction)
    schema.new_tables.dialect = dialect
    # A down script's findings are made as the up's, then relabelled (_rollback_time).
    outer_allowed = allowed
    if direction == "down" and allowed is not None:
        allowed = []
    findings: list[Finding] = []
    migration_allowances = metadata if metadata is not None else [
        Allowance(a.rule, a.reason, None) for a in migration.allow]
    schema.rebuilt_tables = _rebuilt_tables(parsed, dialect)
    # Anonymous blocks whose statements may follow, with their allows: an allow before
    # the block covers the statements it runs, and is unused only if none matched.
    blocks: list[tuple[Statement, list[Allowance]]] = []
    count = 0
    for statement, info in parsed:
        if statement.block is None:
            count += 1
        if lint:
            while blocks and not _inside(statement, blocks[-1][0]):
                findings.extend(_unused(*blocks.pop(), migration))
            context = StatementContext(dialect, migration, statement, schema, parsed,
                                       server_version or schema.server_version)
            raw = [
                make_finding(rule, f"{message} ({info.via})" if info.via else message,
                             migration, statement=statement)
                for rule in rules
                if rule.check is not None and (rule.kinds is None or info.kind in rule.kinds)
                for message in rule.check(info, context)
            ]
            local = _statement_allowances(statement, migration, findings)
            if blocks:
                local_and_outer = [*local, *(a for _, outer in blocks for a in outer)]
            else:
                local_and_outer = local
            findings.extend(_suppress(raw, [*local_and_outer, *migration_allowances], allowed))
            if info.kind == "do" or info.runs:  # its allows cover what it runs
                blocks.append((statement, local))
            elif local:
                findings.extend(_unused(statement, local, migration))
        _learn(schema, info, in_plan, statement.text)
    while blocks:
        findings.extend(_unused(*blocks.pop(), migration))
    schema.rebuilt_tables = set()
    if lint:
        findings.extend(_trailing_allows(migration, direction, parsed))
        findings.extend(_suppress(extra, migration_allowances, allowed))
        if direction == "up" and metadata is None:
            findings.extend(_unused_metadata(migration, migration_allowances))
    if direction == "down":
        if outer_allowed is not None and allowed is not None:
            outer_allowed.extend(AllowedFinding(_rollback_time(a.finding, migration), a.reason)
                                 for a in allowed)
        findings = [_rollback_time(f, migration) for f in findings]
    return findings, count


#: A line comment, as an allow is written (MySQL's ``#`` too).
_LINE_COMMENT = re.compile(r"^\s*(?:--|#)(.*)$")


def _trailing_allows(migration: Migration, direction: Direction,
                     parsed: Parsed) -> list[Finding]:
    """Allow comments after the script's last statement: an allow covers the statement
    that follows it, and none follows, so it applies to nothing (SG901, on its line)."""
    script = migration.up if direction == "up" else migration.down
    if not isinstance(script, str) or "switchy-guard" not in script:
        return []
    last = max((s.end_line for s, _ in parsed if s.block is None), default=0)
    out = []
    for number, line in enumerate(script.splitlines()[last:], start=last + 1):
        comment = _LINE_COMMENT.match(line)
        allow = parse_allow_comment(comment.group(1)) if comment else None
        if allow is not None:
            finding = make_finding(
                UNUSED_ALLOW, f"allow of {', '.join(allow[0])} follows the last statement: "
                "an allow covers the statement after it, so this one covers nothing",
                migration)
            out.append(replace(finding, line=number, column=1))
    return out


def _unused_metadata(migration: Migration, allowances: Sequence[Allowance]) -> list[Finding]:
    return [make_finding(UNUSED_ALLOW, f"allow of {a.rule!r} in metadata.toml matches no "
                         "finding", migration)
            for a in allowances if not a.used]


class _SetLayer(MutableSet[tuple[str, str]]):
    """A set read through to ``base``; additions and removals stay in the layer."""

    def __init__(self, base: AbstractSet[tuple[str, str]]) -> None:
        self.base = base
        self.added: set[tuple[str, str]] = set()
        self.removed: set[tuple[str, str]] = set()

    def __contains__(self, item: object) -> bool:
        return item in self.added or (item in self.base and item not in self.removed)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        yield from self.added
        yield from (item for item in self.base
                    if item not in self.removed and item not in self.added)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def add(self, value: tuple[str, str]) -> None:
        self.added.add(value)
        self.removed.discard(value)

    def discard(self, value: tuple[str, str]) -> None:
        self.added.discard(value)
        self.removed.add(value)


def reversal_schema(schema: Schema, up: Parsed, dialect: str | None) -> Schema:
    """The schema ``check`` lints a migration's down script with: the one after its up
    (``up``, parsed) ran, where what the up created counts as new: its tables (however
    made: IF NOT EXISTS and AS SELECT too, the migration claims them), the columns it
    added, the other objects it created (views, functions, types, schemas...), the
    indexes it put on its own tables, and its renames read backwards. A down that drops
    those is the ordinary reversal and finds nothing; what it destroys beyond them (a
    table or column the up never made, a DELETE or TRUNCATE of older data) is found.

    An index the up put on an older table is not new here: dropping it at rollback locks
    that table as any DROP INDEX does. Column facts are read through to ``schema``, and
    what the down changes stays in layers of its own: the up scripts after it never see
    a down's effects.
    """
    reversal = Schema(new_tables=NewTables(dialect),
                      column_types=ChainMap({}, schema.column_types),
                      not_null=_SetLayer(schema.not_null),
                      # copies: the history's functions and enums as the down finds them,
                      # what it drops or alters forgotten with it
                      functions=dict(schema.functions), enums=dict(schema.enums),
                      server_version=schema.server_version)
    reversal.misses = schema.misses
    for _, info in up:
        table = info.table
        if info.kind == "create_table" and table is not None:
            reversal.new_tables.claim(table)
        elif info.kind in ("create_other", "create_schema") and table is not None:
            if info.object_type == "materialized":
                reversal.new_tables.claim(table)
                reversal.new_objects.add(("materialized view", table.name))
            reversal.new_objects.add((info.object_type or "", table.name))
        elif info.kind == "create_index" and info.index is not None and (
                table is not None and reversal.new_tables.made(table)):
            reversal.new_indexes.add(info.index.name)
        elif info.kind == "alter_table" and table is not None:
            for action in info.actions:
                if action.kind == "add_column" and action.column:
                    reversal.new_columns.add((table.name, action.column))
                elif (action.kind in ("rename_column", "alter_type") and action.column
                      and action.new_name):
                    reversal.new_objects.add(
                        ("renamed column", f"{table.name}\0{action.new_name}\0{action.column}"))
        if info.new_name is not None and table is not None and info.kind in (
                "rename_table", "alter_table"):
            reversal.new_objects.add(("renamed table", f"{info.new_name.name}\0{table.name}"))
    return reversal


def check_migration(
    migration: Migration, dialect: str | None, schema: Schema, rules: Sequence[Rule],
    *, lint: bool = True, in_plan: bool = True, extra: Sequence[Finding] = (),
    allowed: list[AllowedFinding] | None = None, parsed: Parsed | None = None,
) -> tuple[list[Finding], int]:
    """:func:`validate_migration` of the up script, then (when linted) of the down
    script against it, as ``check`` judges a history: the down's findings are
    rollback-time ones, made with :func:`reversal_schema` so that undoing what the up
    did is no finding. Metadata allows cover both scripts. The count is the up's."""
    down = migration.down
    if not lint or not isinstance(down, str) or not down:
        return validate_migration(migration, dialect, schema, rules, lint=lint,
                                  in_plan=in_plan, extra=extra, allowed=allowed,
                                  parsed=parsed)
    if parsed is None:
        parsed = parse_migration(migration, dialect)
    metadata = [Allowance(a.rule, a.reason, None) for a in migration.allow]
    findings, count = validate_migration(migration, dialect, schema, rules, in_plan=in_plan,
                                         extra=extra, allowed=allowed, parsed=parsed,
                                         metadata=metadata)
    reversal = reversal_schema(schema, parsed, dialect)
    back, _ = validate_migration(migration, dialect, reversal, rules, allowed=allowed,
                                 direction="down", metadata=metadata)
    return [*findings, *back, *_unused_metadata(migration, metadata)], count


def _rollback_time(finding: Finding, migration: Migration) -> Finding:
    """``finding`` (made for the up file) as one of the down script."""
    return replace(finding, direction="down",
                   file=migration.down_path or migration.source or None)


def naming_findings(
    migrations: Sequence[Migration], id_pattern: str | IdRule = DIRECTORY_IDS,
    *, earlier_ids: Sequence[str] = (),
) -> dict[str, list[Finding]]:
    """The naming rules' findings (see naming_hits), by migration id."""
    naming: dict[str, list[Finding]] = {}
    for hit in naming_hits(migrations, id_pattern, earlier_ids=earlier_ids):
        finding = make_finding(hit.rule, hit.message, hit.migration, file=hit.file,
                               severity=hit.severity)
        if hit.line is not None:
            finding = replace(finding, line=hit.line, column=1)
        naming.setdefault(hit.migration.id, []).append(finding)
    return naming


def validate(
    migrations: Sequence[Migration],
    dialect: str | None,
    *,
    plan_ids: set[str] | None = None,
    id_pattern: str | IdRule = DIRECTORY_IDS,
    live: LiveTables | None = None,
    downs: bool = False,
    server_version: tuple[int, ...] | None = None,
) -> ValidationResult:
    """Run the SQL and naming rules over ``migrations`` (in run order).

    With ``plan_ids`` only those migrations are linted and tables they create count as
    new for the migrations after them; the others only teach the schema model. Without
    it every migration is linted on its own: tables of earlier migrations exist. With
    ``live`` (the database the plan runs on) a table the plan creates is new only if
    that database has none of its name (see NewTables). With ``downs`` (``check``) the
    down scripts of the linted migrations are checked too (see check_migration).
    ``server_version``: the server's version for the version-aware rules (None: unknown).
    """
    rules = statement_rules(dialect)
    result = ValidationResult()
    schema = Schema(new_tables=NewTables(dialect, live), server_version=server_version)
    run = check_migration if downs else validate_migration
    linted = [m for m in migrations if plan_ids is None or m.id in plan_ids]
    naming = naming_findings(linted, id_pattern)
    for migration in migrations:
        in_plan = plan_ids is None or migration.id in plan_ids
        if plan_ids is None:
            schema.new_tables.clear()
            schema.new_indexes.clear()
        found, count = run(
            migration, dialect, schema, rules, lint=in_plan, in_plan=in_plan,
            extra=naming.get(migration.id, ()), allowed=result.allowed,
        )
        if in_plan:
            result.migrations += 1
            result.statements += count
            result.findings.extend(found)
    return result


def validate_rollback(
    migrations: Sequence[Migration],
    dialect: str | None,
    *,
    applied: Collection[str],
    plan: Sequence[str],
    live: LiveTables | None = None,
    server_version: tuple[int, ...] | None = None,
) -> ValidationResult:
    """Run the SQL rules over the down scripts a rollback runs: those of ``plan`` (ids in
    the order they are rolled back), their findings rollback-time ones.

    The schema model starts where the database is: the up scripts of the ``applied``
    migrations (in run order) teach it, linting nothing; then each down script is linted
    and teaches it in turn, so a table a down script creates again is new and empty for
    the scripts after it (when ``live``, the database, has none of its name).
    """
    rules = statement_rules(dialect)
    result = ValidationResult()
    schema = Schema(new_tables=NewTables(dialect, live), server_version=server_version)
    for migration in migrations:
        if migration.id in applied:
            learn_migration(schema, parse_migration(migration, dialect), in_plan=False)
    by_id = {m.id: m for m in migrations}
    for migration_id in plan:
        migration = by_id[migration_id]
        found, count = validate_migration(migration, dialect, schema, rules,
                                          allowed=result.allowed, direction="down")
        result.migrations += 1
        result.statements += count
        result.findings.extend(found)
    return result
