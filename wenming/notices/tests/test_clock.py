"""The clock (wenming.core.schedule and ``manage.py clock``): due jobs enqueued once, early ones not at all."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from conftest import People, Street
from wenming.core import schedule
from wenming.core.schedule import MONDAY, Cron, Job, minutes
from wenming.notices.models import Message, PeriodicJob
from wenming.notices.tests.conftest import make_activity, make_signup

ROOT = Path(__file__).resolve().parents[3]
DB_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
LOCAL = dt.timezone(dt.timedelta(hours=8))
# Monday 7 December 2026 (Asia/Shanghai).
MONDAY_7 = dt.datetime(2026, 12, 7, tzinfo=LOCAL)
WEEKLY = Job("weekly-test", "wenming.notices.tasks.booking_reminders", cron=Cron(minute=5, hour=0, weekday=MONDAY))


def at(day: dt.datetime, hour: int, minute: int, second: int = 0) -> dt.datetime:
    return day.replace(hour=hour, minute=minute, second=second)


def queued() -> list[str]:
    from django_tasks_db.models import DBTaskResult

    # Sorted: under a frozen clock every row has the same enqueued_at, and ids are random.
    return sorted(DBTaskResult.objects.values_list("task_path", flat=True))


def clock_once(now: dt.datetime) -> str:
    out = StringIO()
    with time_machine.travel(now, tick=False):
        call_command("clock", "--once", stdout=out)
    return out.getvalue()


REMINDERS = ["wenming.notices.tasks.activity_reminders", "wenming.notices.tasks.booking_reminders"]
# The real timetable, before the fixture below narrows it.
TIMETABLE = list(schedule.JOBS)


@pytest.fixture(autouse=True)
def _reminders_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-process tests reason about the two reminder jobs; others may join the timetable."""
    monkeypatch.setattr(
        schedule, "JOBS", [j for j in TIMETABLE if j.name in {"activity-reminders", "booking-reminders"}]
    )


# --- When a job is due -------------------------------------------------------------------------------


def test_interval_slots_are_counted_from_local_midnight() -> None:
    job = Job("j", "x.y", every=minutes(10))
    assert job.latest_slot(at(MONDAY_7, 9, 7, 30)) == at(MONDAY_7, 9, 0)
    assert job.latest_slot(at(MONDAY_7, 9, 10)) == at(MONDAY_7, 9, 10)
    hourly = Job("h", "x.y", every=dt.timedelta(hours=6))
    assert hourly.latest_slot(at(MONDAY_7, 5, 59)) == at(MONDAY_7, 0, 0)


def test_cron_slots_match_minute_hour_and_weekday() -> None:
    assert WEEKLY.latest_slot(at(MONDAY_7, 0, 5)) == at(MONDAY_7, 0, 5)
    assert WEEKLY.latest_slot(at(MONDAY_7, 0, 4, 59)) == at(MONDAY_7, 0, 5) - dt.timedelta(days=7)
    assert WEEKLY.latest_slot(at(MONDAY_7, 13, 0) + dt.timedelta(days=2)) == at(MONDAY_7, 0, 5)
    twice = Cron(minute=[0, 30], hour=range(8, 18))
    assert twice.latest(at(MONDAY_7, 7, 59)) == at(MONDAY_7, 17, 30) - dt.timedelta(days=1)
    assert twice.latest(at(MONDAY_7, 12, 45)) == at(MONDAY_7, 12, 30)


def test_a_weekly_job_fires_on_time_and_not_on_a_wednesday_restart() -> None:
    assert WEEKLY.due_slot(at(MONDAY_7, 0, 4), None) is None  # last Monday's slot is a week old
    assert WEEKLY.due_slot(at(MONDAY_7, 0, 5), None) == at(MONDAY_7, 0, 5)
    assert WEEKLY.due_slot(at(MONDAY_7, 0, 50), None) == at(MONDAY_7, 0, 5)  # late, within the grace hour
    assert WEEKLY.due_slot(at(MONDAY_7, 0, 50), at(MONDAY_7, 0, 5)) is None  # already enqueued
    assert WEEKLY.due_slot(at(MONDAY_7, 9, 0) + dt.timedelta(days=2), None) is None
    generous = Job("g", "x.y", cron=Cron(minute=5, hour=0, weekday=MONDAY), grace=dt.timedelta(days=1))
    assert generous.due_slot(at(MONDAY_7, 20, 0), None) == at(MONDAY_7, 0, 5)


def test_jobs_are_checked_when_declared_and_loaded() -> None:
    with pytest.raises(ValueError, match="one of them"):
        Job("j", "x.y")
    with pytest.raises(ValueError, match="at least a minute"):
        Job("j", "x.y", every=dt.timedelta(seconds=5))
    with pytest.raises(ValueError, match="minute"):
        Cron(minute=60).latest(MONDAY_7)
    with pytest.raises(ValueError, match="duplicate"):
        schedule.load([Job("a", REMINDERS[0], every=minutes(5)), Job("a", REMINDERS[1], every=minutes(5))])
    with pytest.raises(TypeError, match=r"not a django\.tasks Task"):
        schedule.load([Job("a", "wenming.notices.reminders.send_activity_reminders", every=minutes(5))])
    with pytest.raises(ImportError):
        schedule.load([Job("a", "wenming.notices.tasks.no_such_task", every=minutes(5))])


def test_every_registered_job_resolves_to_a_task() -> None:
    loaded = schedule.load()
    names = {job.name for job, _task in loaded}
    assert {"activity-reminders", "booking-reminders"} <= names
    every = {job.name: job.every for job, _task in loaded}
    assert every["activity-reminders"] == every["booking-reminders"] == minutes(10)


# --- manage.py clock --once --------------------------------------------------------------------------------


@pytest.fixture
def db_queue(db: None, settings: Any) -> None:
    settings.TASKS = DB_QUEUE


def test_clock_once_enqueues_due_jobs_once_per_slot(db_queue: None) -> None:
    out = clock_once(at(MONDAY_7, 9, 3))
    assert queued() == REMINDERS
    assert "enqueued activity-reminders for 2026-12-07T09:00:00+08:00" in out
    # Later in the same slot, and after a restart (the clock keeps nothing in memory): nothing new.
    assert clock_once(at(MONDAY_7, 9, 9, 59)) == ""
    assert queued() == REMINDERS
    # The next slot.
    clock_once(at(MONDAY_7, 9, 10))
    assert queued() == sorted(REMINDERS * 2)
    job = PeriodicJob.objects.get(name="activity-reminders")
    assert job.last_slot == at(MONDAY_7, 9, 10)
    assert job.last_result_id


def test_slots_missed_while_down_fire_once(db_queue: None) -> None:
    clock_once(at(MONDAY_7, 9, 0))
    clock_once(at(MONDAY_7, 11, 45))  # down for more than two hours
    assert queued() == sorted(REMINDERS * 2)
    assert PeriodicJob.objects.get(name="booking-reminders").last_slot == at(MONDAY_7, 11, 40)


def test_clock_does_not_enqueue_a_job_before_it_is_due(db_queue: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schedule, "JOBS", [WEEKLY])
    sunday_night = at(MONDAY_7, 23, 59) - dt.timedelta(days=1)
    clock_once(sunday_night)
    clock_once(at(MONDAY_7, 0, 4, 59))
    assert queued() == []
    clock_once(at(MONDAY_7, 0, 5))
    clock_once(at(MONDAY_7, 0, 15))
    clock_once(at(MONDAY_7, 0, 5) + dt.timedelta(days=3))
    assert queued() == ["wenming.notices.tasks.booking_reminders"]
    clock_once(at(MONDAY_7, 0, 5) + dt.timedelta(days=7))
    assert len(queued()) == 2


def test_a_failed_enqueue_leaves_the_slot_for_the_next_look(db_queue: None) -> None:
    # The database queue refuses arguments it cannot store as JSON.
    broken = Job("broken", REMINDERS[0], every=minutes(10), kwargs={"when": object()})
    now = at(MONDAY_7, 9, 0)
    assert schedule.run_due(schedule.load([broken]), now=now) == []
    assert PeriodicJob.objects.get(name="broken").last_slot is None
    assert queued() == []
    fixed = Job("broken", REMINDERS[0], every=minutes(10))
    assert [e.job for e in schedule.run_due(schedule.load([fixed]), now=now)] == ["broken"]


@pytest.mark.django_db(transaction=True)
def test_two_clocks_at_once_enqueue_each_slot_once(settings: Any) -> None:
    """Two clocks by mistake (a rolling deploy): separate connections race for each slot; the UPDATE decides."""
    settings.TASKS = DB_QUEUE
    jobs = schedule.load()
    now = at(MONDAY_7, 9, 0)
    start = threading.Barrier(4)
    enqueued: list[str] = []
    errors: list[BaseException] = []

    def clock() -> None:
        try:
            start.wait(timeout=10)
            enqueued.extend(e.job for e in schedule.run_due(jobs, now=now))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=clock) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(enqueued) == ["activity-reminders", "booking-reminders"]
    assert queued() == REMINDERS


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_what_the_clock_enqueued(people: People, street: Street, settings: Any) -> None:
    settings.TASKS = DB_QUEUE
    now = at(MONDAY_7, 9, 0)
    activity = make_activity(street.station_a, people.manager_a, now + dt.timedelta(hours=3))
    make_signup(activity, people.resident_a)
    with time_machine.travel(now, tick=False):
        call_command("clock", "--once", stdout=StringIO())
        assert not Message.objects.exists()
        # The reminder task queues a delivery task of its own; the batch worker runs both.
        call_command("db_worker", batch=True, verbosity=0)
    message = Message.objects.get()
    assert (message.recipient, message.kind) == (people.resident_a, "activity_reminder")


@pytest.mark.slow
def test_the_clock_runs_until_it_is_told_to_stop(tmp_path: Path) -> None:
    """The real command in its own process: it enqueues on the database queue, and SIGTERM ends it cleanly.

    At start every interval job is due (its latest slot has never run); the weekly one is not, unless
    the test happens to run on a Monday morning, which it skips.
    """
    now = dt.datetime.now(LOCAL)
    if now.weekday() == MONDAY and now.hour < 13:
        pytest.skip("the weekly job may be due right now")
    interval_jobs = [j for j in TIMETABLE if j.every is not None]
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "TASKS_IMMEDIATE"}}
    env.update(
        DJANGO_SETTINGS_MODULE="wenming.settings",
        WENMING_VAR_DIR=str(tmp_path),
        WENMING_TESTING="1",
        LOG_LEVEL="INFO",
    )
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, cwd=ROOT, check=True, timeout=180)
    clock = subprocess.Popen(
        [*manage, "clock", "--tick", "0.2"], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with closing(sqlite3.connect(tmp_path / "wenming.sqlite3", timeout=10)) as db:
                paths = sorted(row[0] for row in db.execute("SELECT task_path FROM django_tasks_database_dbtaskresult"))
            if len(paths) >= len(interval_jobs) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        time.sleep(1)  # a few more looks: nothing more is due
        with closing(sqlite3.connect(tmp_path / "wenming.sqlite3", timeout=10)) as db:
            paths = sorted(row[0] for row in db.execute("SELECT task_path FROM django_tasks_database_dbtaskresult"))
        assert paths == sorted(j.task_path for j in interval_jobs)  # each interval job, once
        assert clock.poll() is None  # still running
    finally:
        clock.send_signal(signal.SIGTERM)
        output = clock.communicate(timeout=20)[0].decode()
    assert clock.returncode == 0, output
    assert f"clock: {len(TIMETABLE)} jobs ({', '.join(j.name for j in TIMETABLE)})" in output
    assert output.count("enqueued activity-reminders") == 1


def test_a_look_with_nothing_due_is_one_read(db_queue: None, django_assert_num_queries: Any) -> None:
    jobs = schedule.load()
    schedule.run_due(jobs, now=at(MONDAY_7, 9, 0))
    with django_assert_num_queries(1):
        assert schedule.run_due(jobs, now=at(MONDAY_7, 9, 5)) == []
