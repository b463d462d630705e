"""The booking pages: a venue's week and the form, my bookings, staff approvals and the staff calendar."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import People
from wenming.bookings.models import Booking, BookingStatus
from wenming.bookings.tests.conftest import WEDNESDAY, at, set_rules

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def _client(user: Any = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _book(
    venue: Any, requester: Any, start: dt.datetime, end: dt.datetime, status: str = "approved", **extra: Any
) -> Booking:
    return Booking.objects.create(
        venue=venue,
        requester=requester,
        purpose=extra.pop("purpose", "合唱队排练"),
        starts_at=start,
        ends_at=end,
        status=status,
        **extra,
    )


def _count(client: Client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(queries), response.content.decode()


# --- The venue's booking page (mobile) -------------------------------------------------------------


def test_anyone_sees_the_week_of_busy_slots_without_names(people: People, hall: Any) -> None:
    _book(hall, people.resident_a, at(WEDNESDAY, 14), at(WEDNESDAY, 16))
    page = _client().get(reverse("bookings:venue_book", args=[hall.pk])).content.decode()
    assert "预约甲站多功能厅" in page
    assert "14:00–16:00" in page
    assert "已被预约" in page
    assert "王阿姨" not in page
    assert "合唱队排练" not in page
    assert "登录后预约" in page
    assert "weui" in page


def test_the_week_marks_holidays_and_make_up_days(hall: Any) -> None:
    page = _client().get(reverse("bookings:venue_book", args=[hall.pk]), {"week": "2026-09-23"}).content.decode()
    assert "9月21日" in page
    assert "9月27日" in page
    assert "中秋节假期" in page
    assert "法定节假日不开放" in page
    page = _client().get(reverse("bookings:venue_book", args=[hall.pk]), {"week": "2026-09-14"}).content.decode()
    assert "调休上班" in page


def test_a_resident_requests_from_the_page(people: People, hall: Any) -> None:
    client = _client(people.resident_a)
    url = reverse("bookings:venue_book", args=[hall.pk])
    response = client.post(
        url, {"date": "2026-09-16", "start": "14:00", "end": "16:00", "attendees": "10", "purpose": "楼组议事"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("bookings:mine")
    booking = Booking.objects.get()
    assert (booking.status, booking.starts_at, booking.requester) == (
        BookingStatus.PENDING,
        at(WEDNESDAY, 14),
        people.resident_a,
    )
    page = client.get(reverse("bookings:mine")).content.decode()
    assert "已提交预约申请" in page
    assert "待审核" in page


def test_a_refusal_is_shown_next_to_its_field(people: People, hall: Any) -> None:
    _book(hall, people.resident_b, at(WEDNESDAY, 15), at(WEDNESDAY, 17))
    client = _client(people.resident_a)
    url = reverse("bookings:venue_book", args=[hall.pk])
    data = {"date": "2026-09-16", "start": "14:00", "end": "16:00", "attendees": "10", "purpose": "楼组议事"}
    page = client.post(url, data).content.decode()
    assert "该时段已被预约（2026-09-16 15:00–17:00）" in page
    page = client.post(url, data | {"attendees": "50"}).content.decode()
    assert "人数超过场地容纳人数（40人）" in page
    page = client.post(url, data | {"date": "9999-12-31"}).content.decode()
    assert "请选择近期的日期" in page
    assert Booking.objects.count() == 1


def test_signing_in_is_needed_to_post(hall: Any) -> None:
    response = _client().post(reverse("bookings:venue_book", args=[hall.pk]), {"date": "2026-09-16"})
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_a_retired_venue_is_not_found(people: People, hall: Any) -> None:
    hall.is_active = False
    hall.save()
    assert _client(people.resident_a).get(reverse("bookings:venue_book", args=[hall.pk])).status_code == 404
    assert _client(people.manager_a).get(reverse("bookings:venue_book", args=[hall.pk])).status_code == 200


# --- My bookings -------------------------------------------------------------------------------------


def test_my_bookings_cancel_and_check_in(people: People, hall: Any, clock: Any) -> None:
    set_rules(hall, needs_approval=False)
    booking = _book(hall, people.resident_a, at(WEDNESDAY, 14), at(WEDNESDAY, 16))
    other = _book(hall, people.resident_a, at(WEDNESDAY, 18), at(WEDNESDAY, 19))
    _book(hall, people.resident_b, at(WEDNESDAY, 9), at(WEDNESDAY, 10), purpose="刘大爷的预约")
    client = _client(people.resident_a)
    page = client.get(reverse("bookings:mine")).content.decode()
    assert "刘大爷的预约" not in page
    assert "取消预约" in page
    assert "到场签到" not in page

    response = client.post(reverse("bookings:cancel", args=[other.pk]))
    assert response.status_code == 302
    assert Booking.objects.get(pk=other.pk).status == BookingStatus.CANCELLED

    clock.move_to(at(WEDNESDAY, 13, 50))
    client.force_login(people.resident_a)  # the session of Monday morning has expired by now
    assert "到场签到" in client.get(reverse("bookings:mine")).content.decode()
    client.post(reverse("bookings:check_in", args=[booking.pk]))
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CHECKED_IN

    stranger = _client(people.resident_b)
    assert stranger.post(reverse("bookings:cancel", args=[booking.pk])).status_code == 404


def test_my_bookings_needs_signing_in_and_a_fixed_number_of_queries(people: People, hall: Any) -> None:
    assert _client().get(reverse("bookings:mine")).status_code == 302
    client = _client(people.resident_a)
    _book(hall, people.resident_a, at(WEDNESDAY, 9), at(WEDNESDAY, 10))
    few, _page = _count(client, reverse("bookings:mine"))
    for hour in range(10, 20):
        _book(hall, people.resident_a, at(WEDNESDAY, hour), at(WEDNESDAY, hour, 30))
    many, page = _count(client, reverse("bookings:mine"))
    assert many == few
    assert page.count("合唱队排练") == 11


# --- Staff: approvals --------------------------------------------------------------------------------


def test_staff_see_the_pending_requests_of_their_scope(people: People, hall: Any, room_b: Any) -> None:
    _book(hall, people.resident_a, at(WEDNESDAY, 14), at(WEDNESDAY, 16), status="pending", purpose="甲站的申请")
    _book(room_b, people.resident_b, at(WEDNESDAY, 14), at(WEDNESDAY, 16), status="pending", purpose="乙站的申请")
    page = _client(people.manager_a).get(reverse("bookings:staff_bookings")).content.decode()
    assert "甲站的申请" in page
    assert "乙站的申请" not in page
    assert "138****0006" in page  # the requester's phone, masked
    page = _client(people.subcentre_admin).get(reverse("bookings:staff_bookings")).content.decode()
    assert "甲站的申请" in page
    assert "乙站的申请" in page
    assert _client(people.resident_a).get(reverse("bookings:staff_bookings")).status_code == 403


def test_staff_approve_and_reject_from_the_list(people: People, hall: Any) -> None:
    first = _book(hall, people.resident_a, at(WEDNESDAY, 14), at(WEDNESDAY, 16), status="pending")
    second = _book(hall, people.resident_b, at(WEDNESDAY, 15), at(WEDNESDAY, 17), status="pending")
    client = _client(people.manager_a)
    client.post(reverse("bookings:staff_approve", args=[first.pk]))
    assert Booking.objects.get(pk=first.pk).status == BookingStatus.APPROVED
    page = client.get(reverse("bookings:staff_bookings")).content.decode()
    assert "已通过 王阿姨 的预约" in page
    assert "与已通过的预约 14:00–16:00 冲突" in page
    client.post(reverse("bookings:staff_approve", args=[second.pk]))
    assert "该时段已被预约" in client.get(reverse("bookings:staff_bookings")).content.decode()
    client.post(reverse("bookings:staff_reject", args=[second.pk]), {"reason": ""})
    assert Booking.objects.get(pk=second.pk).status == BookingStatus.PENDING
    client.post(reverse("bookings:staff_reject", args=[second.pk]), {"reason": "时段冲突"})
    assert Booking.objects.get(pk=second.pk).decision_note == "时段冲突"
    # Staff of another station do not even see the request.
    assert _client(people.manager_b).post(reverse("bookings:staff_approve", args=[first.pk])).status_code == 404


def test_the_approvals_list_takes_a_fixed_number_of_queries(people: People, hall: Any, room_b: Any) -> None:
    client = _client(people.subcentre_admin)
    _book(hall, people.resident_a, at(WEDNESDAY, 9), at(WEDNESDAY, 10), status="pending")
    few, _page = _count(client, reverse("bookings:staff_bookings"))
    for hour in range(10, 20):
        _book(hall, people.resident_a, at(WEDNESDAY, hour), at(WEDNESDAY, hour, 30), status="pending")
        _book(room_b, people.resident_b, at(WEDNESDAY, hour), at(WEDNESDAY, hour, 30), status="pending")
        _book(room_b, people.resident_b, at(WEDNESDAY, hour, 15), at(WEDNESDAY, hour, 45))
    many, page = _count(client, reverse("bookings:staff_bookings"))
    assert many == few
    assert page.count("冲突") == 10


# --- Staff: the venue calendar -----------------------------------------------------------------------


def test_the_staff_calendar_shows_each_booking_and_the_working_calendar(people: People, hall: Any) -> None:
    monday = dt.date(2026, 9, 28)
    _book(hall, people.resident_a, at(monday, 14), at(monday, 16), purpose="书法班")
    _book(hall, people.resident_b, at(monday, 17), at(monday, 18), status="pending", purpose="象棋")
    _book(hall, people.resident_b, at(monday, 19), at(monday, 20), status="cancelled", purpose="取消了的")
    url = reverse("bookings:staff_calendar", args=[hall.pk]) + "?week=2026-09-30"
    page = _client(people.manager_a).get(url).content.decode()
    assert "2026-09-28 – 2026-10-04" in page
    assert "书法班" in page
    assert "王阿姨" in page
    assert "象棋" in page
    assert "待审核" in page
    assert "取消了的" not in page
    assert "国庆节假期" in page
    page = (
        _client(people.manager_a)
        .get(reverse("bookings:staff_calendar", args=[hall.pk]) + "?week=2026-10-10")
        .content.decode()
    )
    assert "调休上班" in page
    assert _client(people.manager_b).get(url).status_code == 404
    assert _client(people.resident_a).get(url).status_code == 404


def test_the_staff_calendar_takes_a_fixed_number_of_queries(people: People, hall: Any) -> None:
    client = _client(people.manager_a)
    url = reverse("bookings:staff_calendar", args=[hall.pk]) + "?week=2026-09-16"
    _book(hall, people.resident_a, at(WEDNESDAY, 9), at(WEDNESDAY, 10))
    few, _page = _count(client, url)
    for day in range(5):
        for hour in range(10, 14):
            _book(
                hall,
                people.resident_a,
                at(WEDNESDAY + dt.timedelta(days=day - 2), hour),
                at(WEDNESDAY, hour, 30) + dt.timedelta(days=day - 2),
            )
    many, page = _count(client, url)
    assert many == few
    assert page.count("合唱队排练") == 21


@pytest.mark.parametrize("week", ["garbage", "0001-01-01", "9999-12-31", ""])
def test_a_bad_week_shows_this_week(people: People, hall: Any, week: str) -> None:
    page = (
        _client(people.manager_a)
        .get(reverse("bookings:staff_calendar", args=[hall.pk]), {"week": week})
        .content.decode()
    )
    assert "2026-09-14 – 2026-09-20" in page
