"""The activities permission matrix: every persona × (own station / other station) × action.

"Own" is the station the persona belongs to (甲站 for the street's people,
乙站 for 李站长 and 刘大爷, 丙站 for 钱站长; the admins' own is 甲站, which
their grant covers). "Other" is a station outside their reach: 乙站 or 甲站
for station-level people, 丙站 (another district) for 周主任 and, since
nothing is outside a platform admin's reach, for 平台管理员 too.

The predicates are compared with the table below, and then the services
and the API are asked the same questions, so that a page, an endpoint and
a service never disagree with the policy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from conftest import PERSONAS
from wenming.accounts import services as account_services
from wenming.accounts.models import User
from wenming.activities import policies, services
from wenming.activities.models import Activity, HoursCorrection, Signup
from wenming.activities.services import Outcome
from wenming.core.errors import DomainError, NotAllowed, NotFound
from wenming.network.models import Site
from wenming.volunteers import services as volunteer_services

pytestmark = pytest.mark.django_db


@dataclass
class Place:
    site: Site
    draft: Activity
    submitted: Activity
    published: Activity
    seat: Signup  # a resident's confirmed seat at ``published``
    newcomer: User  # a resident of the place, not signed up
    correction: HoursCorrection  # a volunteer's pending correction at ``published``


def _place(key: str, site: Site, make_activity: Any, make_resident: Any, manager: User) -> Place:
    draft = make_activity(site=site, status="draft", title=f"{key}草稿")
    submitted = make_activity(site=site, status="submitted", title=f"{key}待审")
    published = make_activity(site=site, title=f"{key}讲座", posts=[{"name": "引导员", "headcount": 2}])
    before = published.starts_at - dt.timedelta(days=1)
    seat = services.sign_up(actor=make_resident(f"{key}居民", site=site), activity=published, now=before)
    helper = make_resident(f"{key}志愿者", site=site)
    volunteer_services.register_volunteer(actor=manager, user=helper, site=site)
    served = services.sign_up(actor=helper, activity=published, post=published.posts.get(), now=before)
    services.check_in(actor=manager, activity=published, code=served.code, now=published.starts_at)
    services.check_out(actor=manager, activity=published, code=served.code, now=published.ends_at)
    correction = services.request_hours_correction(
        actor=helper, signup=Signup.objects.get(pk=served.pk), hours=1, reason="提前离开"
    )
    return Place(site, draft, submitted, published, seat, make_resident(f"{key}新居民", site=site), correction)


@pytest.fixture
def world(people: Any, street: Any, make_activity: Any, make_resident: Any) -> dict[str, Place]:
    return {
        "A": _place("甲", street.station_a, make_activity, make_resident, people.manager_a),
        "B": _place("乙", street.station_b, make_activity, make_resident, people.manager_b),
        "C": _place("丙", street.station_c, make_activity, make_resident, people.manager_c),
    }


# persona → (own station, other station)
PLACES: dict[str, tuple[str, str]] = {
    "admin": ("A", "C"),
    "subcentre_admin": ("A", "C"),
    "manager_a": ("A", "B"),
    "manager_b": ("B", "A"),
    "manager_c": ("C", "A"),
    "leader_a": ("A", "B"),
    "volunteer_a": ("A", "B"),
    "resident_a": ("A", "B"),
    "resident_b": ("B", "A"),
    "liaison_a": ("A", "B"),
}

Predicate = Callable[[Any, Place], bool]
ACTIONS: dict[str, Predicate] = {
    "run_activities": lambda u, p: policies.can_run_activities_at(u, p.site),
    "view_draft": lambda u, p: policies.can_view_activity(u, p.draft),
    "edit": lambda u, p: policies.can_edit_activity(u, p.published),
    "approve": lambda u, p: policies.can_approve_activity(u, p.submitted),
    "sign_others_up": lambda u, p: policies.can_sign_up_others(u, p.published),
    "view_signups": lambda u, p: policies.can_view_signups(u, p.published),
    "cancel_their_signup": lambda u, p: policies.can_cancel_signup(u, p.seat),
    "scan": lambda u, p: policies.can_scan(u, p.published),
    "decide_correction": lambda u, p: policies.can_decide_correction(u, p.correction),
    "publish_recap": lambda u, p: policies.can_publish_recap(u, p.published),
}
EVERYTHING = frozenset(ACTIONS)
STATION = EVERYTHING - {"approve"}
NOTHING: frozenset[str] = frozenset()

# persona → (allowed on own station, allowed on the other station)
EXPECTED: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "admin": (EVERYTHING, EVERYTHING),
    "subcentre_admin": (EVERYTHING, NOTHING),
    "manager_a": (STATION, NOTHING),
    "manager_b": (STATION, NOTHING),
    "manager_c": (STATION, NOTHING),
    "leader_a": (NOTHING, NOTHING),
    "volunteer_a": (NOTHING, NOTHING),
    "resident_a": (NOTHING, NOTHING),
    "resident_b": (NOTHING, NOTHING),
    "liaison_a": (NOTHING, NOTHING),
}


def test_the_table_covers_every_persona() -> None:
    assert set(PLACES) == set(EXPECTED) == set(PERSONAS)


@pytest.mark.parametrize("persona", PERSONAS)
def test_matrix(persona: str, people: Any, world: dict[str, Place]) -> None:
    actor = getattr(people, persona)
    own, other = (world[key] for key in PLACES[persona])
    got = tuple({name for name, predicate in ACTIONS.items() if predicate(actor, place)} for place in (own, other))
    assert got == tuple(set(allowed) for allowed in EXPECTED[persona])


def test_anonymous_may_do_nothing(world: dict[str, Place]) -> None:
    for place in world.values():
        for name, predicate in ACTIONS.items():
            assert predicate(AnonymousUser(), place) is False, name


def test_an_inactive_manager_loses_everything(people: Any, world: dict[str, Place]) -> None:
    manager = people.manager_a
    manager.is_active = False
    manager.save()
    fresh = User.objects.get(pk=manager.pk)
    for name, predicate in ACTIONS.items():
        assert predicate(fresh, world["A"]) is False, name


def test_everyone_sees_public_activities_and_their_own_sign_ups(people: Any, world: dict[str, Place]) -> None:
    for persona in PERSONAS:
        for place in world.values():
            assert policies.can_view_activity(getattr(people, persona), place.published)
    seat = world["A"].seat
    assert policies.can_view_signup(seat.user, seat)
    assert policies.can_cancel_signup(seat.user, seat)
    assert policies.can_request_correction(world["A"].correction.signup.user, world["A"].correction.signup)
    assert not policies.can_request_correction(people.manager_a, world["A"].correction.signup)


# --- The services and the API agree with the table -----------------------------------------------------


def _outcome(call: Callable[[], Any]) -> str:
    try:
        result = call()
    except DomainError as refused:
        return refused.code
    if isinstance(result, services.Scan):
        return "ok" if result.outcome == Outcome.OK else result.outcome.value
    return "ok"


@pytest.mark.parametrize("persona", PERSONAS)
def test_services_and_api_follow_the_table(persona: str, client: Client, people: Any, world: dict[str, Place]) -> None:
    actor = getattr(people, persona)
    for where, key in zip(("own", "other"), PLACES[persona], strict=True):
        _ask_services(client, actor, world[key], EXPECTED[persona][0 if where == "own" else 1], where)


def _ask_services(client: Client, actor: User, place: Place, allowed: frozenset[str], where: str) -> None:
    during = place.published.starts_at + dt.timedelta(minutes=5)

    raw, _token = account_services.issue_api_token(user=actor)
    response = client.get(f"/api/activities/{place.draft.pk}", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == (200 if "view_draft" in allowed else 404), where

    def fresh(activity: Activity) -> Activity:
        return Activity.objects.select_related("site").get(pk=activity.pk)

    got = {
        "edit": _outcome(lambda: services.update_activity(actor=actor, activity=fresh(place.published), title="新")),
        "approve": _outcome(lambda: services.approve_activity(actor=actor, activity=fresh(place.submitted))),
        "sign_others_up": _outcome(
            lambda: services.sign_up(actor=actor, activity=fresh(place.published), user=place.newcomer, now=during)
        ),
        "scan": _outcome(
            lambda: services.check_in(actor=actor, activity=fresh(place.published), code=place.seat.code, now=during)
        ),
        "decide_correction": _outcome(
            lambda: services.decide_hours_correction(actor=actor, correction=place.correction, approve=True)
        ),
    }
    refusal = {
        "edit": NotFound.code,
        "approve": "approval_required" if "edit" in allowed else NotFound.code,
        "sign_others_up": NotAllowed.code,
        "scan": NotFound.code,
        "decide_correction": NotFound.code,
    }
    expected = {name: "ok" if name in allowed else refusal[name] for name in got}
    assert got == expected, where
