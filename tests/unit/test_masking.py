"""Secrets masked in every shape they come in, in linear time (SECURITY.md, "Secrets")."""

from __future__ import annotations

import io
import subprocess
import sys
import time

import pytest

from switchy_guard.masking import (
    SafeOutput,
    cut,
    is_secret_key,
    known_secrets,
    mask_command,
    mask_data,
    mask_message,
    mask_text,
    mask_url,
    printable,
    remember,
    secrets_in,
)

SECRET = "Pr0beSecret"


@pytest.mark.parametrize("text", [
    # any scheme, with a password holding characters URLs should encode but people do not
    f"postgresql://u:{SECRET}@db/x",
    f"could not reach mysql+pymysql://bob:{SECRET}@10.0.0.1:3306/app (timeout)",
    f"redis://:{SECRET}@cache:6379/0",
    f"amqp://u:{SECRET}#frag@broker",
    f"postgresql://u:a#{SECRET}@db/x",
    f"postgresql://u:it's{SECRET}@db/x",
    f'postgresql://u:say"{SECRET}"@db/x',
    f"postgresql://u:{SECRET}%40%23x@db/x",
    f"postgresql://u:p@{SECRET}@db/x",           # an unencoded @: masked to the last one
    f"postgresql://u:p@s@{SECRET}@db:5432/x is down",
    f"'postgresql://u:a {SECRET}@db/x' (choose from create, list)",  # unencoded space
    f"argument VERB: invalid choice: 'postgresql://u:pa ss{SECRET}@h/db'",
    # secret query and keyword parameters
    f"postgresql://u@db/x?password={SECRET}",
    f"postgresql://u@db/x?sslmode=require&PASSWORD={SECRET}&a=1",
    f"postgresql://u@db/x?pass%77ord={SECRET}",
    f"postgresql://u@db/x?%70assword={SECRET}",
    f"postgresql://u@db/x?sslpassword={SECRET}",
    f"postgresql://u@db/x?password=a#{SECRET}",
    f"mysql://u@db/x?passwd={SECRET}",
    f"host=db user=u password={SECRET} dbname=x",
    f"host=db password = {SECRET} dbname=x",
    f"host=db password='a b#c {SECRET}' dbname=x",
    f"host=db password='it\\'s {SECRET}' dbname=x",
    f'dsn "password": "{SECRET}"',
    f'{{"token": "{SECRET}", "id": 1}}',
    f"PGPASSWORD={SECRET} psql",
    f"MYSQL_PWD={SECRET} mysql",
    f"--password={SECRET}",
    f"client_secret={SECRET}&grant=x",
    f"access_token={SECRET}",
    f"api_key={SECRET}",
    f"spring.datasource.password={SECRET}",
    f"Authorization: Bearer {SECRET}",
    f"authorization: Basic {SECRET}",
    f"the server said: invalid bearer {SECRET}",
])
def test_mask_text_hides_the_secret(text: str) -> None:
    masked = mask_text(text)
    assert SECRET not in masked, masked
    assert "***" in masked


@pytest.mark.parametrize(("text", "expected"), [
    ("postgresql://alice:s3cret@db.example:5432/prod",
     "postgresql://alice:***@db.example:5432/prod"),
    ("postgresql://u:p@ss@db/x", "postgresql://u:***@db/x"),
    ("postgresql://u@db/x?sslmode=require&password=p&x=1",
     "postgresql://u@db/x?sslmode=require&password=***&x=1"),
    ("host=h password='a b' dbname=x", "host=h password='***' dbname=x"),
    ("Authorization: Bearer abc.def", "Authorization: Bearer ***"),
])
def test_mask_text_keeps_what_is_not_secret(text: str, expected: str) -> None:
    assert mask_text(text) == expected


@pytest.mark.parametrize("text", [
    "postgresql://app@db:5432/prod",
    "https://example.com/path:x@y",
    'Key (id)=(1) already exists.',
    "ERROR:  password authentication failed for user \"app\"",
    "CREATE TABLE users (password_hash TEXT NOT NULL)",
    "sslmode=require dbname=x",
])
def test_text_without_secrets_is_unchanged(text: str) -> None:
    assert mask_text(text) == text


def test_secret_keys_are_compared_decoded_and_case_folded() -> None:
    for key in ("password", "PASSWORD", "pass%77ord", "%50assword", "sslpassword",
                "PGPASSWORD", "MYSQL_PWD", "--password", "db-password", "a.b.secret", "pwd",
                "passwd", "token", "refresh_token", "api_key", "auth"):
        assert is_secret_key(key), key
    for key in ("user", "host", "sslmode", "dbname", "password_hash_column"):
        assert not is_secret_key(key), key


def test_mask_command_masks_each_argument_whole() -> None:
    line = mask_command(["switchy-guard", "status", "-d", f"postgresql://app:pa ss{SECRET}@db/x",
                         f"--database-url=mysql://app:p@ss w{SECRET}@db:3306/x", "-m",
                         "mig rations", "--password", SECRET, f"u:{SECRET}@h/db",
                         f"postgres//u:{SECRET}@h", f"host=h password={SECRET} dbname=x"])
    assert SECRET not in line
    assert line.startswith("switchy-guard status -d postgresql://app:***@db/x "
                           "--database-url=mysql://app:***@db:3306/x -m mig rations "
                           "--password ***")


def test_mask_url_of_an_unparsable_url_masks_to_the_last_at() -> None:
    for url in (f"postgres//switchy:{SECRET}@127.0.0.1/db",
                f"postgresql:/switchy:{SECRET}@127.0.0.1/db",
                f"switchy:{SECRET}@127.0.0.1/db"):
        assert SECRET not in mask_url(url) and ":***@127.0.0.1" in mask_url(url), url


def test_known_secrets_are_masked_wherever_they_appear() -> None:
    message = f"could not translate host name \"{SECRET}.db\" to address"
    assert mask_text(message) == message  # nothing shows it is a secret
    with known_secrets(secrets_in(f"postgresql://u:{SECRET}@db/x")):
        assert SECRET not in mask_text(message)
        remember("AnotherToken42")
        assert mask_text("echo AnotherToken42") == "echo ***"
    assert mask_text(message) == message  # the block ended: nothing leaks between runs
    assert mask_text("echo AnotherToken42") == "echo AnotherToken42"
    assert mask_text(f"server said {SECRET}", secrets=[SECRET]) == "server said ***"


def test_secrets_in_gives_the_decoded_password_too() -> None:
    assert set(secrets_in("postgresql://u:p%40ssword@h/db")) >= {"p%40ssword", "p@ssword"}


def test_mask_data_masks_every_string_of_a_json_document() -> None:
    data = {"database": f"postgresql://u:{SECRET}@h/db",
            "rows": [{"reason": f"password={SECRET}"}, 3, None], "n": 1}
    masked = mask_data(data)
    assert SECRET not in repr(masked)
    assert masked["n"] == 1 and masked["rows"][1:] == [3, None]


def test_mask_message_cuts_long_text_after_masking() -> None:
    long = "x" * 1990 + f" postgresql://u:{SECRET}@host/db " + "y" * 100_000
    shown = mask_message(long)
    assert SECRET not in shown and len(shown) < 2100
    assert shown.endswith("characters cut)")
    assert cut("short") == "short"


# -- linear time ------------------------------------------------------------------------

_MB = 1_000_000
_ADVERSARIAL = {
    "a word": "a" * _MB + "://",
    "dotted words": "a." * (_MB // 2),
    "schemes": "a://" * (_MB // 4),
    "user parts": "a://b:" * (_MB // 6),
    "user parts with at": "a://b:c@" * (_MB // 8),
    "spaced user parts": "x://u:p " * (_MB // 8),
    "keys": "password=" * (_MB // 9),
    "keys and spaces": "password= " * (_MB // 10),
    "open quotes": "password='" * (_MB // 10),
    "open quotes and escapes": "password='\\" * (_MB // 11),
    "json keys": '"token": "' * (_MB // 10),
    "at signs": "@" * _MB,
    "colons and at signs": ":@" * (_MB // 2),
    "bearers": "bearer " * (_MB // 7),
    "headers": "authorization: " * (_MB // 15),
    "percents": "%" * _MB,
    "escapes": "\x1b[" * (_MB // 2),
    "urls": "postgresql://u:p@h/db?password=x&token=y " * (_MB // 42),
}


_WAYS = {
    "mask_text": mask_text,
    "mask_command": lambda text: mask_command([text]),
    "printable": printable,
    "SafeOutput": lambda text: SafeOutput(io.StringIO()).write(text),
}


def _timed(way: str, text: str) -> float:
    """The best of three runs: a busy machine's pauses are not the code's time."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        _WAYS[way](text)
        best = min(best, time.perf_counter() - started)
    return best


@pytest.mark.parametrize("name", sorted(_ADVERSARIAL))
def test_masking_a_megabyte_of_hostile_text_takes_well_under_a_second(name: str) -> None:
    """The regexes this replaced backtracked: a 100 KB message took 65 s, under the lock.
    Each shape is also timed at a sixteenth of the size: linear time grows 16x, quadratic
    256x; 64x between them leaves room for a busy machine's noise."""
    text = _ADVERSARIAL[name]
    for way in _WAYS:
        elapsed = _timed(way, text)
        assert elapsed < 2.0, f"{way} on {name}: {elapsed:.2f} s"
        small = _timed(way, text[: len(text) // 16])
        assert elapsed < max(small * 64, 0.2), (way, name, small, elapsed)


# -- terminal safety --------------------------------------------------------------------


def test_printable_escapes_control_characters() -> None:
    hostile = "id\x1b]0;owned\x07\x1b[2J\r\x08\x9b31m\u202eevil\x00"
    shown = printable(hostile)
    assert not any(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f or c == "\u202e" for c in shown)
    assert "\\x1b" in shown and "\\u202e" in shown
    assert printable("a\tb\nc") == "a\tb\nc"
    assert printable("a\nb", newlines=False) == "a\\x0ab"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_safe_output_keeps_colours_only_on_a_terminal() -> None:
    piped = io.StringIO()
    SafeOutput(piped).write("\x1b[8mhidden\x1b[0m\n")
    assert piped.getvalue() == "\\x1b[8mhidden\\x1b[0m\n"


def test_safe_output_keeps_colours_and_drops_the_rest() -> None:
    sink = _Terminal()
    SafeOutput(sink).write(f"\x1b[1;31mred\x1b[0m \x1b]8;;http://x\x1b\\ "
                           f"postgresql://u:{SECRET}@h/db\r\n")
    written = sink.getvalue()
    assert written.startswith("\x1b[1;31mred\x1b[0m ")
    assert "\x1b]" not in written and "\r" not in written and SECRET not in written


def test_masking_loads_no_sqlalchemy() -> None:
    """``check`` and the remote source promise not to load SQLAlchemy; masking used to
    live in db.py, which imports it."""
    code = ("import sys, switchy_guard.masking, switchy_guard.discovery.remote; "
            "assert 'sqlalchemy' not in sys.modules, 'sqlalchemy imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
