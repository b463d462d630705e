"""A migration operation that makes a table append-only in the database.

After it runs, UPDATE and DELETE on the table fail in the database itself,
whatever code issues them (the ORM, the admin, a shell, raw SQL), on
PostgreSQL and on SQLite alike. Used for the audit log and the hours ledger.

TRUNCATE, which only a table's owner may run, is left to the operator (it
is how a test database is emptied on PostgreSQL). On SQLite, where emptying
a table is a DELETE, the test suite lifts the triggers for that moment only
(see ``conftest.py``) with ``uninstall``/``install``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import migrations

MESSAGE = "append-only table: write a new entry instead"


def _statements(vendor: str, table: str) -> tuple[list[str], list[str]]:
    if vendor == "postgresql":
        fn = f"{table}_append_only"
        forward = [
            f"""CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{MESSAGE} ({table})' USING ERRCODE = 'restrict_violation'; END;
            $$ LANGUAGE plpgsql""",
            f"CREATE TRIGGER {fn}_trg BEFORE UPDATE OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {fn}()",
        ]
        backward = [
            f"DROP TRIGGER IF EXISTS {fn}_trg ON {table}",
            f"DROP FUNCTION IF EXISTS {fn}()",
        ]
        return forward, backward
    if vendor == "sqlite":
        forward = [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE} ({table})'); END",
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE} ({table})'); END",
        ]
        backward = [f"DROP TRIGGER IF EXISTS {table}_no_update", f"DROP TRIGGER IF EXISTS {table}_no_delete"]
        return forward, backward
    raise ImproperlyConfigured(f"Wenming supports SQLite and PostgreSQL, not {vendor}")


TABLES = ("accounts_auditlog", "volunteers_servicerecord")


def install(connection: Any, table: str) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, table)[0]:
            cursor.execute(sql)


def uninstall(connection: Any, table: str) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, table)[1]:
            cursor.execute(sql)


def append_only(table: str) -> migrations.RunPython:
    def forward(apps: Any, schema_editor: Any) -> None:
        for sql in _statements(schema_editor.connection.vendor, table)[0]:
            schema_editor.execute(sql)

    def backward(apps: Any, schema_editor: Any) -> None:
        for sql in _statements(schema_editor.connection.vendor, table)[1]:
            schema_editor.execute(sql)

    return migrations.RunPython(forward, backward, elidable=False)
