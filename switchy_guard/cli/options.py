"""The options every verb takes (the global options), the options several verbs share,
the argument types, and :class:`Verbs`, through which each command module registers
its verbs."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from switchy_guard.cli.context import Context

#: Help of ``--server-version`` (check and plan).
SERVER_VERSION_HELP = (
    "the server the version-aware rules judge by: 15, 10.6, postgresql-11, mysql-8.0.11, "
    "mariadb-10.4 (under -d the live server's own wins)")

#: A verb's run function: the parsed command line in, the exit code out.
Run = Callable[["Context"], int]


class Verbs:
    """The verbs of the top-level parser: :meth:`add` gives each one its parser, with the
    global options, and records its run function (``args.run``)."""

    def __init__(self, subparsers: argparse._SubParsersAction[Any]) -> None:
        self._subparsers = subparsers

    def add(self, name: str, help_text: str, run: Run) -> argparse.ArgumentParser:
        """A new verb ``name`` run by ``run``; its parser, to add the verb's own options."""
        sub: argparse.ArgumentParser = self._subparsers.add_parser(
            name, help=help_text, description=help_text)
        add_global_options(sub)
        sub.set_defaults(run=run)
        return sub


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """The global options (docs/cli.md), on the top-level parser and on every verb's."""
    # SUPPRESS lets the same options stand before or after the verb.
    sup = argparse.SUPPRESS
    group = parser.add_argument_group("global options")
    group.add_argument(
        "-d",
        "--database-url",
        metavar="URL",
        default=sup,
        help="database URL (env SWITCHY_DATABASE_URL, then DATABASE_URL)",
    )
    group.add_argument(
        "-m",
        "--migrations-dir",
        metavar="DIR",
        default=sup,
        action="append",
        help="migrations folder, or package:subdir (default ./migrations);"
        " repeat to combine sources",
    )
    group.add_argument(
        "--migration-table",
        metavar="NAME",
        default=sup,
        help="tracking table (default __switchy_migrations)",
    )
    group.add_argument(
        "--dialect",
        choices=("sqlite", "postgres", "mysql"),
        default=sup,
        help="dialect when no database URL is given",
    )
    group.add_argument(
        "--checksum-mode",
        choices=("file", "exec-raw"),
        default=sup,
        help="how folder sources hash scripts: file bytes (default) or exec-raw "
        "(switchy_schema code migrations, as MoosicBox stores them)",
    )
    group.add_argument(
        "--layout",
        choices=("auto", "switchy", "golang-migrate", "flyway", "sqlx", "dbmate", "goose"),
        default=sup,
        help="the history's layout (env SWITCHY_LAYOUT; default auto: detected from the "
        "file names)",
    )
    group.add_argument("--allow-empty", action="store_true", default=sup,
                       help="an empty migrations folder is an empty history, not an error")
    group.add_argument(
        "--env",
        metavar="NAME",
        default=sup,
        help="environment name (env SWITCHY_ENV, default development)",
    )
    group.add_argument("--policy-dir", metavar="DIR", default=sup, help="policy folder")
    group.add_argument("--offline", action="store_true", default=sup,
                       help="remote sources: use the local cache only, no network")
    group.add_argument("--config", metavar="FILE", default=sup, help="config file")
    group.add_argument("--session-init", metavar="SQL", default=sup, action="append",
                       help="SQL run on every connection (SET FOREIGN_KEY_CHECKS=0, SET "
                            "search_path TO app); repeatable; overrides config and policy "
                            "session_init")
    group.add_argument("--statement-lock-timeout", metavar="S", type=seconds, default=sup,
                       help="seconds each migration statement waits for a lock before it "
                            "gives up (PostgreSQL lock_timeout, MySQL lock_wait_timeout, "
                            "SQLite busy timeout); overrides config and policy")
    group.add_argument("--statement-timeout", metavar="S", type=seconds, default=sup,
                       help="seconds each migration statement may run (PostgreSQL "
                            "statement_timeout, MariaDB max_statement_time)")
    group.add_argument("--lock-retries", metavar="N", type=non_negative_int, default=sup,
                       help="retry a migration (a statement run outside a transaction) "
                            "that gave up on a lock or deadlocked N times, with backoff")
    group.add_argument("--format",
                       choices=("text", "json", "sarif", "github", "gitlab", "markdown"),
                       default=sup,
                       help="output format (sarif, github, gitlab: check and plan; markdown: "
                            "also rollback --plan)")
    group.add_argument("--debug", action="store_true", default=sup, help="tracebacks on errors")
    group.add_argument("--no-color", action="store_true", default=sup, help="plain output")
    group.add_argument("-q", "--quiet", action="store_true", default=sup, help="less output")


# -- options several verbs share --------------------------------------------------------

FROM_START = ("re-run a failed migration that left statements applied (it ran statement "
              "by statement) from its first statement: say so once they are undone")


def add_gate_options(parser: argparse.ArgumentParser) -> None:
    """``--confirm ENV`` and ``--ack-backup`` of the gated verbs (plan, migrate, rollback)."""
    parser.add_argument("--confirm", metavar="ENV",
                        help="confirm the run for environment ENV (must equal --env; required "
                             "where the policy asks for confirmation and there is no terminal)")
    parser.add_argument("--ack-backup", action="store_true",
                        help="acknowledge that a backup exists (policies with backup = \"ack\" "
                             "need it before destructive steps)")


def add_confirm_option(parser: argparse.ArgumentParser) -> None:
    """``--confirm ENV`` of the recovery verbs (mark-*, retry, adopt*, lock)."""
    parser.add_argument("--confirm", metavar="ENV",
                        help="confirm for the environment ENV (required where the policy "
                             "asks for confirmation and there is no terminal)")


def add_lock_timeout(parser: argparse.ArgumentParser) -> None:
    """``--lock-timeout SECONDS`` of migrate and rollback."""
    parser.add_argument(
        "--lock-timeout",
        type=seconds,
        metavar="SECONDS",
        help="seconds to wait for the migration lock (exit 3 after)",
    )


class SpelledAs(argparse.Action):
    """Stores the value, and in ``<dest>_flag`` the option as typed (``--up-to``), so an
    error names the argument the person wrote."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        setattr(namespace, self.dest, values)
        setattr(namespace, f"{self.dest}_flag", option_string)


# -- argument types ----------------------------------------------------------------------


def non_negative_int(text: str) -> int:
    """A whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def positive_int(text: str) -> int:
    """A whole number, 1 or more."""
    value = non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def seconds(text: str) -> float:
    """A finite number of seconds, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0:  # nan too
        raise argparse.ArgumentTypeError("must be 0 or more")
    if value == float("inf"):
        raise argparse.ArgumentTypeError("must be a finite number")
    return value
