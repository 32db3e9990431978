"""The rule framework: a Rule holds its code, name, docs and check in one place."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ..findings import Severity
from ..migration import Migration
from ..sql.classify import StatementInfo
from ..sql.split import Statement

ALL = frozenset({"postgres", "mysql", "sqlite"})
PM = frozenset({"postgres", "mysql"})
P = frozenset({"postgres"})
M = frozenset({"mysql"})
S = frozenset({"sqlite"})


@dataclass
class Schema:
    """What the validator knows of the schema while it walks the migrations.

    ``new_tables`` and ``new_indexes`` were created within the plan, so they are new and
    empty; ``column_types`` remembers each column's declared type for narrowing checks and
    ``not_null`` the columns known to be NOT NULL.
    """

    new_tables: set[str] = field(default_factory=set)
    new_indexes: set[str] = field(default_factory=set)
    column_types: dict[tuple[str, str], str] = field(default_factory=dict)
    not_null: set[tuple[str, str]] = field(default_factory=set)
    rebuilt_tables: set[str] = field(default_factory=set)
    #: When a set, each column fact looked up and not found is added to it, as
    #: ``("type" | "not_null", (table, column))``: a migration checked without the
    #: migrations before it (see parallel_check) says what it might have missed.
    misses: set[tuple[str, tuple[str, str]]] | None = None

    def column_type(self, table: str, column: str) -> str | None:
        """The declared type of ``table.column`` the migrations so far gave it."""
        found = self.column_types.get((table, column))
        if found is None and self.misses is not None:
            self.misses.add(("type", (table, column)))
        return found

    def known_not_null(self, table: str, column: str) -> bool:
        """Whether the migrations so far made ``table.column`` NOT NULL."""
        if (table, column) in self.not_null:
            return True
        if self.misses is not None:
            self.misses.add(("not_null", (table, column)))
        return False

    def is_new(self, table: object) -> bool:
        """Whether ``table`` (a Name or str) was created within the plan."""
        return table is not None and str(getattr(table, "name", table)) in self.new_tables


@dataclass(frozen=True)
class StatementContext:
    """What a statement rule sees besides the statement itself."""

    dialect: str | None
    migration: Migration
    statement: Statement
    schema: Schema
    statements_in_migration: tuple[tuple[Statement, StatementInfo], ...]

    @property
    def is_first_ddl(self) -> bool:
        """Whether this is the migration's first schema-changing statement."""
        first = next((s for s, i in self.statements_in_migration if i.is_ddl), None)
        return first is self.statement


#: A statement check yields one message per problem it sees.
StatementCheck = Callable[[StatementInfo, StatementContext], Iterator[str]]


@dataclass(frozen=True)
class Rule:
    """One hazard rule with its documentation.

    ``check`` is set for rules that look at single statements; rules over the whole
    project or the database state are run by the validation pipeline.
    """

    code: str
    name: str
    severity: Severity
    dialects: frozenset[str]
    summary: str
    why: str
    instead: str
    example: str
    fixed: str = ""
    check: StatementCheck | None = None
    kinds: frozenset[str] | None = None  # statement kinds the check looks at (None: all)

    def applies_to(self, dialect: str | None) -> bool:
        """Whether the rule runs for ``dialect`` (None: every rule runs)."""
        return dialect is None or dialect in self.dialects

    def docs(self) -> str:
        """The rule's documentation as plain text."""
        dialects = ", ".join(sorted(self.dialects))
        parts = [
            f"{self.code} {self.name} ({self.severity.value}; {dialects})",
            "",
            self.summary,
            "",
            f"Why: {self.why}",
            "",
            f"Instead: {self.instead}",
            "",
            "Example:",
            *(f"    {line}" for line in self.example.splitlines()),
        ]
        if self.fixed:
            parts += ["", "Use instead:", *(f"    {line}" for line in self.fixed.splitlines())]
        return "\n".join(parts)
