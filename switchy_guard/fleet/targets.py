"""Where a fleet's targets come from, and which of them this shard takes.

A target is a name (shown in every message) and a database URL (never shown: its
password stays in memory, and every message naming a target names it by its name).
Sources:

- ``--targets FILE``: TOML, one ``[[target]]`` table each with ``name``, ``url`` (where
  ``${NAME}`` is the environment variable NAME, e.g. a password from a secret), an
  optional ``env`` (the policy environment of that target, over ``--env``) and ``tags``
  (a list of strings); also ``schema`` (a PostgreSQL schema: the target's tables live
  there, ``search_path`` pinned to it);
- ``--targets-command CMD``: a shell command printing one target a line (``URL`` or
  ``NAME URL``; blank lines and ``#`` comments skipped), or a JSON list of URLs or of
  objects with the keys of a ``[[target]]`` table;
- ``--targets-query SQL``: a query run on ``-d`` whose rows are ``(name, url)``;
- ``--schemas-query SQL``: a query run on ``-d`` (PostgreSQL) whose rows are schema
  names: each schema is a target on that database.

Bad input is a :class:`~switchy_guard.errors.InputError` (exit 2) naming the file and
line (or the command's output line, or the query's row) and the problem; no target runs.

Sharding (:func:`shard`): target ``t`` belongs to shard ``int(sha256(t.name)[:16], 16)
% N``: each name always lands on the same shard, whichever machine computes it and
however the list is ordered, and adding a target never moves the others.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from switchy_guard.errors import ConfigError, InputError
from switchy_guard.masking import mask_message, mask_url, remember, secrets_in

#: What a target's name may hold: it is shown in terminals, logs and file names.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,127}")
_TABLE_KEYS = frozenset(("name", "url", "env", "tags", "schema"))


@dataclass(frozen=True)
class Target:
    """One database (or one schema of one) the fleet migrates."""

    name: str
    url: str = field(repr=False)
    env: str | None = None
    tags: tuple[str, ...] = ()
    schema: str | None = None

    @property
    def shown_url(self) -> str:
        """The URL with its password masked."""
        return mask_url(self.url)

    def to_dict(self) -> dict[str, Any]:
        """What reports say of the target: never its URL."""
        data: dict[str, Any] = {"name": self.name}
        if self.env:
            data["env"] = self.env
        if self.tags:
            data["tags"] = list(self.tags)
        if self.schema:
            data["schema"] = self.schema
        return data


def _check_url(url: str, where: str) -> str:
    from switchy_guard.runtime.db import dialect_of, parse_url

    url = url.strip()
    if not url:
        raise InputError(f"{where}: empty url")
    remember(*secrets_in(url))  # masked wherever a driver's message might repeat it
    try:
        dialect_of(parse_url(url))
    except ConfigError as error:
        raise InputError(f"{where}: {error.one_line()}") from None
    return url


_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_environment(url: str, where: str) -> str:
    """``${NAME}`` in a file's or JSON's url replaced by the environment variable NAME
    (a password kept in a secret, not in the targets file); an unset one is refused."""
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise InputError(f"{where}: the url names ${{{name}}}, which is not set")
        return os.environ[name]

    return _VARIABLE.sub(value, url)


def _check_name(name: object, where: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        shown = mask_message(str(name), limit=60)
        raise InputError(f"{where}: target name {shown!r} must be 1-128 letters, digits "
                         "or ._:@/+- (starting with a letter or digit)")
    return name


def target_from_mapping(data: Mapping[str, Any], where: str) -> Target:
    """A :class:`Target` from a ``[[target]]`` table or a JSON object."""
    unknown = sorted(set(data) - _TABLE_KEYS)
    if unknown:
        raise InputError(f"{where}: unknown key {unknown[0]!r} (known: "
                         f"{', '.join(sorted(_TABLE_KEYS))})")
    url = data.get("url")
    if not isinstance(url, str):
        raise InputError(f"{where}: 'url' is missing or not a string")
    url = _check_url(expand_environment(url, where), where)
    name = _check_name(data.get("name"), where)
    env = data.get("env")
    if env is not None and (not isinstance(env, str) or not env.strip()):
        raise InputError(f"{where}: 'env' must be a non-empty string")
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise InputError(f"{where}: 'tags' must be a list of strings")
    schema = data.get("schema")
    if schema is not None and (not isinstance(schema, str) or not schema.strip()):
        raise InputError(f"{where}: 'schema' must be a non-empty string")
    return Target(name, url, env, tuple(tags), schema)


def _header_lines(text: str) -> list[int]:
    """The 1-based line of each ``[[target]]`` header (tomllib gives no positions)."""
    return [number for number, line in enumerate(text.splitlines(), 1)
            if re.match(r"\s*\[\[\s*target\s*\]\]", line)]


def load_targets_file(path: str | Path) -> list[Target]:
    """The targets of a TOML file (see the module docs)."""
    shown = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{shown}: no such targets file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{shown}: cannot read the targets file: "
                         f"{mask_message(str(error), limit=200)}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{shown}: not valid TOML: {mask_message(str(error), limit=200)}"
                         ) from None
    extra = sorted(set(data) - {"target"})
    if extra:
        raise InputError(f"{shown}: unknown key {extra[0]!r}: targets are [[target]] tables")
    tables = data.get("target", [])
    if not isinstance(tables, list) or not tables:
        raise InputError(f"{shown}: no [[target]] tables")
    lines = _header_lines(text)
    targets = []
    for number, table in enumerate(tables):
        line = lines[number] if number < len(lines) else None
        where = f"{shown}:{line}" if line else f"{shown}: target #{number + 1}"
        if not isinstance(table, dict):
            raise InputError(f"{where}: each target must be a table")
        targets.append(target_from_mapping(table, where))
    return checked(targets, shown)


def parse_target_lines(text: str, origin: str) -> list[Target]:
    """Targets printed by a command: a JSON list, or one ``URL`` / ``NAME URL`` a line.

    A bare URL is named after its database (the file's stem for SQLite), which must then
    be unique."""
    stripped = text.strip()
    if stripped.startswith("["):
        return _parse_json(stripped, origin)
    targets = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{origin}: line {number}"
        words = line.split()
        if len(words) == 1:
            url = _check_url(words[0], where)
            targets.append(Target(_check_name(_default_name(url), where), url))
        elif len(words) == 2:
            url = _check_url(words[1], where)
            targets.append(Target(_check_name(words[0], where), url))
        else:
            raise InputError(f"{where}: expected 'URL' or 'NAME URL', got {len(words)} words")
    if not targets:
        raise InputError(f"{origin}: printed no targets")
    return checked(targets, origin)


def _parse_json(text: str, origin: str) -> list[Target]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{origin}: not valid JSON: line {error.lineno}: {error.msg}"
                         ) from None
    if not isinstance(data, list) or not data:
        raise InputError(f"{origin}: JSON must be a non-empty list of targets")
    targets = []
    for number, item in enumerate(data, 1):
        where = f"{origin}: item {number}"
        if isinstance(item, str):
            url = _check_url(item, where)
            targets.append(Target(_check_name(_default_name(url), where), url))
        elif isinstance(item, dict):
            targets.append(target_from_mapping(item, where))
        else:
            raise InputError(f"{where}: each item must be a URL or an object")
    return checked(targets, origin)


def _default_name(url: str) -> str:
    from switchy_guard.runtime.db import parse_url

    parsed = parse_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite":
        return Path(database).stem or "memory"
    return database or (parsed.host or "database")


def targets_from_command(command: str, *, timeout: float = 60.0) -> list[Target]:
    """Run ``command`` in a shell and read the targets it prints (see the module docs)."""
    origin = f"--targets-command {mask_message(command, limit=80)!r}"
    try:
        done = subprocess.run(command, shell=True, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise InputError(f"{origin}: still running after {timeout:g} s") from None
    except OSError as error:
        raise InputError(f"{origin}: could not start: {error.strerror}") from None
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or [""])[-1]
        raise InputError(f"{origin}: exited with {done.returncode}"
                         + (f": {mask_message(tail, limit=200)}" if tail else ""))
    return parse_target_lines(done.stdout, origin)


def targets_from_rows(rows: Iterable[Sequence[Any]], origin: str) -> list[Target]:
    """Targets from query rows ``(name, url)``."""
    targets = []
    for number, row in enumerate(rows, 1):
        where = f"{origin}: row {number}"
        if len(row) != 2 or not all(isinstance(v, str) for v in row):
            raise InputError(f"{where}: a row must be two text columns (name, url)")
        url = _check_url(row[1], where)
        targets.append(Target(_check_name(row[0], where), url))
    if not targets:
        raise InputError(f"{origin}: returned no rows")
    return checked(targets, origin)


def targets_from_query(database_url: str | None, sql: str) -> list[Target]:
    """Targets from ``--targets-query SQL`` run on ``-d``."""
    rows = _query(database_url, sql, "--targets-query")
    return targets_from_rows(rows, "--targets-query")


def targets_from_schemas(database_url: str | None, sql: str) -> list[Target]:
    """One target per schema named by ``--schemas-query SQL`` on ``-d`` (PostgreSQL)."""
    from switchy_guard.runtime.db import dialect_of

    origin = "--schemas-query"
    if not database_url:
        raise ConfigError(f"{origin} needs -d URL (the database holding the schemas)")
    if dialect_of(database_url) != "postgres":
        raise ConfigError(f"{origin} works on PostgreSQL (schema per tenant)")
    targets = []
    for number, row in enumerate(_query(database_url, sql, origin), 1):
        where = f"{origin}: row {number}"
        if len(row) != 1 or not isinstance(row[0], str) or not row[0].strip():
            raise InputError(f"{where}: a row must be one text column (a schema name)")
        targets.append(Target(_check_name(row[0], where), database_url, schema=row[0]))
    if not targets:
        raise InputError(f"{origin}: returned no rows")
    return checked(targets, origin)


def _query(database_url: str | None, sql: str, flag: str) -> list[Sequence[Any]]:
    from sqlalchemy import text

    from switchy_guard.runtime.db import create_database_engine

    if not database_url:
        raise ConfigError(f"{flag} needs -d URL (the database it is run on)")
    engine = create_database_engine(database_url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def checked(targets: list[Target], origin: str) -> list[Target]:
    """The targets sorted by name; two targets with one name are refused."""
    seen: set[str] = set()
    for target in targets:
        if target.name in seen:
            raise InputError(f"{origin}: two targets are named {target.name!r}")
        seen.add(target.name)
    return sorted(targets, key=lambda t: t.name)


def shard_of(name: str, count: int) -> int:
    """The shard (0 .. count-1) a target name belongs to (see the module docs)."""
    return int(hashlib.sha256(name.encode()).hexdigest()[:16], 16) % count


def shard(targets: Sequence[Target], index: int, count: int) -> list[Target]:
    """The targets of shard ``index`` of ``count``, in name order."""
    if count < 1 or not 0 <= index < count:
        raise ConfigError(f"--shard-index {index} --shard-count {count}: the index must be "
                          "0 to count-1")
    return [t for t in targets if shard_of(t.name, count) == index]
