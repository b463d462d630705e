"""One order, many volunteers pressing 接单 at once: exactly one wins.

The acceptance is a conditional UPDATE (``status`` and ``revision`` as
read); the row count decides, so whatever the timing, one volunteer holds
the order, one history row says so, and every other volunteer is told
409 ``taken``.

- Over real HTTP: a hundred volunteers, each with their own API token, fire
  ``POST /api/orders/{id}/accept`` at gunicorn (two workers with threads,
  on the test database) from a hundred client threads released together.
  Runs on PostgreSQL and on SQLite.
- Through the service, from threads with a connection each: an open grab
  and an order dispatched to a team, raced by thirty members.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connections

from conftest import People, Street
from wenming.accounts import services as account_services
from wenming.accounts.models import Role, RoleGrant, User
from wenming.core.errors import Conflict
from wenming.orders import services
from wenming.orders.models import Order, OrderEvent, OrderStatus
from wenming.orders.tests.conftest import NEAR_A, Menu
from wenming.volunteers.models import Team, TeamMembership, Volunteer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CROWD = 100


def _volunteers(n: int, street: Street, menu: Menu, *, team: Team | None = None) -> list[User]:
    users = User.objects.bulk_create(
        [User(phone=f"137{i:08d}", name=f"志愿者{i}", home_site=street.station_a) for i in range(n)]
    )
    RoleGrant.objects.bulk_create([RoleGrant(user=u, role=Role.VOLUNTEER, site=street.station_a) for u in users])
    volunteers = Volunteer.objects.bulk_create([Volunteer(user=u, site=street.station_a) for u in users])
    through = Volunteer.skills.through
    through.objects.bulk_create([through(volunteer_id=v.pk, skill_id=menu.repair_skill.pk) for v in volunteers])
    if team is not None:
        TeamMembership.objects.bulk_create([TeamMembership(team=team, volunteer=v) for v in volunteers])
    return users


def _grab(people: People, menu: Menu) -> Order:
    order = services.place_order(
        actor=people.resident_a,
        service_type=menu.repair,
        description="洗衣机漏水",
        latitude=NEAR_A[0],
        longitude=NEAR_A[1],
    )
    return services.open_grab(actor=people.manager_a, order=order)


def _accept(url: str, token: str) -> tuple[int, str]:
    request = urllib.request.Request(  # noqa: S310 - the live server on localhost
        url, data=b"{}", method="POST", headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, json.loads(response.read())["status"]
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body).get("code", "")
        except ValueError:
            return error.code, body[:200].decode(errors="replace")
    except Exception as exc:  # a dropped connection is a result to report, not a lost thread
        return 599, repr(exc)


def _one_winner(order: Order, winners: int = 1) -> Volunteer:
    order.refresh_from_db()
    assert order.status == OrderStatus.ACCEPTED
    assert order.accepted_by is not None
    taken = OrderEvent.objects.filter(order=order, action__in=["accept", "grab"])
    assert taken.count() == winners
    assert taken.get().volunteer == order.accepted_by
    return order.accepted_by


def test_a_hundred_volunteers_over_http_one_wins(served: str, people: People, street: Street, menu: Menu) -> None:
    users = _volunteers(CROWD, street, menu)
    tokens = [account_services.issue_api_token(user=u)[0] for u in users]
    order = _grab(people, menu)
    url = f"{served}/api/orders/{order.pk}/accept"
    barrier = threading.Barrier(CROWD)

    def fire(token: str) -> tuple[int, str]:
        barrier.wait(timeout=60)
        return _accept(url, token)

    with ThreadPoolExecutor(CROWD) as pool:
        answers = list(pool.map(fire, tokens))

    tally = Counter(answers)
    assert tally[(200, OrderStatus.ACCEPTED)] == 1, tally
    assert tally[(409, "taken")] == CROWD - 1, tally
    winner = _one_winner(order)
    assert winner.user_id in {u.pk for u in users}


def _race(calls: list[Any]) -> list[tuple[str, Any]]:
    barrier = threading.Barrier(len(calls))
    results: list[tuple[str, Any]] = [("error", "did not run")] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            results[index] = ("ok", calls[index]())
        except Conflict as exc:
            results[index] = ("conflict", exc.code)
        except Exception as exc:  # any other failure is a result to report
            results[index] = ("error", repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results


@pytest.mark.parametrize("mode", ["grab", "team"])
def test_thirty_threads_through_the_service_one_wins(people: People, street: Street, menu: Menu, mode: str) -> None:
    team = Team.objects.create(site=street.station_a, name="甲站维修队")
    users = _volunteers(30, street, menu, team=team)
    if mode == "grab":
        order = _grab(people, menu)
    else:
        order = services.place_order(actor=people.resident_a, service_type=menu.repair, description="冰箱不制冷")
        services.dispatch_order(actor=people.manager_a, order=order, team=team)

    def accept(user: User) -> Any:
        def go() -> str:
            mine = Order.objects.get(pk=order.pk)
            return services.accept_order(actor=User.objects.get(pk=user.pk), order=mine).status

        return go

    results = _race([accept(u) for u in users])
    tally = Counter(results)
    assert tally[("ok", OrderStatus.ACCEPTED)] == 1, tally
    assert tally[("conflict", "taken")] == 29, tally
    _one_winner(order)
