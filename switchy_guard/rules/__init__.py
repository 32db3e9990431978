"""The hazard catalog (docs/rules.md): every rule with its code, name and docs."""

from __future__ import annotations

from switchy_guard.rules import (
    compat,
    destructive,
    identifiers,
    integrity,
    locking,
    naming,
    rewrites,
    suppression,
    transactions,
)
from switchy_guard.rules.base import Rule, Schema, StatementContext

_ALL: tuple[Rule, ...] = tuple(
    sorted(
        (
            *integrity.RULES,
            *naming.RULES,
            *identifiers.RULES,
            *destructive.RULES,
            *locking.RULES,
            *rewrites.RULES,
            *compat.RULES,
            *transactions.RULES,
            *suppression.RULES,
        ),
        key=lambda rule: rule.code,
    )
)
_DATA_LOSS = frozenset(rule.code for rule in _ALL if rule.loses_data)
_BY_KEY = {key.lower(): rule for rule in _ALL for key in (rule.code, rule.name)}


def all_rules() -> tuple[Rule, ...]:
    """Every rule, by code."""
    return _ALL


def statement_rules(dialect: str | None) -> list[Rule]:
    """The rules that check single statements on ``dialect``."""
    return [rule for rule in _ALL if rule.check is not None and rule.applies_to(dialect)]


def data_loss_codes() -> frozenset[str]:
    """The codes of the rules whose findings mean data can be lost (``Rule.loses_data``):
    a migration with such a finding, allowed or not, is destructive to the gate."""
    return _DATA_LOSS


def get_rule(key: str) -> Rule | None:
    """The rule with this code or name (case-insensitive), or None."""
    return _BY_KEY.get(key.strip().lower())


__all__ = [
    "Rule", "Schema", "StatementContext", "all_rules", "data_loss_codes", "get_rule",
    "statement_rules",
]
