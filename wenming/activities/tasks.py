"""Background work for activities."""

from __future__ import annotations

from typing import Any

from django.tasks import task

from wenming.activities import preview


@task(queue_name="default")
def generate_weekly_previews(week_start: str | None = None) -> dict[str, Any]:
    """每周公布活动预告: make the week's poster of every sub-centre and station that has public activities.

    Scheduled for Mondays at 00:05 (this week); ``week_start`` is any date of
    the week as ``YYYY-MM-DD`` (queued arguments are JSON). Each poster is
    rendered and stored by the write service
    ``preview.store_weekly_preview``, one ``WeeklyPreview`` per site and week
    (updated when the task runs again). Returns the week and the sites done.
    """
    monday = preview.parse_week(week_start) if week_start else preview.this_monday()
    done: list[int] = []
    for site in preview.sites_to_preview(monday):
        preview.store_weekly_preview(actor=None, site=site, week_start=monday)
        done.append(site.pk)
    return {"week_start": monday.isoformat(), "sites": done}


@task(queue_name="default")
def complete_ended_activities() -> int:
    """Published activities whose end has passed become completed (so recaps and statistics see them)."""
    from wenming.activities import services

    return services.complete_ended()
