"""The booking API: 201 with the status, 409 naming the conflicting booking, the calendar, decisions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from conftest import People
from wenming.accounts.services import issue_api_token
from wenming.bookings.models import Booking, BookingStatus
from wenming.bookings.tests.conftest import WEDNESDAY, at
from wenming.units.models import Liaison, Organization

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


class Api:
    def __init__(self, user: Any = None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {issue_api_token(user=user)[0]}"} if user is not None else {}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params, headers=self.headers)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        if body is None:
            return self.client.post(path, headers=self.headers)
        return self.client.post(path, body, content_type="application/json", headers=self.headers)


def _slot(start: dt.datetime, end: dt.datetime, **extra: Any) -> dict[str, Any]:
    return {"starts_at": start.isoformat(), "ends_at": end.isoformat(), "purpose": "楼组议事", "attendees": 8, **extra}


def test_a_request_answers_201_with_its_status(people: People, hall: Any, open_hall: Any) -> None:
    api = Api(people.resident_a)
    response = api.post(f"/api/venues/{hall.pk}/bookings", _slot(at(WEDNESDAY, 14), at(WEDNESDAY, 16)))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "approved"  # open_hall is the hall with needs_approval=False
    assert body["starts_at"] == "2026-09-16T14:00:00+08:00"
    assert body["requester"] == {"id": people.resident_a.pk, "name": "王阿姨"}
    assert body["venue"]["site"]["name"] == "甲居民区实践站"


def test_a_request_waiting_for_approval_is_pending(people: People, hall: Any) -> None:
    response = Api(people.resident_a).post(
        f"/api/venues/{hall.pk}/bookings", _slot(at(WEDNESDAY, 14), at(WEDNESDAY, 16))
    )
    assert (response.status_code, response.json()["status"]) == (201, "pending")


def test_a_taken_slot_answers_409_naming_the_booking(people: People, open_hall: Any) -> None:
    first = Api(people.resident_b).post(
        f"/api/venues/{open_hall.pk}/bookings", _slot(at(WEDNESDAY, 15), at(WEDNESDAY, 17))
    )
    response = Api(people.resident_a).post(
        f"/api/venues/{open_hall.pk}/bookings", _slot(at(WEDNESDAY, 14), at(WEDNESDAY, 16))
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "slot_taken"
    assert "15:00–17:00" in body["message"]
    assert body["conflict"] == {
        "id": first.json()["id"],
        "starts_at": "2026-09-16T15:00:00+08:00",
        "ends_at": "2026-09-16T17:00:00+08:00",
    }
    assert Booking.objects.count() == 1


def test_rule_refusals_are_400_with_code_and_field(people: People, hall: Any) -> None:
    api = Api(people.resident_a)
    cases = [
        (_slot(at(WEDNESDAY, 7), at(WEDNESDAY, 8)), "outside_opening_hours", "starts_at"),
        (_slot(at(WEDNESDAY, 14), at(WEDNESDAY, 16), attendees=41), "over_capacity", "attendees"),
        (_slot(dt.datetime(2026, 9, 14, 9, 0), dt.datetime(2026, 9, 14, 10, 0)), "too_soon", "starts_at"),
    ]
    for body, code, field in cases:
        response = api.post(f"/api/venues/{hall.pk}/bookings", body)
        assert response.status_code == 400, response.content
        assert (response.json()["code"], response.json()["field"]) == (code, field)


def test_who_may_request(people: People, hall: Any, street: Any) -> None:
    slot = _slot(at(WEDNESDAY, 14), at(WEDNESDAY, 16))
    assert Api().post(f"/api/venues/{hall.pk}/bookings", slot).status_code == 401
    assert Api(people.resident_a).post("/api/venues/999999/bookings", slot).status_code == 404
    unit = Organization.objects.create(site=street.station_a, name="甲街银行", kind="company")
    Liaison.objects.create(organization=unit, user=people.liaison_a)
    response = Api(people.resident_a).post(f"/api/venues/{hall.pk}/bookings", slot | {"organization_id": unit.pk})
    assert (response.status_code, response.json()["code"]) == (403, "not_liaison")
    response = Api(people.liaison_a).post(f"/api/venues/{hall.pk}/bookings", slot | {"organization_id": unit.pk})
    assert response.status_code == 201
    assert response.json()["organization"] == {"id": unit.pk, "name": "甲街银行"}


def _book(venue: Any, requester: Any, start: dt.datetime, end: dt.datetime, status: str = "approved") -> Booking:
    return Booking.objects.create(
        venue=venue, requester=requester, purpose="合唱队排练", starts_at=start, ends_at=end, status=status
    )


def test_the_calendar_shows_busy_slots_to_anyone_and_details_to_few(people: People, hall: Any) -> None:
    held = _book(hall, people.resident_a, at(WEDNESDAY, 14), at(WEDNESDAY, 16))
    mine_pending = _book(hall, people.resident_b, at(WEDNESDAY, 17), at(WEDNESDAY, 18), status="pending")
    _book(hall, people.resident_b, at(WEDNESDAY, 9), at(WEDNESDAY, 10), status="cancelled")
    path = f"/api/venues/{hall.pk}/bookings"

    anonymous = Api().get(path, **{"from": "2026-09-14", "to": "2026-09-21"}).json()
    assert [(s["id"], s["status"], s["booking"]) for s in anonymous["slots"]] == [(held.pk, "approved", None)]
    assert "王阿姨" not in str(anonymous)

    requester = Api(people.resident_a).get(path, **{"from": "2026-09-14"}).json()
    assert requester["slots"][0]["booking"]["purpose"] == "合唱队排练"

    other = Api(people.resident_b).get(path).json()
    assert [(s["id"], s["booking"] is not None) for s in other["slots"]] == [(held.pk, False), (mine_pending.pk, True)]

    staff = Api(people.manager_a).get(path).json()
    assert [s["booking"]["requester"]["name"] for s in staff["slots"]] == ["王阿姨", "刘大爷"]
    assert Api(people.manager_b).get(path).json()["slots"][0]["booking"] is None


def test_the_calendar_marks_holidays_and_make_up_days(people: People, hall: Any) -> None:
    body = Api().get(f"/api/venues/{hall.pk}/bookings", **{"from": "2026-09-20", "to": "2026-09-27"}).json()
    days = {d["date"]: d for d in body["days"]}
    assert (days["2026-09-20"]["kind"], days["2026-09-20"]["label"]) == ("makeup_workday", "调休上班")
    assert days["2026-09-20"]["closed_reason"] == ""
    assert days["2026-09-25"]["kind"] == "holiday"
    assert "中秋节" in days["2026-09-25"]["label"]
    assert days["2026-09-25"]["closed_reason"] == "法定节假日不开放"
    assert days["2026-09-21"]["opening_hours"] == ["09:00–21:00"]
    assert (body["from_date"], body["to_date"], len(body["days"])) == ("2026-09-20", "2026-09-27", 7)


@pytest.mark.parametrize(
    "params",
    [{"from": "2026-09-20", "to": "2026-09-20"}, {"from": "2026-09-01", "to": "2026-10-15"}, {"from": "1999-01-01"}],
)
def test_the_calendar_range_is_bounded(hall: Any, params: dict[str, str]) -> None:
    response = Api().get(f"/api/venues/{hall.pk}/bookings", **params)
    assert (response.status_code, response.json()["code"]) == (400, "invalid_range")


def test_calendar_and_my_list_take_a_fixed_number_of_queries(people: People, hall: Any) -> None:
    def count(path: str, api: Api) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get(path).status_code == 200
        return len(queries)

    api = Api(people.resident_a)
    calendar = f"/api/venues/{hall.pk}/bookings"
    _book(hall, people.resident_a, at(WEDNESDAY, 9), at(WEDNESDAY, 10))
    few = count(calendar, api), count("/api/bookings/mine", api)
    for hour in range(10, 20):
        _book(hall, people.resident_a, at(WEDNESDAY, hour), at(WEDNESDAY, hour, 59))
    assert (count(calendar, api), count("/api/bookings/mine", api)) == few
    assert few[0] <= 6, few
    assert few[1] <= 5, few


def test_my_bookings_are_mine_only(people: People, hall: Any) -> None:
    mine = _book(hall, people.resident_a, at(WEDNESDAY, 9), at(WEDNESDAY, 10))
    _book(hall, people.resident_b, at(WEDNESDAY, 11), at(WEDNESDAY, 12))
    body = Api(people.resident_a).get("/api/bookings/mine").json()
    assert (body["count"], [b["id"] for b in body["results"]]) == (1, [mine.pk])
    assert Api(people.resident_a).get("/api/bookings/mine", status="cancelled").json()["count"] == 0
    assert Api().get("/api/bookings/mine").status_code == 401


def test_approve_reject_cancel_and_check_in(people: People, hall: Any, clock: Any) -> None:
    staff, resident = Api(people.manager_a), Api(people.resident_a)
    first = _book(hall, people.resident_a, at(WEDNESDAY, 14), at(WEDNESDAY, 16), status="pending")
    second = _book(hall, people.resident_b, at(WEDNESDAY, 15), at(WEDNESDAY, 17), status="pending")
    third = _book(hall, people.resident_b, at(WEDNESDAY, 18), at(WEDNESDAY, 19), status="pending")

    assert (resident.post(f"/api/bookings/{first.pk}/approve").status_code) == 403
    assert Api(people.manager_b).post(f"/api/bookings/{first.pk}/approve").status_code == 404
    response = staff.post(f"/api/bookings/{first.pk}/approve")
    assert (response.status_code, response.json()["status"]) == (200, "approved")

    response = staff.post(f"/api/bookings/{second.pk}/approve")
    assert response.status_code == 409
    assert (response.json()["code"], response.json()["conflict"]["id"]) == ("slot_taken", first.pk)
    assert staff.post(f"/api/bookings/{first.pk}/approve").json()["code"] == "not_pending"

    assert staff.post(f"/api/bookings/{second.pk}/reject", {"reason": ""}).status_code == 422
    response = staff.post(f"/api/bookings/{second.pk}/reject", {"reason": "时段冲突"})
    assert (response.status_code, response.json()["decision_note"]) == (200, "时段冲突")

    assert Api(people.resident_a).post(f"/api/bookings/{third.pk}/cancel").status_code == 404
    assert Api(people.resident_b).post(f"/api/bookings/{third.pk}/cancel").json()["status"] == "cancelled"

    assert resident.post(f"/api/bookings/{first.pk}/check-in").json()["code"] == "check_in_closed"
    clock.move_to(at(WEDNESDAY, 13, 45))
    response = resident.post(f"/api/bookings/{first.pk}/check-in")
    assert (response.status_code, response.json()["status"]) == (200, "checked_in")
    assert response.json()["checked_in_at"] == "2026-09-16T13:45:00+08:00"
    assert Booking.objects.get(pk=first.pk).status == BookingStatus.CHECKED_IN


def test_one_booking_is_visible_to_its_people(people: People, hall: Any) -> None:
    booking = _book(hall, people.resident_a, at(WEDNESDAY, 9), at(WEDNESDAY, 10))
    assert Api(people.resident_a).get(f"/api/bookings/{booking.pk}").json()["id"] == booking.pk
    assert Api(people.manager_a).get(f"/api/bookings/{booking.pk}").status_code == 200
    assert Api(people.resident_b).get(f"/api/bookings/{booking.pk}").status_code == 404
    assert Api(people.manager_c).get(f"/api/bookings/{booking.pk}").status_code == 404
