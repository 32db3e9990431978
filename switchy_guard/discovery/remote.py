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
import hashlib
import http.client
import ipaddress
import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..cachefiles import read_private, read_private_json, write_private
from ..checksum import checked_mode, script_checksum
from ..db import mask_text
from ..errors import InputError, SourceUnavailable
from ..migration import DIALECTS, Migration

_RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}
# The most an index or a script may hold: a server sending more (a wrong URL, a hostile
# or broken server streaming without end) is refused instead of filling memory.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024


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
                f"{mask_text(req.full_url)}: redirect from https:// to {new.scheme}:// "
                "refused (the index, the scripts and any credentials would travel in clear)"
            )
        if new.hostname != old.hostname and new.hostname not in self.allowed_hosts:
            raise SourceUnavailable(
                f"{mask_text(req.full_url)}: redirect to another host ({new.hostname}) refused;"
                " allow it with remote_allow_redirect_hosts"
            )
        redirected = super().redirect_request(req, fp, code, msg, headers, newurl)
        if redirected is not None and new.hostname != old.hostname:
            redirected.remove_header("Authorization")  # credentials stay with their host
        return redirected


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
        self.retries = max(0, retries)
        self.checksum_mode = checked_mode(checksum_mode)
        self._opener = urllib.request.build_opener(_RedirectGuard(set(allow_redirect_hosts)))
        self._base = url  # where the index really came from: relative script URLs use it
        self._headers(url)  # credentials that would go in clear are refused up front

    def __repr__(self) -> str:
        return f"RemoteMigrations({mask_text(self.url)!r})"

    @property
    def label(self) -> str:
        """How reports name this source."""
        return mask_text(self.url)

    # -- fetching -------------------------------------------------------------------

    def _headers(self, url: str) -> dict[str, str]:
        headers = {"User-Agent": "switchy-guard", "Accept": "application/json, text/plain"}
        if urllib.parse.urlsplit(url).hostname != urllib.parse.urlsplit(self.url).hostname:
            return headers
        if (self._token or self._username) and _in_clear_off_this_machine(url):
            raise InputError(
                "the remote credentials would be sent in clear over http:// to "
                f"{urllib.parse.urlsplit(url).hostname}: use an https:// URL",
                path=mask_text(url),
            )
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
        """
        request = urllib.request.Request(url, headers={**self._headers(url), **(extra or {})})
        where = mask_text(url)
        last = "no attempt"
        attempts = 0
        for attempt in range(self.retries + 1):
            attempts = attempt + 1
            if attempt:
                time.sleep(min(0.2 * 2 ** (attempt - 1), 2.0))
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    headers = dict(response.headers.items())
                    headers["X-Final-URL"] = response.geturl()
                    body = response.read(MAX_RESPONSE_BYTES + 1)
                    if len(body) > MAX_RESPONSE_BYTES:
                        raise InputError(f"the response is larger than {MAX_RESPONSE_BYTES} "
                                         "bytes; refusing it", path=where)
                    missing = getattr(response, "length", None)
                    if missing:  # a bounded read() returns a cut body without a word
                        raise http.client.IncompleteRead(body, missing)
                    return response.status, body, headers
            except urllib.error.HTTPError as error:
                if error.code == 304:
                    return 304, b"", dict(error.headers.items())
                if error.code in (401, 403):
                    raise SourceUnavailable(
                        f"{where}: access refused (HTTP {error.code}); check the remote "
                        "token or user and password"
                    ) from None
                last = f"HTTP {error.code} {error.reason}"
                if error.code not in _RETRYABLE_STATUS:
                    break
            except (SourceUnavailable, InputError):
                raise
            except http.client.HTTPException as error:  # a cut or garbled response
                last = f"bad HTTP response: {str(error).strip() or type(error).__name__}"
            except (urllib.error.URLError, TimeoutError, OSError) as error:
                reason = getattr(error, "reason", error)
                last = "timed out" if isinstance(reason, TimeoutError) or "timed out" in str(
                    reason) else str(reason)
        raise SourceUnavailable(
            f"{where}: cannot fetch ({mask_text(last)}) after {attempts} attempt(s)"
        )

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
            description=description if isinstance(description, str) else None,
            depends_on=tuple(depends_on),
            dialects=tuple(dialects) if dialects is not None else None,
            transactional=transactional,
            source=where,
        )
