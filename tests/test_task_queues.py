"""Background tasks reach a real queue: the database queue by default, Redis with REDIS_URL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db(transaction=True)
def test_database_queue_delivers_sms(settings, sms_outbox) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from django_tasks_db.models import DBTaskResult

    from wenming.accounts.tasks import send_sms
    from wenming.lib import crypto

    result = send_sms.enqueue("13800000006", crypto.encrypt("测试短信 123456"))
    # What the queue stores is sealed.
    assert "123456" not in str(DBTaskResult.objects.get().args_kwargs)
    assert sms_outbox == []  # queued, not yet sent
    call_command("db_worker", batch=True, verbosity=0)
    assert sms_outbox == [("13800000006", "测试短信 123456")]
    result.refresh()
    assert result.status == "SUCCESSFUL"


def _redis_up() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url("redis://127.0.0.1:6379/15", socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.mark.skipif(not _redis_up() and os.environ.get("CI") != "true", reason="Redis is not running")
def test_redis_queue_runs_tasks_in_a_worker(tmp_path: Path) -> None:
    """Enqueue through django-tasks' RQ backend in one process, run it in an rq worker in another."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "wenming.settings",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}",
        "WENMING_VAR_DIR": str(tmp_path),
        "WENMING_TESTING": "1",
        "LOG_LEVEL": "INFO",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True, timeout=120)
    subprocess.run(
        [*manage, "shell", "-c", "import django_rq; django_rq.get_queue('default').empty()"],
        env=env,
        check=True,
        timeout=60,
    )
    enqueue = (
        "from wenming.accounts.tasks import send_sms; from wenming.lib import crypto; "
        "r = send_sms.enqueue('13800000006', crypto.encrypt('redis-queue-check')); print(r.id)"
    )
    out = subprocess.run(
        [*manage, "shell", "-c", enqueue], env=env, check=True, timeout=60, capture_output=True, text=True
    )
    assert out.stdout.strip()
    worker = subprocess.run(
        [*manage, "rqworker", "default", "--burst", "--job-class", "django_tasks_rq.Job"],
        env=env,
        timeout=120,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "SMS to 13800000006: redis-queue-check" in worker.stdout + worker.stderr
