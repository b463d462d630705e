"""Fixtures for bookings: a controlled clock, venues at 甲站 and 乙站, and their rules.

The clock stands at Monday 2026-09-14 08:00 (Beijing time). That month has
the working calendar's interesting days close by: Sunday 2026-09-20 is a
make-up working day (调休上班) for National Day, 2026-09-25–27 is the
Mid-autumn holiday and 2026-10-01–07 National Day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 9, 14, 8, 0, tzinfo=SHANGHAI)
WEDNESDAY = dt.date(2026, 9, 16)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A Beijing time on ``day``."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def clock() -> Iterator[Any]:
    """Time stands still at NOW until the test moves it (``clock.move_to(...)``)."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def hall(street: Any) -> Any:
    """甲站's activity room: 40 people, the default rules (needs approval, 09:00–21:00)."""
    from wenming.network.models import Venue

    return Venue.objects.create(site=street.station_a, name="甲站多功能厅", area_m2=Decimal("120.00"), capacity=40)


@pytest.fixture
def room_b(street: Any) -> Any:
    from wenming.network.models import Venue

    return Venue.objects.create(site=street.station_b, name="乙站活动室", area_m2=Decimal("60.00"), capacity=20)


def set_rules(venue: Any, **fields: Any) -> Any:
    from wenming.bookings.models import VenueRules

    rules, _ = VenueRules.objects.update_or_create(venue=venue, defaults=fields)
    venue.refresh_from_db()
    return rules


@pytest.fixture
def open_hall(hall: Any) -> Any:
    """The hall with rules that need no approval: every request in the rules is approved at once."""
    set_rules(hall, needs_approval=False)
    return hall
