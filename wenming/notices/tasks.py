"""Background work for notifications: delivering them, and the reminders the clock enqueues."""

from __future__ import annotations

from django.tasks import task

from wenming.notices import reminders, services


@task(queue_name="default")
def deliver(*, recipient_ids: list[int], kind: str, title: str, body: str, link: str = "", dedupe_key: str = "") -> int:
    """Queued by ``services.notify`` when the caller's transaction commits."""
    return services.deliver(
        recipient_ids=recipient_ids, kind=kind, title=title, body=body, link=link, dedupe_key=dedupe_key
    )


@task(queue_name="default")
def activity_reminders() -> int:
    """Every ten minutes (``wenming.core.schedule``)."""
    return reminders.send_activity_reminders()


@task(queue_name="default")
def booking_reminders() -> int:
    """Every ten minutes (``wenming.core.schedule``)."""
    return reminders.send_booking_reminders()
