"""Transactions and execution (SG601-SG604)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from switchy_guard.model.findings import Severity
from switchy_guard.rules.base import ALL, M, P, Rule, StatementContext
from switchy_guard.sql.classify import DYNAMIC, WORD, StatementInfo, tokenize
from switchy_guard.sql.execution import needs_autocommit
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


def _non_transactional_ddl(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    if not info.is_ddl or not ctx.is_first_ddl:
        return
    statements = ctx.statements_in_migration
    lasting = [i for s, i in statements if _leaves_a_trace(s, i)]
    for counted in lasting:  # a loop, not any(): this runs for most migrations
        if counted.kind == "do":
            # A block whose statements follow it is counted by them, not as one more.
            blocks = {id(s.block) for s, _ in statements if s.block is not None}
            lasting = [i for s, i in statements
                       if _leaves_a_trace(s, i) and id(s) not in blocks]
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


def _adds_enum_value(text: str) -> bool:
    """Whether ``text`` is ``ALTER TYPE name ADD VALUE ...`` (a quoted name may hold
    any words: only the words outside it count)."""
    words = [t.up if t.kind == WORD else "" for t in tokenize(text, "postgres")]
    return words[:2] == ["ALTER", "TYPE"] and any(
        words[i:i + 2] == ["ADD", "VALUE"] for i in range(3, len(words) - 1))


def _enum_value_in_transaction(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    version = ctx.server_version
    if version is None or version >= (12,) or not _adds_enum_value(ctx.statement.text):
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

RULES = (NON_TRANSACTIONAL_DDL, EXPLICIT_TRANSACTION_CONTROL, UNPARSEABLE_STATEMENT,
         ENUM_VALUE_IN_TRANSACTION)
