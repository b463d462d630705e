"""Weekly recurring bookings through the API and the pages: what was booked, and every date that was not, and why.

The clock stands at Monday 2026-09-14 08:00. The Thursdays from 09-17 on:
09-24 is closed for a fire inspection (a blackout), 10-01 is National Day
(法定节假日), and on 10-08 王阿姨's neighbour already holds 19:00–21:00.
The hall's default horizon is 30 days (up to 10-14); the tests that need
later dates widen it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import People
from wenming.accounts.services import issue_api_token
from wenming.bookings.api import DATE_CONFLICT_CODES, RULE_CODES
from wenming.bookings.models import Blackout, Booking, BookingSeries, BookingStatus
from wenming.bookings.tests.conftest import at, set_rules
from wenming.units.models import Liaison, Organization

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

THURSDAY = dt.date(2026, 9, 17)
WEEK = dt.timedelta(weeks=1)
BLACKOUT_DAY = THURSDAY + WEEK  # 09-24
NATIONAL_DAY = THURSDAY + 2 * WEEK  # 10-01
TAKEN_DAY = THURSDAY + 3 * WEEK  # 10-08


def _api(user: Any = None) -> tuple[Client, dict[str, str]]:
    headers = {"Authorization": f"Bearer {issue_api_token(user=user)[0]}"} if user is not None else {}
    return Client(), headers


def _post(user: Any, venue: Any, body: dict[str, Any]) -> Any:
    client, headers = _api(user)
    return client.post(
        f"/api/venues/{venue.pk}/bookings/recurring", body, content_type="application/json", headers=headers
    )


def _series(start: dt.datetime, end: dt.datetime, weeks: int, **extra: Any) -> dict[str, Any]:
    return {
        "starts_at": start.isoformat(),
        "ends_at": end.isoformat(),
        "weeks": weeks,
        "purpose": "合唱队排练",
        "attendees": 12,
        **extra,
    }


def _held(venue: Any, requester: Any, start: dt.datetime, end: dt.datetime, **extra: Any) -> Booking:
    extra.setdefault("purpose", "已有预约")
    return Booking.objects.create(
        venue=venue, requester=requester, starts_at=start, ends_at=end, status=BookingStatus.APPROVED, **extra
    )


@pytest.fixture
def thursdays(people: People, hall: Any) -> dict[str, Any]:
    """The hall with a blackout on 09-24 and 刘大爷's approved booking on 10-08 19:00–21:00."""
    set_rules(hall, max_days_ahead=60)
    Blackout.objects.create(venue=hall, first_date=BLACKOUT_DAY, last_date=BLACKOUT_DAY, reason="消防检查")
    holder = _held(hall, people.resident_b, at(TAKEN_DAY, 19), at(TAKEN_DAY, 21))
    return {"hall": hall, "holder": holder}


def _nothing_new(before: int) -> None:
    assert Booking.objects.count() == before
    assert not BookingSeries.objects.exists()


# --- API: 201 with the conflicts listed -------------------------------------------------------------


@pytest.mark.parametrize(("needs_approval", "status"), [(True, "pending"), (False, "approved")])
def test_api_books_the_free_dates_and_lists_each_conflict(
    people: People, thursdays: dict[str, Any], needs_approval: bool, status: str
) -> None:
    hall, holder = thursdays["hall"], thursdays["holder"]
    set_rules(hall, needs_approval=needs_approval)
    response = _post(people.resident_a, hall, _series(at(THURSDAY, 19), at(THURSDAY, 21), weeks=6))
    assert response.status_code == 201, response.content
    body = response.json()

    booked = [(b["starts_at"], b["ends_at"], b["status"]) for b in body["created"]]
    assert booked == [
        ("2026-09-17T19:00:00+08:00", "2026-09-17T21:00:00+08:00", status),
        ("2026-10-15T19:00:00+08:00", "2026-10-15T21:00:00+08:00", status),
        ("2026-10-22T19:00:00+08:00", "2026-10-22T21:00:00+08:00", status),
    ]
    assert {b["series_id"] for b in body["created"]} == {body["series_id"]}
    assert all(b["requester"]["name"] == "王阿姨" and b["attendees"] == 12 for b in body["created"])

    conflicts = body["conflicts"]
    assert [(c["date"], c["code"]) for c in conflicts] == [
        ("2026-09-24", "blackout"),
        ("2026-10-01", "holiday_closed"),
        ("2026-10-08", "slot_taken"),
    ]
    blackout, holiday, taken = conflicts
    assert "消防检查" in blackout["message"]
    assert "国庆节" in holiday["message"]
    assert (holiday["starts_at"], holiday["ends_at"]) == ("2026-10-01T19:00:00+08:00", "2026-10-01T21:00:00+08:00")
    assert blackout["conflict"] is None
    assert holiday["conflict"] is None
    assert taken["conflict"] == {
        "id": holder.pk,
        "starts_at": "2026-10-08T19:00:00+08:00",
        "ends_at": "2026-10-08T21:00:00+08:00",
    }
    assert taken["message"] == "该时段已被预约（2026-10-08 19:00–21:00），请选择其他时间。"

    series = BookingSeries.objects.get()
    assert series.pk == body["series_id"]
    assert list(series.bookings.values_list("status", flat=True)) == [status] * 3


def test_api_lists_the_dates_beyond_the_horizon(people: People, hall: Any) -> None:
    # The default horizon is 30 days: 10-15 and later are too far ahead.
    response = _post(people.resident_a, hall, _series(at(THURSDAY, 9), at(THURSDAY, 10), weeks=6))
    assert response.status_code == 201, response.content
    body = response.json()
    assert len(body["created"]) == 3  # 09-17, 09-24, 10-08 (10-01 is National Day)
    assert [(c["date"], c["code"]) for c in body["conflicts"]] == [
        ("2026-10-01", "holiday_closed"),
        ("2026-10-15", "too_far_ahead"),
        ("2026-10-22", "too_far_ahead"),
    ]
    assert body["conflicts"][-1]["message"] == "最多只能预约30天以内的场地。"


def test_a_liaison_books_a_series_in_the_units_name(people: People, hall: Any, street: Any) -> None:
    unit = Organization.objects.create(site=street.station_a, name="甲街银行", kind="company")
    Liaison.objects.create(organization=unit, user=people.liaison_a)
    slot = _series(at(THURSDAY, 9), at(THURSDAY, 10), weeks=2, organization_id=unit.pk)
    assert _post(people.resident_a, hall, slot).json()["code"] == "not_liaison"
    response = _post(people.liaison_a, hall, slot)
    assert response.status_code == 201
    assert [b["organization"] for b in response.json()["created"]] == [{"id": unit.pk, "name": "甲街银行"}] * 2


# --- API: no date can be booked ------------------------------------------------------------------------


def test_api_when_every_date_fails_for_different_reasons(people: People, thursdays: dict[str, Any]) -> None:
    hall = thursdays["hall"]
    before = Booking.objects.count()
    # 09-24 blackout, 10-01 National Day, 10-08 taken.
    response = _post(people.resident_a, hall, _series(at(BLACKOUT_DAY, 19), at(BLACKOUT_DAY, 21), weeks=3))
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "no_dates_available"
    assert body["message"] == "所选的3个日期都无法预约，没有提交申请。"
    assert [c["code"] for c in body["conflicts"]] == ["blackout", "holiday_closed", "slot_taken"]
    _nothing_new(before)


def test_api_when_every_date_fails_for_one_reason(people: People, thursdays: dict[str, Any]) -> None:
    hall, holder = thursdays["hall"], thursdays["holder"]
    before = Booking.objects.count()
    # Too long on every date: said as a single request would be told, with the field.
    response = _post(people.resident_a, hall, _series(at(THURSDAY, 9), at(THURSDAY, 14), weeks=2))
    body = response.json()
    assert (response.status_code, body["code"], body["field"]) == (400, "too_long", "ends_at")
    assert body["message"] == "每次预约最长240分钟。"
    assert [c["code"] for c in body["conflicts"]] == ["too_long", "too_long"]

    # Taken on every date: 409 slot_taken naming the first booking in the way.
    _held(hall, people.resident_b, at(TAKEN_DAY + WEEK, 18), at(TAKEN_DAY + WEEK, 20))
    response = _post(people.resident_a, hall, _series(at(TAKEN_DAY, 19), at(TAKEN_DAY, 20), weeks=2))
    body = response.json()
    assert (response.status_code, body["code"]) == (409, "slot_taken")
    assert body["conflict"]["id"] == holder.pk
    assert [c["conflict"]["starts_at"] for c in body["conflicts"]] == [
        "2026-10-08T19:00:00+08:00",
        "2026-10-15T18:00:00+08:00",
    ]
    _nothing_new(before + 1)


# --- API: input refused, in Chinese, nothing written ------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "status", "code", "field", "message"),
    [
        ({"weeks": 0}, 422, "invalid", "weeks", "不能小于1。"),
        ({"weeks": 27}, 422, "invalid", "weeks", "不能大于26。"),
        ({"weeks": "每周"}, 422, "invalid", "weeks", "应为整数。"),
        ({"attendees": 41}, 400, "over_capacity", "attendees", "人数超过场地容纳人数（40人）。"),
        ({"purpose": "   "}, 400, "invalid_purpose", "purpose", "请填写用途，不超过200个字。"),
        ({"ends_at": "2026-09-17T08:00:00+08:00"}, 400, "invalid_time", "ends_at", "结束时间必须晚于开始时间。"),
        ({"starts_at": "2026-09-17T09:00:30+08:00"}, 400, "invalid_time", "starts_at", "请按整分钟选择时间。"),
        ({"repeat": True}, 422, "invalid", "repeat", "不认识的字段。"),
    ],
)
def test_api_refuses_bad_input_in_chinese_and_writes_nothing(
    people: People, hall: Any, change: dict[str, Any], status: int, code: str, field: str, message: str
) -> None:
    response = _post(people.resident_a, hall, _series(at(THURSDAY, 9), at(THURSDAY, 10), weeks=3) | change)
    body = response.json()
    assert (response.status_code, body["code"], body["field"]) == (status, code, field)
    assert message in body["message"] or [e["message"] for e in body.get("errors") or []] == [message]
    _nothing_new(0)


def test_api_needs_a_caller_and_a_venue(people: People, hall: Any) -> None:
    slot = _series(at(THURSDAY, 9), at(THURSDAY, 10), weeks=2)
    assert (_post(None, hall, slot).status_code, _post(None, hall, slot).json()["code"]) == (401, "unauthorized")
    hall.is_active = False
    hall.save()
    assert _post(people.resident_a, hall, slot).status_code == 404
    _nothing_new(0)


def test_every_code_the_operation_can_answer_is_documented() -> None:
    schema = Client().get("/api/openapi.json").json()
    operation = schema["paths"]["/api/venues/{venue_id}/bookings/recurring"]["post"]
    codes = {status: answer["description"] for status, answer in operation["responses"].items()}
    # A series refused for one rule on every date answers with that rule's code.
    for code in DATE_CONFLICT_CODES:
        if code not in ("slot_taken", "unavailable"):
            assert code in RULE_CODES
            assert code in codes["400"]
    assert "slot_taken" in codes["409"]
    assert "no_dates_available" in codes["409"]
    conflict_schema = schema["components"]["schemas"]["DateConflictOut"]
    assert set(conflict_schema["properties"]["code"]["enum"]) == set(DATE_CONFLICT_CODES)


# --- Pages ------------------------------------------------------------------------------------------------


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _form(day: dt.date, start: str, end: str, weeks: int | str, **extra: str) -> dict[str, str]:
    return {
        "date": day.isoformat(),
        "start": start,
        "end": end,
        "weeks": str(weeks),
        "attendees": "12",
        "purpose": "合唱队排练",
        **extra,
    }


def test_the_form_offers_weekly_repeats_within_the_horizon(people: People, hall: Any) -> None:
    page = _client(people.resident_a).get(reverse("bookings:venue_book", args=[hall.pk])).content.decode()
    assert "每周重复" in page
    assert '<option value="1" selected>不重复</option>' in page
    # 30 days ahead: a series of up to 5 Thursdays fits.
    assert '<option value="5">连续5周</option>' in page
    assert '<option value="6">' not in page
    assert "<script" not in page.split('<main class="wm-main')[1]  # the form works without JavaScript
    set_rules(hall, max_days_ahead=6)
    page = _client(people.resident_a).get(reverse("bookings:venue_book", args=[hall.pk])).content.decode()
    assert "每周重复" not in page


def test_the_page_flow_shows_booked_dates_and_why_others_were_not(people: People, thursdays: dict[str, Any]) -> None:
    hall = thursdays["hall"]
    client = _client(people.resident_a)
    response = client.post(reverse("bookings:venue_book", args=[hall.pk]), _form(THURSDAY, "19:00", "21:00", 6))
    assert response.status_code == 302
    series = BookingSeries.objects.get()
    assert response["Location"] == reverse("bookings:series", args=[series.pk])
    assert series.bookings.count() == 3

    page = client.get(response["Location"]).content.decode()
    assert "已提交3个日期的预约申请" in page
    assert "每周四 19:00–21:00" in page
    assert "已预约的3个日期" in page
    for day in ("9月17日", "10月15日", "10月22日"):
        assert day in page
    assert "3个日期未能预约" in page
    # (The Chinese month-day format pads the month: 09月24日.)
    assert "9月24日 周四</b> <span>场地停用（消防检查）</span>" in page
    assert "<b>10月1日 周四</b> <span>国庆节假期不开放</span>" in page
    assert "<b>10月8日 周四</b> <span>与已通过的预约冲突 19:00–21:00</span>" in page
    assert "刘大爷" not in page
    assert "已有预约" not in page

    # 我的预约 groups the series as one entry; a booking of its own stands apart.
    _held(hall, people.resident_a, at(THURSDAY, 9), at(THURSDAY, 10), purpose="单次预约")
    mine = client.get(reverse("bookings:mine")).content.decode()
    assert "共 2 条" in mine
    assert mine.count("每周重复") == 1
    assert "共3个日期" in mine
    assert "待审核 3" in mine
    assert "下次：09月17日" in mine
    assert mine.count("合唱队排练") == 1
    assert "单次预约" in mine
    assert reverse("bookings:series", args=[series.pk]) in mine

    # The dates not booked are told once, right after asking; the series page stays.
    other = _client(people.resident_a).get(reverse("bookings:series", args=[series.pk])).content.decode()
    assert "未能预约" not in other
    assert "已预约的3个日期" in other


def test_cancelling_one_date_of_a_series_from_its_page(people: People, hall: Any) -> None:
    client = _client(people.resident_a)
    client.post(reverse("bookings:venue_book", args=[hall.pk]), _form(THURSDAY, "09:00", "10:00", 2))
    series = BookingSeries.objects.get()
    first = series.bookings.order_by("starts_at").first()
    assert first is not None
    url = reverse("bookings:series", args=[series.pk])
    response = client.post(reverse("bookings:cancel", args=[first.pk]), {"next": url})
    assert response["Location"] == url
    page = client.get(url).content.decode()
    assert "已取消 1" in page
    assert "待审核 1" in page


def test_the_page_says_why_when_no_date_can_be_booked(people: People, thursdays: dict[str, Any]) -> None:
    hall = thursdays["hall"]
    before = Booking.objects.count()
    client = _client(people.resident_a)
    url = reverse("bookings:venue_book", args=[hall.pk])
    # Different reasons: each date listed under the form.
    page = client.post(url, _form(BLACKOUT_DAY, "19:00", "21:00", 3)).content.decode()
    assert "所选的3个日期都无法预约，没有提交申请。" in page
    assert "3个日期未能预约" in page
    assert "国庆节假期不开放" in page
    assert "与已通过的预约冲突 19:00–21:00" in page
    assert 'value="合唱队排练"' in page  # the form keeps what was typed
    # One reason for every date: said once, next to its field, as for a single request.
    page = client.post(url, _form(TAKEN_DAY + WEEK, "20:00", "22:00", 2)).content.decode()
    assert page.count("所选时间不在场地开放时间内（09:00–21:00）。") == 1
    assert "未能预约" not in page
    _nothing_new(before)


def test_the_page_refuses_bad_input_and_writes_nothing(people: People, hall: Any) -> None:
    client = _client(people.resident_a)
    url = reverse("bookings:venue_book", args=[hall.pk])
    page = client.post(url, _form(THURSDAY, "09:00", "10:00", 99)).content.decode()
    assert "请选择重复的周数。" in page
    page = client.post(url, _form(THURSDAY, "09:00", "10:00", 3, attendees="41")).content.decode()
    assert "人数超过场地容纳人数（40人）" in page
    page = client.post(url, _form(THURSDAY, "10:00", "09:00", 3)).content.decode()
    assert "结束时间必须晚于开始时间。" in page
    _nothing_new(0)


def test_no_repeat_is_a_single_request(people: People, hall: Any) -> None:
    client = _client(people.resident_a)
    response = client.post(reverse("bookings:venue_book", args=[hall.pk]), _form(THURSDAY, "09:00", "10:00", 1))
    assert response["Location"] == reverse("bookings:mine")
    booking = Booking.objects.get()
    assert (booking.series_id, booking.status) == (None, BookingStatus.PENDING)


def test_a_series_page_is_only_its_requesters(people: People, hall: Any) -> None:
    client = _client(people.resident_a)
    client.post(reverse("bookings:venue_book", args=[hall.pk]), _form(THURSDAY, "09:00", "10:00", 2))
    url = reverse("bookings:series", args=[BookingSeries.objects.get().pk])
    assert client.get(url).status_code == 200
    assert _client(people.resident_b).get(url).status_code == 404
    assert _client(people.manager_b).get(url).status_code == 404
    assert Client().get(url).status_code == 302
    assert client.get(reverse("bookings:series", args=[999_999])).status_code == 404


# --- Query counts ------------------------------------------------------------------------------------------


def _count(client: Client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(queries), response.content.decode()


def _make_series(people: People, hall: Any, day: dt.date, hour: int, weeks: int) -> BookingSeries:
    series = BookingSeries.objects.create(venue=hall, requester=people.resident_a)
    for week in range(weeks):
        Booking.objects.create(
            venue=hall,
            requester=people.resident_a,
            series=series,
            purpose="周期活动",
            starts_at=at(day + week * WEEK, hour),
            ends_at=at(day + week * WEEK, hour + 1),
            status=BookingStatus.PENDING,
        )
    return series


def test_my_bookings_with_series_takes_a_fixed_number_of_queries(people: People, hall: Any) -> None:
    client = _client(people.resident_a)
    _held(hall, people.resident_a, at(THURSDAY, 9), at(THURSDAY, 10), purpose="单次预约")
    _make_series(people, hall, THURSDAY, 11, weeks=2)
    few, page = _count(client, reverse("bookings:mine"))
    assert page.count("共2个日期") == 1
    for hour in range(12, 17):
        _held(hall, people.resident_a, at(THURSDAY, hour), at(THURSDAY, hour, 30), purpose="单次预约")
        _make_series(people, hall, THURSDAY + dt.timedelta(days=1), hour, weeks=3)
    many, page = _count(client, reverse("bookings:mine"))
    assert many == few
    assert page.count("单次预约") == 6
    assert page.count("共3个日期") == 5
    assert "共 12 条" in page


def test_my_bookings_pages_count_a_series_once(people: People, hall: Any) -> None:
    client = _client(people.resident_a)
    series = _make_series(people, hall, THURSDAY, 9, weeks=4)
    for day in range(25):
        when = THURSDAY + dt.timedelta(days=day)
        _held(hall, people.resident_a, at(when, 15), at(when, 16))
    first = client.get(reverse("bookings:mine")).content.decode()
    second = client.get(reverse("bookings:mine"), {"page": 2}).content.decode()
    assert "共 26 条" in first
    series_link = reverse("bookings:series", args=[series.pk])
    assert (first + second).count(series_link) == 1


def test_the_series_page_takes_a_fixed_number_of_queries(people: People, hall: Any) -> None:
    client = _client(people.resident_a)
    short = _make_series(people, hall, THURSDAY, 9, weeks=2)
    long = _make_series(people, hall, THURSDAY, 11, weeks=8)
    few, _page = _count(client, reverse("bookings:series", args=[short.pk]))
    many, page = _count(client, reverse("bookings:series", args=[long.pk]))
    assert many == few
    assert "已预约的8个日期" in page
