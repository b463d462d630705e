"""Read-side queries for bookings: a venue's week, day by day, with the working calendar.

One query for the week's bookings, one for its blackout dates, one for the
venue's rules; holidays and 调休 come from ``lib.holidays`` (no query).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wenming.bookings import services
from wenming.bookings.models import Booking
from wenming.lib import holidays
from wenming.network.models import Venue

WEEKDAY_LABELS = (
    gettext_noop("周一"),
    gettext_noop("周二"),
    gettext_noop("周三"),
    gettext_noop("周四"),
    gettext_noop("周五"),
    gettext_noop("周六"),
    gettext_noop("周日"),
)


def weekday_label(day: dt.date) -> str:
    return _(WEEKDAY_LABELS[day.weekday()])


def parse_week(raw: str | None, *, today: dt.date | None = None) -> dt.date:
    """The Monday of the week ``raw`` (YYYY-MM-DD, any day of it) falls in; this week when absent or bad."""
    today = today or timezone.localdate()
    try:
        day = dt.date.fromisoformat(raw or "")
    except ValueError:
        day = today
    if not services.EARLIEST_YEAR <= day.year <= services.LATEST_YEAR:
        day = today
    return holidays.monday_of(day)


@dataclass
class DayColumn:
    date: dt.date
    info: holidays.Day
    hours: str
    closed_reason: str
    bookings: list[Booking] = field(default_factory=list)

    @property
    def weekday(self) -> str:
        return weekday_label(self.date)

    @property
    def is_today(self) -> bool:
        return self.date == timezone.localdate()


def week_bookings(venue: Venue, monday: dt.date, condition: Q) -> list[Booking]:
    start = timezone.make_aware(dt.datetime.combine(monday, dt.time.min))
    end = start + dt.timedelta(days=7)
    return list(
        Booking.objects.filter(venue=venue, starts_at__lt=end, ends_at__gt=start)
        .filter(condition)
        .select_related("requester", "organization", "activity")
        .order_by("starts_at", "id")
    )


def venue_week(venue: Venue, monday: dt.date, bookings: Iterable[Booking]) -> list[DayColumn]:
    """The seven days from ``monday``: opening hours, why a day is closed, and its bookings."""
    rules = services.rules_for(venue)
    last = monday + dt.timedelta(days=6)
    blackouts = list(
        venue.blackouts.filter(first_date__lte=last, last_date__gte=monday).values_list(
            "first_date", "last_date", "reason"
        )
    )
    columns: list[DayColumn] = []
    for offset in range(7):
        day = monday + dt.timedelta(days=offset)
        info = holidays.day(day)
        windows = services.opening_windows(rules, day.weekday())
        closed = next(
            (_("场地停用：%(reason)s") % {"reason": reason} for first, end, reason in blackouts if first <= day <= end),
            "",
        )
        if not closed and rules.closed_on_holidays and holidays.is_public_holiday(day):
            closed = _("法定节假日不开放")
        if not closed and not windows:
            closed = _("当天不开放")
        columns.append(DayColumn(day, info, services.windows_label(windows), closed))
    by_date = {column.date: column for column in columns}
    for booking in bookings:
        column = by_date.get(timezone.localdate(booking.starts_at))
        if column is not None:
            column.bookings.append(booking)
    return columns
