"""The server version the version-aware rules judge by: ``--server-version`` (``check``,
``plan``), the ``server_version`` setting, or the live server's under ``-d``.

Spelling: ``[FLAVOUR-]MAJOR[.MINOR[.PATCH]]`` with FLAVOUR one of ``postgresql``
(or ``postgres``), ``mysql``, ``mariadb``: ``15``, ``10.6``, ``postgresql-11``,
``mysql-8.0.11``, ``mariadb-10.4``. A bare version is read for the dialect checked, a
MySQL-family one by its major number as the rules do (MariaDB numbers its releases from
10, MySQL's are 5, 8 and 9); with no dialect known it must name its flavour.

Which version wins: under ``-d`` the live server's own, always (the rules then judge the
server the migrations run on); a given version that contradicts it is reported in one
warning line. Without a database the flag, else the setting. A version that names
another server than the dialect checked, or any version for SQLite (no rule reads
SQLite's), is refused: :class:`~switchy_guard.errors.BadServerVersion`, exit 2.

Plain data: no database, no SQLAlchemy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from switchy_guard.errors import BadServerVersion

#: A version as numbers, e.g. (15, 4) or (10, 6, 12); the MySQL family's flavour is
#: told by the major number (see locks_taken.is_mariadb).
Numbers = tuple[int, ...]

_FLAVOURS = {"postgresql": "postgres", "postgres": "postgres", "mysql": "mysql",
             "mariadb": "mariadb"}
_SPELLING = re.compile(r"(?:(?P<flavour>[a-z]+)-)?(?P<numbers>\d{1,4}(?:\.\d{1,4}){0,2})",
                       re.IGNORECASE)
_EXAMPLES = "e.g. 15, 10.6, postgresql-11, mysql-8.0.11, mariadb-10.4"
_NAMES = {"postgres": "PostgreSQL", "mysql": "MySQL", "mariadb": "MariaDB",
          "sqlite": "SQLite"}


def _numbers_text(numbers: Numbers) -> str:
    return ".".join(str(n) for n in numbers)


@dataclass(frozen=True)
class GivenVersion:
    """A version the user gave: its flavour (``postgres``, ``mysql``, ``mariadb``; None
    when bare), its numbers, its text as typed and where it was given (for messages)."""

    flavour: str | None
    numbers: Numbers
    text: str
    source: str

    @property
    def numbers_text(self) -> str:
        """The numbers as dotted text, without the flavour."""
        return _numbers_text(self.numbers)

    def fail(self, problem: str) -> BadServerVersion:
        """The one-line error naming this version and where it was given."""
        return BadServerVersion(f"{self.source} {self.text!r}: {problem}")


def parse_server_version(text: str, source: str = "--server-version") -> GivenVersion:
    """Read ``text`` (see the module docs); ``source`` names where it was given.

    Raises BadServerVersion for anything else, and for a flavour its numbers cannot be
    (``mariadb-5.5``: MariaDB's releases the rules know start at 10; ``mysql-10.4``)."""
    found = _SPELLING.fullmatch(text.strip())
    flavour = found and found.group("flavour")
    if found is None or (flavour is not None and flavour.lower() not in _FLAVOURS):
        raise BadServerVersion(f"{source} {text!r}: not a server version "
                               f"([postgresql-|mysql-|mariadb-]MAJOR[.MINOR[.PATCH]], "
                               f"{_EXAMPLES})")
    numbers = tuple(int(n) for n in found.group("numbers").split("."))
    given = GivenVersion(_FLAVOURS[flavour.lower()] if flavour else None, numbers,
                         text.strip(), source)
    if numbers[0] == 0:
        raise given.fail("a major version is 1 or more")
    if given.flavour == "mariadb" and numbers[0] < 10:
        raise given.fail("MariaDB numbers the releases the rules know from 10 (a 5.x "
                         "MariaDB is judged as MySQL 5.x: give mysql-5.5)")
    if given.flavour == "mysql" and numbers[0] >= 10:
        raise given.fail("MySQL's releases are 5, 8 and 9 (10 and up are MariaDB's: "
                         f"give mariadb-{given.numbers_text})")
    return given


def given_server_version(text: str | None, *, flag: bool,
                         config_file: str | None = None) -> GivenVersion | None:
    """The version given as ``--server-version`` (``flag``) or as the ``server_version``
    setting of ``config_file``; None when neither gave one."""
    if text is None:
        return None
    return parse_server_version(text, "--server-version" if flag
                                else f"server_version in {config_file}")


def flavour_of(dialect: str, numbers: Numbers) -> str:
    """The server a dialect's version names: MariaDB for the MySQL dialect from 10."""
    if dialect == "mysql":
        return "mariadb" if numbers[0] >= 10 else "mysql"
    return dialect


def describe(dialect: str, numbers: Numbers | None) -> str:
    """``PostgreSQL 15.4``, ``MariaDB 10.11.6``; ``SQLite`` for a SQLite database."""
    if numbers is None:
        return _NAMES.get(dialect, dialect)
    return f"{_NAMES[flavour_of(dialect, numbers)]} {_numbers_text(numbers)}"


def version_for(given: GivenVersion | None, dialect: str | None) -> Numbers | None:
    """The numbers the rules judge ``dialect`` by, from a version given without a
    database (None: none given, or a flavoured one checked under another dialect when
    the dialect is unknown and each is tried).

    Raises BadServerVersion for a bare version with no dialect known, a version for
    SQLite, and a flavour that is not the dialect's."""
    if given is None:
        return None
    if dialect is None:
        if given.flavour is None:
            raise given.fail("a bare version needs the dialect: give --dialect, or name "
                             "the server (postgresql-15, mysql-8.0, mariadb-10.6)")
        return None
    if dialect == "sqlite":
        raise given.fail("no rule reads a SQLite version (the dialect is sqlite)")
    if given.flavour is None:
        return given.numbers
    family = "mysql" if given.flavour in ("mysql", "mariadb") else given.flavour
    if family != dialect:
        raise given.fail(f"names a {_NAMES[given.flavour]} server, but the dialect is "
                         f"{dialect}")
    return given.numbers


def each_dialect(given: GivenVersion | None, dialect: str) -> Numbers | None:
    """For a check under every dialect (none known): the numbers for ``dialect`` when the
    given version names that dialect's server, else None."""
    if given is None or given.flavour is None:
        return None
    family = "mysql" if given.flavour in ("mysql", "mariadb") else given.flavour
    return given.numbers if family == dialect else None


def reconcile(given: GivenVersion | None, dialect: str,
              live: Numbers | None) -> tuple[Numbers | None, str | None]:
    """Under ``-d``: the live server's version (None for SQLite), and a warning line when
    the given version contradicts it (another server, or other numbers at the precision
    given: ``15`` agrees with 15.4, ``15.2`` does not), without a ``warning:`` prefix."""
    if given is None:
        return live, None
    agrees = (live is not None and dialect != "sqlite"
              and given.flavour in (None, flavour_of(dialect, live))
              and live[:len(given.numbers)] == given.numbers)
    if agrees:
        return live, None
    return live, (f"{given.source} {given.text} ignored: the database is "
                  f"{describe(dialect, live)}, and the rules judge by the server they run on")
