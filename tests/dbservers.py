"""Throwaway PostgreSQL and MariaDB servers for the tests, on free ports of 127.0.0.1.

``start_postgres()`` (Debian's ``postgresql-15``) and ``start_mariadb()`` (Debian's
``mariadb-server``) each initialise a data directory under a fresh temporary folder, start
the server listening on 127.0.0.1 only, wait (at most ``START_TIMEOUT`` seconds) until the
user ``switchy`` / ``s3cret-pw`` can log in over TCP with its password, and return a
``Server``:

- ``server.url``: SQLAlchemy URL of an admin database (``.../postgres``, ``.../mysql``);
- ``server.new_database(name=None)``: create a fresh empty database, return its URL;
- ``server.stop()``: stop the server and delete its folder (idempotent; also run at
  interpreter exit, and the server gets a signal if the process that started it dies).

``ExternalServer(kind, url)`` gives the same interface for a server someone else runs;
its ``stop()`` drops the databases it created.

Servers refuse to run as root, so when we are root they run as the ``postgres`` / ``mysql``
system user (created when missing) and the temporary folder is handed to that user.
A server that cannot start raises ``ServerError`` carrying the tail of its log.

By hand: ``python tests/dbservers.py postgres|mysql`` starts one, prints its URL and
waits for Ctrl-C.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

USER = "switchy"
PASSWORD = "s3cret-pw"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
KINDS = ("postgres", "mysql")
ADMIN_DATABASES = {"postgres": "postgres", "mysql": "mysql"}
DRIVERS = {"postgres": "postgresql+psycopg", "mysql": "mysql+pymysql"}
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# What a server logs when the port we picked was taken in the meantime.
_PORT_TAKEN = ("Address already in use", "could not create any TCP/IP sockets",
               "Do you already have another server running on port")
_PORT_ATTEMPTS = 3


class ServerError(RuntimeError):
    """A test server could not be started."""


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now (bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(logs: Sequence[Path], lines: int = 30) -> str:
    """The last ``lines`` lines of each log that exists, for error messages."""
    parts = []
    for log in logs:
        try:
            content = log.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            continue
        if content:
            parts.append(f"--- {log.name} (last {len(content)} lines) ---\n" + "\n".join(content))
    return "\n".join(parts) or "(the server wrote no log)"


def _run_as(name: str) -> dict[str, Any]:
    """Popen keyword arguments that run a child as system user ``name`` when we are root.

    The user is created when missing. Not root: no switch, the server runs as us.
    """
    if os.geteuid() != 0:
        return {}
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home",
             "--shell", "/usr/sbin/nologin", name],
            check=True, capture_output=True,
        )
        entry = pwd.getpwnam(name)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


@functools.cache
def _setpriv() -> str | None:
    """util-linux ``setpriv`` if it supports ``--pdeathsig`` (orphan protection)."""
    path = shutil.which("setpriv")
    if path is None:
        return None
    probe = subprocess.run([path, "--pdeathsig", "TERM", "--", "true"],
                           capture_output=True, check=False)
    return path if probe.returncode == 0 else None


def _make_root(prefix: str, run_as: Mapping[str, Any]) -> Path:
    """A fresh private temporary folder, owned by the user the server runs as."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    if run_as:
        os.chown(root, run_as["user"], run_as["group"])
    return root


def _initialise(command: list[str], root: Path, run_as: Mapping[str, Any]) -> None:
    """Run a data-directory initialiser; on failure remove ``root`` and say why."""
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=root,
                            **run_as)
    if result.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        output = (result.stderr.strip() + "\n" + result.stdout.strip()).strip()[-3000:]
        raise ServerError(f"{Path(command[0]).name} exited with {result.returncode}:\n{output}")


def _database_url(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"database name {name!r}: use 1-63 of a-z, 0-9, _ (not a digit first)")
    return name


def _kind_of(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend in ("postgresql", "postgres"):
        return "postgres"
    if backend in ("mysql", "mariadb"):
        return "mysql"
    raise ValueError(f"not a PostgreSQL or MySQL/MariaDB URL: {backend}")


def create_database(admin_url: str, name: str | None = None) -> str:
    """Create an empty database beside ``admin_url`` (unique name unless given); its URL."""
    name = _check_name(name) if name else f"t_{uuid.uuid4().hex[:16]}"
    quoted = f'"{name}"' if _kind_of(admin_url) == "postgres" else f"`{name}`"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        engine.dispose()
    return _database_url(admin_url, name)


def drop_databases(admin_url: str, names: Sequence[str]) -> list[str]:
    """Drop the databases ``names`` beside ``admin_url``; the ones that could not be."""
    if not names:
        return []
    postgres = _kind_of(admin_url) == "postgres"
    failed = []
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if not postgres:
                # Never wait a year (the default) on a connection a test left open.
                conn.execute(text("SET SESSION lock_wait_timeout = 10"))
            for name in names:
                statement = (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' if postgres
                             else f"DROP DATABASE IF EXISTS `{name}`")
                try:
                    conn.execute(text(statement))
                except Exception:
                    failed.append(name)
    finally:
        engine.dispose()
    return failed


class DatabaseServer:
    """A server the tests create databases on: ``kind``, admin ``url``, ``new_database``."""

    def __init__(self, kind: str, url: str) -> None:
        self.kind = kind
        self.url = url
        self.created: list[str] = []

    def new_database(self, name: str | None = None) -> str:
        """Create a fresh empty database (uniquely named unless ``name``); its URL."""
        url = create_database(self.url, name)
        self.created.append(str(make_url(url).database))
        return url

    def stop(self) -> None:
        """Release the server (subclasses)."""

    def __enter__(self) -> DatabaseServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class ExternalServer(DatabaseServer):
    """A server given by URL (not ours): fresh databases on it, dropped by ``stop()``.

    A URL without a driver gets psycopg / PyMySQL; without a database, the admin one.
    """

    def __init__(self, kind: str, url: str) -> None:
        parsed = make_url(url)
        if "+" not in parsed.drivername:
            parsed = parsed.set(drivername=DRIVERS[kind])
        if not parsed.database:
            parsed = parsed.set(database=ADMIN_DATABASES[kind])
        super().__init__(kind, parsed.render_as_string(hide_password=False))

    def stop(self) -> None:
        """Drop the databases this object created (best effort: the server stays up)."""
        created, self.created = self.created, []
        with contextlib.suppress(Exception):
            drop_databases(self.url, created)


class Server(DatabaseServer):
    """A throwaway server we started: ``stop()`` ends it and deletes its data."""

    def __init__(self, kind: str, url: str, process: subprocess.Popen[bytes], root: Path,
                 logs: Sequence[Path], stop_signal: signal.Signals) -> None:
        super().__init__(kind, url)
        self.process = process
        self.root = root
        self.logs = tuple(logs)
        self.stop_signal = stop_signal
        self.started_in = 0.0  # seconds from initialising the data to the first login

    @property
    def port(self) -> int:
        """The TCP port of 127.0.0.1 the server listens on."""
        return int(make_url(self.url).port or 0)

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's log(s)."""
        return _tail(self.logs, lines)

    def _end_process(self) -> None:
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(self.stop_signal)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            # Still running, so not yet reaped: its process group (its own session) is
            # certainly ours to kill, children included.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the server (clean shutdown, SIGKILL after STOP_TIMEOUT) and delete its folder."""
        self._end_process()
        shutil.rmtree(self.root, ignore_errors=True)


def _wait_ready(server: Server) -> None:
    """Return once ``server.url`` accepts a login; ServerError if it dies or times out."""
    engine = create_engine(server.url)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            if server.process.poll() is not None:
                raise ServerError(f"{server.kind} server exited with {server.process.returncode}"
                                  f" before accepting connections:\n{server.log_tail()}")
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                return
            except Exception as exc:
                if time.monotonic() > deadline:
                    raise ServerError(
                        f"{server.kind} server not ready after {START_TIMEOUT:.0f} s "
                        f"({type(exc).__name__}: {exc}):\n{server.log_tail()}"
                    ) from None
            time.sleep(0.05)
    finally:
        engine.dispose()


def _launch(
    kind: str,
    root: Path,
    run_as: Mapping[str, Any],
    command_for: Callable[[int], list[str]],
    logs: Sequence[Path],
    stop_signal: signal.Signals,
    begin: float,
) -> Server:
    """Start ``command_for(port)`` on a free port and wait until it takes logins.

    ``begin`` (``time.monotonic()`` before initialising) is the start of ``started_in``.

    Retries on another port when the chosen one was taken meanwhile; on failure stops
    the server, deletes ``root`` and raises ServerError with the log tail.
    """
    wrapper = [p, "--pdeathsig", stop_signal.name, "--"] if (p := _setpriv()) else []
    for attempt in range(1, _PORT_ATTEMPTS + 1):
        port = free_port()
        url = f"{DRIVERS[kind]}://{USER}:{PASSWORD}@127.0.0.1:{port}/{ADMIN_DATABASES[kind]}"
        with (root / "console.log").open("ab") as console:
            process = subprocess.Popen([*wrapper, *command_for(port)], stdin=subprocess.DEVNULL,
                                       stdout=console, stderr=subprocess.STDOUT, cwd=root,
                                       start_new_session=True, **run_as)
        server = Server(kind, url, process, root, [root / "console.log", *logs], stop_signal)
        try:
            _wait_ready(server)
        except ServerError as exc:
            port_taken = any(marker in str(exc) for marker in _PORT_TAKEN)
            if port_taken and attempt < _PORT_ATTEMPTS:
                server._end_process()
                continue
            server.stop()
            raise
        except BaseException:  # Ctrl-C while waiting: leave nothing behind
            server.stop()
            raise
        server.started_in = time.monotonic() - begin
        atexit.register(server.stop)
        return server
    raise AssertionError("unreachable")


def postgres_bindir() -> Path:
    """The directory of PostgreSQL's server binaries (``initdb``, ``postgres``)."""
    candidates = []
    with contextlib.suppress(OSError):
        found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                               check=False).stdout.strip()
        if found:
            candidates.append(Path(found))
    candidates.append(Path("/usr/lib/postgresql/15/bin"))
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "postgres").exists():
            return bindir
    raise ServerError("PostgreSQL server binaries not found (Debian package postgresql-15; "
                      "`make dbdeps` installs it)")


def start_postgres(settings: Mapping[str, str] | None = None) -> Server:
    """Start a throwaway PostgreSQL (``settings``: extra ``-c name=value`` options)."""
    begin = time.monotonic()
    bindir = postgres_bindir()
    run_as = _run_as("postgres")
    root = _make_root("switchy-pg-", run_as)
    data = root / "data"
    pwfile = root / "pwfile"
    pwfile.write_text(PASSWORD + "\n")
    if run_as:
        os.chown(pwfile, run_as["user"], run_as["group"])
    # scram-sha-256 for every pg_hba line: the tests log in over TCP with the password.
    _initialise([str(bindir / "initdb"), "-D", str(data), "-U", USER, f"--pwfile={pwfile}",
                 "-A", "scram-sha-256", "-E", "UTF8", "--no-sync", "--no-instructions"],
                root, run_as)
    pwfile.unlink()
    options = {
        "listen_addresses": "127.0.0.1", "unix_socket_directories": str(root),
        "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
        "max_connections": "200", **(settings or {}),
    }

    def command(port: int) -> list[str]:
        args = [str(bindir / "postgres"), "-D", str(data), "-p", str(port)]
        for name, value in options.items():
            args += ["-c", f"{name}={value}"]
        return args

    # SIGINT is PostgreSQL's fast shutdown: it does not wait for clients a test left open.
    return _launch("postgres", root, run_as, command, [], signal.SIGINT, begin)


def mariadb_binaries() -> tuple[str, str]:
    """Paths of ``mariadbd`` and ``mariadb-install-db`` (or their mysql* names)."""
    sbin = ("/usr/sbin", "/usr/local/sbin", "/usr/bin")

    def find(*names: str) -> str | None:
        for name in names:
            path = shutil.which(name) or next(
                (f"{d}/{name}" for d in sbin if os.access(f"{d}/{name}", os.X_OK)), None)
            if path:
                return path
        return None

    server = find("mariadbd", "mysqld")
    install = find("mariadb-install-db", "mysql_install_db")
    if not server or not install:
        raise ServerError("MariaDB not found (Debian package mariadb-server; "
                          "`make dbdeps` installs it)")
    return server, install


def start_mariadb(options: Sequence[str] = ()) -> Server:
    """Start a throwaway MariaDB (``options``: extra ``--name=value`` server options)."""
    begin = time.monotonic()
    binary, install = mariadb_binaries()
    run_as = _run_as("mysql")
    root = _make_root("switchy-mariadb-", run_as)
    data, log = root / "data", root / "error.log"
    me = pwd.getpwuid(os.geteuid()).pw_name
    _initialise([install, "--no-defaults", f"--datadir={data}", "--skip-test-db",
                 "--auth-root-authentication-method=socket", f"--auth-root-socket-user={me}",
                 "--skip-name-resolve", "--innodb-log-file-size=8M"], root, run_as)
    # Run at start-up, before the first client is served: the password user over TCP.
    init = root / "init.sql"
    init.write_text(
        f"CREATE USER IF NOT EXISTS '{USER}'@'%' IDENTIFIED BY '{PASSWORD}';\n"
        f"GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'%' WITH GRANT OPTION;\n"
    )
    server_options = [
        f"--datadir={data}", f"--socket={root / 'mysqld.sock'}",
        f"--pid-file={root / 'mysqld.pid'}", f"--log-error={log}", f"--init-file={init}",
        "--bind-address=127.0.0.1", "--skip-networking=0", "--skip-name-resolve",
        "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0",
        "--innodb-buffer-pool-size=64M", "--innodb-log-file-size=8M",
        "--innodb-use-native-aio=0", "--innodb-buffer-pool-load-at-startup=0",
        "--innodb-buffer-pool-dump-at-shutdown=0", "--skip-log-bin", "--max-connections=300",
        "--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci",
        *options,
    ]

    def command(port: int) -> list[str]:
        # --no-defaults first: no /etc/mysql or ~/.my.cnf. As root we already are the
        # mysql user (run_as); --user=root covers a root run without that switch.
        user = ["--user=root"] if os.geteuid() == 0 and not run_as else []
        return [binary, "--no-defaults", *user, f"--port={port}", *server_options]

    return _launch("mysql", root, run_as, command, [log], signal.SIGTERM, begin)


STARTERS: dict[str, Callable[[], Server]] = {"postgres": start_postgres, "mysql": start_mariadb}


def main(argv: Sequence[str]) -> int:
    """``python tests/dbservers.py postgres|mysql``: run one until Ctrl-C / SIGTERM."""
    if len(argv) != 1 or argv[0] not in STARTERS:
        print("usage: python tests/dbservers.py postgres|mysql", file=sys.stderr)
        return 2

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # Explicitly: a shell's background job inherits SIGINT ignored.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        server = STARTERS[argv[0]]()
    except ServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    with server:
        print(server.url, flush=True)
        print(f"(started in {server.started_in:.2f} s, data in {server.root}; "
              "Ctrl-C stops it and deletes the data)", file=sys.stderr, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
