"""Fleet targets: the TOML file, a command's output, query rows; errors name the file
and line; passwords are never shown; shards partition the fleet."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from switchy_guard.errors import InputError
from switchy_guard.fleet.targets import (
    Target,
    load_targets_file,
    parse_target_lines,
    shard,
    targets_from_command,
    targets_from_rows,
)

SECRET = "hunter2-fleet-pw"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "targets.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_toml_targets_sorted_by_name_with_env_and_tags(tmp_path: Path) -> None:
    path = write(tmp_path, f"""
[[target]]
name = "eu-2"
url = "postgresql://app:{SECRET}@db2/app"
env = "production"
tags = ["eu"]

[[target]]
name = "eu-1"
url = "sqlite:///{tmp_path}/one.db"
""")
    targets = load_targets_file(path)
    assert [t.name for t in targets] == ["eu-1", "eu-2"]
    assert targets[1].env == "production" and targets[1].tags == ("eu",)
    assert SECRET not in repr(targets[1]) and SECRET not in str(targets[1].to_dict())
    assert SECRET not in targets[1].shown_url and "***" in targets[1].shown_url


@pytest.mark.parametrize(("body", "line", "problem"), [
    ('[[target]]\nname = "a"\nurl = "sqlite:///a.db"\n\n[[target]]\nname = "b"\n', 5,
     "'url' is missing"),
    ('[[target]]\nname = "a"\nurl = "sqlite:///a.db"\n[[target]]\nname = "a"\n'
     'url = "sqlite:///b.db"\n', None, "two targets are named 'a'"),
    ('[[target]]\nname = "a b"\nurl = "sqlite:///a.db"\n', 1, "target name 'a b'"),
    ('[[target]]\nname = "a"\nurl = "sqlite:///a.db"\ncolour = "red"\n', 1,
     "unknown key 'colour'"),
    ('[[target]]\nname = "a"\nurl = "sqlite:///a.db"\ntags = "eu"\n', 1, "'tags' must be"),
    (f'[[target]]\nname = "a"\nurl = "nodriver://u:{SECRET}@h/x"\n', 1,
     "unsupported database"),
    ('[[target]\n', None, "not valid TOML"),
    ('', None, "no [[target]] tables"),
])
def test_bad_toml_is_one_line_naming_file_and_line(
        tmp_path: Path, body: str, line: int | None, problem: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(InputError) as caught:
        load_targets_file(path)
    message = caught.value.one_line()
    assert "\n" not in message and SECRET not in message
    assert message.startswith(f"{path}:{line}:" if line else f"{path}:")
    assert problem in message
    assert caught.value.exit_code == 2


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such targets file"):
        load_targets_file(tmp_path / "nope.toml")


def test_command_lines_bare_urls_named_after_their_database(tmp_path: Path) -> None:
    text = (f"# tenants\nsqlite:///{tmp_path}/alpha.db\n\n"
            f"beta postgresql://u:{SECRET}@h/beta_db\n")
    targets = parse_target_lines(text, "cmd")
    assert [t.name for t in targets] == ["alpha", "beta"]


def test_command_json_list(tmp_path: Path) -> None:
    text = (f'["sqlite:///{tmp_path}/a.db", {{"name": "b", "url": "sqlite:///{tmp_path}/b.db",'
            ' "env": "staging"}]')
    targets = parse_target_lines(text, "cmd")
    assert [(t.name, t.env) for t in targets] == [("a", None), ("b", "staging")]


def test_command_bad_line_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^cmd: line 2: expected 'URL' or 'NAME URL'"):
        parse_target_lines("a sqlite:///a.db\nb c d\n", "cmd")


def test_targets_command_runs_and_failure_is_masked(tmp_path: Path) -> None:
    script = tmp_path / "list.py"
    script.write_text(f"print('one sqlite:///{tmp_path}/one.db')\n", encoding="utf-8")
    targets = targets_from_command(f"{sys.executable} {script}")
    assert [t.name for t in targets] == ["one"]
    failing = f"{sys.executable} -c \"import sys; sys.exit('postgresql://u:{SECRET}@h/d down')\""
    with pytest.raises(InputError) as caught:
        targets_from_command(failing)
    assert "exited with 1" in caught.value.one_line()
    assert SECRET not in caught.value.one_line()


def test_query_rows_checked() -> None:
    targets = targets_from_rows([("b", "sqlite:///b.db"), ("a", "sqlite:///a.db")], "q")
    assert [t.name for t in targets] == ["a", "b"]
    with pytest.raises(InputError, match="q: row 1: a row must be two text columns"):
        targets_from_rows([("a",)], "q")
    with pytest.raises(InputError, match="q: returned no rows"):
        targets_from_rows([], "q")


def test_shards_partition_the_fleet_exactly() -> None:
    targets = [Target(f"tenant-{n:03}", f"sqlite:///{n}.db") for n in range(200)]
    for count in (1, 2, 3, 7):
        parts = [shard(targets, index, count) for index in range(count)]
        names = [t.name for part in parts for t in part]
        assert sorted(names) == [t.name for t in targets]  # union = all, disjoint
        assert len(names) == len(set(names))
    # Stable when the fleet grows: no existing target moves to another shard.
    grown = [*targets, Target("tenant-new", "sqlite:///new.db")]
    assert {t.name for t in shard(targets, 1, 3)} <= {t.name for t in shard(grown, 1, 3)}


def test_lock_key_keeps_the_old_key_in_public_and_adds_other_schemas() -> None:
    """Upgrading: runs in ``public`` keep the key earlier versions used (so an old and a
    new version still exclude each other); each other schema gets its own key."""
    import hashlib

    from switchy_guard.runtime.lock import advisory_key

    old = int.from_bytes(hashlib.sha256(b"switchy-guard:__switchy_migrations").digest()[:8],
                         "big", signed=True)
    assert advisory_key("__switchy_migrations") == old
    assert advisory_key("__switchy_migrations", "public") == old
    keys = {advisory_key("__switchy_migrations", s) for s in ("tenant_a", "tenant_b")}
    assert len(keys) == 2 and old not in keys
    assert advisory_key("t", "tenant_a") == advisory_key("t", "tenant_a")  # one lock


def test_url_takes_passwords_from_the_environment(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TENANT_PW", SECRET)
    path = write(tmp_path, '[[target]]\nname = "a"\n'
                           'url = "postgresql://app:${TENANT_PW}@db/a"\n')
    [target] = load_targets_file(path)
    assert target.url == f"postgresql://app:{SECRET}@db/a"
    assert SECRET not in target.shown_url
    monkeypatch.delenv("TENANT_PW")
    with pytest.raises(InputError, match=r":1: the url names \$\{TENANT_PW\}, which is not set"):
        load_targets_file(path)


def test_live_output_keeps_the_bars_sequences_only_and_masks() -> None:
    """The live display's stream lets rich's cursor and colour sequences through (else
    the bars print as text), escapes any other control sequence, masks passwords."""
    import io

    from switchy_guard.fleet.output import LiveOutput
    from switchy_guard.masking import SafeOutput

    raw = io.StringIO()
    live = LiveOutput(SafeOutput(raw))  # type: ignore[arg-type]
    live.write(f"\x1b[?25l\r\x1b[2K\x1b[1Awave \x1b[32m1/2\x1b[0m\x1b]0;title\x07 "
               f"postgresql://u:{SECRET}@h/d\n")
    shown = raw.getvalue()
    assert shown.startswith("\x1b[?25l\r\x1b[2K\x1b[1Awave \x1b[32m1/2\x1b[0m")
    assert "\x1b]" not in shown and "\x07" not in shown
    assert SECRET not in shown and "***" in shown
