"""Every role × (own subtree / other subtree) × every order action, from the policies.

"Own" is an order of 甲站 — 王阿姨's, dispatched to 小陈 — and "other" an
order of 丙站 in another district, dispatched to a volunteer there. The
rows are the seven roles; a True in the table is the only way to be allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conftest import People, Street
from wenming.accounts.models import Role, RoleGrant, User
from wenming.orders import policies, services
from wenming.orders.models import Order, OrderStatus
from wenming.orders.tests.conftest import NEAR_A, Menu
from wenming.volunteers import services as volunteer_services
from wenming.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db

ACTIONS: dict[str, Callable[[Any, Order], bool]] = {
    "view": policies.can_view_order,
    "see_contact": policies.can_see_contact,
    "review": policies.can_review_order,
    "dispatch": policies.can_dispatch,
    "accept": policies.can_accept,
    "decline": policies.can_decline,
    "deliver": policies.can_deliver,
    "rate": policies.can_rate,
    "cancel": policies.can_cancel,
    "review_complaint": policies.can_review_complaint,
    "order_for_others": lambda user, order: policies.can_order_for_others(user, order.site),
    "manage_catalogue": lambda user, order: policies.can_manage_catalogue(user),
    "manage_open311": lambda user, order: policies.can_manage_open311_clients(user),
}

STAFF = {"view", "see_contact", "review", "dispatch", "deliver", "cancel", "review_complaint", "order_for_others"}
PLATFORM = STAFF | {"manage_catalogue", "manage_open311"}
# (persona, which order) -> allowed actions.
EXPECTED: dict[tuple[str, str], set[str]] = {
    ("admin", "own"): PLATFORM,
    ("admin", "other"): PLATFORM,
    ("subcentre_admin", "own"): STAFF,
    ("subcentre_admin", "other"): set(),
    ("manager_a", "own"): STAFF,
    ("manager_a", "other"): set(),
    ("leader_a", "own"): set(),  # a team leader, but the order went to 小陈 alone
    ("leader_a", "other"): set(),
    ("volunteer_a", "own"): {"view", "accept", "decline"},
    ("volunteer_a", "other"): set(),
    ("resident_a", "own"): {"view", "see_contact", "cancel", "rate"},
    ("resident_a", "other"): set(),
    ("liaison_a", "own"): set(),
    ("liaison_a", "other"): set(),
}


@pytest.fixture
def orders(people: People, street: Street, menu: Menu, chen: Volunteer, zhao: Volunteer) -> dict[str, Order]:
    own = services.place_order(
        actor=people.resident_a,
        service_type=menu.repair,
        description="洗衣机坏了",
        latitude=NEAR_A[0],
        longitude=NEAR_A[1],
    )
    services.dispatch_order(actor=people.manager_a, order=own, volunteer=chen)
    far = User.objects.create_user("13800000099", "correct-horse-battery", name="丙站居民", home_site=street.station_c)
    RoleGrant.objects.create(user=far, role=Role.RESIDENT, site=street.station_c)
    helper = User.objects.create_user(
        "13800000098", "correct-horse-battery", name="丙站志愿者", home_site=street.station_c
    )
    far_volunteer = volunteer_services.register_volunteer(
        actor=people.manager_c, user=helper, site=street.station_c, skills=[menu.repair_skill]
    )
    other = services.place_order(actor=far, service_type=menu.repair, description="冰箱坏了")
    services.dispatch_order(actor=people.manager_c, order=other, volunteer=far_volunteer)
    return {"own": own, "other": other}


def _allowed(user: User, order: Order) -> set[str]:
    fresh = Order.objects.select_related("site", "escalated_to", "service_type").get(pk=order.pk)
    return {name for name, check in ACTIONS.items() if check(user, fresh)}


@pytest.mark.parametrize(("persona", "which"), sorted(EXPECTED))
def test_matrix(people: People, orders: dict[str, Order], persona: str, which: str) -> None:
    user = getattr(people, persona)
    assert _allowed(user, orders[which]) == EXPECTED[(persona, which)]


def test_the_matrix_covers_seven_roles_both_ways() -> None:
    assert len({p for p, _w in EXPECTED}) == 7
    assert all((p, w) in EXPECTED for p, _ in EXPECTED for w in ("own", "other"))


def test_once_accepted_the_volunteer_delivers_and_sees_the_contact(people: People, orders: dict[str, Order]) -> None:
    order = services.accept_order(actor=people.volunteer_a, order=orders["own"])
    assert order.status == OrderStatus.ACCEPTED
    assert _allowed(people.volunteer_a, order) == {"view", "see_contact", "deliver"}
    assert _allowed(people.resident_a, order) == {"view", "see_contact", "cancel", "rate"}


def test_an_order_taken_by_phone_may_be_rated_by_the_staff(people: People, menu: Menu) -> None:
    order = services.place_order(
        actor=people.manager_a, requester=people.resident_a, service_type=menu.repair, description="电话：洗衣机坏了"
    )
    assert policies.can_rate(people.manager_a, order)
    assert not policies.can_rate(people.manager_b, order)


def test_nobody_signed_out_may_do_anything(orders: dict[str, Order]) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert _allowed(AnonymousUser(), orders["own"]) == set()  # type: ignore[arg-type]


def test_the_requester_does_not_see_who_declined_and_why(people: People, orders: dict[str, Order]) -> None:
    order = orders["own"]
    services.decline_order(actor=people.volunteer_a, order=order, reason="今天在外地")
    assert not policies.can_see_event(people.resident_a, order, "decline")
    assert policies.can_see_event(people.resident_a, order, "dispatch")
    assert policies.can_see_event(people.manager_a, order, "decline")
