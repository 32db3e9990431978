"""How volatile a function acts in a column DEFAULT (rules/volatility.py), read from its
CREATE FUNCTION and ALTER FUNCTION statements: options, bodies, comments and strings, and
what PostgreSQL inlines (measured on PostgreSQL 15: docs of the module)."""

from __future__ import annotations

import pytest

from switchy_guard.rules.volatility import (
    BUILTIN_VOLATILE,
    altered_volatility,
    called,
    calls_volatile,
    declared,
    function_volatility,
)

HISTORY = {"vol": "volatile", "stab": "stable"}


def lookup(name: str) -> str | None:
    return HISTORY.get(name)


@pytest.mark.parametrize(("text", "expected"), [
    # Declared, the last word deciding; VOLATILE when none is said.
    ("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$",
     "volatile"),
    ("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN 1; END $$",
     "stable"),
    ("CREATE FUNCTION f() RETURNS int IMMUTABLE LANGUAGE sql AS $$ SELECT random() $$",
     "immutable"),
    ("CREATE FUNCTION f() RETURNS int STABLE VOLATILE LANGUAGE plpgsql AS $$ BEGIN END $$",
     "volatile"),
    # Words in the body, a string or a comment are no option.
    ("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $b$ BEGIN -- STABLE\n"
     "RETURN 1; END $b$", "volatile"),
    ("CREATE FUNCTION f() RETURNS text LANGUAGE plpgsql /* IMMUTABLE */ AS "
     "'BEGIN RETURN ''STABLE''; END'", "volatile"),
    # A comment or a string right against an option word leaves the word whole.
    ("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql IMMUTABLE/* pure */AS "
     "$$ BEGIN RETURN 1; END $$", "immutable"),
    ("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$STABLE",
     "stable"),
    # A doubled quote in a quoted body is one quote: 'random()' there is a string.
    ("CREATE FUNCTION f() RETURNS text LANGUAGE sql AS 'SELECT ''random()'''", "stable"),
    ("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS 'BEGIN RETURN 1; END'IMMUTABLE",
     "immutable"),
    # Any case, any number of lines.
    ("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ select 1 +\n 2 $$", "stable"),
    # A FROM right after a string still reads rows: not inlined.
    ("CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT 'x'FROM t $$", "volatile"),
    # Inlined SQL functions: what their one expression calls decides.
    ("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$", "stable"),
    ("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1;'", "stable"),
    ("CREATE FUNCTION f() RETURNS int LANGUAGE SQL AS $$ SELECT vol() + 1 $$", "volatile"),
    ("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT stab() $$", "stable"),
    ("CREATE FUNCTION f() RETURNS float LANGUAGE sql AS $$ select RANDOM () $$", "volatile"),
    ("CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT 'random()' $$", "stable"),
    ("CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT 'a from b' $$", "stable"),
    # Not inlined: declared VOLATILE stays so.
    ("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 FROM t $$", "volatile"),
    ("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; SELECT 2 $$", "volatile"),
    ("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ UPDATE t SET a = 1 $$", "volatile"),
    ("CREATE FUNCTION f() RETURNS int LANGUAGE sql SECURITY DEFINER AS $$ SELECT 1 $$",
     "volatile"),
    ("CREATE FUNCTION f() RETURNS SETOF int LANGUAGE sql AS $$ SELECT 1 $$", "volatile"),
    ("CREATE FUNCTION f() RETURNS TABLE (a int) LANGUAGE sql AS $$ SELECT 1 $$", "volatile"),
    ("CREATE FUNCTION f() RETURNS int LANGUAGE sql SET search_path = x AS $$ SELECT 1 $$",
     "volatile"),
    ("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ SELECT 1 $$", "volatile"),
    ("CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$", "volatile"),
    # A body that is no string at all (a C function): as declared.
    ("CREATE FUNCTION f() RETURNS int LANGUAGE c AS obj_file", "volatile"),
])
def test_function_volatility(text: str, expected: str) -> None:
    assert function_volatility(text, lookup) == expected


def test_the_first_string_is_the_body() -> None:
    """A quoted body before a dollar-quoted string (or after it) is the one read."""
    quoted_first = ("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1' "
                    "SET x = $$a$$")
    assert function_volatility(quoted_first, lookup) == "volatile"  # SET: not inlined
    dollar_first = "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$ -- 'x'"
    assert function_volatility(dollar_first, lookup) == "stable"
    quoted_only = "CREATE FUNCTION f() RETURNS text LANGUAGE sql AS 'SELECT ''it''''s'''"
    assert function_volatility(quoted_only, lookup) == "stable"


def test_declared_and_calls() -> None:
    assert declared("CREATE FUNCTION f() stable") == "stable"
    assert declared("CREATE FUNCTION f()") == "volatile"
    assert calls_volatile("coalesce(vol(), 0)", lookup)
    assert calls_volatile("NOW() + random()", lookup)
    assert calls_volatile("random/* a comment */()", lookup)
    assert not calls_volatile("stab() + unknown()", lookup)
    assert not calls_volatile("'vol()' || 'x' -- vol()", lookup)
    assert list(called("a(1) + b_2 (c$d(x))")) == ["a", "b_2", "c$d"]
    for name in ("random", "gen_random_uuid", "uuid_generate_v1", "uuid_generate_v4",
                 "clock_timestamp", "timeofday", "nextval", "uuid", "uuid_short", "rand",
                 "sysdate", "statement_timestamp", "setval", "random_normal"):
        assert BUILTIN_VOLATILE.search(f"x + {name.upper()} ('s')"), name
    assert not BUILTIN_VOLATILE.search("now() + my_random(1) + uuid_generate_v3(x)")


@pytest.mark.parametrize(("text", "expected"), [
    ("ALTER FUNCTION vol() STABLE", ("vol", "stable")),
    ("alter function public.Vol(int) immutable", ("vol", "immutable")),
    ('ALTER FUNCTION "s"."f"(text) VOLATILE STABLE', ("f", "stable")),
    ("ALTER FUNCTION f() RENAME TO g", None),
    ("ALTER FUNCTION f() SET search_path = 'STABLE'", None),
    ("ALTER TABLE f ADD COLUMN stable int", None),
])
def test_altered_volatility(text: str, expected: tuple[str, str] | None) -> None:
    assert altered_volatility(text) == expected
