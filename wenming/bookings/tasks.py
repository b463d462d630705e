"""Background work for bookings. The periodic scheduler enqueues these; they only call services."""

from __future__ import annotations

from django.tasks import task

from wenming.bookings import services


@task(queue_name="default")
def release_no_shows_task() -> int:
    """Free the venues of approved bookings nobody checked in to in time; returns how many were released."""
    return services.release_no_shows()
