"""The rush: a thousand people press 报名 at once for thirty seats.

Real HTTP requests over sockets to the app served as in production
(gunicorn, two workers with threads, on the test database), fired from a
pool of client threads that all start on a barrier. The database settles every seat (a
conditional UPDATE on the activity row; IMMEDIATE transactions on SQLite),
so the rush must end with exactly ``SEATS`` confirmed, exactly
``WAITLIST`` waitlisted, everyone else refused with 409 ``full``, no 5xx,
and the counters equal to the rows. PostgreSQL gets the full thousand;
the SQLite default a smaller crowd, the same rules.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.db import connection
from django.utils import timezone

from wenming.accounts import services as account_services
from wenming.accounts.models import Role, RoleGrant, User
from wenming.activities import services
from wenming.activities.models import Activity, Signup, SignupStatus

if TYPE_CHECKING:
    from conftest import People, Street

ROOT = Path(__file__).resolve().parents[3]
SEATS = 30
WAITLIST = 20
CLIENT_THREADS = 48


def _crowd(size: int, street: Street) -> list[str]:
    users = User.objects.bulk_create(
        [User(phone=f"139{i:08d}", name=f"居民{i}", home_site=street.station_a) for i in range(size)]
    )
    RoleGrant.objects.bulk_create([RoleGrant(user=u, role=Role.RESIDENT, site=street.station_a) for u in users])
    return [account_services.issue_api_token(user=u)[0] for u in users]


def _published(people: People, street: Street) -> Activity:
    now = timezone.now()
    activity = services.create_activity(
        actor=people.manager_a,
        site=street.station_a,
        title="重阳节包饺子",
        platform="culture",
        starts_at=now + dt.timedelta(days=2),
        ends_at=now + dt.timedelta(days=2, hours=2),
        seats=SEATS,
        waitlist_limit=WAITLIST,
    )
    services.submit_activity(actor=people.manager_a, activity=activity)
    return services.approve_activity(actor=people.subcentre_admin, activity=activity)


def _post(url: str, token: str) -> tuple[int, str]:
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


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_rush_never_oversells(served: str, street: Street, people: People) -> None:
    crowd = 1000 if connection.vendor == "postgresql" else 300
    tokens = _crowd(crowd, street)
    activity = _published(people, street)
    url = f"{served}/api/activities/{activity.pk}/signups"
    barrier = threading.Barrier(CLIENT_THREADS)

    def fire(batch: list[str]) -> list[tuple[int, str]]:
        barrier.wait(timeout=60)
        return [_post(url, token) for token in batch]

    batches = [tokens[i::CLIENT_THREADS] for i in range(CLIENT_THREADS)]
    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        answers = [answer for batch in pool.map(fire, batches) for answer in batch]

    tally = Counter(answers)
    assert tally[(201, "confirmed")] == SEATS, tally
    assert tally[(201, "waitlisted")] == WAITLIST, tally
    assert tally[(409, "full")] == crowd - SEATS - WAITLIST, tally
    assert sum(tally.values()) == crowd

    activity.refresh_from_db()
    rows = Counter(Signup.objects.filter(activity=activity).values_list("status", flat=True))
    assert rows == {SignupStatus.CONFIRMED: SEATS, SignupStatus.WAITLISTED: WAITLIST}
    assert (activity.confirmed_count, activity.waitlist_count) == (SEATS, WAITLIST)
    assert Signup.objects.filter(activity=activity).values("user").distinct().count() == SEATS + WAITLIST


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_cancellations_during_a_rush_promote_in_order(served: str, street: Street, people: People) -> None:
    """While the crowd signs up, the confirmed cancel; every freed seat goes to the waitlist, none is lost."""
    tokens = _crowd(120, street)
    activity = _published(people, street)
    url = f"{served}/api/activities/{activity.pk}/signups"
    first = [_post(url, t) for t in tokens[:SEATS]]
    assert all(a == (201, "confirmed") for a in first)

    def cancel(token: str) -> int:
        request = urllib.request.Request(  # noqa: S310
            f"{url}/me", method="DELETE", headers={"Authorization": f"Bearer {token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    leaving = tokens[:10]
    arriving = tokens[SEATS:]
    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        cancels = pool.map(cancel, leaving)
        joins = pool.map(lambda t: _post(url, t), arriving)
        cancelled, joined = list(cancels), list(joins)

    assert cancelled == [200] * len(leaving)
    assert not [a for a in joined if a[0] >= 500]
    activity.refresh_from_db()
    rows = Counter(Signup.objects.filter(activity=activity).values_list("status", flat=True))
    assert rows[SignupStatus.CONFIRMED] == SEATS == activity.confirmed_count
    assert rows[SignupStatus.WAITLISTED] == activity.waitlist_count <= WAITLIST
    assert rows[SignupStatus.CANCELLED] == len(leaving)
