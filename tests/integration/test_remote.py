"""The remote source against a real HTTP server on 127.0.0.1, started by the test."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from switchy_guard.discovery import DirectoryMigrations
from switchy_guard.discovery.remote import RemoteMigrations
from switchy_guard.errors import InputError, SourceUnavailable
from switchy_guard.model.checksum import exec_raw_checksum, file_checksum
from switchy_guard.runtime.runner import Migrator
from tests.cli_helpers import run_cli

TOKEN = "t0ken-s3cret"
UP_A = b"CREATE TABLE remote_items (id INTEGER PRIMARY KEY, name VARCHAR(20));\n"
DOWN_A = b"DROP TABLE remote_items;\n"
UP_B = b"INSERT INTO remote_items (id, name) VALUES (1, 'from afar');\n"

Route = Callable[[BaseHTTPRequestHandler], tuple[int, bytes, dict[str, str]]]


@dataclass
class Server:
    """A local HTTP server whose routes the test sets."""

    url: str
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    httpd: ThreadingHTTPServer | None = None

    def static(self, path: str, body: bytes, status: int = 200,
               headers: dict[str, str] | None = None) -> None:
        self.routes[path] = lambda handler: (status, body, headers or {})

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None


@contextlib.contextmanager
def serving() -> Iterator[Server]:
    """A Server on a free port of 127.0.0.1, stopped afterwards."""
    state = Server("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append((self.path, dict(self.headers.items())))
            route = state.routes.get(self.path)
            status, body, headers = route(self) if route else (404, b"not found", {})
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.httpd = httpd
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        state.stop()


@pytest.fixture
def server() -> Iterator[Server]:
    with serving() as state:
        yield state


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def index(up_b: bytes = UP_B) -> bytes:
    return json.dumps({"format": 1, "migrations": [
        {"id": "2024-01-01-000000_items", "description": "items",
         "up": {"url": "scripts/a_up.sql", "sha256": sha(UP_A)},
         "down": {"url": "/scripts/a_down.sql", "sha256": sha(DOWN_A)}},
        {"id": "2024-01-02-000000_seed", "depends_on": ["2024-01-01-000000_items"],
         "up": {"sql": up_b.decode(), "sha256": sha(UP_B)}, "down": None},
    ]}).encode()


def publish(server: Server, *, etag: str | None = None, auth: bool = False) -> None:
    body = index()

    def serve_index(handler: BaseHTTPRequestHandler) -> tuple[int, bytes, dict[str, str]]:
        if auth and handler.headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, b"no", {}
        if etag and handler.headers.get("If-None-Match") == etag:
            return 304, b"", {"ETag": etag}
        return 200, body, ({"ETag": etag} if etag else {})

    server.routes["/m/index.json"] = serve_index
    server.static("/m/scripts/a_up.sql", UP_A)
    server.static("/scripts/a_down.sql", DOWN_A)


def source(server: Server, tmp_path: Path, **options: object) -> RemoteMigrations:
    options.setdefault("cache_dir", tmp_path / "cache")
    options.setdefault("timeout", 2.0)
    return RemoteMigrations(f"{server.url}/m/index.json", **options)  # type: ignore[arg-type]


def test_fetches_verifies_and_migrates(server: Server, tmp_path: Path, db_url: str) -> None:
    publish(server)
    migrations = source(server, tmp_path).load()
    first, second = migrations
    assert first.up_checksum == file_checksum(UP_A) and first.down == DOWN_A.decode()
    assert second.down is None and second.depends_on == ("2024-01-01-000000_items",)
    migrator = Migrator(source(server, tmp_path), db_url)
    assert migrator.migrate().done == ["2024-01-01-000000_items", "2024-01-02-000000_seed"]
    with migrator.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT name FROM remote_items").scalar() == "from afar"


def test_bearer_token_from_the_environment_and_refusal(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(server, auth=True)
    with pytest.raises(SourceUnavailable, match=r"access refused \(HTTP 401\)") as info:
        source(server, tmp_path, retries=0).load()
    assert TOKEN not in info.value.one_line()
    monkeypatch.setenv("SWITCHY_REMOTE_TOKEN", TOKEN)
    assert len(source(server, tmp_path).load()) == 2
    sent = dict(server.requests[-3][1])
    assert sent["Authorization"] == f"Bearer {TOKEN}"


def test_basic_auth(server: Server, tmp_path: Path) -> None:
    publish(server)
    source(server, tmp_path, username="ci", password="pw").load()
    expected = "Basic " + base64.b64encode(b"ci:pw").decode()
    assert server.requests[0][1]["Authorization"] == expected


def test_timeout_is_one_clear_error(server: Server, tmp_path: Path) -> None:
    def slow(handler: BaseHTTPRequestHandler) -> tuple[int, bytes, dict[str, str]]:
        time.sleep(1.5)
        return 200, index(), {}

    server.routes["/m/index.json"] = slow
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match=r"cannot fetch \(timed out\) after 2 attempt"):
        source(server, tmp_path, timeout=0.3, retries=1).load()
    assert time.monotonic() - started < 5


def test_retries_are_bounded_and_recover(server: Server, tmp_path: Path) -> None:
    publish(server)
    good = server.routes["/m/index.json"]
    calls = {"n": 0}

    def flaky(handler: BaseHTTPRequestHandler) -> tuple[int, bytes, dict[str, str]]:
        calls["n"] += 1
        return (503, b"busy", {}) if calls["n"] < 3 else good(handler)

    server.routes["/m/index.json"] = flaky
    with pytest.raises(SourceUnavailable, match="HTTP 503"):
        source(server, tmp_path, retries=1).load()
    calls["n"] = 0
    assert len(source(server, tmp_path, retries=2).load()) == 2


def test_corrupted_script_refuses_and_is_never_cached(server: Server, tmp_path: Path) -> None:
    publish(server)
    server.static("/m/scripts/a_up.sql", UP_A.replace(b"20", b"99"))
    with pytest.raises(InputError, match="up script does not match the SHA-256 in the index"):
        source(server, tmp_path).load()
    assert not (tmp_path / "cache" / "scripts" / sha(UP_A)).exists()


def test_changed_index_against_its_pin(server: Server, tmp_path: Path) -> None:
    publish(server)
    pinned = sha(index())
    assert len(source(server, tmp_path, index_sha256=pinned).load()) == 2
    changed = json.loads(index())
    changed["migrations"][0]["description"] = "changed upstream"
    server.static("/m/index.json", json.dumps(changed).encode())
    with pytest.raises(InputError, match="does not match its pinned SHA-256"):
        source(server, tmp_path, index_sha256=pinned).load()


def test_cache_hit_with_etag_then_offline(server: Server, tmp_path: Path) -> None:
    publish(server, etag='"v1"')
    source(server, tmp_path).load()
    server.requests.clear()
    assert len(source(server, tmp_path).load()) == 2
    assert [path for path, _ in server.requests] == ["/m/index.json"]  # scripts from cache
    assert server.requests[0][1]["If-None-Match"] == '"v1"'
    server.stop()
    assert len(source(server, tmp_path, offline=True).load()) == 2


def test_offline_without_cache_is_exit_3(server: Server, tmp_path: Path) -> None:
    publish(server)
    with pytest.raises(SourceUnavailable, match="offline, and the index is not in the cache"):
        source(server, tmp_path, offline=True).load()
    assert server.requests == []


def test_redirect_to_another_host_is_refused(server: Server, tmp_path: Path) -> None:
    publish(server)
    other = server.url.replace("127.0.0.1", "localhost")
    server.static("/moved/index.json", b"", 302, {"Location": f"{other}/m/index.json"})
    moved = RemoteMigrations(f"{server.url}/moved/index.json", cache_dir=tmp_path / "c",
                             token=TOKEN)
    with pytest.raises(SourceUnavailable, match=r"redirect to another host \(localhost\)"):
        moved.load()
    allowed = RemoteMigrations(f"{server.url}/moved/index.json", cache_dir=tmp_path / "c",
                               token=TOKEN, allow_redirect_hosts=["localhost"])
    assert len(allowed.load()) == 2
    assert "Authorization" not in server.requests[-3][1]  # not sent to the other host


def test_bad_indexes(server: Server, tmp_path: Path) -> None:
    for body, problem in [
        (b"not json", "not valid JSON"),
        (b'{"format": 2, "migrations": []}', '"format": 1'),
        (b'{"format": 1, "migrations": [{"id": ""}]}', "non-empty 'id'"),
        (b'{"format": 1, "migrations": [{"id": "a", "up": {"sql": "x"}}]}', "'sha256'"),
        (b'{"format": 1, "migrations": [{"id": "a", "up": "x"}]}', "'up' must be an object"),
        # The hash names the script's cache file: 64 characters that are not hex could
        # reach outside the cache ("../" and the like).
        (b'{"format": 1, "migrations": [{"id": "a", "up": {"url": "u.sql", "sha256": "'
         + b"../" * 21 + b'x"}}]}', "64 hex digits"),
    ]:
        server.static("/m/index.json", body)
        with pytest.raises(InputError, match=problem):
            source(server, tmp_path, cache_dir=tmp_path / problem[:3]).load()
    with pytest.raises(InputError, match="http:// or https://"):
        RemoteMigrations("ftp://example.invalid/index.json")


def test_command_line_with_remote_migrations(server: Server, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    publish(server)
    monkeypatch.setenv("SWITCHY_CACHE_DIR", str(tmp_path / "cache"))
    database = f"sqlite:///{tmp_path / 'app.db'}"
    url = f"{server.url}/m/index.json"
    result = run_cli("migrate", "-m", url, "-d", database)
    assert result.code == 0, result.err
    checked = run_cli("check", "-m", url, "--dialect", "sqlite", "--format", "json")
    assert json.loads(checked.out)["summary"]["migrations"] == 2
    server.stop()
    offline = run_cli("status", "-m", url, "-d", database, "--offline", "--format", "json")
    assert offline.code == 0, offline.err
    assert json.loads(offline.out)["summary"]["completed"] == 2
    gone = run_cli("status", "-m", "http://127.0.0.1:9/index.json", "-d", database)
    assert gone.code == 3
    assert len(gone.error_lines) == 1 and "cannot fetch" in gone.err


def _mirror_as_folder(root: Path) -> Path:
    """The migrations of ``index()`` as a folder, byte for byte."""
    for relative, data in [("2024-01-01-000000_items/up.sql", UP_A),
                           ("2024-01-01-000000_items/down.sql", DOWN_A),
                           ("2024-01-02-000000_seed/up.sql", UP_B)]:
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)
    return root


def test_checksums_follow_the_checksum_mode_as_a_folders_do(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(server)
    folder = _mirror_as_folder(tmp_path / "migrations")
    for mode in ("file", "exec-raw"):
        remote = source(server, tmp_path, checksum_mode=mode).load()
        local = DirectoryMigrations(folder, checksum_mode=mode).load()
        assert [(m.id, m.up_checksum, m.down_checksum) for m in remote] == [
            (m.id, m.up_checksum, m.down_checksum) for m in local]
    assert remote[0].up_checksum == exec_raw_checksum(UP_A)
    # On the command line: a database migrated from the folder in exec-raw mode shows
    # no drift when the same migrations come from the index.
    monkeypatch.setenv("SWITCHY_CACHE_DIR", str(tmp_path / "cache"))
    database = f"sqlite:///{tmp_path / 'app.db'}"
    mode = ("--checksum-mode", "exec-raw")
    assert run_cli(*mode, "migrate", "-m", str(folder), "-d", database).code == 0
    checked = run_cli(*mode, "validate", "--strict", "-m", f"{server.url}/m/index.json",
                      "-d", database)
    assert checked.code == 0, checked.out + checked.err


def test_an_empty_down_script_is_a_no_op_rollback_not_irreversible(
    server: Server, tmp_path: Path
) -> None:
    body = json.dumps({"format": 1, "migrations": [
        {"id": "2024-01-01-000000_noop_down",
         "up": {"sql": "SELECT 1;", "sha256": sha(b"SELECT 1;")},
         "down": {"sql": "", "sha256": sha(b"")}}]}).encode()
    server.static("/m/index.json", body)
    folder = tmp_path / "migrations" / "2024-01-01-000000_noop_down"
    folder.mkdir(parents=True)
    (folder / "up.sql").write_bytes(b"SELECT 1;")
    (folder / "down.sql").write_bytes(b"")
    for mode in ("file", "exec-raw"):
        (remote,) = source(server, tmp_path, checksum_mode=mode).load()
        (local,) = DirectoryMigrations(tmp_path / "migrations", checksum_mode=mode).load()
        assert remote.down == local.down == "" and remote.reversible
        assert remote.down_checksum == local.down_checksum


def _one_reply_server(reply: bytes) -> socket.socket:
    """A listening socket that answers one request with ``reply`` and hangs up."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def answer() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(4096)
            connection.sendall(reply)

    threading.Thread(target=answer, daemon=True).start()
    return listener


def test_a_cut_or_garbled_response_is_exit_3_not_a_traceback(tmp_path: Path) -> None:
    for reply, problem in [
        (b'HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\n{"format": 1',
         r"bad HTTP response: IncompleteRead\(12 bytes read"),
        (b"NOT HTTP AT ALL\r\n\r\n", "bad HTTP response: NOT HTTP AT ALL"),
    ]:
        with _one_reply_server(reply) as listener, pytest.raises(SourceUnavailable,
                                                                 match=problem):
            port = listener.getsockname()[1]
            RemoteMigrations(f"http://127.0.0.1:{port}/index.json", cache_dir=tmp_path / "c",
                             retries=0, timeout=2.0).load()


def test_bad_urls_are_bad_input_naming_the_problem(server: Server, tmp_path: Path) -> None:
    for url, problem in [
        ("http://[::1/index.json", "URL is not valid"),
        ("http:///index.json", "URL names no host"),
        ("http://127.0.0.1:99999/index.json", "Port out of range"),
        ("https://ci:hunter2@example.invalid/index.json", "URL holds credentials"),
    ]:
        with pytest.raises(InputError, match=problem) as info:
            RemoteMigrations(url, cache_dir=tmp_path / "c").load()
        assert "hunter2" not in info.value.one_line()
    # A script may only come over http(s), never from a local file.
    secret = tmp_path / "secret.txt"
    secret.write_bytes(UP_A)
    server.static("/m/index.json", json.dumps({"format": 1, "migrations": [
        {"id": "2024-01-01-000000_a", "up": {"url": secret.as_uri(), "sha256": sha(UP_A)}},
    ]}).encode())
    with pytest.raises(InputError, match="up script needs an http:// or https:// URL"):
        source(server, tmp_path).load()
    cli = run_cli("status", "-m", "http://[::1/index.json", "-d", f"sqlite:///{tmp_path}/a.db")
    assert cli.code == 2 and len(cli.error_lines) == 1, cli.err


def test_credentials_are_never_sent_in_clear(tmp_path: Path) -> None:
    """A token or password went over plain http:// to any host, and a redirect from
    https:// to http:// on the same host took the Authorization header along."""
    import urllib.request

    from switchy_guard.discovery.remote import _RedirectGuard

    for options in ({"token": TOKEN}, {"username": "ci", "password": TOKEN}):
        with pytest.raises(InputError, match="sent in clear over http://") as info:
            RemoteMigrations("http://migrations.example.invalid/index.json",
                             cache_dir=tmp_path / "c", **options)  # type: ignore[arg-type]
        assert TOKEN not in info.value.one_line()
    https = RemoteMigrations("https://migrations.example.invalid/index.json",
                             cache_dir=tmp_path / "c", token=TOKEN)
    with pytest.raises(InputError, match="sent in clear"):  # a script's absolute URL
        https._headers("http://migrations.example.invalid/up.sql")
    # Without credentials, and to this machine, plain http stays usable.
    RemoteMigrations("http://migrations.example.invalid/index.json", cache_dir=tmp_path / "c")
    RemoteMigrations("http://[::1]:8000/index.json", cache_dir=tmp_path / "c", token=TOKEN)
    request = urllib.request.Request("https://migrations.example.invalid/index.json",
                                     headers={"Authorization": f"Bearer {TOKEN}"})
    with pytest.raises(SourceUnavailable, match="from https:// to http:// refused"):
        _RedirectGuard(set()).redirect_request(
            request, None, 302, "Found", {}, "http://migrations.example.invalid/index.json")


def test_an_oversized_response_is_refused_not_read_whole(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The body was read whole into memory, however large: a server streaming without
    end (or a wrong URL naming a huge file) exhausted the machine's memory."""
    from switchy_guard.discovery import remote

    publish(server)
    monkeypatch.setattr(remote, "MAX_RESPONSE_BYTES", len(index()) - 1)
    with pytest.raises(InputError, match=f"larger than {len(index()) - 1} bytes"):
        source(server, tmp_path).load()
    assert len(server.requests) == 1  # refused at once, not retried
    monkeypatch.setattr(remote, "MAX_RESPONSE_BYTES", len(index()))
    assert len(source(server, tmp_path).load()) == 2  # what fits is read as before


def test_a_cached_index_someone_else_could_have_written_is_never_served(
    server: Server, tmp_path: Path
) -> None:
    """The cached index is trusted by --offline runs and 304 answers: one written by
    another user (a shared cache folder) handed the run other SQL. Only this user's own
    files, writable by no one else, are read."""
    publish(server)
    source(server, tmp_path).load()
    (body,) = (tmp_path / "cache").glob("index-*.json")
    (meta,) = (tmp_path / "cache").glob("index-*.meta")
    evil = b"DROP TABLE everything;\n"
    forged = index(up_b=evil).replace(sha(UP_B).encode(), sha(evil).encode())
    body.write_bytes(forged)
    meta.write_text(json.dumps({"sha256": sha(forged)}))
    for path in (body, meta):
        path.chmod(0o666)
    with pytest.raises(SourceUnavailable, match="not in the cache"):
        source(server, tmp_path, offline=True).load()
    for path in (body, meta):  # the same files as this user's own are the cache
        path.chmod(0o600)
    assert source(server, tmp_path, offline=True).load()[1].up == evil.decode()


# -- issue 14: the token's origin, a total deadline, the server's words --------------


def test_the_token_goes_to_its_own_port_only(server: Server, tmp_path: Path) -> None:
    """The bearer token went to any port of the same host: through a redirect, and to a
    script whose absolute URL named another port (another service, maybe not ours)."""
    with serving() as other:
        publish(other)
        server.static("/moved/index.json", b"", 302,
                      {"Location": f"{other.url}/m/index.json"})
        assert len(RemoteMigrations(f"{server.url}/moved/index.json",
                                    cache_dir=tmp_path / "c", token=TOKEN).load()) == 2
        assert server.requests[0][1]["Authorization"] == f"Bearer {TOKEN}"
        assert other.requests and all("Authorization" not in headers
                                      for _, headers in other.requests), other.requests
        other.requests.clear()
        listed = json.loads(index())
        listed["migrations"][0]["up"]["url"] = f"{other.url}/m/scripts/a_up.sql"
        server.static("/m/index.json", json.dumps(listed).encode())
        server.static("/scripts/a_down.sql", DOWN_A)
        assert len(RemoteMigrations(f"{server.url}/m/index.json", cache_dir=tmp_path / "d",
                                    token=TOKEN).load()) == 2
        assert [path for path, _ in other.requests] == ["/m/scripts/a_up.sql"]
        assert "Authorization" not in other.requests[0][1]
        assert server.requests[-1][1]["Authorization"] == f"Bearer {TOKEN}"  # its own


@contextlib.contextmanager
def _trickling_server(head: bytes, body: bytes, pause: float) -> Iterator[str]:
    """A server sending ``head`` then ``body`` a byte every ``pause`` seconds (the head
    too, when it ends without a blank line: the status line itself trickles)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def answer(connection: socket.socket) -> None:
        with connection, contextlib.suppress(OSError):
            connection.recv(4096)
            data = head + body
            sent = 0
            if head.endswith(b"\r\n\r\n"):
                connection.sendall(head)
                sent = len(head)
            while sent < len(data) and not stop.is_set():
                connection.sendall(data[sent:sent + 1])
                sent += 1
                time.sleep(pause)

    def serve() -> None:
        with contextlib.suppress(OSError):
            while not stop.is_set():
                connection, _ = listener.accept()
                if stop.is_set():
                    connection.close()
                    break
                threading.Thread(target=answer, args=(connection,), daemon=True).start()

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    address = listener.getsockname()
    try:
        yield f"http://127.0.0.1:{address[1]}/index.json"
    finally:
        stop.set()
        # Closing the socket does not wake a thread blocked in accept(): a last connection
        # does, so no thread outlives the test (a running thread stops check_in_two forking).
        with contextlib.suppress(OSError):
            socket.create_connection(address, timeout=2).close()
        server.join(5)
        listener.close()


@pytest.mark.parametrize("head", [
    b"HTTP/1.0 200 OK\r\nContent-Length: 5000\r\n\r\n",
    b"HTTP/1.0 200 OK\r\n\r\n",  # no length: a body cut at the deadline looks whole
    b"HTTP/1.0 200 OK\r\nX-Slow: " + b"x" * 200,  # the headers themselves trickle
], ids=["body", "body without length", "headers"])
def test_a_trickling_server_is_cut_off_at_the_deadline(tmp_path: Path, head: bytes) -> None:
    """A byte every 0.2 s never lets the socket timeout (2 s) expire: such a server kept
    a run alive for minutes. The whole fetch, retries included, ends by the deadline."""
    with _trickling_server(head, b" " * 5000, 0.2) as url:
        started = time.monotonic()
        with pytest.raises(SourceUnavailable, match=r"no complete answer within 1\.5 s"):
            RemoteMigrations(url, cache_dir=tmp_path / "c", timeout=2.0, retries=2,
                             deadline=1.5).load()
        assert time.monotonic() - started < 4.0


def test_the_deadline_comes_from_the_config_file(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "switchy-guard.toml").write_text("remote_deadline = 1.0\n")
    monkeypatch.chdir(tmp_path)
    with _trickling_server(b"HTTP/1.0 200 OK\r\n\r\n", b" " * 5000, 0.2) as url:
        started = time.monotonic()
        result = run_cli("check", "-m", url, "--dialect", "sqlite")
    assert result.code == 3 and "no complete answer within 1 s" in result.err, result
    assert time.monotonic() - started < 4.0


def test_the_servers_words_are_masked_and_harmless(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The HTTP reason phrase was printed raw: a server echoing the token, or sending
    escape sequences, put them in the error message."""
    reply = (b"HTTP/1.0 404 Bearer " + TOKEN.encode() + b" \x1b]0;owned\x07\x1b[2J "
             + TOKEN.encode() + b" password=hunter22\r\nContent-Length: 0\r\n\r\n")
    with _one_reply_server(reply) as listener:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/index.json"
        with pytest.raises(SourceUnavailable, match="HTTP 404") as info:
            RemoteMigrations(url, cache_dir=tmp_path / "c", retries=0, token=TOKEN).load()
    message = info.value.one_line()
    assert TOKEN not in message and "hunter22" not in message, message
    assert "\x1b" not in message and "\x07" not in message, message
    with _one_reply_server(reply) as listener:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/index.json"
        monkeypatch.setenv("SWITCHY_REMOTE_TOKEN", TOKEN)
        result = run_cli("check", "-m", url, "--dialect", "sqlite", "--debug")
    assert result.code == 3, result
    assert TOKEN not in result.out + result.err and "\x1b" not in result.err, result


def test_index_ids_and_descriptions_cannot_drive_the_terminal(
        server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids and descriptions from an index reached the terminal with escape codes."""
    monkeypatch.setenv("SWITCHY_CACHE_DIR", str(tmp_path / "cache"))
    listed = json.loads(index())
    listed["migrations"][0]["description"] = "items \x1b]0;owned\x07\x1b[2J\r[bold]x[/bold]"
    server.static("/m/index.json", json.dumps(listed).encode())
    server.static("/m/scripts/a_up.sql", UP_A)
    server.static("/scripts/a_down.sql", DOWN_A)
    url = f"{server.url}/m/index.json"
    shown = run_cli("list", "-m", url, "-d", f"sqlite:///{tmp_path / 'app.db'}")
    assert shown.code == 0, shown
    assert "\x1b" not in shown.out and "\r" not in shown.out and "\x07" not in shown.out
    assert "[bold]x[/bold]" in shown.out  # shown as it is, never read as markup
    listed["migrations"][0]["id"] = "2024-01-01-000000_items\x1b[2J"
    server.static("/m/index.json", json.dumps(listed).encode())
    refused = run_cli("list", "-m", url, "-d", f"sqlite:///{tmp_path / 'app.db'}")
    assert refused.code == 2 and "control characters" in refused.err, refused
    assert "\x1b" not in refused.err
