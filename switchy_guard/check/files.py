"""``check FILE.sql [FILE.sql ...]`` and ``check - --stdin-filename NAME.sql``: lint SQL
that is not a history (SQL an ORM printed, a snippet under review).

Each file is one migration, linted in the order given, as squawk lints files. History
rules do not apply: no ids to name (SG101), no down scripts (SG203), no ordering or
checksums. The dialect must be given (``--dialect``, or the config's ``dialect``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO

from switchy_guard.check.report import CheckReport
from switchy_guard.errors import ConfigError, InputError
from switchy_guard.model.migration import Migration

if TYPE_CHECKING:
    from switchy_guard.model.server_version import GivenVersion

#: Rules about a history, which a lone file has none of.
HISTORY_RULES = frozenset({"SG101", "SG103", "SG203"})


def read_sql_file(path: str, *, stdin: BinaryIO | None = None,
                  stdin_name: str | None = None) -> Migration:
    """One file (``-``: standard input, named ``stdin_name``) as a migration."""
    from switchy_guard.discovery.layout import _decode
    from switchy_guard.model.checksum import file_checksum

    if path == "-":
        name = stdin_name or "<stdin>"
        data = (stdin or sys.stdin.buffer).read()
    else:
        name = path
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except IsADirectoryError:
            raise InputError("is a folder: give it with -m to check a history",
                             path=path) from None
        except OSError as exc:
            raise InputError(f"cannot read it: {exc.strerror or exc}", path=path) from None
    return Migration(id=name, up=_decode(data, name), down=None,
                     up_checksum=file_checksum(data), down_checksum=file_checksum(None),
                     description=name, source=name, up_path=name)


def check_files(paths: Sequence[str], dialect: str | None, *,
                stdin: BinaryIO | None = None, stdin_name: str | None = None,
                server_version: GivenVersion | None = None) -> CheckReport:
    """Lint ``paths`` (``-`` reads standard input once) each as one migration;
    ``server_version``: the server the version-aware rules judge by (no database is read
    here, so only the given one)."""
    from switchy_guard.check.pipeline import validate
    from switchy_guard.model.findings import CheckSummary

    if dialect is None:
        raise ConfigError("check of files needs --dialect (sqlite, postgres or mysql), "
                          "or dialect in the config file")
    if list(paths).count("-") > 1:
        raise ConfigError("check: standard input (-) can be read once")
    if stdin_name is not None and "-" not in paths:
        raise ConfigError("--stdin-filename names standard input: give - as the file")
    migrations = [read_sql_file(path, stdin=stdin, stdin_name=stdin_name) for path in paths]
    from switchy_guard.model.server_version import version_for

    result = validate(migrations, dialect, id_pattern=r"(?s:.*)",
                      server_version=version_for(server_version, dialect))
    findings = [f for f in result.findings if f.code not in HISTORY_RULES]
    return CheckReport(findings, CheckSummary.of(findings, result.migrations,
                                                 result.statements), result.allowed)
