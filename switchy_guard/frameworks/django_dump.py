"""Run in a subprocess by :mod:`.django` (Django's setup is process-global): prints
JSON of every migration of the project with its forward and backward SQL, as
``manage.py sqlmigrate`` renders it. Arguments: the project folder, the dialect (or "")."""

from __future__ import annotations

import importlib
import json
import os
import sys
from typing import Any

ENGINES = {"sqlite": "django.db.backends.sqlite3", "postgres": "django.db.backends.postgresql",
           "mysql": "django.db.backends.mysql"}
#: Exit codes :mod:`.django` turns into switchy-guard's errors (the last stderr line is
#: the message): no MySQL driver (a configuration error), the database not reachable.
NO_DRIVER = 64
UNREACHABLE = 65


def _mysql_driver(engine: str) -> None:
    """Django's MySQL backends (and those built on them) import ``MySQLdb``, which
    mysqlclient provides; where only PyMySQL is installed, PyMySQL's own stand-in for it
    serves (its ``version_info`` passes Django's mysqlclient version check)."""
    if "mysql" not in engine.lower():
        return
    # By name: neither driver is a dependency, nor typed.
    try:
        importlib.import_module("MySQLdb")
        return
    except ImportError:  # absent, or its C library is missing
        pass
    try:
        pymysql = importlib.import_module("pymysql")
    except ImportError:
        print(f"Django's MySQL backend ({engine}) needs a MySQL driver and neither "
              "mysqlclient nor PyMySQL is installed: pip install 'switchy-guard[mysql]'",
              file=sys.stderr)
        sys.exit(NO_DRIVER)
    pymysql.install_as_MySQLdb()


def _unreachable(connection: Any, exc: Exception) -> None:
    """Exit saying so when rendering failed because the server could not be reached:
    Django reads the server's version and settings while it renders (as sqlmigrate does)
    and opens the connection for that on first need; no connection means it never opened."""
    from django.db.utils import OperationalError

    if not isinstance(exc, OperationalError) or connection.connection is not None:
        return
    message = " ".join(str(exc).split())
    print(f"Django could not connect to its {connection.vendor} database "
          f"{connection.settings_dict.get('NAME')!r}: {message}", file=sys.stderr)
    sys.exit(UNREACHABLE)


def _collect(loader: Any, connection: Any, migration: Any, backwards: bool) -> list[str]:
    """What MigrationLoader.collect_sql (sqlmigrate) collects, without the transaction
    around it: rendering then needs no connection to the database."""
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        state = loader.project_state((migration.app_label, migration.name), at_end=False)
        if backwards:
            migration.unapply(state, editor, collect_sql=True)
        else:
            migration.apply(state, editor, collect_sql=True)
    return list(editor.collected_sql)


def main(root: str, dialect: str) -> None:
    """Print the project's migrations as JSON on stdout."""
    import django
    from django.conf import settings

    database = settings.DATABASES["default"]
    if dialect and ENGINES[dialect].rsplit(".", 1)[-1] not in database["ENGINE"]:
        database["ENGINE"] = ENGINES[dialect]
        database["NAME"] = "switchy_guard_render"  # the settings' name is another backend's
    if database["ENGINE"].endswith("sqlite3"):
        database["NAME"] = ":memory:"  # rendering SQL needs no file: never create one
    _mysql_driver(str(database["ENGINE"]))
    django.setup()
    from django.db import connections
    from django.db.migrations.loader import MigrationLoader

    connection = connections["default"]
    loader = MigrationLoader(None, ignore_no_migrations=True, replace_migrations=False)
    loader.connection = connection
    order: list[tuple[str, str]] = []
    for leaf in sorted(loader.graph.leaf_nodes()):
        for node in loader.graph.forwards_plan(leaf):
            if node not in order:
                order.append(node)
    root = os.path.realpath(root)
    vendor = {"postgresql": "postgres"}.get(connection.vendor, connection.vendor)
    out: dict[str, Any] = {"dialect": vendor, "migrations": [],
                           "conflicts": {app: sorted(names) for app, names
                                         in loader.detect_conflicts().items()}}
    for node in order:
        migration = loader.graph.nodes[node]
        path = os.path.realpath(sys.modules[type(migration).__module__].__file__ or "")
        if not path.startswith(root + os.sep):
            continue  # Django's own apps and other packages: not this project's
        entry: dict[str, Any] = {"id": f"{node[0]}.{node[1]}", "path": path,
                                 "depends_on": [f"{a}.{n}" for a, n in migration.dependencies]}
        for key, backwards in (("up", False), ("down", True)):
            try:
                entry[key] = _collect(loader, connection, migration, backwards)
            except Exception as exc:  # an irreversible operation, a Python-only step
                _unreachable(connection, exc)
                entry[key] = None
                entry[f"{key}_error"] = f"{type(exc).__name__}: {exc}"
        out["migrations"].append(entry)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    # The project folder replaces this script's own (whose django.py is not Django).
    sys.path[0] = sys.argv[1]
    main(sys.argv[1], sys.argv[2])
