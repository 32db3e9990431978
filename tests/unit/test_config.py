"""Settings precedence: flag, environment, config file, default."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchy_guard.config import resolve_settings
from switchy_guard.errors import ConfigError


def test_defaults(tmp_path: Path) -> None:
    settings = resolve_settings({}, environ={}, cwd=tmp_path)
    assert settings.database_url is None
    assert settings.migrations_dir == "migrations"
    assert settings.migration_table == "__switchy_migrations"
    assert settings.env == "development"
    assert settings.lock_timeout == 60.0
    assert settings.config_file is None


def test_precedence_flag_env_file(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.switchy-guard]\ndatabase_url = "sqlite:///file.db"\nmigration_table = "t_file"\n'
        'env = "staging"\nlock_timeout = 5\n'
    )
    environ = {"SWITCHY_MIGRATION_TABLE": "t_env", "DATABASE_URL": "sqlite:///env.db"}
    settings = resolve_settings({"migration_table": "t_flag"}, environ=environ, cwd=tmp_path)
    assert settings.migration_table == "t_flag"
    assert settings.database_url == "sqlite:///env.db"
    assert settings.env == "staging"
    assert settings.lock_timeout == 5.0
    assert settings.config_file == str(tmp_path / "pyproject.toml")
    environ["SWITCHY_DATABASE_URL"] = "sqlite:///switchy.db"
    assert (
        resolve_settings({}, environ=environ, cwd=tmp_path).database_url == "sqlite:///switchy.db"
    )


def test_own_config_file_and_explicit_config(tmp_path: Path) -> None:
    (tmp_path / "switchy-guard.toml").write_text('migrations_dir = ["a", "b"]\n')
    assert resolve_settings({}, environ={}, cwd=tmp_path).migrations_dir == ["a", "b"]
    other = tmp_path / "other.toml"
    other.write_text('dialect = "postgres"\n')
    settings = resolve_settings({"config": str(other)}, environ={}, cwd=tmp_path)
    assert settings.dialect == "postgres" and settings.migrations_dir == "migrations"


def test_remote_settings(tmp_path: Path) -> None:
    (tmp_path / "switchy-guard.toml").write_text(
        'offline = true\nremote_allow_redirect_hosts = ["cdn.example"]\nremote_timeout = 3\n'
        'remote_index_sha256 = "ab"\nchecksum_mode = "exec-raw"\n'
    )
    settings = resolve_settings({}, environ={}, cwd=tmp_path)
    assert settings.offline is True and settings.remote_allow_redirect_hosts == ["cdn.example"]
    assert settings.remote_timeout == 3 and settings.remote_index_sha256 == "ab"
    assert settings.checksum_mode == "exec-raw"


def test_pyproject_without_section_falls_through(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "switchy-guard.toml").write_text('env = "production"\n')
    assert resolve_settings({}, environ={}, cwd=tmp_path).env == "production"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("colour = 'red'\n", "unknown setting 'colour'"),
        ("lock_timeout = 'soon'\n", "'lock_timeout' must be a number"),
        ("lock_timeout = true\n", "'lock_timeout' must be a number"),
        ("database_url = 3\n", "'database_url' must be a string"),
        ("migrations_dir = [1]\n", "'migrations_dir' must be a string or a list of strings"),
        ("dialect = 'oracle'\n", "unknown dialect 'oracle'"),
        ("lock_timeout = -1\n", "0 or more seconds"),
        ("not toml at all\n", "invalid TOML"),
        ("offline = 'yes'\n", "'offline' must be true or false"),
        ("remote_allow_redirect_hosts = 'cdn'\n", "must be a list of strings"),
        ("remote_timeout = true\n", "'remote_timeout' must be a number"),
        ("checksum_mode = 'md5'\n", "unknown checksum mode 'md5'"),
    ],
)
def test_bad_config(tmp_path: Path, content: str, problem: str) -> None:
    (tmp_path / "switchy-guard.toml").write_text(content)
    with pytest.raises(ConfigError, match=problem):
        resolve_settings({}, environ={}, cwd=tmp_path)


def test_missing_explicit_config_and_bad_section(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        resolve_settings({"config": str(tmp_path / "none.toml")}, environ={}, cwd=tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool]\nswitchy-guard = "x"\n')
    with pytest.raises(ConfigError, match="must be a table"):
        resolve_settings({}, environ={}, cwd=tmp_path)


def test_explicit_config_may_be_a_pyproject_elsewhere(tmp_path: Path) -> None:
    # --config service/pyproject.toml failed with "unknown setting 'project'".
    service = tmp_path / "service"
    service.mkdir()
    (service / "pyproject.toml").write_text(
        "[project]\nname = 'x'\n\n[tool.switchy-guard]\nenv = 'staging'\n")
    settings = resolve_settings({"config": str(service / "pyproject.toml")}, environ={},
                                cwd=tmp_path)
    assert settings.env == "staging"
    assert settings.config_file == str(service / "pyproject.toml")
    (service / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    with pytest.raises(ConfigError, match=r"pyproject\.toml: no \[tool\.switchy-guard\] table"):
        resolve_settings({"config": str(service / "pyproject.toml")}, environ={}, cwd=tmp_path)


def test_the_readme_config_example_is_valid(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("# switchy-guard.toml (or the same keys")
    (tmp_path / "switchy-guard.toml").write_text(readme[start:readme.index("```", start)])
    settings = resolve_settings({}, environ={}, cwd=tmp_path)
    assert settings.database_url == "sqlite:///app.db" and settings.lock_timeout == 60
    assert settings.policy_dir == str(tmp_path / "policies") and settings.dialect == "sqlite"


def test_session_init_takes_a_string_a_list_or_a_dialect_table(tmp_path: Path) -> None:
    from switchy_guard.runtime.session_init import parse_session_init

    for value in ('"SET a = 1; SET b = 2"', '["SET a = 1", "SET b = 2"]',
                  '{ postgres = "SET a = 1; SET b = 2", mysql = ["SET c = 3"] }'):
        (tmp_path / "switchy-guard.toml").write_text(f"session_init = {value}\n")
        settings = resolve_settings({}, environ={}, cwd=tmp_path)
        parsed = parse_session_init(settings.session_init, "test")
        assert parsed is not None
        assert parsed.for_dialect("postgres") == ("SET a = 1", "SET b = 2"), value
    assert parsed.for_dialect("mysql") == ("SET c = 3",)
    assert parsed.for_dialect("sqlite") == ()


@pytest.mark.parametrize(("value", "message"), [
    ("1", "session_init must be a string, a list of strings, or a table"),
    ('["SET a = 1", 2]', "session_init must be"),
    ('{ oracle = "SET a = 1" }', "session_init names an unknown dialect 'oracle'"),
    ('{ mysql = 1 }', "session_init must be"),
])
def test_a_bad_session_init_names_the_file(tmp_path: Path, value: str, message: str) -> None:
    (tmp_path / "switchy-guard.toml").write_text(f"session_init = {value}\n")
    with pytest.raises(ConfigError) as raised:
        resolve_settings({}, environ={}, cwd=tmp_path)
    assert str(raised.value).startswith(f"{tmp_path / 'switchy-guard.toml'}: {message}")


def test_a_bad_policy_session_init_names_the_file(tmp_path: Path) -> None:
    from switchy_guard.gates.policy import load_policy

    (tmp_path / "prod.toml").write_text('session_init = { nosuch = "SET a = 1" }\n')
    with pytest.raises(ConfigError, match=r"prod\.toml: session_init names an unknown dialect"):
        load_policy(tmp_path / "prod.toml")
    (tmp_path / "prod.toml").write_text('session_init = "SET a = 1"\n')
    init = load_policy(tmp_path / "prod.toml").session_init
    assert init is not None and init.for_dialect("mysql") == ("SET a = 1",)


def test_engines_made_while_session_init_is_in_effect_run_it(tmp_path: Path) -> None:
    from sqlalchemy import text

    from switchy_guard.runtime.db import create_database_engine
    from switchy_guard.runtime.session_init import parse_session_init, session_init_in_effect

    url = f"sqlite:///{tmp_path / 'a.db'}"
    init = parse_session_init({"sqlite": "PRAGMA foreign_keys = ON"}, "test")
    with session_init_in_effect(init):
        inside = create_database_engine(url)
    outside = create_database_engine(url)
    for engine, expected in ((inside, 1), (outside, 0)):
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == expected
        engine.dispose()
