"""Who may do what with bookings, over every persona.

王阿姨 (resident_a) books 甲站's hall; 刘大爷 (resident_b) books 乙站's room; the
third booking is at 丙站 in another district, booked by 钱站长's resident. Each
row below says which personas may do the action to each of the three.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from conftest import PERSONAS, People
from wenming.bookings import policies
from wenming.bookings.models import Booking, BookingStatus
from wenming.bookings.tests.conftest import WEDNESDAY, at
from wenming.network.models import Venue

pytestmark = pytest.mark.django_db

STAFF_A = {"admin", "subcentre_admin", "manager_a"}
STAFF_B = {"admin", "subcentre_admin", "manager_b"}
STAFF_C = {"admin", "manager_c"}


@pytest.fixture
def world(people: People, street: Any) -> dict[str, Booking]:
    from wenming.accounts.models import User

    resident_c = User.objects.create_user("13900000099", None, name="丙居民", home_site=street.station_c)
    out: dict[str, Booking] = {}
    for key, site, requester in (
        ("A", street.station_a, people.resident_a),
        ("B", street.station_b, people.resident_b),
        ("C", street.station_c, resident_c),
    ):
        venue = Venue.objects.create(site=site, name=f"活动室{key}", area_m2=Decimal(50), capacity=20)
        out[key] = Booking.objects.create(
            venue=venue,
            requester=requester,
            purpose="议事",
            starts_at=at(WEDNESDAY, 14),
            ends_at=at(WEDNESDAY, 16),
            status=BookingStatus.PENDING,
        )
    return out


Predicate = Callable[[Any, Booking], bool]

# action → (predicate, who may, for the bookings at A, B and C)
MATRIX: dict[str, tuple[Predicate, dict[str, set[str]]]] = {
    "decide": (policies.can_decide_booking, {"A": STAFF_A, "B": STAFF_B, "C": STAFF_C}),
    "view": (policies.can_view_booking, {"A": STAFF_A | {"resident_a"}, "B": STAFF_B | {"resident_b"}, "C": STAFF_C}),
    "cancel": (
        policies.can_cancel_booking,
        {"A": STAFF_A | {"resident_a"}, "B": STAFF_B | {"resident_b"}, "C": STAFF_C},
    ),
    "check_in": (
        policies.can_check_in_booking,
        {"A": STAFF_A | {"resident_a"}, "B": STAFF_B | {"resident_b"}, "C": STAFF_C},
    ),
    "staff_calendar": (
        lambda user, booking: policies.can_view_venue_bookings(user, booking.venue),
        {"A": STAFF_A, "B": STAFF_B, "C": STAFF_C},
    ),
    "rules": (
        lambda user, booking: policies.can_manage_booking_rules(user, booking.venue),
        {"A": STAFF_A, "B": STAFF_B, "C": STAFF_C},
    ),
    "request": (
        lambda user, booking: policies.can_request_booking(user, booking.venue),
        {key: set(PERSONAS) for key in "ABC"},
    ),
    "calendar": (
        lambda user, booking: policies.can_view_venue_calendar(user, booking.venue),
        {key: set(PERSONAS) for key in "ABC"},
    ),
}


@pytest.mark.parametrize("action", sorted(MATRIX))
@pytest.mark.parametrize("persona", PERSONAS)
def test_matrix(people: People, world: dict[str, Booking], persona: str, action: str) -> None:
    predicate, allowed = MATRIX[action]
    user = getattr(people, persona)
    got = {key for key, booking in world.items() if predicate(user, booking)}
    want = {key for key, who in allowed.items() if persona in who}
    assert got == want, f"{persona} {action}: {sorted(got)} != {sorted(want)}"


@pytest.mark.parametrize("persona", PERSONAS)
def test_lists_show_what_the_predicates_allow(people: People, world: dict[str, Booking], persona: str) -> None:
    user = getattr(people, persona)
    visible = set(Booking.objects.filter(policies.bookings_visible_to(user)).values_list("pk", flat=True))
    assert visible == {b.pk for b in world.values() if policies.can_view_booking(user, b)}
    decidable = set(Booking.objects.filter(policies.bookings_decidable_by(user)).values_list("pk", flat=True))
    assert decidable == {b.pk for b in world.values() if policies.can_decide_booking(user, b)}


def test_nobody_signed_out_or_inactive_may_do_anything(people: People, world: dict[str, Booking]) -> None:
    people.manager_a.is_active = False
    people.manager_a.save()
    for user in (AnonymousUser(), people.manager_a):
        for action, (predicate, _allowed) in MATRIX.items():
            if action == "calendar":
                continue  # busy slots are public
            assert not any(predicate(user, b) for b in world.values()), action
        assert not Booking.objects.filter(policies.bookings_visible_to(user)).exists()
    assert all(policies.can_view_venue_calendar(AnonymousUser(), b.venue) for b in world.values())


def test_retired_venues_are_shown_to_their_staff_only(people: People, world: dict[str, Booking]) -> None:
    venue = world["A"].venue
    venue.is_active = False
    venue.save()
    assert not policies.can_view_venue_calendar(AnonymousUser(), venue)
    assert not policies.can_view_venue_calendar(people.resident_a, venue)
    assert policies.can_view_venue_calendar(people.manager_a, venue)
    assert not policies.can_request_booking(people.resident_a, venue)
