"""``manage.py clock``: enqueue the periodic jobs of ``wenming.core.schedule`` when they are due.

Runs until SIGTERM or Ctrl-C; ``--once`` looks once and exits (tests, cron).
Only one clock should run per deployment, but a second one does no harm:
each slot is claimed in the database before it is enqueued.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from wenming.core import schedule


class Command(BaseCommand):
    help = "Enqueue periodic jobs (reminders, releases, the weekly preview) on the task queue when they are due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Look once, enqueue what is due, and exit.")
        parser.add_argument(
            "--tick", type=float, default=10.0, help="Seconds between looks (default 10; slots are minutes)."
        )

    def handle(self, *args: Any, once: bool = False, tick: float = 10.0, **options: Any) -> None:
        jobs = schedule.load()
        if once:
            for done in schedule.run_due(jobs):
                if options["verbosity"] >= 1:
                    self.stdout.write(f"enqueued {done.job} for {done.slot.isoformat()} ({done.result_id})")
            return
        if tick <= 0:
            tick = 10.0
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        if options["verbosity"] >= 1:
            names = ", ".join(job.name for job, _task in jobs)
            self.stdout.write(f"clock: {len(jobs)} jobs ({names}), looking every {tick:g}s")
        while not stop.is_set():
            # A long-running process: drop connections the database closed or that outlived CONN_MAX_AGE.
            close_old_connections()
            try:
                schedule.run_due(jobs)  # it logs what it enqueues
            except Exception:
                schedule.log.exception("clock: this look failed; trying again in %gs", tick)
            stop.wait(tick)
        close_old_connections()
