"""Run in a subprocess by :mod:`.django` (Django's setup is process-global): prints
JSON of every migration of the project with its forward and backward SQL, as
``manage.py sqlmigrate`` renders it. Arguments: the project folder, the dialect (or "")."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

ENGINES = {"sqlite": "django.db.backends.sqlite3", "postgres": "django.db.backends.postgresql",
           "mysql": "django.db.backends.mysql"}


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
                entry[key] = None
                entry[f"{key}_error"] = f"{type(exc).__name__}: {exc}"
        out["migrations"].append(entry)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    # The project folder replaces this script's own (whose django.py is not Django).
    sys.path[0] = sys.argv[1]
    main(sys.argv[1], sys.argv[2])
