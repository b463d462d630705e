"""Settings come from the environment, strictly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "options": {k: str(v) for k, v in db.get("OPTIONS", {}).items()},
    "cache": settings.CACHES["default"]["BACKEND"], "tasks": settings.TASKS["default"]["BACKEND"],
    "tz": settings.TIME_ZONE, "lang": settings.LANGUAGE_CODE, "debug": settings.DEBUG,
}))
"""


def _settings(tmp_path: Path, **env: str) -> dict:
    full = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG"}}
    full.update({"DJANGO_SETTINGS_MODULE": "wenming.settings", "WENMING_VAR_DIR": str(tmp_path), **env})
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=full, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout)


def test_embedded_default_is_sqlite_wal_immediate(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["name"] == str(tmp_path / "wenming.sqlite3")
    assert s["options"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in s["options"]["init_command"]
    assert int(s["options"]["timeout"]) > 0
    assert s["cache"].endswith("DatabaseCache")
    assert s["tasks"] == "django_tasks_db.DatabaseBackend"
    assert s["tz"] == "Asia/Shanghai"
    assert s["lang"] == "zh-hans"
    assert s["debug"] is False
    # Secrets were generated into the var directory, private to the owner.
    for name in ("secret_key", "keys/pii_encryption.key", "keys/pii_lookup.key"):
        assert (tmp_path / name).stat().st_mode & 0o077 == 0


def test_database_url_and_redis_url_switch(tmp_path: Path) -> None:
    s = _settings(tmp_path, DATABASE_URL="postgres://u@127.0.0.1:5432/x", REDIS_URL="redis://127.0.0.1:6379/3")
    assert s["engine"] == "django.db.backends.postgresql"
    assert s["name"] == "x"
    assert s["cache"].endswith("RedisCache")
    assert s["tasks"] == "django_tasks_rq.RQBackend"
    s = _settings(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'other.db'}")
    assert s["name"] == str(tmp_path / "other.db")


def test_booleans_are_strict(tmp_path: Path) -> None:
    assert _settings(tmp_path, DEBUG="true")["debug"] is True
    with pytest.raises(RuntimeError, match="DEBUG must be true/false"):
        _settings(tmp_path, DEBUG="yes")


@pytest.mark.django_db
def test_sqlite_connection_runs_in_wal_mode() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone()[0] == 1
