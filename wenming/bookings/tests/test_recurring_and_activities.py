"""Weekly recurring requests (each date on its own) and the venue holds of activities."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from conftest import People
from wenming.activities.models import Activity
from wenming.bookings import services
from wenming.bookings.models import Blackout, Booking, BookingSeries, BookingStatus
from wenming.bookings.tests.conftest import WEDNESDAY, at, set_rules
from wenming.core.errors import Conflict, Invalid, NotAllowed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def _held(venue: Any, requester: Any, start: dt.datetime, end: dt.datetime) -> Booking:
    return Booking.objects.create(
        venue=venue,
        requester=requester,
        purpose="已有预约",
        starts_at=start,
        ends_at=end,
        status=BookingStatus.APPROVED,
    )


# --- Recurring -------------------------------------------------------------------------------------


def test_every_week_is_checked_on_its_own_and_conflicts_are_listed(people: People, hall: Any) -> None:
    week = dt.timedelta(weeks=1)
    in_the_way = _held(hall, people.resident_b, at(WEDNESDAY + week, 15), at(WEDNESDAY + week, 17))
    Blackout.objects.create(venue=hall, first_date=WEDNESDAY + 2 * week, last_date=WEDNESDAY + 2 * week, reason="维修")
    created, conflicts = services.request_recurring(
        actor=people.resident_a,
        venue=hall,
        first_start=at(WEDNESDAY, 14),
        first_end=at(WEDNESDAY, 16),
        weeks=6,  # 09-16, 09-23, 09-30, 10-07 (National Day), 10-14, 10-21 (beyond 30 days)
        purpose="书法班",
        attendees=15,
    )
    assert [timezone_date(b.starts_at) for b in created] == [WEDNESDAY, WEDNESDAY + 4 * week]
    assert {b.status for b in created} == {BookingStatus.PENDING}
    assert len({b.series_id for b in created}) == 1
    assert [c.day for c in conflicts] == [
        WEDNESDAY + week,
        WEDNESDAY + 2 * week,
        WEDNESDAY + 3 * week,
        WEDNESDAY + 5 * week,
    ]
    reasons = {c.day: c for c in conflicts}
    assert (reasons[WEDNESDAY + week].code, reasons[WEDNESDAY + week].holder) == ("slot_taken", in_the_way)
    assert reasons[WEDNESDAY + 2 * week].code == "blackout"
    assert "维修" in reasons[WEDNESDAY + 2 * week].message
    assert reasons[WEDNESDAY + 3 * week].code == "holiday_closed"
    assert "国庆节" in reasons[WEDNESDAY + 3 * week].message
    assert reasons[WEDNESDAY + 5 * week].code == "too_far_ahead"
    assert "30天以内" in reasons[WEDNESDAY + 5 * week].message
    assert all(b.starts_at.astimezone(at(WEDNESDAY, 0).tzinfo).hour == 14 for b in created)


def timezone_date(value: dt.datetime) -> dt.date:
    from django.utils import timezone

    return timezone.localdate(value)


def test_a_recurring_series_without_approval_holds_each_date(people: People, open_hall: Any) -> None:
    created, conflicts = services.request_recurring(
        actor=people.resident_a,
        venue=open_hall,
        first_start=at(WEDNESDAY, 9),
        first_end=at(WEDNESDAY, 10),
        weeks=2,
        purpose="太极拳",
    )
    assert conflicts == []
    assert {b.status for b in created} == {BookingStatus.APPROVED}
    # A second series on the same slot conflicts on every date, naming each holder; no empty series is left.
    again, clashes = services.request_recurring(
        actor=people.resident_b,
        venue=open_hall,
        first_start=at(WEDNESDAY, 9, 30),
        first_end=at(WEDNESDAY, 11),
        weeks=2,
        purpose="广场舞",
    )
    assert again == []
    assert [c.holder for c in clashes] == created
    assert BookingSeries.objects.count() == 1


def test_recurring_input_is_checked_once(people: People, hall: Any) -> None:
    for weeks in (0, 27, True):
        with pytest.raises(Invalid) as caught:
            services.request_recurring(
                actor=people.resident_a,
                venue=hall,
                first_start=at(WEDNESDAY, 9),
                first_end=at(WEDNESDAY, 10),
                weeks=weeks,
                purpose="太极拳",
            )
        assert caught.value.code == "invalid_weeks"
    with pytest.raises(Invalid) as caught:
        services.request_recurring(
            actor=people.resident_a,
            venue=hall,
            first_start=at(WEDNESDAY, 9),
            first_end=at(WEDNESDAY, 10),
            weeks=2,
            purpose="太极拳",
            attendees=99,
        )
    assert caught.value.code == "over_capacity"
    assert not Booking.objects.exists()


# --- Activities ------------------------------------------------------------------------------------


def _activity(people: People, site: Any, venue: Any, start: dt.datetime, end: dt.datetime) -> Activity:
    return Activity.objects.create(
        site=site,
        venue=venue,
        title="社区书法讲座",
        platform="culture",
        starts_at=start,
        ends_at=end,
        checkin_opens_at=start - dt.timedelta(minutes=30),
        checkin_closes_at=end,
        week_start=start.date() - dt.timedelta(days=start.weekday()),
        created_by=people.manager_a,
    )


def test_an_activity_holds_its_venue_without_the_resident_rules(people: People, hall: Any, street: Any) -> None:
    set_rules(hall, opening_hours={"mon": [["09:00", "12:00"]]}, max_minutes=60)
    # Wednesday 19:00–22:00: outside the resident hours and longer than residents may book.
    activity = _activity(people, street.station_a, hall, at(WEDNESDAY, 19), at(WEDNESDAY, 22))
    booking = services.hold_venue_for_activity(actor=people.manager_a, activity=activity)
    assert (booking.status, booking.activity, booking.purpose, booking.requester) == (
        BookingStatus.APPROVED,
        activity,
        "社区书法讲座",
        people.manager_a,
    )
    assert (booking.starts_at, booking.ends_at, booking.venue) == (at(WEDNESDAY, 19), at(WEDNESDAY, 22), hall)


def test_moving_the_activity_moves_its_booking(people: People, hall: Any, room_b: Any, street: Any) -> None:
    activity = _activity(people, street.station_a, hall, at(WEDNESDAY, 19), at(WEDNESDAY, 21))
    first = services.hold_venue_for_activity(actor=people.manager_a, activity=activity)
    activity.starts_at, activity.ends_at = at(WEDNESDAY, 14), at(WEDNESDAY, 16)
    moved = services.hold_venue_for_activity(actor=people.manager_a, activity=activity)
    assert moved.pk == first.pk
    assert Booking.objects.get(pk=first.pk).starts_at == at(WEDNESDAY, 14)
    assert Booking.objects.filter(activity=activity).count() == 1
    # Overlapping its own old slot is no conflict with itself.
    activity.ends_at = at(WEDNESDAY, 17)
    assert services.hold_venue_for_activity(actor=people.manager_a, activity=activity).ends_at == at(WEDNESDAY, 17)


def test_an_activity_cannot_take_a_held_venue(people: People, hall: Any, street: Any) -> None:
    resident = _held(hall, people.resident_a, at(WEDNESDAY, 15), at(WEDNESDAY, 17))
    activity = _activity(people, street.station_a, hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16))
    with pytest.raises(Conflict) as caught:
        services.hold_venue_for_activity(actor=people.manager_a, activity=activity)
    assert (caught.value.code, caught.value.extra["conflict_id"]) == ("venue_taken", resident.pk)
    assert not Booking.objects.filter(activity=activity).exists()


def test_an_activity_respects_blackouts(people: People, hall: Any, street: Any) -> None:
    Blackout.objects.create(venue=hall, first_date=WEDNESDAY, last_date=WEDNESDAY, reason="消防检查")
    activity = _activity(people, street.station_a, hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16))
    with pytest.raises(Invalid) as caught:
        services.hold_venue_for_activity(actor=people.manager_a, activity=activity)
    assert caught.value.code == "blackout"


def test_release_then_hold_again(people: People, hall: Any, street: Any) -> None:
    activity = _activity(people, street.station_a, hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16))
    services.release_activity_hold(actor=people.manager_a, activity=activity)  # nothing held: no error
    booking = services.hold_venue_for_activity(actor=people.manager_a, activity=activity)
    services.release_activity_hold(actor=people.manager_a, activity=activity)
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CANCELLED
    services.release_activity_hold(actor=people.manager_a, activity=activity)  # twice: still no error
    # The slot is free for residents now, and the activity may take it back when it is free again.
    again = services.hold_venue_for_activity(actor=people.manager_a, activity=activity)
    assert (again.pk, again.status) == (booking.pk, BookingStatus.APPROVED)
    history = list(Booking.objects.get(pk=booking.pk).history.values_list("from_status", "to_status"))
    assert history == [("", "approved"), ("approved", "cancelled"), ("cancelled", "approved")]


def test_activity_holds_are_not_cancelled_or_released_as_bookings(
    people: People, hall: Any, street: Any, clock: Any
) -> None:
    activity = _activity(people, street.station_a, hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16))
    booking = services.hold_venue_for_activity(actor=people.manager_a, activity=activity)
    with pytest.raises(Conflict) as caught:
        services.cancel_booking(actor=people.manager_a, booking=booking)
    assert caught.value.code == "activity_hold"
    clock.move_to(at(WEDNESDAY, 17))
    assert services.release_no_shows() == 0
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.APPROVED


def test_who_may_hold_a_venue(people: People, hall: Any, street: Any) -> None:
    from decimal import Decimal

    from wenming.network.models import Venue

    sub_hall = Venue.objects.create(site=street.subcentre, name="分中心报告厅", area_m2=Decimal("300"), capacity=200)
    # 张站长 runs an activity of 甲站 in the sub-centre's hall (a site above his own): allowed.
    activity = _activity(people, street.station_a, sub_hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16))
    assert services.hold_venue_for_activity(actor=people.manager_a, activity=activity).venue == sub_hall
    # 李站长 of 乙站 may not take 甲站's hall for 乙站's activity, nor a resident anything.
    other = _activity(people, street.station_b, hall, at(WEDNESDAY, 17), at(WEDNESDAY, 18))
    for actor in (people.manager_b, people.resident_a):
        with pytest.raises(NotAllowed):
            services.hold_venue_for_activity(actor=actor, activity=other)
    no_venue = _activity(people, street.station_a, None, at(WEDNESDAY, 17), at(WEDNESDAY, 18))
    with pytest.raises(Invalid) as caught:
        services.hold_venue_for_activity(actor=people.manager_a, activity=no_venue)
    assert caught.value.code == "no_venue"
