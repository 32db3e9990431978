"""The rule framework's edges (rules/base.py): which tables are new, what the schema
model answers, and what a Rule and its anchor say.

Newness is asserted through the validator's findings (code, line, message): a table
taken for new silences DELETE, DROP and locking hazards, so every case where the model
cannot be sure a name stands for a table the plan made empty must still report them.
The history holds ``users`` (made by an earlier migration).
"""

from __future__ import annotations

import dataclasses

import pytest

from switchy_guard.check.pipeline import validate
from switchy_guard.model.findings import Severity
from switchy_guard.model.migration import Migration
from switchy_guard.rules.base import NewTables, Rule, Schema, StatementContext, rule_anchor
from switchy_guard.sql.classify import Name, classify
from switchy_guard.sql.split import split_statements

P, M, S = "postgres", "mysql", "sqlite"
ALL = (P, M, S)
BASE = "CREATE TABLE users (id INT, email VARCHAR(255));\n"
#: The findings newness decides.
WATCHED = frozenset({"SG301", "SG304", "SG305", "SG306", "SG401", "SG502"})

Found = list[tuple[str, int | None, str]]


class Live:
    """A live database holding the tables named (unqualified: the default schema)."""

    def __init__(self, *tables: str) -> None:
        self.tables = {t.lower() for t in tables}

    def may_exist(self, name: Name) -> bool:
        return str(name).lower() in self.tables


def hazards(sql: str, dialect: str | None, live: Live | None = None) -> Found:
    """(code, line, message) of the watched findings of ``sql``, planned after ``BASE``."""
    base = Migration("2024-01-01-000000_base", BASE, "", "a", "b", noop_down=True)
    case = Migration("2024-01-02-000000_case", sql, "", "a", "b", noop_down=True,
                     up_path="case/up.sql")
    extra = {"live": live} if live is not None else {}
    result = validate([base, case], dialect, plan_ids={case.id}, **extra)  # type: ignore[arg-type]
    return [(f.code, f.line, f.message) for f in result.findings if f.code in WATCHED]


def deletes(line: int, table: str) -> tuple[str, int, str]:
    return ("SG305", line, f"deletes every row of {table} (no WHERE clause)")


def drops(line: int, table: str) -> tuple[str, int, str]:
    return ("SG301", line, f"drops table {table} and every row in it")


# -- names: as each database compares them ----------------------------------------------


@pytest.mark.parametrize(("dialect", "sql", "expected"), [
    # PostgreSQL folds unquoted names: Fresh and FRESH are one table.
    (P, "CREATE TABLE Fresh (id INT);\nDELETE FROM FRESH", []),
    # MySQL compares the spelling, quoted or not.
    (M, "CREATE TABLE `Fresh` (id INT);\nDELETE FROM Fresh", []),
    (M, "CREATE TABLE `Arch`.fresh (id INT);\nDELETE FROM Arch.fresh", []),
    (M, "CREATE TABLE Arch.fresh (id INT);\nDELETE FROM `Arch`.`fresh`", []),
    (M, "CREATE TABLE `Arch`.fresh (id INT);\nDELETE FROM Other.fresh",
     [deletes(2, "other.fresh")]),
    # SQLite: whatever the case or quotes.
    (S, 'CREATE TABLE Fresh (id INT);\nDELETE FROM "FRESH"', []),
    # No dialect: the same only if PostgreSQL's folding and MySQL's spelling agree.
    (None, "CREATE TABLE fresh (id INT);\nDELETE FROM fresh", []),
    (None, 'CREATE TABLE "Fresh" (id INT);\nDELETE FROM Fresh', [deletes(2, "fresh")]),
    (None, "CREATE TABLE Fresh (id INT);\nDELETE FROM FRESH", [deletes(2, "fresh")]),
])
def test_a_name_is_the_new_table_only_as_the_database_compares_names(
        dialect: str | None, sql: str, expected: Found) -> None:
    assert hazards(sql, dialect) == expected


@pytest.mark.parametrize("dialect", [P, None])
def test_a_second_table_of_the_same_lower_case_name_is_found(dialect: str | None) -> None:
    # Two tables PostgreSQL keeps apart ("Fresh" and fresh): each is looked up by its own key.
    sql = 'CREATE TABLE "Fresh" (id INT);\nCREATE TABLE fresh (id INT);\nDELETE FROM fresh'
    assert hazards(sql, dialect) == []


@pytest.mark.parametrize("dialect", [P, M, None])
def test_tables_of_two_schemas_keep_their_own_newness(dialect: str | None) -> None:
    sql = ("CREATE TABLE archive.fresh (id INT);\nCREATE TABLE other.fresh (id INT);\n"
           "INSERT INTO other.fresh VALUES (1);\nDROP TABLE other.fresh;\n"
           "DROP TABLE archive.fresh")
    assert hazards(sql, dialect) == [drops(4, "other.fresh")]
    dropped = ("CREATE TABLE archive.fresh (id INT);\nCREATE TABLE other.fresh (id INT);\n"
               "DROP TABLE archive.fresh;\nDELETE FROM other.fresh")
    assert hazards(dropped, dialect) == []


@pytest.mark.parametrize("dialect", [P, M, S, None])
def test_a_write_into_another_schema_leaves_the_new_table_empty(dialect: str | None) -> None:
    other = {S: "aux"}.get(dialect or "", "app")
    sql = (f"CREATE TABLE archive.fresh (id INT);\nINSERT INTO {other}.fresh VALUES (1);\n"
           "DROP TABLE archive.fresh")
    assert hazards(sql, dialect) == []


@pytest.mark.parametrize("dialect", ALL)
def test_an_unqualified_write_may_fill_a_qualified_new_table(dialect: str) -> None:
    sql = ("CREATE TABLE archive.fresh (id INT);\nINSERT INTO fresh VALUES (1);\n"
           "DROP TABLE archive.fresh")
    assert hazards(sql, dialect) == [drops(3, "archive.fresh")]


def test_without_a_dialect_a_schema_spelled_otherwise_may_be_the_same() -> None:
    # Unknown dialect: ARCHIVE may be archive (PostgreSQL folds it): the write may fill it.
    sql = ("CREATE TABLE archive.fresh (id INT);\nINSERT INTO ARCHIVE.fresh VALUES (1);\n"
           "DROP TABLE archive.fresh")
    assert hazards(sql, None) == [drops(3, "archive.fresh")]


# -- temporary tables ---------------------------------------------------------------------


@pytest.mark.parametrize(("dialect", "sql", "expected"), [
    # Any pg_temp_N schema is the session's temporary one (another session's is refused).
    (P, "CREATE TEMP TABLE users (id INT);\nDELETE FROM pg_temp_3.users", []),
    (S, 'CREATE TEMP TABLE users (id INT);\nDELETE FROM "TEMP".users', []),
    # A temporary table shadows the name even when a filled table of that name exists.
    (P, "CREATE TABLE fresh (id INT);\nINSERT INTO public.fresh VALUES (1);\n"
        "CREATE TEMP TABLE fresh (id INT);\nDELETE FROM fresh;\nDELETE FROM public.fresh",
     [deletes(5, "public.fresh")]),
    # A write into a schema's table fills it, not the temporary table of that name.
    (P, "CREATE TEMP TABLE fresh (id INT);\nCREATE TABLE public.fresh (id INT);\n"
        "INSERT INTO public.fresh VALUES (1);\nDROP TABLE public.fresh;\nDELETE FROM fresh",
     [drops(4, "public.fresh")]),
    (S, "CREATE TEMP TABLE fresh (id INT);\nCREATE TABLE main.fresh (id INT);\n"
        "INSERT INTO main.fresh VALUES (1);\nDROP TABLE main.fresh;\nDELETE FROM fresh",
     [drops(4, "main.fresh")]),
    # MySQL: a temporary table of a named database is that database's.
    (M, "CREATE TEMPORARY TABLE app.users (id INT);\nDELETE FROM app.users;\n"
        "DELETE FROM users", [deletes(3, "users")]),
    # A renamed temporary table stays temporary.
    (P, "CREATE TEMP TABLE t (id INT);\nALTER TABLE t RENAME TO u;\nDELETE FROM pg_temp.u;\n"
        "DELETE FROM u;\nDELETE FROM public.u", [deletes(5, "public.u")]),
    (S, "CREATE TEMP TABLE t (id INT);\nALTER TABLE t RENAME TO u;\nDELETE FROM temp.u;\n"
        "DELETE FROM u;\nDELETE FROM main.u", [deletes(5, "main.u")]),
])
def test_temporary_tables(dialect: str, sql: str, expected: Found) -> None:
    assert hazards(sql, dialect) == expected


@pytest.mark.parametrize(("dialect", "write", "fills"), [
    # A schema-qualified name other than the temporary schema never reaches the
    # temporary table on PostgreSQL and SQLite.
    (P, "INSERT INTO public.fresh VALUES (1)", False),
    (P, "INSERT INTO pg_temp.fresh VALUES (1)", True),
    (S, "INSERT INTO main.fresh VALUES (1)", False),
    (S, "INSERT INTO temp.fresh VALUES (1)", True),
    # MySQL: the temporary table lives in the current database, which app may be.
    (M, "INSERT INTO app.fresh VALUES (1)", True),
    (M, "INSERT INTO fresh VALUES (1)", True),
])
def test_a_write_fills_a_temporary_table_only_through_a_name_that_may_reach_it(
        dialect: str, write: str, fills: bool) -> None:
    sql = f"CREATE TEMPORARY TABLE fresh (id INT);\n{write};\nDELETE FROM fresh"
    assert hazards(sql, dialect) == ([deletes(3, "fresh")] if fills else [])


@pytest.mark.parametrize("dialect", ALL)
def test_a_temporary_table_is_new_whatever_the_live_database_holds(dialect: str) -> None:
    # A migration's session starts without temporary tables: the live tables are others.
    for create in ("CREATE TEMPORARY TABLE users (id INT)",
                   "CREATE TEMPORARY TABLE IF NOT EXISTS users (id INT)"):
        assert hazards(f"{create};\nDELETE FROM users", dialect, Live("users")) == []
    assert hazards("CREATE TABLE IF NOT EXISTS users (id INT);\nDELETE FROM users", dialect,
                   Live("users")) == [deletes(2, "users")]


# -- what ends newness --------------------------------------------------------------------


@pytest.mark.parametrize(("dialect", "write"), [
    (P, "FROBNICATE fresh"),  # not understood: it may write anything
    (M, "FROBNICATE fresh"),
    (S, "FROBNICATE fresh"),
    # A prepared statement the migration did not prepare: its name is no table's.
    (P, "EXECUTE fill_it"),
    (M, "EXECUTE fill_it"),
    (M, "CALL fill_everything()"),
])
def test_a_statement_that_may_write_anything_ends_every_newness(dialect: str,
                                                                  write: str) -> None:
    sql = f"CREATE TABLE fresh (id INT);\n{write};\nDELETE FROM fresh"
    assert hazards(sql, dialect) == [deletes(3, "fresh")]


def test_a_load_fills_the_table_it_names_only() -> None:
    load = "LOAD DATA INFILE '/tmp/rows.csv' INTO TABLE"
    sql = f"CREATE TABLE fresh (id INT);\n{load} other_table;\nDELETE FROM fresh"
    assert hazards(sql, M) == []
    sql = f"CREATE TABLE fresh (id INT);\n{load} fresh;\nDELETE FROM fresh"
    assert hazards(sql, M) == [deletes(3, "fresh")]


@pytest.mark.parametrize("read", ["COPY (SELECT 1) TO STDOUT", "COPY fresh TO STDOUT",
                                  "SELECT * FROM fresh"])
def test_reads_leave_a_new_table_new(read: str) -> None:
    assert hazards(f"CREATE TABLE fresh (id INT);\n{read};\nDELETE FROM fresh", P) == []


@pytest.mark.parametrize("dialect", [P, M])
def test_dropping_another_kind_of_object_of_the_same_name_keeps_the_table(dialect: str) -> None:
    sql = "CREATE TABLE fresh (id INT);\nDROP FUNCTION IF EXISTS fresh;\nDELETE FROM fresh"
    assert hazards(sql, dialect) == []
    sql = "CREATE TABLE fresh (id INT);\nDROP VIEW IF EXISTS fresh;\nDELETE FROM fresh"
    assert hazards(sql, dialect) == []


def test_a_dropped_materialized_view_is_not_new_any_more() -> None:
    sql = ("CREATE MATERIALIZED VIEW mv AS SELECT 1 AS n;\nDROP MATERIALIZED VIEW mv;\n"
           "CREATE INDEX mv_n ON mv (n)")
    assert hazards(sql, P) == [("SG401", 3, "builds an index on mv while blocking writes to it")]


@pytest.mark.parametrize("dialect", ALL)
def test_a_dropped_plan_table_is_not_new(dialect: str) -> None:
    # After the drop the name may find another table (another schema on the search path).
    sql = "CREATE TABLE fresh (id INT);\nDROP TABLE fresh;\nDELETE FROM fresh"
    assert hazards(sql, dialect) == [deletes(3, "fresh")]


@pytest.mark.parametrize("dialect", [P, M])
def test_each_table_of_one_drop_is_gone(dialect: str) -> None:
    sql = ("DROP TABLE fresh, users;\nCREATE TABLE IF NOT EXISTS users (id INT);\n"
           "DELETE FROM users")
    assert hazards(sql, dialect) == [drops(1, "fresh"), drops(1, "users")]


# -- IF NOT EXISTS, drops and renames: what surely does not exist --------------------------


@pytest.mark.parametrize("dialect", ALL)
def test_if_not_exists_of_another_spelling_of_a_plan_table_makes_nothing_new(
        dialect: str) -> None:
    qualified = {P: "public", M: "app", S: "main"}[dialect]
    sql = (f"CREATE TABLE fresh (id INT);\nCREATE TABLE IF NOT EXISTS {qualified}.fresh "
           "(id INT);\nDELETE FROM fresh")
    # Which of the two the name now stands for is not sure: fresh is not new.
    assert hazards(sql, dialect) == [deletes(3, "fresh")]


@pytest.mark.parametrize("dialect", ALL)
def test_a_table_dropped_then_created_is_new_though_the_database_has_it(dialect: str) -> None:
    sql = "DROP TABLE users;\nCREATE TABLE users (id INT);\nDELETE FROM users"
    assert hazards(sql, dialect, Live("users")) == [drops(1, "users")]


@pytest.mark.parametrize("dialect", ALL)
def test_a_name_renamed_away_is_free_for_if_not_exists(dialect: str) -> None:
    sql = ("ALTER TABLE users RENAME TO old_users;\nCREATE TABLE IF NOT EXISTS users (id INT);\n"
           "DELETE FROM users")
    assert hazards(sql, dialect) == [("SG502", 1, "renames table users to old_users")]


@pytest.mark.parametrize("dialect", ALL)
def test_a_name_a_rename_takes_is_no_longer_free(dialect: str) -> None:
    sql = ("DROP TABLE users;\nALTER TABLE legacy RENAME TO users;\n"
           "CREATE TABLE IF NOT EXISTS users (id INT);\nDELETE FROM users")
    assert hazards(sql, dialect) == [drops(1, "users"),
                                     ("SG502", 2, "renames table legacy to users"),
                                     deletes(4, "users")]


def test_a_name_created_again_is_no_longer_free() -> None:
    # users dropped, made again, then maybe replaced through public.users: after that the
    # name is neither surely new nor surely absent.
    sql = ("DROP TABLE users;\nCREATE TABLE users (id INT);\n"
           "CREATE TABLE IF NOT EXISTS public.users (id INT);\n"
           "CREATE TABLE IF NOT EXISTS users (id INT);\nDELETE FROM users")
    assert hazards(sql, P) == [drops(1, "users"), deletes(5, "users")]


def test_a_rename_onto_a_name_that_may_be_a_plan_table_ends_its_newness() -> None:
    # MySQL may compare table names case-sensitively or not: fresh may be Fresh.
    sql = "CREATE TABLE Fresh (id INT);\nRENAME TABLE users TO fresh;\nDELETE FROM Fresh"
    assert hazards(sql, M) == [("SG502", 2, "renames table users to fresh"),
                               deletes(3, "fresh")]


def test_a_table_renamed_within_its_schema_stays_there() -> None:
    sql = ("CREATE TABLE archive.fresh (id INT);\nALTER TABLE archive.fresh RENAME TO renamed;\n"
           "DELETE FROM archive.renamed;\nDELETE FROM renamed")
    assert hazards(sql, P) == [deletes(4, "renamed")]


@pytest.mark.parametrize("dialect", ALL)
def test_a_migration_checked_alone_forgets_what_earlier_ones_dropped(dialect: str) -> None:
    """Without a plan each migration stands alone (as in the parallel check): a drop in
    an earlier migration does not make a later IF NOT EXISTS surely create its table."""
    first = Migration("2024-01-01-000000_m1", "DROP TABLE users", "", "a", "b",
                      noop_down=True)
    second = Migration("2024-01-02-000000_m2", "CREATE TABLE IF NOT EXISTS users (id INT);\n"
                       "DELETE FROM users", "", "a", "b", noop_down=True)
    found = [(f.migration, f.code, f.line) for f in validate([first, second], dialect).findings
             if f.code in WATCHED]
    assert found == [(first.id, "SG301", 1), (second.id, "SG305", 2)]


# -- RENAME TABLE pairs (SG502 asks whether each old name is new) --------------------------


def test_rename_pairs_follow_each_other_on_a_copy_of_the_model() -> None:
    sql = ("CREATE TABLE `Fresh` (id INT);\nRENAME TABLE Fresh TO tmp, tmp TO Fresh2, "
           "users TO Fresh;\nDELETE FROM Fresh2;\nDELETE FROM tmp")
    assert hazards(sql, M) == [("SG502", 2, "renames table users to fresh"),
                               deletes(4, "tmp")]


# -- the model asked directly (plan/rowcounts.py and the down-script check do) -------------


@pytest.mark.parametrize("dialect", ALL)
def test_new_tables_answers_for_names_and_strings(dialect: str) -> None:
    tables = NewTables(dialect)
    assert not tables
    tables.observe(classify("CREATE TABLE fresh (id INT)", dialect))
    assert tables
    assert tables.is_new("fresh") is True and tables.made(Name("fresh")) is True
    assert tables.is_new("other") is False and tables.is_new(None) is False
    tables.observe(classify("INSERT INTO fresh VALUES (1)", dialect))
    assert tables.is_new("fresh") is False and tables.made(Name("fresh")) is True
    tables.observe(classify("DROP TABLE fresh", dialect))
    assert not tables and tables.made(Name("fresh")) is False
    tables.observe(classify("CREATE TABLE fresh (id INT)", dialect))
    tables.observe(classify("FROBNICATE", dialect))  # may write into any table
    assert tables.is_new("fresh") is False and tables.made(Name("fresh")) is True


def test_new_tables_compares_names_in_its_own_dialect() -> None:
    created = classify("CREATE TABLE Fresh (id INT)", S)
    quoted = classify('DELETE FROM "FRESH"', S).table
    sqlite = NewTables(S)
    sqlite.observe(created)
    assert sqlite.is_new(quoted) is True
    unknown = NewTables()
    unknown.observe(created)
    assert unknown.is_new(quoted) is False


def test_new_tables_clear_forgets_tables_and_drops() -> None:
    tables = NewTables(P)
    tables.observe(classify("CREATE TABLE fresh (id INT)", P))
    tables.observe(classify("DROP TABLE users", P))
    tables.clear()
    assert not tables and tables.is_new("fresh") is False
    tables.observe(classify("CREATE TABLE IF NOT EXISTS users (id INT)", P))
    assert tables.is_new("users") is False  # no longer surely absent


@pytest.mark.parametrize("dialect", ALL)
def test_a_down_script_may_drop_what_its_up_created(dialect: str) -> None:
    up = "CREATE TABLE fresh (id INT);\nCREATE INDEX fresh_id ON fresh (id)"
    down = "DROP INDEX fresh_id;\nDROP TABLE fresh;\nDROP TABLE users"
    if dialect == M:
        down = "DROP INDEX fresh_id ON fresh;\nDROP TABLE fresh;\nDROP TABLE users"
    migration = Migration("2024-01-02-000000_case", up, down, "a", "b",
                          up_path="case/up.sql", down_path="case/down.sql")
    base = Migration("2024-01-01-000000_base", BASE, "", "a", "b", noop_down=True)
    result = validate([base, migration], dialect, plan_ids={migration.id}, downs=True)
    found = [(f.code, f.line, f.message) for f in result.findings if f.code in WATCHED]
    assert found == [drops(3, "users")]


# -- the schema's column facts ------------------------------------------------------------


def test_schema_starts_empty_and_each_schema_has_its_own_facts() -> None:
    one, two = Schema(), Schema()
    assert not one.new_tables and one.is_new("users") is False
    assert (one.new_indexes, one.column_types, one.not_null, one.rebuilt_tables) == (
        set(), {}, set(), set())
    assert (one.new_columns, one.new_objects, one.functions, one.enums) == (set(), set(), {}, {})
    assert one.misses is None and one.server_version is None
    one.new_tables.observe(classify("CREATE TABLE fresh (id INT)", P))
    one.new_indexes.add("i")
    one.column_types[("t", "c")] = "int"
    one.not_null.add(("t", "c"))
    one.rebuilt_tables.add("t")
    one.new_columns.add(("t", "c"))
    one.new_objects.add(("view", "v"))
    one.functions["f"] = "volatile"
    one.enums["e"] = ("a",)
    assert one.is_new("fresh") is True and two.is_new("fresh") is False
    assert (two.new_indexes, two.column_types, two.not_null, two.rebuilt_tables) == (
        set(), {}, set(), set())
    assert (two.new_columns, two.new_objects, two.functions, two.enums) == (set(), set(), {}, {})


def test_column_facts_found_and_missed() -> None:
    schema = Schema(column_types={("users", "email"): "varchar(255)"},
                    not_null={("users", "id")}, functions={"now_ish": "stable"})
    assert schema.column_type("users", "email") == "varchar(255)"
    assert schema.column_type("users", "name") is None
    assert schema.known_not_null("users", "id") is True
    assert schema.known_not_null("users", "email") is False
    assert schema.function_volatility("NOW_ISH") == "stable"
    assert schema.function_volatility("other") is None
    assert schema.misses is None  # not asked to record misses


def test_a_schema_that_records_misses_names_each_fact_it_lacked() -> None:
    schema = Schema(column_types={("users", "email"): "varchar(255)"},
                    not_null={("users", "id")}, functions={"now_ish": "stable"}, misses=set())
    schema.column_type("users", "email")
    schema.known_not_null("users", "id")
    schema.function_volatility("Now_Ish")
    assert schema.misses == set()
    assert schema.column_type("users", "name") is None
    assert schema.known_not_null("users", "email") is False
    assert schema.function_volatility("Other_Fn") is None
    assert schema.misses == {("type", ("users", "name")), ("not_null", ("users", "email")),
                             ("function", ("other_fn", ""))}


# -- the statement context ------------------------------------------------------------------


def test_the_first_ddl_statement_is_the_one_reported_for_non_transactional_ddl() -> None:
    base = Migration("2024-01-01-000000_base", BASE, "", "a", "b", noop_down=True)
    case = Migration("2024-01-02-000000_case", "SELECT 1;\nCREATE TABLE a (id INT);\n"
                     "CREATE TABLE b (id INT)", "", "a", "b", noop_down=True)
    found = [(f.line, f.message) for f in validate([base, case], M, plan_ids={case.id}).findings
             if f.code == "SG601"]
    assert found == [(2, "this migration has 2 statements that change the database: MySQL "
                         "commits each DDL statement on its own, so a failure leaves the "
                         "earlier ones applied")]


def test_a_rule_cannot_change_what_the_next_rule_sees() -> None:
    statement = split_statements("DROP TABLE users")[0]
    migration = Migration("2024-01-02-000000_case", "DROP TABLE users", "", "a", "b",
                          noop_down=True)
    ctx = StatementContext(P, migration, statement, Schema(),
                           ((statement, classify(statement.text, P)),))
    assert ctx.is_first_ddl is True and ctx.server_version is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.dialect = M  # type: ignore[misc]


# -- Rule ---------------------------------------------------------------------------------


def _rule(**kw: object) -> Rule:
    fields: dict[str, object] = {
        "code": "SG999", "name": "odd-thing", "severity": Severity.WARNING,
        "dialects": frozenset({"sqlite", "postgres"}), "summary": "Does an odd thing.",
        "why": "Because.", "instead": "Do the even thing.",
        "example": "SELECT odd;\nSELECT odder;"}
    fields.update(kw)
    return Rule(**fields)  # type: ignore[arg-type]


def test_rule_docs_without_a_fix() -> None:
    rule = _rule()
    assert rule.fixed == "" and rule.check is None and rule.kinds is None
    assert rule.loses_data is False
    assert rule.docs() == (
        "SG999 odd-thing (warning; postgres, sqlite)\n\nDoes an odd thing.\n\nWhy: Because.\n\n"
        "Instead: Do the even thing.\n\nExample:\n    SELECT odd;\n    SELECT odder;")


def test_rule_docs_with_a_fix() -> None:
    assert _rule(fixed="SELECT even;\nSELECT evener;").docs().endswith(
        "Example:\n    SELECT odd;\n    SELECT odder;\n\nUse instead:\n    SELECT even;\n"
        "    SELECT evener;")
    assert _rule(fixed="SELECT even;").docs().startswith("SG999 odd-thing (warning; ")


def test_rule_applies_to_its_dialects_or_to_every_dialect_when_none_is_given() -> None:
    rule = _rule(dialects=frozenset({"postgres"}))
    assert rule.applies_to("postgres") is True
    assert rule.applies_to("mysql") is False
    assert rule.applies_to(None) is True


def test_rules_are_built_with_keywords_and_do_not_change() -> None:
    rule = _rule()
    with pytest.raises(TypeError):
        Rule("SG998", "x", Severity.ERROR, frozenset({"sqlite"}), "s", "w", "i", "e")  # type: ignore[call-arg]
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.code = "SG000"  # type: ignore[misc]
    assert {rule, _rule()} == {rule}  # hashable: rules key sets and maps


@pytest.mark.parametrize(("code", "name", "anchor"), [
    ("SG301", "drop-table", "sg301-drop-table"),
    ("SG999", "Odd  name, really!", "sg999-odd-name-really"),
    ("SG1", "Edge_Case.", "sg1-edge-case"),
])
def test_rule_anchor(code: str, name: str, anchor: str) -> None:
    assert rule_anchor(code, name) == anchor


@pytest.mark.parametrize(("dialect", "up", "down"), [
    (P, "CREATE TABLE archive.fresh (id INT);\nCREATE TABLE fresh (id INT)",
     "DELETE FROM archive.fresh;\nDELETE FROM fresh;\nDROP TABLE archive.fresh"),
    (M, "CREATE TABLE Fresh (id INT);\nCREATE TABLE fresh (id INT)",
     "DELETE FROM Fresh;\nDELETE FROM fresh;\nDROP TABLE Fresh"),
])
def test_a_down_script_may_empty_every_table_its_up_created(dialect: str, up: str,
                                                           down: str) -> None:
    """Each table the up created is the down's to empty, though one name may be another:
    the up made both, so they are two tables."""
    migration = Migration("2024-01-02-000000_case", up, down, "a", "b",
                          up_path="case/up.sql", down_path="case/down.sql")
    base = Migration("2024-01-01-000000_base", BASE, "", "a", "b", noop_down=True)
    result = validate([base, migration], dialect, plan_ids={migration.id}, downs=True)
    assert [(f.code, f.line) for f in result.findings if f.code in WATCHED] == []
