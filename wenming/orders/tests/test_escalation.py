"""An order nobody accepts in time goes up the tree, on a controlled clock.

家电维修 must be accepted within four hours. The clock (``manage.py clock``
enqueues ``escalate-overdue-orders`` every five minutes) runs the task; here
time_machine moves time and the task is run as the clock would run it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from conftest import People, Street
from wenming.core import schedule
from wenming.orders import services, tasks
from wenming.orders.models import Order, OrderEvent, OrderStatus
from wenming.orders.policies import staff_orders_q
from wenming.orders.tests.conftest import NEAR_A, Menu
from wenming.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)  # a Monday, 09:00 in Shanghai


def place(people: People, menu: Menu) -> Order:
    """王阿姨 orders 家电维修 at 甲站, now (make_order would place it three hours earlier)."""
    return services.place_order(
        actor=people.resident_a,
        service_type=menu.repair,
        description="洗衣机坏了",
        latitude=NEAR_A[0],
        longitude=NEAR_A[1],
    )


def run_clock_job() -> int:
    result = tasks.escalate_overdue_orders.enqueue()
    return int(result.return_value)


def test_the_job_is_on_the_clock() -> None:
    jobs = {job.name: job for job in schedule.JOBS}
    assert jobs["escalate-overdue-orders"].task_path == "wenming.orders.tasks.escalate_overdue_orders"
    assert jobs["escalate-overdue-orders"].every == dt.timedelta(minutes=5)
    assert jobs["close-unrated-orders"].task_path == "wenming.orders.tasks.close_unrated_orders"
    loaded = {job.name: task for job, task in schedule.load()}
    assert loaded["escalate-overdue-orders"] is tasks.escalate_overdue_orders


def test_nobody_accepts_and_it_climbs_to_the_subcentre_then_the_centre(
    people: People,
    street: Street,
    chen: Volunteer,
    menu: Menu,
    inbox: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        order = place(people, menu)
        services.dispatch_order(actor=people.manager_a, order=order, volunteer=chen)
        assert order.accept_by == T0 + dt.timedelta(hours=4)

        clock.move_to(T0 + dt.timedelta(hours=3, minutes=59))
        assert run_clock_job() == 0
        order.refresh_from_db()
        assert order.escalated_to is None

        clock.move_to(T0 + dt.timedelta(hours=4, minutes=5))
        with django_capture_on_commit_callbacks(execute=True):
            assert run_clock_job() == 1
        order.refresh_from_db()
        assert order.escalated_to == street.subcentre
        assert order.escalations == 1
        assert order.status == OrderStatus.DISPATCHED  # still 小陈's to accept; now the sub-centre watches it too
        assert order.accept_by == T0 + dt.timedelta(hours=8, minutes=5)
        event = OrderEvent.objects.filter(order=order, action="escalate").get()
        assert event.note == "超过接单时限未接单，已上报嘉禾路街道新时代文明实践分中心"
        assert inbox(people.subcentre_admin) == ["超时未接单：家电维修"]
        assert inbox(people.manager_b) == []

        # The next run within the new deadline does nothing; the one after it goes up to the centre.
        clock.move_to(T0 + dt.timedelta(hours=6))
        assert run_clock_job() == 0
        clock.move_to(T0 + dt.timedelta(hours=8, minutes=10))
        assert run_clock_job() == 1
        order.refresh_from_db()
        assert order.escalated_to == street.district
        assert order.escalations == 2

        # At the top there is nowhere further: flagged once, then left alone.
        clock.move_to(T0 + dt.timedelta(hours=12, minutes=15))
        assert run_clock_job() == 0
        order.refresh_from_db()
        assert order.accept_by is None
        assert OrderEvent.objects.filter(order=order, action="escalate").count() == 3
        clock.move_to(T0 + dt.timedelta(days=2))
        assert run_clock_job() == 0
        assert OrderEvent.objects.filter(order=order, action="escalate").count() == 3


def test_an_escalated_order_is_on_the_parents_board_and_the_parent_may_dispatch(
    people: People, street: Street, chen: Volunteer, menu: Menu
) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        order = place(people, menu)
        clock.move_to(T0 + dt.timedelta(hours=5))
        services.escalate_overdue()
        order.refresh_from_db()
        assert Order.objects.filter(staff_orders_q(people.subcentre_admin), pk=order.pk).exists()
        assert not Order.objects.filter(staff_orders_q(people.manager_b), pk=order.pk).exists()
        services.dispatch_order(actor=people.subcentre_admin, order=order, volunteer=chen, note="分中心协调")
        services.accept_order(actor=people.volunteer_a, order=order)
        order.refresh_from_db()
        assert order.status == OrderStatus.ACCEPTED
        assert order.accept_by is None


def test_accepting_in_time_stops_the_escalation(people: People, chen: Volunteer, menu: Menu) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        order = place(people, menu)
        services.dispatch_order(actor=people.manager_a, order=order, volunteer=chen)
        clock.move_to(T0 + dt.timedelta(hours=3))
        services.accept_order(actor=people.volunteer_a, order=order)
        clock.move_to(T0 + dt.timedelta(hours=10))
        assert services.escalate_overdue() == 0
        order.refresh_from_db()
        assert order.escalated_to is None


def test_orders_waiting_for_review_or_finished_never_escalate(people: People, menu: Menu) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        reviewing = services.place_order(
            actor=people.resident_a,
            service_type=menu.escort,
            description="去医院复查",
            answers={"hospital": "瑞金医院"},
        )
        cancelled = place(people, menu)
        services.cancel_order(actor=people.resident_a, order=cancelled)
        clock.move_to(T0 + dt.timedelta(days=3))
        assert services.escalate_overdue() == 0
    assert not OrderEvent.objects.filter(action="escalate", order__in=[reviewing, cancelled]).exists()
