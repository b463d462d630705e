"""Satisfaction per volunteer, team and station, counted from ratings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from conftest import People, Street
from wenming.orders import selectors, services
from wenming.orders.models import Order, OrderStatus
from wenming.orders.tests.conftest import MakeOrder, Menu
from wenming.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db


def test_ratings_count_for_the_volunteer_and_the_station(
    people: People, street: Street, chen: Volunteer, make_order: MakeOrder
) -> None:
    for rating, comment in ((5, ""), (4, ""), (2, "来晚了")):
        order = make_order(OrderStatus.COMPLETED)
        services.rate_order(actor=people.resident_a, order=order, rating=rating, comment=comment)
    make_order(OrderStatus.COMPLETED)  # not rated: not counted

    mine = selectors.by_volunteer(street.subcentre)[chen.pk]
    assert (mine.rated, mine.satisfied, mine.low) == (3, 2, 1)
    assert mine.average == Decimal("3.67")
    assert mine.satisfied_share == Decimal("66.7")
    assert selectors.by_station(street.subcentre) == {street.station_a.pk: mine}
    assert selectors.by_station(street.station_b) == {}
    assert selectors.overall(street.district).rated == 3
    assert selectors.overall(street.other_district).average is None


def test_a_team_counts_the_orders_dispatched_to_it(
    people: People, street: Street, menu: Menu, chen: Volunteer, zhao: Volunteer
) -> None:
    order = services.place_order(actor=people.resident_a, service_type=menu.haircut, description="上门理发")
    services.dispatch_order(actor=people.manager_a, order=order, team=menu.barbers)
    services.accept_order(actor=people.leader_a, order=order)
    services.start_order(actor=people.leader_a, order=order)
    # As if the service had begun an hour ago (accepted two hours ago), so there is time to count.
    Order.objects.filter(pk=order.pk).update(
        started_at=timezone.now() - dt.timedelta(hours=1), accepted_at=timezone.now() - dt.timedelta(hours=2)
    )
    services.complete_order(actor=people.leader_a, order=order, servers=[services.Served(zhao, "0.5")])
    services.rate_order(actor=people.resident_a, order=order, rating=5)
    assert selectors.by_team(street.subcentre)[menu.barbers.pk].rated == 1
    since = timezone.now() + dt.timedelta(minutes=1)
    assert selectors.by_team(street.subcentre, since=since) == {}
