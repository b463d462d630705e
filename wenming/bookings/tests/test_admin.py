"""The admin for booking rules, blackout dates and bookings: scoped, and writing through the services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from conftest import People
from wenming.bookings.models import Blackout, Booking, BookingStatus, VenueRules
from wenming.bookings.tests.conftest import WEDNESDAY, at
from wenming.network.models import Venue

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

RULES = {
    "opening_hours": '{"mon": [["09:00", "12:00"]]}',
    "min_minutes": "60",
    "max_minutes": "120",
    "max_days_ahead": "14",
    "min_hours_ahead": "4",
    "needs_approval": "on",
    "closed_on_holidays": "on",
    "no_show_grace_minutes": "20",
}


def _admin(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def other_hall(street: Any) -> Venue:
    return Venue.objects.create(site=street.station_c, name="丙站活动室", area_m2=Decimal(60), capacity=20)


def test_rules_are_added_through_the_service_and_validated(people: People, hall: Any) -> None:
    client = _admin(people.subcentre_admin)
    url = reverse("admin:bookings_venuerules_add")
    response = client.post(url, RULES | {"venue": hall.pk, "opening_hours": '{"mon": [["12:00", "09:00"]]}'})
    assert response.status_code == 200
    assert "开放时间格式不正确" in response.content.decode()
    assert not VenueRules.objects.exists()
    response = client.post(url, RULES | {"venue": hall.pk})
    assert response.status_code == 302
    rules = VenueRules.objects.get(venue=hall)
    assert (rules.opening_hours, rules.min_minutes, rules.no_show_grace_minutes) == (
        {"mon": [["09:00", "12:00"]]},
        60,
        20,
    )
    change = reverse("admin:bookings_venuerules_change", args=[rules.pk])
    response = client.post(change, RULES | {"min_minutes": "150"})
    assert response.status_code == 200
    assert "最长时长不能短于最短时长" in response.content.decode()
    assert VenueRules.objects.get(pk=rules.pk).min_minutes == 60


def test_the_admin_is_scoped(people: People, hall: Any, other_hall: Venue) -> None:
    Blackout.objects.create(venue=hall, first_date=WEDNESDAY, last_date=WEDNESDAY, reason="甲站检修")
    theirs = Blackout.objects.create(venue=other_hall, first_date=WEDNESDAY, last_date=WEDNESDAY, reason="丙站检修")
    client = _admin(people.subcentre_admin)
    page = client.get(reverse("admin:bookings_blackout_changelist")).content.decode()
    assert "甲站检修" in page
    assert "丙站检修" not in page
    page = client.get(reverse("admin:bookings_blackout_add")).content.decode()
    assert "甲站多功能厅" in page
    assert "丙站活动室" not in page
    response = client.post(
        reverse("admin:bookings_blackout_add"),
        {"venue": other_hall.pk, "first_date": "2026-09-20", "last_date": "2026-09-21", "reason": "越权"},
    )
    assert response.status_code == 200
    assert not Blackout.objects.filter(reason="越权").exists()
    assert client.get(reverse("admin:bookings_blackout_change", args=[theirs.pk])).status_code == 302
    assert _admin(people.manager_a).get(reverse("admin:bookings_blackout_changelist")).status_code == 302


def test_blackouts_are_added_and_removed_through_the_services(people: People, hall: Any) -> None:
    client = _admin(people.subcentre_admin)
    response = client.post(
        reverse("admin:bookings_blackout_add"),
        {"venue": hall.pk, "first_date": "2026-09-21", "last_date": "2026-09-20", "reason": "维修"},
    )
    assert response.status_code == 200
    assert "结束日期不能早于开始日期" in response.content.decode()
    assert not Blackout.objects.exists()
    client.post(
        reverse("admin:bookings_blackout_add"),
        {"venue": hall.pk, "first_date": "2026-09-20", "last_date": "2026-09-21", "reason": "维修"},
    )
    blackout = Blackout.objects.get()
    client.post(reverse("admin:bookings_blackout_delete", args=[blackout.pk]), {"post": "yes"})
    assert not Blackout.objects.exists()


def test_bookings_are_read_only_and_decided_through_the_services(people: People, hall: Any) -> None:
    first = Booking.objects.create(
        venue=hall,
        requester=people.resident_a,
        purpose="议事",
        starts_at=at(WEDNESDAY, 14),
        ends_at=at(WEDNESDAY, 16),
        status=BookingStatus.PENDING,
    )
    second = Booking.objects.create(
        venue=hall,
        requester=people.resident_b,
        purpose="合唱",
        starts_at=at(WEDNESDAY, 15),
        ends_at=at(WEDNESDAY, 17),
        status=BookingStatus.PENDING,
    )
    client = _admin(people.subcentre_admin)
    assert client.get(reverse("admin:bookings_booking_add")).status_code == 403
    response = client.post(
        reverse("admin:bookings_booking_changelist"),
        {"action": "approve_selected", "_selected_action": [first.pk, second.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "已通过 1 条预约" in page
    assert "该时段已被预约" in page
    assert Booking.objects.get(pk=first.pk).status == BookingStatus.APPROVED
    assert Booking.objects.get(pk=second.pk).status == BookingStatus.PENDING
    assert Booking.objects.get(pk=first.pk).history.filter(to_status="approved", actor=people.subcentre_admin).exists()
