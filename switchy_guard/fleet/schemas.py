"""Schema per tenant: one PostgreSQL database, each schema a target with its own tracking
table; every connection of a target's engine has ``search_path`` pinned to its schema."""

from __future__ import annotations

import re
from typing import Any

from switchy_guard.errors import InputError
from switchy_guard.fleet.targets import Target

#: A schema name used unquoted in ``search_path``: plain identifiers only.
_SCHEMA = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def schema_engine(target: Target) -> Any:
    """An engine on the target's database whose connections all use its schema."""
    from switchy_guard.runtime.db import create_database_engine, dialect_of

    schema = target.schema or ""
    if not _SCHEMA.fullmatch(schema):
        raise InputError(f"target {target.name!r}: schema {schema!r} must be a plain "
                         "identifier (letters, digits, _; at most 63)")
    if dialect_of(target.url) != "postgres":
        raise InputError(f"target {target.name!r}: a schema target needs PostgreSQL")
    return create_database_engine(target.url,
                                  connect_args={"options": f"-c search_path={schema}"})
