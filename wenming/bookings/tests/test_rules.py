"""request_booking applies the venue's rules: each refusal has its own code and a Chinese message."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from conftest import People
from wenming.bookings import services
from wenming.bookings.models import Blackout, Booking, BookingStatus
from wenming.bookings.tests.conftest import NOW, WEDNESDAY, at, set_rules
from wenming.core.errors import Conflict, DomainError, Invalid, NotAllowed, NotFound
from wenming.units.models import Liaison, Organization

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def _request(people: People, venue: Any, starts_at: dt.datetime, ends_at: dt.datetime, **extra: Any) -> Booking:
    actor = extra.pop("actor", people.resident_a)
    fields: dict[str, Any] = {"purpose": "楼组议事", "attendees": 10}
    fields.update(extra)
    return services.request_booking(actor=actor, venue=venue, starts_at=starts_at, ends_at=ends_at, **fields)


def _refused(people: People, venue: Any, starts_at: dt.datetime, ends_at: dt.datetime, **extra: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        _request(people, venue, starts_at, ends_at, **extra)
    assert not Booking.objects.exists(), "a refused request wrote nothing"
    return caught.value


def test_a_request_within_the_default_rules_waits_for_approval(people: People, hall: Any) -> None:
    booking = _request(people, hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16))
    assert booking.status == BookingStatus.PENDING
    assert (booking.requester, booking.venue, booking.attendees) == (people.resident_a, hall, 10)
    assert list(booking.history.values_list("from_status", "to_status")) == [("", "pending")]


def test_without_approval_the_request_is_approved_at_once(people: People, open_hall: Any) -> None:
    booking = _request(people, open_hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16))
    assert booking.status == BookingStatus.APPROVED
    assert booking.decided_at == NOW


@pytest.mark.parametrize(
    ("start", "end", "code", "words"),
    [
        (at(WEDNESDAY, 16), at(WEDNESDAY, 14), "invalid_time", "结束时间必须晚于开始时间"),
        (at(WEDNESDAY, 14), at(WEDNESDAY, 14), "invalid_time", "结束时间必须晚于开始时间"),
        (at(WEDNESDAY, 14).replace(second=30), at(WEDNESDAY, 16), "invalid_time", "整分钟"),
        (at(dt.date(2026, 9, 13), 14), at(dt.date(2026, 9, 13), 16), "in_past", "开始时间已过"),
        (at(WEDNESDAY, 14), at(WEDNESDAY, 14, 20), "too_short", "至少30分钟"),
        (at(WEDNESDAY, 9), at(WEDNESDAY, 13, 30), "too_long", "最长240分钟"),
        (at(dt.date(2026, 10, 15), 14), at(dt.date(2026, 10, 15), 16), "too_far_ahead", "30天以内"),
        (at(NOW.date(), 9), at(NOW.date(), 10), "too_soon", "至少提前2小时"),
        (at(WEDNESDAY, 8), at(WEDNESDAY, 10), "outside_opening_hours", "09:00–21:00"),
        (at(WEDNESDAY, 20), at(WEDNESDAY, 21, 30), "outside_opening_hours", "开放时间"),
        (at(WEDNESDAY, 23), at(WEDNESDAY, 23, 59) + dt.timedelta(minutes=61), "outside_opening_hours", "同一天"),
        (at(dt.date(2026, 9, 25), 14), at(dt.date(2026, 9, 25), 16), "holiday_closed", "中秋节"),
    ],
)
def test_each_rule_refuses_with_its_own_code(
    people: People, hall: Any, start: dt.datetime, end: dt.datetime, code: str, words: str
) -> None:
    error = _refused(people, hall, start, end)
    assert isinstance(error, Invalid)
    assert error.code == code
    assert words in error.message


def test_a_naive_time_is_beijing_time(people: People, hall: Any) -> None:
    booking = _request(people, hall, dt.datetime(2026, 9, 16, 14, 0), dt.datetime(2026, 9, 16, 16, 0))
    assert booking.starts_at == at(WEDNESDAY, 14)


@pytest.mark.parametrize("year", [1, 1999, 2101, 9999])
def test_absurd_years_are_refused_before_any_arithmetic(people: People, hall: Any, year: int) -> None:
    start = dt.datetime(year, 12, 31, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=-12)))
    error = _refused(people, hall, start, start.replace(hour=16))
    assert error.code == "invalid_time"


def test_opening_hours_per_weekday(people: People, hall: Any) -> None:
    set_rules(hall, opening_hours={"wed": [["09:00", "12:00"], ["14:00", "17:00"]], "thu": [["18:00", "21:00"]]})
    assert _request(people, hall, at(WEDNESDAY, 14), at(WEDNESDAY, 17)).status == BookingStatus.PENDING
    Booking.objects.all().delete()
    error = _refused(people, hall, at(WEDNESDAY, 11), at(WEDNESDAY, 15))
    assert error.code == "outside_opening_hours"
    assert "09:00–12:00、14:00–17:00" in error.message
    friday = WEDNESDAY + dt.timedelta(days=2)
    error = _refused(people, hall, at(friday, 14), at(friday, 15))
    assert (error.code, "当天不开放" in error.message) == ("outside_opening_hours", True)


def test_a_window_to_midnight(people: People, hall: Any) -> None:
    set_rules(hall, opening_hours={"wed": [["20:00", "24:00"]]})
    booking = _request(people, hall, at(WEDNESDAY, 22), at(WEDNESDAY + dt.timedelta(days=1), 0))
    assert booking.ends_at == at(dt.date(2026, 9, 17), 0)


def test_durations_and_notice_follow_the_venue_rules(people: People, hall: Any) -> None:
    set_rules(hall, min_minutes=60, max_minutes=90, min_hours_ahead=48, max_days_ahead=3)
    assert _refused(people, hall, at(WEDNESDAY, 14), at(WEDNESDAY, 14, 45)).code == "too_short"
    assert _refused(people, hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16)).code == "too_long"
    tuesday = WEDNESDAY - dt.timedelta(days=1)  # 30 hours ahead
    assert "至少提前48小时" in _refused(people, hall, at(tuesday, 14), at(tuesday, 15)).message
    saturday = WEDNESDAY + dt.timedelta(days=3)
    assert _refused(people, hall, at(saturday, 14), at(saturday, 15)).code == "too_far_ahead"
    thursday = WEDNESDAY + dt.timedelta(days=1)
    assert _request(people, hall, at(thursday, 14), at(thursday, 15)).status == BookingStatus.PENDING


def test_blackout_dates(people: People, hall: Any) -> None:
    Blackout.objects.create(venue=hall, first_date=WEDNESDAY, last_date=WEDNESDAY, reason="消防检查")
    error = _refused(people, hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16))
    assert error.code == "blackout"
    assert "消防检查" in error.message
    thursday = WEDNESDAY + dt.timedelta(days=1)
    assert _request(people, hall, at(thursday, 14), at(thursday, 16)).status == BookingStatus.PENDING


def test_holidays_are_open_when_the_venue_says_so(people: People, hall: Any) -> None:
    set_rules(hall, closed_on_holidays=False)
    festival = dt.date(2026, 9, 25)
    assert _request(people, hall, at(festival, 14), at(festival, 16)).status == BookingStatus.PENDING


def test_a_make_up_working_sunday_is_an_ordinary_open_day(people: People, hall: Any) -> None:
    sunday = dt.date(2026, 9, 20)  # 调休上班
    assert _request(people, hall, at(sunday, 14), at(sunday, 16)).status == BookingStatus.PENDING


def test_attendees_within_the_capacity(people: People, hall: Any) -> None:
    error = _refused(people, hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16), attendees=41)
    assert (error.code, error.extra["field"]) == ("over_capacity", "attendees")
    assert "40人" in error.message
    assert _refused(people, hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16), attendees=0).code == "invalid_attendees"


@pytest.mark.parametrize("purpose", ["", "   ", "x" * 201, "议事\x00"])
def test_a_purpose_is_required_and_plain(people: People, hall: Any, purpose: str) -> None:
    assert _refused(people, hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16), purpose=purpose).code == "invalid_purpose"


def test_a_venue_closed_to_booking_or_retired(people: People, hall: Any) -> None:
    hall.is_bookable = False
    hall.save()
    assert _refused(people, hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16)).code == "not_bookable"
    hall.is_bookable, hall.is_active = True, False
    hall.save()
    assert isinstance(_refused(people, hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16)), NotFound)


def test_only_signed_in_active_people_request(people: People, hall: Any) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert isinstance(_refused(people, hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16), actor=AnonymousUser()), NotAllowed)
    people.resident_b.is_active = False
    people.resident_b.save()
    error = _refused(people, hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16), actor=people.resident_b)
    assert isinstance(error, NotAllowed)


def test_a_slot_already_held_is_refused_even_when_the_request_would_wait(people: People, hall: Any) -> None:
    held = Booking.objects.create(
        venue=hall,
        requester=people.resident_b,
        purpose="合唱",
        starts_at=at(WEDNESDAY, 15),
        ends_at=at(WEDNESDAY, 17),
        status=BookingStatus.APPROVED,
    )
    with pytest.raises(Conflict) as caught:
        _request(people, hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16))
    assert caught.value.code == "slot_taken"
    assert caught.value.extra["conflict_id"] == held.pk
    assert "15:00–17:00" in caught.value.message
    # Back to back is fine: [14:00, 15:00) and [15:00, 17:00) do not overlap.
    assert _request(people, hall, at(WEDNESDAY, 14), at(WEDNESDAY, 15)).status == BookingStatus.PENDING


def test_pending_requests_may_overlap_each_other(people: People, hall: Any) -> None:
    first = _request(people, hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16))
    second = _request(people, hall, at(WEDNESDAY, 15), at(WEDNESDAY, 17), actor=people.resident_b)
    assert {first.status, second.status} == {BookingStatus.PENDING}


def test_a_liaison_books_for_their_unit_and_nobody_else_may(people: People, hall: Any, street: Any) -> None:
    unit = Organization.objects.create(site=street.station_a, name="甲街银行", kind="company")
    Liaison.objects.create(organization=unit, user=people.liaison_a)
    booking = _request(people, hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16), actor=people.liaison_a, organization=unit)
    assert booking.organization == unit
    with pytest.raises(NotAllowed) as caught:
        _request(people, hall, at(WEDNESDAY, 17), at(WEDNESDAY, 18), actor=people.resident_a, organization=unit)
    assert (caught.value.code, caught.value.extra["field"]) == ("not_liaison", "organization")


def test_opening_hours_are_validated_when_saved(people: People, hall: Any) -> None:
    bad: Any
    for bad in (
        {"mon": [["09:00"]]},
        {"funday": []},
        {"mon": [["10:00", "09:00"]]},
        {"mon": [["09:00", "25:00"]]},
        {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]},
        ["09:00"],
    ):
        with pytest.raises(Invalid) as caught:
            services.save_venue_rules(actor=people.manager_a, venue=hall, opening_hours=bad)
        assert caught.value.code == "invalid_opening_hours"
    rules = services.save_venue_rules(
        actor=people.manager_a, venue=hall, opening_hours={"tue": [["14:00", "17:00"], ["09:00", "12:00"]]}
    )
    assert rules.opening_hours == {"tue": [["09:00", "12:00"], ["14:00", "17:00"]]}
    with pytest.raises(NotAllowed):
        services.save_venue_rules(actor=people.manager_b, venue=hall, needs_approval=False)
    with pytest.raises(Invalid) as caught:
        services.save_venue_rules(actor=people.manager_a, venue=hall, min_minutes=120, max_minutes=60)
    assert (caught.value.code, caught.value.extra["field"]) == ("invalid_rules", "max_minutes")
