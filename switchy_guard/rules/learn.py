"""What the schema model learns from functions and types the history creates."""

from __future__ import annotations

import re

from switchy_guard.rules.base import Schema
from switchy_guard.rules.volatility import altered_volatility, function_volatility
from switchy_guard.sql.classify import StatementInfo

_ENUM = re.compile(r"\bAS\s+ENUM\s*\((.*)\)", re.IGNORECASE | re.DOTALL)
_LABEL = re.compile(r"'((?:[^']|'')*)'")


def learn_routine_or_type(schema: Schema, info: StatementInfo, text: str) -> None:
    """Remember a function's volatility (CREATE / ALTER FUNCTION) or an enum type's
    labels (CREATE TYPE ... AS ENUM); forget what DROP FUNCTION / DROP TYPE drops."""
    if info.kind == "drop_other":
        for name in info.tables or ((info.table,) if info.table else ()):
            if info.object_type == "function":
                schema.functions.pop(name.name.lower(), None)
            else:
                schema.enums.pop(name.name.lower(), None)
    elif info.kind == "alter_other" and info.object_type == "function":
        altered = altered_volatility(text)
        if altered is not None:
            schema.functions[altered[0]] = altered[1]
    elif info.table is not None and info.object_type == "function":
        schema.functions[info.table.name.lower()] = function_volatility(
            text, schema.functions.get)
    elif info.table is not None and info.object_type == "type":
        found = _ENUM.search(text)
        if found:
            labels = tuple(label.replace("''", "'") for label in _LABEL.findall(found.group(1)))
            schema.enums[info.table.name.lower()] = labels
