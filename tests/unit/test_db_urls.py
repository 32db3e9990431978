"""URL spellings map to the installed drivers; passwords never leak."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchy_guard.errors import ConfigError
from switchy_guard.masking import mask_text
from switchy_guard.runtime.db import dialect_of, mask_url, parse_url
from tests.cli_helpers import run_cli


@pytest.mark.parametrize(
    ("url", "driver", "dialect"),
    [
        ("postgres://u:p@h/db", "postgresql+psycopg", "postgres"),
        ("postgresql://u:p@h/db", "postgresql+psycopg", "postgres"),
        ("postgresql+psycopg://u:p@h/db", "postgresql+psycopg", "postgres"),
        ("mysql://u:p@h/db", "mysql+pymysql", "mysql"),
        ("mariadb://u:p@h/db", "mariadb+pymysql", "mysql"),
        ("sqlite:///x.db", "sqlite", "sqlite"),
        ("sqlite:x.db", "sqlite", "sqlite"),
        ("sqlite:", "sqlite", "sqlite"),
    ],
)
def test_url_spellings(url: str, driver: str, dialect: str) -> None:
    assert parse_url(url).drivername == driver
    assert dialect_of(url) == dialect


def test_sqlite_short_form_keeps_the_path() -> None:
    assert parse_url("sqlite:data/app.db").database == "data/app.db"


def test_unsupported_and_invalid_urls() -> None:
    with pytest.raises(ConfigError, match="unsupported database 'oracle'"):
        dialect_of("oracle://u:p@h/db")
    with pytest.raises(ConfigError, match="invalid database URL") as info:
        parse_url("not a url with password s3cret")
    assert "invalid database URL" in str(info.value)


def test_mask_url_hides_the_password() -> None:
    masked = mask_url("postgresql://alice:s3cret@db.example/prod")
    assert "s3cret" not in masked and "alice" in masked and "***" in masked


def test_mask_text_hides_passwords_inside_messages() -> None:
    text = "could not reach mysql+pymysql://bob:hunter2@10.0.0.1:3306/app (timeout)"
    masked = mask_text(text)
    assert "hunter2" not in masked
    assert "mysql+pymysql://bob:***@10.0.0.1:3306/app" in masked


def test_mask_command_hides_passwords_with_spaces_and_at_signs() -> None:
    from switchy_guard.masking import mask_command

    line = mask_command(["switchy-guard", "status", "-d", "postgresql://app:pa ss@db/x",
                         "--database-url=mysql://app:p@ss w@db:3306/x", "-m", "mig rations"])
    assert line == ("switchy-guard status -d postgresql://app:***@db/x "
                    "--database-url=mysql://app:***@db:3306/x -m mig rations")


def test_an_unencoded_at_sign_in_a_password_is_refused_without_showing_any_of_it() -> None:
    """SQLAlchemy ends the password at the first ``@``: ``p@ssw0rd`` became the password
    ``p`` on the host ``ssw0rd@db``, and every message showed ``u:***@ssw0rd@db``."""
    url = "postgresql://app:p@ssw0rd@db.example:5432/prod"
    with pytest.raises(ConfigError, match="%40") as info:
        parse_url(url)
    assert "ssw0rd" not in str(info.value) and "app:***@db.example" in str(info.value)
    assert mask_url(url) == "postgresql://app:***@db.example:5432/prod"
    from sqlalchemy.engine import make_url

    assert "ssw0rd" not in mask_url(make_url(url))


@pytest.mark.parametrize(("option", "words"), [
    ("connect_timeout=abc", "an option of the URL was refused: invalid literal"),
    ("charset=nonexist", "the driver refused the URL's settings (AttributeError"),
    ("ssl_ca=/nonexistent", "the driver refused the URL's settings (FileNotFoundError"),
])
def test_a_url_option_the_driver_cannot_use_is_one_line_exit_2(
    tmp_path: Path, option: str, words: str
) -> None:
    """PyMySQL raised ValueError, AttributeError or FileNotFoundError for these: a
    traceback, where bad configuration is one line and exit 2."""
    result = run_cli("status", "-m", tmp_path, "--allow-empty", "-d",
                     f"mysql://app:hunter2@127.0.0.1:1/db?{option}")
    assert result.code == 2, result
    assert len(result.err.splitlines()) == 1 and words in result.err, result.err
    assert "hunter2" not in result.err and "Traceback" not in result.err
