"""Throwaway PostgreSQL and MariaDB servers for the tests, on free ports of 127.0.0.1.

Each server gets a data directory under a temporary folder, a user ``switchy`` with a
password (so the tests can check it is masked), and is stopped (and its folder removed)
by ``stop()``. A server that cannot start raises ServerError with the tail of its log.

Run by hand: ``python tests/dbservers.py postgres|mysql`` starts one, prints its URL and
waits for Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

USER = "switchy"
PASSWORD = "s3cret-pw"
START_TIMEOUT = 90.0


class ServerError(RuntimeError):
    """A test server could not be started."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _service_user(name: str) -> str | None:
    """The unprivileged user servers run as when we are root (None when not root)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
        )
    return name


def _as_user(user: str | None, command: list[str]) -> list[str]:
    return ["runuser", "-u", user, "--", *command] if user else command


def _initialise(user: str | None, root: Path, command: list[str]) -> None:
    """Run a data-directory initialiser; on failure remove ``root`` and say why."""
    init = subprocess.run(_as_user(user, command), capture_output=True, text=True, check=False)
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        output = (init.stderr.strip() or init.stdout.strip())[-2000:]
        raise ServerError(f"{Path(command[0]).name} failed: {output}")


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    engine = create_engine(url, pool_pre_ping=False)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            if process.poll() is not None:
                raise ServerError(f"server exited with {process.returncode}:\n{_tail(log)}")
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                return
            except Exception as exc:
                if time.monotonic() > deadline:
                    raise ServerError(f"server not ready after {START_TIMEOUT:.0f} s: {exc}\n"
                                      f"{_tail(log)}") from None
                time.sleep(0.2)
    finally:
        engine.dispose()


def create_database(admin_url: str) -> str:
    """Create a fresh, uniquely named empty database beside ``admin_url``; its URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
    finally:
        engine.dispose()
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


@dataclass
class Server:
    """A running throwaway server."""

    kind: str
    url: str
    process: subprocess.Popen[bytes]
    root: Path
    created: list[str] = field(default_factory=list)

    def new_database(self) -> str:
        """Create a fresh empty database and return its URL."""
        url = create_database(self.url)
        self.created.append(url.rpartition("/")[2])
        return url

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    def stop(self) -> None:
        """Stop the server and remove its data."""
        if self.process.poll() is None:
            # The server runs in a session of its own (behind runuser): signal the group.
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> Server:
    """Start PostgreSQL 15 (Debian's postgresql-15) as an unprivileged user."""
    bindir = Path(
        subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True)
        .stdout.strip()
    )
    if not (bindir / "initdb").exists():
        bindir = Path("/usr/lib/postgresql/15/bin")
    user = _service_user("postgres")
    root = Path(tempfile.mkdtemp(prefix="switchy-pg-"))
    data, log = root / "data", root / "server.log"
    pwfile = root / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if user:
        shutil.chown(root, user)
        shutil.chown(pwfile, user)
        os.chmod(root, 0o700)
    _initialise(user, root, [str(bindir / "initdb"), "-D", str(data), "-U", USER, "--pwfile",
                             str(pwfile), "-A", "scram-sha-256", "-E", "UTF8", "--no-sync"])
    port = free_port()
    command = [
        str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(root),
        "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
        "-c", "full_page_writes=off", "-c", "max_connections=200",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(_as_user(user, command), stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    url = f"postgresql+psycopg://{USER}:{PASSWORD}@127.0.0.1:{port}/postgres"
    server = Server("postgres", url, process, root)
    try:
        _wait_for(url, process, log)
    except BaseException:
        server.stop()
        raise
    return server


def _mariadb_binaries() -> tuple[str, str]:
    server = shutil.which("mariadbd") or shutil.which("mysqld")
    install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
    for candidate in ("/usr/sbin/mariadbd", "/usr/sbin/mysqld"):
        if server is None and Path(candidate).exists():
            server = candidate
    if not server or not install:
        raise ServerError("MariaDB is not installed (Debian package mariadb-server)")
    return server, install


def start_mariadb() -> Server:
    """Start MariaDB in a temporary data directory."""
    binary, install = _mariadb_binaries()
    user = _service_user("mysql")
    root = Path(tempfile.mkdtemp(prefix="switchy-mariadb-"))
    data, log, sock = root / "data", root / "server.log", root / "mysqld.sock"
    if user:
        shutil.chown(root, user)
    _initialise(user, root, [install, f"--datadir={data}",
                             "--auth-root-authentication-method=socket", "--skip-test-db",
                             "--no-defaults"])
    port = free_port()
    command = [
        binary, "--no-defaults", f"--datadir={data}", f"--socket={sock}", f"--port={port}",
        "--bind-address=127.0.0.1", f"--pid-file={root / 'mysqld.pid'}",
        "--innodb-flush-log-at-trx-commit=0", "--innodb-buffer-pool-size=64M",
        "--skip-name-resolve", "--max-connections=300", f"--log-error={log}",
    ]
    if user is None and os.geteuid() == 0:
        command.append("--user=root")
    process = subprocess.Popen(_as_user(user, command), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    server = Server("mysql", "", process, root)
    try:
        _create_mariadb_user(sock, process, log, user)
        server.url = f"mysql+pymysql://{USER}:{PASSWORD}@127.0.0.1:{port}/mysql"
        _wait_for(server.url, process, log)
    except BaseException:
        server.stop()
        raise
    return server


def _create_mariadb_user(
    sock: Path, process: subprocess.Popen[bytes], log: Path, user: str | None
) -> None:
    """Create the test user through the root socket (root authenticates by socket)."""
    client = shutil.which("mariadb") or shutil.which("mysql")
    if client is None:
        raise ServerError("the mariadb client is not installed")
    statements = (
        f"CREATE USER '{USER}'@'%' IDENTIFIED BY '{PASSWORD}';"
        f"GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'%' WITH GRANT OPTION;"
        "FLUSH PRIVILEGES;"
    )
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise ServerError(f"mariadbd exited with {process.returncode}:\n{_tail(log)}")
        if sock.exists():
            # root@localhost authenticates by socket as the OS user root.
            result = subprocess.run(
                [client, "--no-defaults", f"--socket={sock}", "-uroot", "-e", statements],
                capture_output=True, text=True, check=False,
            )
            if result.returncode == 0:
                return
            last = result.stderr.strip()
        else:
            last = "socket not there yet"
        if time.monotonic() > deadline:
            raise ServerError(f"could not create the test user: {last}\n{_tail(log)}")
        time.sleep(0.2)


STARTERS = {"postgres": start_postgres, "mysql": start_mariadb}


if __name__ == "__main__":
    kind = sys.argv[1] if len(sys.argv) > 1 else "postgres"
    running = STARTERS[kind]()
    print(running.url, flush=True)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
