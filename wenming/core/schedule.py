"""The clock's timetable: periodic jobs, when each is due, and enqueuing it once.

``python manage.py clock`` (``scripts/serve`` starts it beside the worker)
wakes every few seconds and, for each job below that is due, enqueues its
task on the configured task backend; the ordinary workers run it. The
clock itself does no work but enqueuing.

Registering a job is one line in ``JOBS``::

    Job("release-no-shows", "wenming.bookings.tasks.release_no_shows_task", every=minutes(5)),

The task is named by its dotted path (a ``django.tasks`` Task taking no
arguments, or the ``kwargs`` given) and resolved when the clock starts, so
a typo stops the clock instead of failing quietly every ten minutes.

When a job is due. Each job has *slots*: for ``every=``, the multiples of
the interval counted from midnight (Asia/Shanghai), so ten minutes means
:00, :10, :20 …; for ``cron=``, each minute matching minute, hour and
weekday (Monday is 0), as in crontab. A job is due when its latest slot is
later than the last slot it was enqueued for. Slots missed while the clock
was down collapse into one run, and only if the latest is no older than
``grace`` (the interval itself for ``every=``, an hour for ``cron=``
unless given), so a weekly job does not fire on a Wednesday restart.

Why a table (``notices.PeriodicJob``), not the cache. The clock must
remember the last slot across restarts, and the database cache culls
entries once it holds a few hundred (rate limits and lock-outs live there
too), while Redis may evict: a forgotten slot would fire twice. A row per
job is never evicted, and the claim is a conditional UPDATE (``last_slot <
slot``) whose row count decides, so even two clocks running by mistake
enqueue each slot once. On the database queue the claim and the enqueued
task commit together; on Redis, a failed enqueue rolls the claim back so
the next tick tries again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.tasks import Task
from django.utils import timezone
from django.utils.module_loading import import_string

log = logging.getLogger("wenming.clock")

MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(7)
# Interval slots are counted from here (a Monday midnight, local time).
EPOCH = dt.datetime(2024, 1, 1)  # noqa: DTZ001 - made aware in the current time zone where used


def minutes(n: int) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def _values(spec: int | Iterable[int] | None, low: int, high: int, what: str) -> frozenset[int]:
    if spec is None:
        return frozenset(range(low, high + 1))
    values = frozenset([spec] if isinstance(spec, int) else spec)
    if not values or any(not low <= v <= high for v in values):
        raise ValueError(f"cron {what} must be within {low}–{high}: {spec!r}")
    return values


@dataclass(frozen=True)
class Cron:
    """A crontab-like time: each field an int, several ints, or None for any. ``weekday`` 0 is Monday."""

    minute: int | Iterable[int] | None = 0
    hour: int | Iterable[int] | None = None
    weekday: int | Iterable[int] | None = None

    def latest(self, now: dt.datetime) -> dt.datetime:
        """The latest matching minute at or before ``now`` (local time)."""
        minutes_ = sorted(_values(self.minute, 0, 59, "minute"), reverse=True)
        hours = sorted(_values(self.hour, 0, 23, "hour"), reverse=True)
        weekdays = _values(self.weekday, 0, 6, "weekday")
        local = timezone.localtime(now)
        for back in range(8):
            day = local.date() - dt.timedelta(days=back)
            if day.weekday() not in weekdays:
                continue
            for h in hours:
                for m in minutes_:
                    candidate = timezone.make_aware(dt.datetime.combine(day, dt.time(h, m)))
                    if candidate <= now:
                        return candidate
        raise AssertionError("unreachable: every weekday set matches within a week")


@dataclass(frozen=True)
class Job:
    name: str
    task_path: str
    every: dt.timedelta | None = None
    cron: Cron | None = None
    grace: dt.timedelta | None = None
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.every is None) == (self.cron is None):
            raise ValueError(f"job {self.name}: give every= or cron=, one of them")
        if self.every is not None and self.every < dt.timedelta(minutes=1):
            raise ValueError(f"job {self.name}: every= must be at least a minute")

    @property
    def window(self) -> dt.timedelta:
        """How late a slot may still fire."""
        if self.grace is not None:
            return self.grace
        return self.every if self.every is not None else dt.timedelta(hours=1)

    def latest_slot(self, now: dt.datetime) -> dt.datetime:
        if self.cron is not None:
            return self.cron.latest(now)
        assert self.every is not None
        epoch = timezone.make_aware(EPOCH)
        return epoch + ((now - epoch) // self.every) * self.every

    def due_slot(self, now: dt.datetime, last_slot: dt.datetime | None) -> dt.datetime | None:
        """The slot to enqueue now, or None."""
        slot = self.latest_slot(now)
        if last_slot is not None and slot <= last_slot:
            return None
        if now - slot > self.window:
            return None
        return slot

    def task(self) -> Task:
        found = import_string(self.task_path)
        if not isinstance(found, Task):
            raise TypeError(f"job {self.name}: {self.task_path} is not a django.tasks Task")
        return found


# --- The timetable -----------------------------------------------------------------------------------

JOBS: list[Job] = [
    Job("activity-reminders", "wenming.notices.tasks.activity_reminders", every=minutes(10)),
    Job("booking-reminders", "wenming.notices.tasks.booking_reminders", every=minutes(10)),
    Job("release-no-shows", "wenming.bookings.tasks.release_no_shows_task", every=minutes(5)),
    Job("complete-ended-activities", "wenming.activities.tasks.complete_ended_activities", every=minutes(15)),
    Job("escalate-overdue-orders", "wenming.orders.tasks.escalate_overdue_orders", every=minutes(5)),
    Job("close-unrated-orders", "wenming.orders.tasks.close_unrated_orders", every=minutes(60)),
    Job(
        "weekly-preview",
        "wenming.activities.tasks.generate_weekly_previews",
        cron=Cron(minute=5, hour=0, weekday=MONDAY),
        grace=dt.timedelta(hours=12),
    ),
]


def load(jobs: Iterable[Job] | None = None) -> list[tuple[Job, Task]]:
    """Every job with its task, resolved; raises on a duplicate name or a task that is not one."""
    jobs = list(JOBS if jobs is None else jobs)
    names = [j.name for j in jobs]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"clock: duplicate job names {sorted(duplicates)}")
    return [(job, job.task()) for job in jobs]


@dataclass(frozen=True)
class Enqueued:
    job: str
    slot: dt.datetime
    result_id: str


def run_due(jobs: Iterable[tuple[Job, Task]], *, now: dt.datetime | None = None) -> list[Enqueued]:
    """Enqueue every due job once; what was enqueued. A job whose enqueue fails is logged and retried next tick."""
    from wenming.notices.models import PeriodicJob

    now = now or timezone.now()
    jobs = list(jobs)
    names = [job.name for job, _t in jobs]
    last = dict(PeriodicJob.objects.filter(name__in=names).values_list("name", "last_slot"))
    if len(last) < len(names):  # a new job: its row, once (a look that finds nothing due writes nothing)
        PeriodicJob.objects.bulk_create([PeriodicJob(name=n) for n in names if n not in last], ignore_conflicts=True)
    done: list[Enqueued] = []
    for job, task in jobs:
        slot = job.due_slot(now, last.get(job.name))
        if slot is None:
            continue
        try:
            with transaction.atomic():
                claimed = (
                    PeriodicJob.objects.filter(Q(last_slot__isnull=True) | Q(last_slot__lt=slot), name=job.name).update(
                        last_slot=slot, last_enqueued_at=now
                    )
                    == 1
                )
                if not claimed:  # another clock took this slot
                    continue
                result = task.enqueue(**job.kwargs)
                PeriodicJob.objects.filter(name=job.name).update(last_result_id=str(result.id)[:64])
        except Exception:
            log.exception("clock: could not enqueue %s for %s", job.name, slot.isoformat())
            continue
        log.info("clock: enqueued %s for %s (%s)", job.name, slot.isoformat(), result.id)
        done.append(Enqueued(job.name, slot, str(result.id)))
    return done
