"""Transactions and execution (SG601-SG605)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from switchy_guard.model.findings import Severity
from switchy_guard.rules.base import ALL, M, P, Rule, StatementContext
from switchy_guard.sql.blocks import string_value
from switchy_guard.sql.classify import DYNAMIC, STRING, WORD, StatementInfo, render, tokenize
from switchy_guard.sql.execution import CONTROLS_TRANSACTION, needs_autocommit
from switchy_guard.sql.split import Statement

_GLOBAL_SETTING = re.compile(r"\b(?:GLOBAL|PERSIST|PERSIST_ONLY)\b|@@GLOBAL\.", re.IGNORECASE)


def _leaves_a_trace(statement: Statement, info: StatementInfo) -> bool:
    """Whether the statement changes something a later failure would leave changed.

    Reads, table locks and session settings (mysqldump's ``SET NAMES`` header) end with
    the session; ``SET GLOBAL`` does not.
    """
    if info.kind in ("select", "lock"):
        return False
    return info.kind != "set" or _GLOBAL_SETTING.search(statement.text) is not None


#: Statements that change nothing themselves but run the statements that follow them
#: (a DO block's, a called procedure's).
_CONTAINERS = frozenset({"do", "call"})


def _non_transactional_ddl(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    if not info.is_ddl or not ctx.is_first_ddl:
        return
    statements = ctx.statements_in_migration
    lasting = [i for s, i in statements if _leaves_a_trace(s, i)]
    for counted in lasting:  # a loop, not any(): this runs for most migrations
        if counted.kind in _CONTAINERS:
            # A block (or a called routine) whose statements follow it is counted by
            # them, not as one more.
            blocks = {id(s.block) for s, _ in statements if s.block is not None}
            lasting = [i for s, i in statements if _leaves_a_trace(s, i)
                       and not (i.kind in _CONTAINERS and id(s) in blocks)]
            break
    if len(lasting) < 2:
        return
    dml = any(i.kind in ("insert", "update", "delete") for i in lasting)
    mixing = " and mixes DDL with data changes" if dml else ""
    yield (
        f"this migration has {len(lasting)} statements that change the database{mixing}: "
        "MySQL commits each DDL statement on its own, so a failure leaves the earlier ones "
        "applied"
    )


NON_TRANSACTIONAL_DDL = Rule(
    code="SG601", name="non-transactional-ddl", severity=Severity.WARNING, dialects=M,
    summary="Several statements with DDL in one migration on MySQL/MariaDB.",
    why="MySQL and MariaDB commit DDL implicitly: no transaction can wrap the migration, so a "
        "failure in its third statement leaves the first two applied and the migration dirty.",
    instead="Keep one DDL statement per migration on MySQL, and data changes in migrations of "
            "their own; switchy-guard journals statement progress so a failure names what ran.",
    example="ALTER TABLE a ADD COLUMN x INT;\nUPDATE a SET x = 1;\nALTER TABLE a DROP COLUMN y;",
    fixed="-- three migrations, one statement each",
    check=_non_transactional_ddl,
)


def _explicit_transaction(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    if info.kind not in ("begin", "commit", "rollback") or not ctx.migration.transactional:
        return
    word = ctx.statement.text.split()[0].upper()
    if ctx.dialect == "mysql":
        # MySQL migrations run statement by statement (DDL commits implicitly), each
        # recorded as applied when it ends: a transaction rolled back on a failure
        # undoes statements already recorded as applied.
        yield (f"{word} inside a migration: on MySQL/MariaDB switchy-guard records each "
               "statement as applied when it ends, so a failure inside the transaction "
               "leaves that record wrong (and DDL inside it commits implicitly)")
        return
    yield f"{word} inside a migration that switchy-guard already runs in a transaction"


EXPLICIT_TRANSACTION_CONTROL = Rule(
    code="SG602", name="explicit-transaction-control", severity=Severity.ERROR, dialects=ALL,
    summary="BEGIN, COMMIT or ROLLBACK inside a migration the runner wraps in a transaction.",
    why="The runner already opens a transaction per migration and records the migration in it; "
        "a COMMIT inside ends it early, so a later failure can no longer be rolled back, and "
        "BEGIN fails on databases without nested transactions. On MySQL/MariaDB the runner runs "
        "each statement on its own (DDL commits implicitly) and records it as applied when it "
        "ends, so a transaction rolled back on a failure undoes statements the record says ran.",
    instead="Remove the statement; set transactional = false in metadata.toml if the migration "
            "must control transactions itself.",
    example="BEGIN;\nUPDATE accounts SET balance = 0 WHERE id = 1;\nCOMMIT;",
    fixed="UPDATE accounts SET balance = 0 WHERE id = 1;",
    check=_explicit_transaction,
    kinds=frozenset({"begin", "commit", "rollback"}),
)


#: The block languages whose statements switchy-guard reads (sql/blocks.py); None is
#: MySQL's DO expression statement, which runs no block.
_READABLE_BLOCKS = frozenset({None, "plpgsql", "compound"})


def _unparseable(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    if ctx.statement.doubt:
        # The splitter's doubt (sql/split.py): the server may read it otherwise.
        yield f"the server may not read this statement as switchy-guard did: {ctx.statement.doubt}"
    if info.kind == "unknown":
        yield "switchy-guard cannot classify this statement, so no rule could check it"
    elif info.kind == "alter_table":
        for action in info.actions:
            if action.kind == "unknown":
                yield (f"ALTER TABLE {info.table} {action.default}: not an action "
                       "switchy-guard knows to be harmless, so no rule could check it")
    elif info.kind == DYNAMIC and info.object_type in ("prepared", "immediate"):
        yield ("this EXECUTE runs SQL built at run time (a prepared statement whose text is "
               "not a string literal here): no rule could check the statement it runs")
    elif info.kind == DYNAMIC:
        yield (
            "this block runs SQL it builds at run time: switchy-guard reads only a string "
            "literal there, so no rule could check the statement it runs"
        )
    elif info.kind == "do" and info.object_type not in _READABLE_BLOCKS:
        yield (
            f"a DO block in {info.object_type}: switchy-guard reads PL/pgSQL blocks only, so "
            "no rule could check the statements it runs"
        )


UNPARSEABLE_STATEMENT = Rule(
    code="SG603", name="unparseable-statement", severity=Severity.WARNING, dialects=ALL,
    summary="A statement switchy-guard cannot classify, an ALTER TABLE action it does not know to "
            "be harmless, SQL a DO block builds at run time, or a DO block in a language other "
            "than PL/pgSQL.",
    why="Hazards in a statement the tool does not understand pass unseen; it is reported so it "
        "is never passed silently. The statements of a DO block (and of MariaDB's BEGIN NOT "
        "ATOMIC) are checked one by one, EXECUTE of a string literal included; SQL built at "
        "run time (EXECUTE format(...), a concatenation, a variable) cannot be read.",
    instead="Review the statement by hand, then allow it with a reason.",
    example="FROBNICATE TABLE users;",
    fixed="-- switchy-guard: allow unparseable-statement -- vendor extension, reviewed",
    check=_unparseable,
)


def _enum_value_in_transaction(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    version = ctx.server_version
    if version is None or version >= (12,) or _added_value(ctx.statement.text) is None:
        return
    server = ".".join(str(n) for n in version)
    if ctx.statement.block is not None:
        yield ("ALTER TYPE ... ADD VALUE inside a DO block: before PostgreSQL 12 (the server "
               f"is {server}) it cannot run from a function or block, so this migration fails")
        return
    # A migration holding CONCURRENTLY, VACUUM, ... runs statement by statement already.
    if not ctx.migration.transactional or any(
            needs_autocommit(s.text, ctx.dialect) for s, _ in ctx.statements_in_migration):
        return
    yield ("ALTER TYPE ... ADD VALUE cannot run inside a transaction block before "
           f"PostgreSQL 12 (the server is {server}), and this migration runs in one: it "
           "fails")


ENUM_VALUE_IN_TRANSACTION = Rule(
    code="SG604",
    name="enum-value-in-transaction",
    severity=Severity.ERROR,
    dialects=P,
    summary="ALTER TYPE ... ADD VALUE in a migration that runs in a transaction, on a "
            "PostgreSQL server older than 12.",
    why="Before PostgreSQL 12, ALTER TYPE ... ADD VALUE refuses to run inside a "
        "transaction block or a function ('cannot run inside a transaction block'): a "
        "migration the runner wraps in a transaction fails on it, every time, on that "
        "server, although it passes on a newer development database. The rule needs the "
        "server's version (--server-version, the server_version setting, or the live "
        "server under -d); with none known it is quiet, as the other version-aware rules.",
    instead="Put the ADD VALUE in a migration of its own with transactional = false in "
            "metadata.toml (IF NOT EXISTS makes a retry harmless), outside any DO block.",
    example="ALTER TYPE mood ADD VALUE 'ecstatic';\nUPDATE settings SET default_mood = 'ok';",
    fixed="-- metadata.toml: transactional = false\n"
          "ALTER TYPE mood ADD VALUE IF NOT EXISTS 'ecstatic';",
    check=_enum_value_in_transaction,
    kinds=frozenset({"alter_other", "unknown"}),
)



class _AddedValue(NamedTuple):
    position: int  # in the migration's statements (block statements included)
    transaction: int  # which of the migration's transactions runs it
    type_name: str
    label: str
    line: int


def _added_value(text: str) -> tuple[str, str] | None:
    """The type and label of ``ALTER TYPE name ADD VALUE [IF NOT EXISTS] 'label' ...``."""
    toks = tokenize(text, "postgres")
    words = [t.up if t.kind == WORD else "" for t in toks]
    if words[:2] != ["ALTER", "TYPE"]:
        return None
    for i in range(3, len(toks)):
        if words[i:i + 2] == ["ADD", "VALUE"]:
            label = next((t for t in toks[i + 2:] if t.kind != WORD), None)
            if label is None or label.kind != STRING:
                return None
            return render(toks[2:i]), string_value(label.text)
    return None


def _transactions(ctx: StatementContext) -> list[int]:
    """For each statement of the migration, which transaction runs it: one for the
    whole migration when the runner wraps it in one; otherwise each statement its own
    (autocommit), except those between the migration's own BEGIN and COMMIT. A block's
    statements (they follow it) run in their block's."""
    statements = ctx.statements_in_migration
    wrapped = ctx.migration.transactional and not any(
        needs_autocommit(s.text, ctx.dialect) for s, _ in statements if s.block is None)
    numbers: list[int] = []
    current, explicit = 0, False
    for statement, info in statements:
        if wrapped or statement.block is not None:
            pass
        elif info.kind == "begin":
            current, explicit = current + 1, True
        elif info.kind in CONTROLS_TRANSACTION:  # COMMIT, ROLLBACK: the explicit one ends
            numbers.append(current)
            current, explicit = current + 1, False
            continue
        elif not explicit:
            current += 1
        numbers.append(current)
    return numbers


#: The last migration read: its statements and, for each statement (by id), its
#: position and transaction, with the enum values the migration adds. The rule looks at
#: every statement, and reading the migration once per statement would be quadratic.
_last_read: tuple[object, dict[int, tuple[int, int]], list[_AddedValue]] | None = None


def _enum_values_added(ctx: StatementContext) -> tuple[dict[int, tuple[int, int]],
                                                        list[_AddedValue]]:
    global _last_read
    last = _last_read
    statements = ctx.statements_in_migration
    if last is not None and last[0] is statements:
        return last[1], last[2]
    added: list[_AddedValue] = []
    where: dict[int, tuple[int, int]] = {}
    candidates = [
        (position, statement) for position, (statement, info) in enumerate(statements)
        if info.kind == "alter_other" and "VALUE" in statement.text.upper()]
    if candidates:
        transactions = _transactions(ctx)
        where = {id(s): (n, transactions[n]) for n, (s, _) in enumerate(statements)}
        for position, statement in candidates:
            found = _added_value(statement.text)
            if found is not None:
                added.append(_AddedValue(position, transactions[position], *found,
                                         line=statement.line))
    _last_read = (statements, where, added)
    return where, added


def _new_enum_value_used(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    text = ctx.statement.text
    if "'" not in text and "$" not in text:
        return
    version = ctx.server_version
    if version is not None and version < (12,):
        return  # the ADD VALUE itself fails there: SG604
    where, added = _enum_values_added(ctx)
    if not added:
        return
    position, transaction = where[id(ctx.statement)]
    earlier = [a for a in added if a.position < position and a.transaction == transaction]
    if not earlier or any(a.position == position for a in added):
        return  # (ADD VALUE ... AFTER a new value only orders the labels)
    strings = {string_value(t.text) for t in tokenize(text, "postgres") if t.kind == STRING}
    for value in earlier:
        if value.label in strings:
            yield (f"'{value.label}' is the value line {value.line} adds to enum type "
                   f"{value.type_name} in the same transaction: PostgreSQL refuses a new "
                   "enum value until the transaction that added it commits ('unsafe use of "
                   "new value'), so this migration fails")
            strings.discard(value.label)


NEW_ENUM_VALUE_USED = Rule(
    code="SG605",
    name="new-enum-value-used",
    severity=Severity.ERROR,
    dialects=P,
    summary="A value added to an enum type (ALTER TYPE ... ADD VALUE) used in the "
            "transaction that added it.",
    why="From PostgreSQL 12 ALTER TYPE ... ADD VALUE may run inside a transaction, but "
        "the new value cannot be used until that transaction commits: an INSERT, UPDATE, "
        "DEFAULT, CHECK or comparison with it fails with 'unsafe use of new value', even "
        "for a type created in the same transaction. The runner wraps each migration in "
        "one transaction, so adding a value and using it in one migration always fails. "
        "The rule matches the new label as a string literal in a later statement of the "
        "same transaction; a literal that is not meant as the enum's value needs an allow.",
    instead="Add the value in one migration and use it in the next: each migration "
            "commits before the next one runs.",
    example="ALTER TYPE mood ADD VALUE 'ecstatic';\n"
            "UPDATE settings SET default_mood = 'ecstatic';",
    fixed="ALTER TYPE mood ADD VALUE 'ecstatic';\n"
          "-- the UPDATE in the next migration",
    check=_new_enum_value_used,
)

RULES = (NON_TRANSACTIONAL_DDL, EXPLICIT_TRANSACTION_CONTROL, UNPARSEABLE_STATEMENT,
         ENUM_VALUE_IN_TRANSACTION, NEW_ENUM_VALUE_USED)
