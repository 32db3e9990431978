"""A batched backfill's statement, read: the one UPDATE or DELETE of a ``backfill``
migration, its table, the columns it sets and its WHERE clause, or why it cannot be run
in batches (see runtime.backfill for the running)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from switchy_guard.errors import InputError

if TYPE_CHECKING:
    from switchy_guard.model.migration import Migration
    from switchy_guard.sql.classify import Name, Tok


@dataclass(frozen=True)
class BackfillStatement:
    """A backfill's statement, read: its table, the columns it sets, and where its
    WHERE clause's predicate starts (``text[where:]``, to the end) and its keyword
    starts (``text[:keyword]`` is the statement before WHERE)."""

    text: str
    kind: str  # update or delete
    table: Name
    assigns: frozenset[str]
    keyword: int
    where: int
    line: int = 1

    def batched(self, pk: str, lower: bool, upper: bool, mark: str) -> str:
        """The statement bounded to one key range (``mark``: the driver's placeholder;
        ``%`` doubled for drivers that format)."""
        head, predicate = self.text[: self.keyword], self.text[self.where :]
        if mark != "?":
            head, predicate = head.replace("%", "%%"), predicate.replace("%", "%%")
        bounds = ([f"{pk} > {mark}"] if lower else []) + ([f"{pk} <= {mark}"] if upper else [])
        # The predicate in parentheses on lines of its own: an OR in it, or a trailing
        # -- comment, cannot swallow the bounds.
        return f"{head}WHERE (\n{predicate}\n)" + "".join(f" AND {b}" for b in bounds)


class NotBatchable(Exception):
    """Why a statement cannot be batched."""


def check_backfill(migration: Migration) -> BackfillStatement:
    """Refuse (InputError naming the up script) a backfill migration whose up cannot be
    run in batches; the statement, read, otherwise."""
    path = migration.up_path or migration.source or migration.id
    try:
        return read_backfill(migration, migration.parse_dialect)
    except NotBatchable as why:
        raise InputError(f"backfill cannot be batched: {why}", path=path) from None


def read_backfill(migration: Migration, dialect: str | None) -> BackfillStatement:
    """The backfill statement of ``migration`` read as ``dialect``; NotBatchable says why it
    cannot be batched."""
    if not migration.transactional:
        raise NotBatchable("each batch runs in a transaction of its own, and this migration "
                       "says transactional = false; remove that key")
    if not isinstance(migration.up, str):
        raise NotBatchable("the up is Python code; a backfill's up is one UPDATE or DELETE")
    from switchy_guard.sql import split_statements

    statements = [s for s in split_statements(migration.up, dialect) if s.block is None]
    if len(statements) != 1:
        raise NotBatchable(f"the up holds {len(statements)} statements; a backfill holds "
                       "exactly one UPDATE or DELETE (put the others in a migration of "
                       "their own)")
    statement = statements[0]
    try:
        read = _read_statement(statement.text, dialect)
    except NotBatchable as why:
        raise NotBatchable(f"line {statement.line}: {why}") from None
    return BackfillStatement(read.text, read.kind, read.table, read.assigns, read.keyword,
                             read.where, statement.line)


def _positioned(text: str, dialect: str | None) -> list[tuple[Tok, int, int]]:
    """The statement's significant tokens with their start and end offsets."""
    from switchy_guard.sql import classify as c

    pattern = c._FAST_TOKEN.get(dialect, c._GENERIC_TOKEN)
    out: list[tuple[Tok, int, int]] = []
    for match in pattern.finditer(text):
        kind = match.lastgroup
        if kind == "skip":
            continue
        found: list[Tok] = []
        c._tokens_from(match.group(), 0, pattern, False, found.append)
        if found:
            out.append((found[0], match.start(), match.end()))
    return out


def _read_statement(text: str, dialect: str | None) -> BackfillStatement:
    from switchy_guard.sql.classify import PUNCT, WORD, Cursor, classify

    positioned = _positioned(text, dialect)
    toks = [tok for tok, _, _ in positioned]
    if not toks or toks[0].kind != WORD or toks[0].up not in ("UPDATE", "DELETE"):
        first = toks[0].text.upper() if toks else "nothing"
        raise NotBatchable(f"the statement is {first} ..., not an UPDATE or DELETE")
    kind = toks[0].up.lower()
    info = classify(text, dialect)
    if not info.has_where:
        raise NotBatchable(f"the {kind.upper()} has no WHERE clause that leaves out rows already "
                       f"done (add one, e.g. WHERE new_col IS NULL)")
    cur = Cursor(toks, 1)
    if kind == "update":
        while cur.take("LOW_PRIORITY|IGNORE|ONLY"):
            pass
        if cur.take("OR"):
            cur.pos += 1
    else:
        while cur.take("LOW_PRIORITY|QUICK|IGNORE"):
            pass
        if not cur.take("FROM"):
            raise NotBatchable("a multi-table DELETE (DELETE t FROM ...) cannot be batched")
        cur.take("ONLY")
    table = cur.name()
    if table is None:
        raise NotBatchable(f"no table after {kind.upper()}")
    cur.take("AS")
    alias = cur.peek()
    if alias is not None and alias.kind != PUNCT and alias.up not in _NOT_ALIASES:
        cur.pos += 1
    end = "SET" if kind == "update" else "WHERE"
    if cur.at("USING") and kind == "delete":
        raise NotBatchable("USING joins another table: only a statement on one table can be "
                       "batched by its key")
    if not cur.at(end):
        found = cur.peek()
        raise NotBatchable(f"the {kind.upper()} names more than one table (a join, or "
                       f"{found.text if found else 'nothing'!r} after {table}): only a "
                       "statement on one table can be batched by its key")
    return _clauses(text, kind, table, positioned, cur.pos)


_NOT_ALIASES = frozenset({"SET", "WHERE", "USING", "FROM", "JOIN", "INNER", "LEFT", "RIGHT",
                          "CROSS", "NATURAL", "STRAIGHT_JOIN", "FULL", "OUTER"})


_AFTER_WHERE = ("ORDER", "LIMIT", "RETURNING", "OFFSET", "FETCH")


def _clauses(text: str, kind: str, table: Name, positioned: list[tuple[Tok, int, int]],
             start: int) -> BackfillStatement:
    """From SET (or WHERE) on: the columns set, no FROM/USING, the top-level WHERE last."""
    from switchy_guard.sql.classify import PUNCT, WORD

    depth, keyword, where = 0, -1, -1
    set_toks: list[Tok] = []
    for index in range(start, len(positioned)):
        tok, begin, stop = positioned[index]
        if tok.kind == PUNCT:
            depth += tok.text.count("(") - tok.text.count(")")
        if depth == 0 and tok.kind == WORD:
            if keyword < 0 and tok.up in ("FROM", "USING", "JOIN"):
                raise NotBatchable(f"{tok.up} joins another table: only a statement on one "
                               "table can be batched by its key")
            if keyword < 0 and tok.up == "WHERE":
                keyword, where = begin, stop
                continue
            if keyword >= 0 and tok.up in _AFTER_WHERE:
                raise NotBatchable(f"{tok.up} after the WHERE clause: the batches bound the "
                               "rows themselves; remove it")
        if keyword < 0 and index > start:
            set_toks.append(tok)
    return BackfillStatement(text, kind, table, _assigned(set_toks), keyword, where)


def _assigned(toks: list[Tok]) -> frozenset[str]:
    """The columns a SET list assigns (``a = 1, t.b = 2, (c, d) = (...)``), lower-cased."""
    from switchy_guard.sql.classify import PUNCT, split_top_level

    names: set[str] = set()
    for part in split_top_level(toks):
        target: list[Tok] = []
        for tok in part:
            if tok.kind == PUNCT and tok.text == "=":
                break
            target.append(tok)
        words = [t for t in target if t.kind != PUNCT]
        if len(target) > 0 and target[0].kind == PUNCT:  # (c, d) = (...)
            names.update(t.text.lower() for t in words)
        elif words:
            names.add(words[-1].text.lower())
    return frozenset(names)
