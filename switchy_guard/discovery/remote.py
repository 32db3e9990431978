"""Migrations published over HTTP(S): a JSON index and the scripts it names.

The index (``format`` 1)::

    {"format": 1,
     "migrations": [
       {"id": "2024-01-01-000000_create_users",
        "description": "accounts",                 # optional
        "depends_on": ["..."],                       # optional
        "dialects": ["postgres"],                    # optional (default: all)
        "transactional": true,                       # optional (default true)
        "up":   {"url": "create_users/up.sql", "sha256": "<hex>"},
        "down": {"sql": "DROP TABLE users;", "sha256": "<hex>"}}]}   # or null / absent

``url`` is absolute or relative to the index (where it was served from, after
redirects); ``sql`` is inline. Every script carries the
SHA-256 (lowercase hex) of its UTF-8 bytes, which must match what was fetched; the
migration's checksum is then computed exactly as a directory source in the same
``checksum_mode`` would hash the same file (in ``file`` mode, that very SHA-256), so a
migration can move between a folder and a remote index without drift. The index itself
can be pinned by its SHA-256.

Authentication: a bearer token, or a user name and password (basic), from the arguments,
else ``SWITCHY_REMOTE_TOKEN`` / ``SWITCHY_REMOTE_USER`` + ``SWITCHY_REMOTE_PASSWORD``.
Credentials are never printed, never sent to another host and never sent in clear
(plain http:// is refused for them, but to this machine's loopback). Redirects to another
host are refused unless that host is allowed, and a redirect from https:// to http://
always is. Network failures, after a bounded number of
retries, raise SourceUnavailable (exit code 3); integrity failures raise InputError
(exit code 2). Nothing is returned until every script is fetched and verified.

The cache (``~/.cache/switchy-guard/remote`` unless ``cache_dir``) keeps the index with its
ETag / Last-Modified for conditional requests, and scripts by their SHA-256, so a second
run fetches at most the index and ``offline=True`` needs no network at all.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import http.client
import ipaddress
import json
import os
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from switchy_guard.discovery.cachefiles import read_private, read_private_json, write_private
from switchy_guard.errors import InputError, SourceUnavailable
from switchy_guard.masking import mask_message, mask_text, printable
from switchy_guard.model.checksum import checked_mode, script_checksum
from switchy_guard.model.migration import DIALECTS, Migration

_RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}
# The most an index or a script may hold: a server sending more (a wrong URL, a hostile
# or broken server streaming without end) is refused instead of filling memory.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
#: Seconds one fetch (its redirects and retries included) may take in all: a server
#: trickling a byte at a time never lets a socket timeout expire.
DEFAULT_DEADLINE = 30.0
# The most characters of a server's words (a reason phrase, an error) quoted.
_QUOTED_LIMIT = 200


def default_cache_dir() -> Path:
    """Where fetched indexes and scripts are kept."""
    explicit = os.environ.get("SWITCHY_CACHE_DIR")
    base = Path(explicit) if explicit else Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    ) / "switchy-guard"
    return base / "remote"


_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_url(url: str, where: str, what: str) -> None:
    """Refuse, as bad input, a URL that is not plain http(s) to a host."""
    try:
        parts = urllib.parse.urlsplit(url)
        _ = parts.port  # raises ValueError when out of range
    except ValueError as error:
        raise InputError(f"{what} URL is not valid ({error})", path=where) from None
    if parts.scheme not in ("http", "https"):
        raise InputError(f"{what} needs an http:// or https:// URL", path=where)
    if not parts.hostname:
        raise InputError(f"{what} URL names no host", path=where)
    if "@" in parts.netloc:
        raise InputError(
            f"{what} URL holds credentials; give them as remote_username and "
            "remote_password (or SWITCHY_REMOTE_USER / SWITCHY_REMOTE_PASSWORD) instead",
            path=where,
        )


def _in_clear_off_this_machine(url: str) -> bool:
    """Whether ``url`` is plain http:// to a host other than this machine (loopback)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or parts.hostname == "localhost":
        return False
    try:
        return not ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:  # a host name
        return True


def _origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port (the scheme's default when none is written): credentials
    go to this origin only, not to another port or scheme of the same host."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port or default


def _shown(url: str) -> str:
    """A URL as a message names it: masked, control characters made harmless."""
    return printable(mask_text(url), newlines=False)


class _RedirectGuard(urllib.request.HTTPRedirectHandler):
    """Follows redirects on the same host (or an allowed one), refuses the others."""

    def __init__(self, allowed_hosts: set[str]) -> None:
        self.allowed_hosts = allowed_hosts

    def redirect_request(  # type: ignore[no-untyped-def]
        self, req, fp, code, msg, headers, newurl
    ):
        old = urllib.parse.urlsplit(req.full_url)
        new = urllib.parse.urlsplit(urllib.parse.urljoin(req.full_url, newurl))
        if old.scheme == "https" and new.scheme != "https":
            raise SourceUnavailable(
                f"{_shown(req.full_url)}: redirect from https:// to "
                f"{printable(new.scheme, newlines=False)}:// refused (the index, the scripts "
                "and any credentials would travel in clear)"
            )
        if new.hostname != old.hostname and new.hostname not in self.allowed_hosts:
            raise SourceUnavailable(
                f"{_shown(req.full_url)}: redirect to another host "
                f"({printable(str(new.hostname), newlines=False)}) refused;"
                " allow it with remote_allow_redirect_hosts"
            )
        redirected = super().redirect_request(req, fp, code, msg, headers, newurl)
        if redirected is not None and _origin(new.geturl()) != _origin(req.full_url):
            # Credentials stay with their origin: not another host, nor another port or
            # scheme of the same host (another service, maybe someone else's).
            redirected.remove_header("Authorization")
        return redirected


class _Deadline:
    """Shuts the connections of a fetch still running when its time is up: a socket
    timeout bounds each wait for a byte, not the whole answer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer: threading.Timer | None = None
        self.expired = False

    def arm(self, seconds: float) -> None:
        """Start counting ``seconds`` for the requests that follow."""
        with self._lock:
            self.expired = False
            self._sockets = []
        self._timer = threading.Timer(max(seconds, 0.0), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def disarm(self) -> None:
        """Stop counting (the request is over)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        with self._lock:
            self._sockets = []

    def watch(self, sock: socket.socket) -> socket.socket:
        """Shut ``sock`` when the time is up (at once when it already is)."""
        with self._lock:
            if not self.expired:
                self._sockets.append(sock)
                return sock
        _shut(sock)
        return sock

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)  # a blocked recv returns at once


class _Watched(http.client.HTTPConnection):
    """A connection whose sockets (the TCP one, then the TLS one) a deadline watches."""

    def __init__(self, *args: Any, deadline: _Deadline, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = deadline
        create = self._create_connection  # type: ignore[has-type]
        self._create_connection = lambda *a, **k: deadline.watch(create(*a, **k))

    def connect(self) -> None:
        super().connect()
        self._deadline.watch(self.sock)


class _WatchedTLS(_Watched, http.client.HTTPSConnection):
    pass


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_Watched, deadline=self._deadline), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_WatchedTLS, deadline=self._deadline), req,
                            context=self._context)  # type: ignore[attr-defined]


class _Expired(Exception):
    """The fetch's deadline passed."""


class RemoteMigrations:
    """Migrations from a remote JSON index (see the module docs for the format)."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        cache_dir: str | Path | None = None,
        offline: bool = False,
        index_sha256: str | None = None,
        allow_redirect_hosts: Iterable[str] = (),
        timeout: float = 10.0,
        retries: int = 2,
        checksum_mode: str = "file",
        deadline: float = DEFAULT_DEADLINE,
    ) -> None:
        _check_url(url, mask_text(url), "a remote source")
        self.url = url
        self._token = token or os.environ.get("SWITCHY_REMOTE_TOKEN") or None
        self._username = username or os.environ.get("SWITCHY_REMOTE_USER") or None
        self._password = password or os.environ.get("SWITCHY_REMOTE_PASSWORD") or ""
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.offline = offline
        self.index_sha256 = index_sha256.lower() if index_sha256 else None
        self.timeout = timeout
        self.deadline = deadline
        self.retries = max(0, retries)
        self.checksum_mode = checked_mode(checksum_mode)
        self._guard = _Deadline()
        self._opener = urllib.request.build_opener(
            _RedirectGuard(set(allow_redirect_hosts)), _HTTPHandler(self._guard),
            _HTTPSHandler(self._guard))
        self._base = url  # where the index really came from: relative script URLs use it
        self._headers(url)  # credentials that would go in clear are refused up front

    def __repr__(self) -> str:
        return f"RemoteMigrations({_shown(self.url)!r})"

    @property
    def label(self) -> str:
        """How reports name this source."""
        return _shown(self.url)

    def _said(self, text: str) -> str:
        """A server's words (a reason phrase, an error) as a message quotes them: the
        credentials masked even where the server echoes them back, control characters
        made harmless, cut short."""
        secrets = [self._token or "", self._password]
        if self._username:
            secrets.append(base64.b64encode(f"{self._username}:{self._password}".encode())
                           .decode())
        return mask_message(text, limit=_QUOTED_LIMIT, secrets=secrets)

    # -- fetching -------------------------------------------------------------------

    def _headers(self, url: str) -> dict[str, str]:
        headers = {"User-Agent": "switchy-guard", "Accept": "application/json, text/plain"}
        if urllib.parse.urlsplit(url).hostname != urllib.parse.urlsplit(self.url).hostname:
            return headers
        if (self._token or self._username) and _in_clear_off_this_machine(url):
            raise InputError(
                "the remote credentials would be sent in clear over http:// to "
                f"{urllib.parse.urlsplit(url).hostname}: use an https:// URL",
                path=_shown(url),
            )
        if _origin(url) != _origin(self.url):
            return headers  # credentials go to the configured scheme, host and port only
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        elif self._username:
            pair = f"{self._username}:{self._password}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        return headers

    def _fetch(self, url: str, extra: dict[str, str] | None = None
               ) -> tuple[int, bytes, dict[str, str]]:
        """GET ``url`` with retries; returns (status, body, headers); 304 comes back as is.

        The headers include ``X-Final-URL``, where the body came from after redirects.
        The whole fetch, retries and redirects included, ends by ``self.deadline``.
        """
        request = urllib.request.Request(url, headers={**self._headers(url), **(extra or {})})
        where = _shown(url)
        last = "no attempt"
        attempts = 0
        ends = time.monotonic() + self.deadline
        expired = False
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(max(min(0.2 * 2 ** (attempt - 1), 2.0, ends - time.monotonic()), 0))
            left = ends - time.monotonic()
            if left <= 0:
                expired = True
                break
            attempts = attempt + 1
            self._guard.arm(left)
            try:
                return self._attempt(request, min(self.timeout, left), where)
            except (SourceUnavailable, InputError):
                raise
            except _Expired:
                expired = True
                break
            except urllib.error.HTTPError as error:
                if error.code == 304 and not self._guard.expired:
                    return 304, b"", dict(error.headers.items())
                if error.code in (401, 403):
                    raise SourceUnavailable(
                        f"{where}: access refused (HTTP {error.code}); check the remote "
                        "token or user and password"
                    ) from None
                last = f"HTTP {error.code} {self._said(str(error.reason))}"
                if error.code not in _RETRYABLE_STATUS:
                    break
            except http.client.HTTPException as error:  # a cut or garbled response
                last = f"bad HTTP response: {str(error).strip() or type(error).__name__}"
            except (urllib.error.URLError, TimeoutError, OSError) as error:
                reason = getattr(error, "reason", error)
                last = "timed out" if isinstance(reason, TimeoutError) or "timed out" in str(
                    reason) else str(reason)
            finally:
                expired = expired or self._guard.expired
                self._guard.disarm()
            if expired:  # whatever the failure looked like, the deadline caused it
                break
        if expired:
            raise SourceUnavailable(
                f"{where}: no complete answer within {self.deadline:g} s "
                f"(remote_deadline) after {attempts} attempt(s)"
            )
        raise SourceUnavailable(
            f"{where}: cannot fetch ({self._said(last)}) after {attempts} attempt(s)"
        )

    def _attempt(self, request: urllib.request.Request, timeout: float, where: str
                 ) -> tuple[int, bytes, dict[str, str]]:
        """One GET of ``request``; raises _Expired when the deadline cut it short."""
        with self._opener.open(request, timeout=timeout) as response:
            headers = dict(response.headers.items())
            headers["X-Final-URL"] = response.geturl()
            body = response.read(MAX_RESPONSE_BYTES + 1)
            if self._guard.expired:  # the body may look whole: cut, it ends early
                raise _Expired
            if len(body) > MAX_RESPONSE_BYTES:
                raise InputError(f"the response is larger than {MAX_RESPONSE_BYTES} "
                                 "bytes; refusing it", path=where)
            missing = getattr(response, "length", None)
            if missing:  # a bounded read() returns a cut body without a word
                raise http.client.IncompleteRead(body, missing)
            return response.status, body, headers

    # -- the cache ------------------------------------------------------------------

    def _index_paths(self) -> tuple[Path, Path]:
        key = _sha256(self.url.encode())[:32]
        return self.cache_dir / f"index-{key}.json", self.cache_dir / f"index-{key}.meta"

    def _script_path(self, sha256: str) -> Path:
        return self.cache_dir / "scripts" / sha256

    def _write(self, path: Path, data: bytes) -> None:
        # A cache that cannot be written only costs a fetch next time.
        with contextlib.suppress(OSError):
            write_private(path, data)

    def _read_index(self) -> bytes:
        body_path, meta_path = self._index_paths()
        # Only this user's own files: another's could hand a run a different index.
        cached = read_private(body_path)
        meta = read_private_json(meta_path) or {}
        if cached is None or meta.get("sha256") != _sha256(cached):
            cached, meta = None, {}  # damaged: never served
        if self.offline:
            if cached is None:
                raise SourceUnavailable(
                    f"{self.label}: offline, and the index is not in the cache "
                    f"({self.cache_dir}); run once online first"
                )
            self._base = meta.get("final_url") or self.url
            return cached
        conditional = {}
        if cached is not None and meta.get("etag"):
            conditional["If-None-Match"] = meta["etag"]
        if cached is not None and meta.get("last_modified"):
            conditional["If-Modified-Since"] = meta["last_modified"]
        status, body, headers = self._fetch(self.url, conditional)
        if status == 304 and cached is not None:
            self._base = meta.get("final_url") or self.url
            return cached
        lowered = {k.lower(): v for k, v in headers.items()}
        self._base = lowered.get("x-final-url") or self.url
        self._write(body_path, body)
        self._write(meta_path, json.dumps({
            "url": self.label, "sha256": _sha256(body), "etag": lowered.get("etag", ""),
            "last_modified": lowered.get("last-modified", ""), "final_url": self._base,
        }).encode())
        return body

    def _script(self, spec: dict[str, Any], migration_id: str, which: str) -> bytes:
        expected = spec.get("sha256")
        where = f"{self.label} ({migration_id} {which})"
        # Hex only: the hash also names the script's cache file (no ../ there).
        if not isinstance(expected, str) or not _HEX64.fullmatch(expected):
            raise InputError(f"{which} script needs a 'sha256' of 64 hex digits",
                             path=where)
        expected = expected.lower()
        if "sql" in spec:
            if not isinstance(spec["sql"], str):
                raise InputError(f"{which} 'sql' must be a string", path=where)
            data = spec["sql"].encode()
        else:
            data = self._script_from_url(spec, expected, where, which)
        if _sha256(data) != expected:
            raise InputError(
                f"{which} script does not match the SHA-256 in the index "
                f"(expected {expected}, got {_sha256(data)}); refusing to run", path=where
            )
        return data

    def _script_from_url(self, spec: dict[str, Any], expected: str, where: str,
                         which: str) -> bytes:
        relative = spec.get("url")
        if not isinstance(relative, str) or not relative:
            raise InputError(f"{which} script needs 'url' or 'sql'", path=where)
        cached = self._script_path(expected)
        try:
            data = cached.read_bytes()
            if _sha256(data) == expected:
                return data
        except OSError:
            pass
        if self.offline:
            raise SourceUnavailable(f"{where}: offline, and the script is not in the cache")
        try:
            url = urllib.parse.urljoin(self._base, relative)
        except ValueError as error:
            raise InputError(f"{which} script URL is not valid ({error})", path=where) from None
        _check_url(url, where, f"the {which} script")
        _, data, _ = self._fetch(url)
        if _sha256(data) == expected:
            self._write(cached, data)
        return data

    # -- the source interface ---------------------------------------------------------

    def load(self, dialect: str | None = None) -> list[Migration]:
        """Fetch, verify and return every migration of the index (all or nothing)."""
        raw = self._read_index()
        if self.index_sha256 and _sha256(raw) != self.index_sha256:
            raise InputError(
                f"the index does not match its pinned SHA-256 (pinned {self.index_sha256}, "
                f"got {_sha256(raw)}); refusing to run", path=self.label
            )
        try:
            index = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise InputError(f"the index is not valid JSON: {error}", path=self.label) from None
        except RecursionError:  # the parser recurses once per level of [[[...]]]
            raise InputError("the index is not valid JSON: nested too deeply",
                             path=self.label) from None
        if not isinstance(index, dict) or index.get("format") != 1 or not isinstance(
            index.get("migrations"), list
        ):
            raise InputError(
                "the index must be an object with \"format\": 1 and a \"migrations\" list",
                path=self.label,
            )
        return [self._migration(entry) for entry in index["migrations"]]

    def _migration(self, entry: Any) -> Migration:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not entry["id"]:
            raise InputError("every index entry needs a non-empty 'id'", path=self.label)
        migration_id = entry["id"]
        if printable(migration_id, newlines=False) != migration_id:
            # It would reach terminals (and the tracking table) as escape sequences.
            raise InputError(f"the id {printable(migration_id, newlines=False)!r} holds "
                             "control characters", path=self.label)
        where = f"{self.label} ({migration_id})"
        depends_on = entry.get("depends_on", [])
        dialects = entry.get("dialects")
        if not isinstance(depends_on, list) or not all(isinstance(d, str) for d in depends_on):
            raise InputError("'depends_on' must be a list of ids", path=where)
        if dialects is not None and (not isinstance(dialects, list)
                                     or any(d not in DIALECTS for d in dialects)):
            raise InputError(f"'dialects' must list some of {', '.join(DIALECTS)}", path=where)
        if not isinstance(entry.get("up"), dict):
            raise InputError("'up' must be an object with 'url' or 'sql' and 'sha256'",
                             path=where)
        up = self._script(entry["up"], migration_id, "up")
        down_spec = entry.get("down")
        if down_spec is not None and not isinstance(down_spec, dict):
            raise InputError("'down' must be an object or null", path=where)
        down = self._script(down_spec, migration_id, "down") if down_spec is not None else None
        try:
            # An empty down script is a deliberate no-op rollback, as an empty down.sql.
            up_text = up.decode("utf-8-sig")
            down_text = down.decode("utf-8-sig") if down is not None else None
        except UnicodeDecodeError:
            raise InputError("a script is not valid UTF-8", path=where) from None
        transactional = entry.get("transactional", True)
        if not isinstance(transactional, bool):
            raise InputError("'transactional' must be true or false", path=where)
        description = entry.get("description")
        return Migration(
            id=migration_id,
            up=up_text,
            down=down_text,
            up_checksum=script_checksum(up, self.checksum_mode),
            down_checksum=script_checksum(down, self.checksum_mode),
            description=(printable(description, newlines=False)
                         if isinstance(description, str) else None),
            depends_on=tuple(depends_on),
            dialects=tuple(dialects) if dialects is not None else None,
            transactional=transactional,
            source=where,
        )
