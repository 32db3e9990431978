"""How volatile a PostgreSQL function is, as ``ALTER TABLE ... ADD COLUMN ... DEFAULT f()``
sees it: a volatile default is computed for each existing row (the table is rewritten),
a stable or immutable one once (measured on PostgreSQL 15, relfilenode).

A function is VOLATILE unless its CREATE FUNCTION says STABLE or IMMUTABLE. PostgreSQL
inlines a simple SQL function (``LANGUAGE sql``, a body of one ``SELECT expression``
without FROM, no SECURITY DEFINER, no SET clause, not SETOF) before it asks: such a
function declared VOLATILE whose body calls nothing volatile rewrites nothing
(``SELECT 1``: measured no rewrite; ``SELECT clock_timestamp()``: measured a rewrite).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

Volatility = str  # "volatile", "stable" or "immutable"

#: Built-in functions PostgreSQL and MySQL mark volatile (random values, the clock as
#: it runs, sequences).
BUILTIN_VOLATILE = re.compile(
    r"\b(random|gen_random_uuid|uuid_generate_v[14]|clock_timestamp|timeofday|nextval|uuid|"
    r"uuid_short|rand|sysdate|statement_timestamp|setval|random_normal)\s*\(",
    re.IGNORECASE,
)

_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*|)\$(.*?)\$\1\$", re.DOTALL)
_QUOTED = re.compile(r"'(?:[^']|'')*'", re.DOTALL)
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_CALL = re.compile(r"\b([A-Za-z_][A-Za-z_0-9$]*)\s*\(")
_NOT_INLINED = re.compile(r"\b(FROM|WHERE|GROUP|HAVING|ORDER|LIMIT|UNION|WITH|INTO)\b",
                          re.IGNORECASE)
_ALTER_FUNCTION = re.compile(
    r"^\s*ALTER\s+FUNCTION\s+(?:[\w\"]+\s*\.\s*)?\"?(\w+)\"?", re.IGNORECASE)


def _body_and_rest(text: str) -> tuple[str | None, str]:
    """The function's body (the first dollar-quoted or quoted string), and the
    statement without comments, strings and body."""
    text = _COMMENT.sub(" ", text)
    body = None
    dollar = _DOLLAR.search(text)
    quoted = _QUOTED.search(text)
    if dollar and (quoted is None or dollar.start() < quoted.start()):
        body = dollar.group(2)
    elif quoted:
        body = quoted.group(0)[1:-1].replace("''", "'")
    rest = _QUOTED.sub("''", _DOLLAR.sub("''", text))
    return body, rest


def declared(rest: str) -> Volatility:
    """The volatility a function's options say (VOLATILE when none does)."""
    found = re.findall(r"\b(VOLATILE|STABLE|IMMUTABLE)\b", rest, re.IGNORECASE)
    return found[-1].lower() if found else "volatile"


#: The volatility of the history's function of a name, None when unknown.
Lookup = Callable[[str], "Volatility | None"]


def calls_volatile(expression: str, lookup: Lookup) -> bool:
    """Whether ``expression`` calls a volatile built-in, or a function ``lookup`` (the
    history's functions) says is volatile."""
    plain = _QUOTED.sub("''", _COMMENT.sub(" ", expression))
    if BUILTIN_VOLATILE.search(plain):
        return True
    return any(lookup(name.lower()) == "volatile" for name in called(plain))


def called(expression: str) -> Iterator[str]:
    """Names of the functions ``expression`` calls (strings already blanked)."""
    for match in _CALL.finditer(expression):
        yield match.group(1)


def function_volatility(text: str, lookup: Lookup) -> Volatility:
    """How a ``CREATE FUNCTION`` statement's function acts in a column DEFAULT."""
    body, rest = _body_and_rest(text)
    volatility = declared(rest)
    if volatility != "volatile" or body is None:
        return volatility
    language = re.search(r"\bLANGUAGE\s+'?(\w+)", rest, re.IGNORECASE)
    inlinable = (
        language is not None and language.group(1).lower() == "sql"
        and not re.search(r"\bSECURITY\s+DEFINER\b|\bSETOF\b|\bRETURNS\s+TABLE\b|\bSET\b",
                          rest, re.IGNORECASE)
    )
    expression = re.fullmatch(r"\s*SELECT\s+(.*?)\s*;?\s*", body, re.IGNORECASE | re.DOTALL)
    if not inlinable or expression is None or ";" in expression.group(1) \
            or _NOT_INLINED.search(_QUOTED.sub("''", expression.group(1))):
        return volatility
    return "volatile" if calls_volatile(expression.group(1), lookup) else "stable"


def altered_volatility(text: str) -> tuple[str, Volatility] | None:
    """``ALTER FUNCTION f(...) STABLE``: the function's name and its new volatility."""
    name = _ALTER_FUNCTION.match(text)
    if name is None:
        return None
    _, rest = _body_and_rest(text)
    found = re.findall(r"\b(VOLATILE|STABLE|IMMUTABLE)\b", rest, re.IGNORECASE)
    return (name.group(1).lower(), found[-1].lower()) if found else None
