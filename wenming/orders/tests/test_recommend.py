"""派单推荐 (orders.recommend.rank): who is suggested for an order, in what order, and why.

The street comes from the root conftest: 甲站 (31.2110, 121.4910) and 乙站 (31.2300, 121.5100)
under 嘉禾路分中心, and 丙站 in another district. Volunteers are made here, each with an account;
an order is a 家电维修 request placed at 甲站, written straight to the table so that every factor
can be set up on its own.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import CJK, People, Street
from wenming.accounts.models import User
from wenming.lib.geo import haversine_m
from wenming.network.models import Site, SiteKind, SiteLevel
from wenming.network.services import create_site
from wenming.orders import policies, recommend
from wenming.orders.models import Channel, Order, OrderEvent, OrderKind, OrderStatus, ServiceType
from wenming.orders.recommend import Candidate, rank
from wenming.orders.services import place_order
from wenming.volunteers.models import Skill, Team, TeamMembership, Volunteer

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)  # a Wednesday
SATURDAY_MORNING = dt.datetime(2026, 12, 5, 9, 30, tzinfo=SHANGHAI)
A = (31.2110, 121.4910)  # 甲站


@dataclass
class Catalogue:
    repair: ServiceType  # skills 家电维修 and 电工, and the 甲站维修队
    anything: ServiceType  # names no skill and no team
    appliance: Skill
    electrician: Skill
    singing: Skill
    repair_team: Team


@pytest.fixture
def catalogue(street: Street) -> Catalogue:
    appliance = Skill.objects.create(name="家电维修", category="生活服务")
    electrician = Skill.objects.create(name="电工", category="生活服务")
    singing = Skill.objects.create(name="声乐", category="文化艺术")
    team = Team.objects.create(site=street.station_a, name="甲站维修队")
    repair = ServiceType.objects.create(code="repair", name="家电维修")
    repair.skills.add(appliance, electrician)
    repair.teams.add(team)
    anything = ServiceType.objects.create(code="errand", name="跑腿代办")
    return Catalogue(repair, anything, appliance, electrician, singing, team)


_phones = itertools.count(1)


def volunteer(
    site: Site,
    *,
    skills: Iterable[Skill] = (),
    teams: Iterable[Team] = (),
    availability: dict[str, list[str]] | None = None,
    active: bool = True,
    user_active: bool = True,
    name: str = "",
) -> Volunteer:
    """A volunteer of ``site``; free on Saturday mornings unless told otherwise."""
    n = next(_phones)
    user = User.objects.create_user(f"1370000{n:04d}", "correct-horse-battery", name=name or f"志愿者{n}")
    if not user_active:
        User.objects.filter(pk=user.pk).update(is_active=False)
    v = Volunteer.objects.create(
        user=user,
        site=site,
        availability={"sat": ["morning"]} if availability is None else availability,
        is_active=active,
    )
    v.skills.set(list(skills))
    for team in teams:
        TeamMembership.objects.create(team=team, volunteer=v)
    return v


def order_at(
    site: Site,
    service_type: ServiceType,
    *,
    location: tuple[float, float] | None = A,
    preferred_at: dt.datetime | None = SATURDAY_MORNING,
    escalated_to: Site | None = None,
) -> Order:
    """A pending request placed at ``site``."""
    return Order.objects.create(
        kind=OrderKind.SERVICE,
        service_type=service_type,
        site=site,
        escalated_to=escalated_to,
        status=OrderStatus.PENDING,
        channel=Channel.STAFF,
        description="洗衣机不转了",
        latitude=location[0] if location else None,
        longitude=location[1] if location else None,
        preferred_at=preferred_at,
        created_at=NOW,
    )


def past_orders(
    v: Volunteer,
    service_type: ServiceType,
    site: Site,
    *,
    count: int = 1,
    status: str = OrderStatus.CLOSED,
    rating: int | None = None,
    days_ago: float = 60,
) -> None:
    """``count`` orders ``v`` accepted ``days_ago`` days before NOW, in ``status``, rated ``rating``."""
    at = NOW - dt.timedelta(days=days_ago)
    Order.objects.bulk_create(
        Order(
            kind=OrderKind.SERVICE,
            service_type=service_type,
            site=site,
            status=status,
            channel=Channel.STAFF,
            description="以前的订单",
            accepted_by=v,
            accepted_at=at,
            rating=rating,
            created_at=at,
            updated_at=at,
        )
        for _ in range(count)
    )


def ids(found: list[Candidate]) -> list[int]:
    return [c.volunteer.pk for c in found]


def reason(candidate: Candidate, factor: str) -> recommend.Reason:
    (only,) = [r for r in candidate.reasons if r.factor == factor]
    return only


# --- Each factor, everything else equal -------------------------------------------------


def test_skilled_outranks_unskilled(street: Street, catalogue: Catalogue) -> None:
    both = volunteer(street.station_a, skills=[catalogue.appliance, catalogue.electrician])
    one = volunteer(street.station_a, skills=[catalogue.appliance])
    member = volunteer(street.station_a, teams=[catalogue.repair_team])
    volunteer(street.station_a, skills=[catalogue.singing])  # does not qualify

    found = rank(order_at(street.station_a, catalogue.repair), now=NOW)

    assert ids(found) == [both.pk, member.pk, one.pk]
    assert reason(found[0], "skill").text == "具备技能：家电维修、电工"
    assert reason(found[1], "skill").text == "服务队成员：甲站维修队"
    assert reason(found[2], "skill").text == "具备技能：家电维修"
    assert reason(found[0], "skill").points == reason(found[1], "skill").points == 25
    assert reason(found[2], "skill").points == 12.5


def test_nearer_outranks_farther(street: Street, catalogue: Catalogue) -> None:
    far = volunteer(street.station_b, skills=[catalogue.appliance])
    near = volunteer(street.station_a, skills=[catalogue.appliance])
    order = order_at(street.station_a, catalogue.repair, escalated_to=street.subcentre)

    found = rank(order, now=NOW)

    assert ids(found) == [near.pk, far.pk]
    assert found[0].distance_m == pytest.approx(0.0, abs=0.1)
    expected = haversine_m(*A, 31.2300, 121.5100)
    assert found[1].distance_m == pytest.approx(expected, abs=0.1)
    assert reason(found[1], "distance").text == f"距离{expected / 1000:.1f}公里"
    assert reason(found[0], "distance").text == "距离0米"
    assert reason(found[0], "distance").points > reason(found[1], "distance").points


def test_without_its_own_location_the_order_is_measured_from_its_site(street: Street, catalogue: Catalogue) -> None:
    near_b = volunteer(street.station_b, skills=[catalogue.appliance])
    near_a = volunteer(street.station_a, skills=[catalogue.appliance])
    order = order_at(street.station_b, catalogue.repair, location=None, escalated_to=street.subcentre)

    found = rank(order, now=NOW)

    assert ids(found) == [near_b.pk, near_a.pk]
    assert found[0].distance_m == 0.0


def test_a_site_without_a_location_gives_no_distance_points(street: Street, catalogue: Catalogue) -> None:
    nowhere = create_site(
        actor=None,
        parent=street.station_a,
        level=SiteLevel.POINT,
        name="无坐标实践点",
        code="HP-JH-A-X",
        kind=SiteKind.OTHER,
    )
    located = volunteer(street.point_a, skills=[catalogue.appliance])
    unlocated = volunteer(nowhere, skills=[catalogue.appliance])

    found = rank(order_at(street.station_a, catalogue.repair), now=NOW)

    assert ids(found) == [located.pk, unlocated.pk]
    assert found[1].distance_m is None
    assert reason(found[1], "distance") == recommend.Reason("distance", 0.0, "所在阵地未标注位置，距离未知")


def test_three_open_orders_rank_below_none(street: Street, catalogue: Catalogue) -> None:
    busy = volunteer(street.station_a, skills=[catalogue.appliance])
    free = volunteer(street.station_a, skills=[catalogue.appliance])
    past_orders(busy, catalogue.repair, street.station_a, count=2, status=OrderStatus.ACCEPTED)
    past_orders(busy, catalogue.repair, street.station_a, count=1, status=OrderStatus.IN_SERVICE)

    found = rank(order_at(street.station_a, catalogue.repair), now=NOW)

    assert ids(found) == [free.pk, busy.pk]
    assert reason(found[1], "load").text == "手上有3单未完成"
    assert reason(found[0], "load").text == "手上没有未完成的订单"
    assert reason(found[1], "load").points == pytest.approx(reason(found[0], "load").points / 4, abs=0.01)


def test_available_at_the_time_outranks_unavailable(street: Street, catalogue: Catalogue) -> None:
    evenings = volunteer(street.station_a, skills=[catalogue.appliance], availability={"sat": ["evening"]})
    unknown = volunteer(street.station_a, skills=[catalogue.appliance], availability={})
    mornings = volunteer(street.station_a, skills=[catalogue.appliance], availability={"sat": ["morning", "evening"]})

    found = rank(order_at(street.station_a, catalogue.repair), now=NOW)

    assert ids(found) == [mornings.pk, unknown.pk, evenings.pk]
    assert [reason(c, "availability").text for c in found] == [
        "周六上午有空",
        "未填写可服务时间",
        "周六上午不在可服务时间内",
    ]
    assert [reason(c, "availability").points for c in found] == [15.0, 7.5, 0.0]


def test_the_preferred_time_is_read_in_shanghai_time() -> None:
    # 01:30 UTC on Saturday is 09:30 in Shanghai; 04:00 UTC is noon.
    assert recommend.day_part(dt.datetime(2026, 12, 5, 1, 30, tzinfo=dt.UTC)) == ("sat", "morning")
    assert recommend.day_part(dt.datetime(2026, 12, 5, 3, 59, tzinfo=dt.UTC)) == ("sat", "morning")
    assert recommend.day_part(dt.datetime(2026, 12, 5, 4, 0, tzinfo=dt.UTC)) == ("sat", "afternoon")
    assert recommend.day_part(dt.datetime(2026, 12, 5, 10, 0, tzinfo=dt.UTC)) == ("sat", "evening")
    assert recommend.day_part(dt.datetime(2026, 12, 5, 16, 30, tzinfo=dt.UTC)) == ("sun", "morning")


def test_no_preferred_time_leaves_availability_out(street: Street, catalogue: Catalogue) -> None:
    volunteer(street.station_a, skills=[catalogue.appliance], availability={"sat": ["evening"]})
    volunteer(street.station_a, skills=[catalogue.appliance], availability={"mon": ["morning"]})

    found = rank(order_at(street.station_a, catalogue.repair, preferred_at=None), now=NOW)

    assert ids(found) == sorted(ids(found))  # a tie, broken by id
    for candidate in found:
        assert {r.factor for r in candidate.reasons} == {"skill", "distance", "load", "rating", "fairness"}
    assert found[0].score == found[1].score


def test_one_five_star_does_not_beat_twenty_at_four_point_eight(street: Street, catalogue: Catalogue) -> None:
    lucky = volunteer(street.station_a, skills=[catalogue.appliance])
    steady = volunteer(street.station_a, skills=[catalogue.appliance])
    past_orders(lucky, catalogue.repair, street.station_a, rating=5)
    past_orders(steady, catalogue.repair, street.station_a, count=16, rating=5)
    past_orders(steady, catalogue.repair, street.station_a, count=4, rating=4)

    found = rank(order_at(street.station_a, catalogue.repair), now=NOW)

    assert ids(found) == [steady.pk, lucky.pk]
    assert reason(found[0], "rating").text == "平均评分4.8（20次）"
    assert reason(found[1], "rating").text == "平均评分5.0（1次）"
    # (5 × 4.0 + 96) / 25 = 4.64 against (5 × 4.0 + 5) / 6 = 4.17.
    assert reason(found[0], "rating").points == pytest.approx(10 * (4.64 - 1) / 4, abs=0.01)
    assert reason(found[1], "rating").points == pytest.approx(10 * (25 / 6 - 1) / 4, abs=0.01)


def test_a_newcomer_gets_the_prior(street: Street, catalogue: Catalogue) -> None:
    newcomer = volunteer(street.station_a, skills=[catalogue.appliance])
    poor = volunteer(street.station_a, skills=[catalogue.appliance])
    past_orders(poor, catalogue.repair, street.station_a, count=3, rating=2)

    found = rank(order_at(street.station_a, catalogue.repair), now=NOW)

    assert ids(found) == [newcomer.pk, poor.pk]
    assert reason(found[0], "rating") == recommend.Reason("rating", 7.5, "暂无评分")


def test_fewer_recent_orders_rank_higher(street: Street, catalogue: Catalogue) -> None:
    recent = volunteer(street.station_a, skills=[catalogue.appliance])
    earlier = volunteer(street.station_a, skills=[catalogue.appliance])
    idle = volunteer(street.station_a, skills=[catalogue.appliance])
    past_orders(recent, catalogue.repair, street.station_a, count=4, days_ago=10)
    past_orders(earlier, catalogue.repair, street.station_a, count=4, days_ago=45)

    found = rank(order_at(street.station_a, catalogue.repair), now=NOW)

    assert ids(found) == [earlier.pk, idle.pk, recent.pk]  # ties on everything but fairness go by id
    assert reason(found[0], "fairness").points == reason(found[1], "fairness").points == 10.0
    assert reason(found[2], "fairness").points == 2.0
    # The average of the three is 4/3 orders in 30 days.
    assert reason(found[2], "fairness").text == "近30天接单4次，多于平均（1.3次）"
    assert reason(found[1], "fairness").text == "近30天未接单，少于平均（1.3次）"


# --- Who is a candidate -------------------------------------------------------------------


def test_volunteers_who_declined_or_released_the_order_are_left_out(street: Street, catalogue: Catalogue) -> None:
    declined = volunteer(street.station_a, skills=[catalogue.appliance])
    released = volunteer(street.station_a, skills=[catalogue.appliance])
    accepted_elsewhere = volunteer(street.station_a, skills=[catalogue.appliance])
    order = order_at(street.station_a, catalogue.repair)
    other = order_at(street.station_a, catalogue.repair)
    for v, action, on in (
        (declined, "decline", order),
        (released, "release", order),
        (accepted_elsewhere, "decline", other),
    ):
        OrderEvent.objects.create(order=on, action=action, from_status="dispatched", to_status="pending", volunteer=v)
    OrderEvent.objects.create(order=order, action="dispatch", from_status="pending", to_status="dispatched")

    assert ids(rank(order, now=NOW)) == [accepted_elsewhere.pk]
    assert ids(rank(other, now=NOW)) == [declined.pk, released.pk]


def test_only_the_responsible_subtree(street: Street, catalogue: Catalogue) -> None:
    at_a = volunteer(street.station_a, skills=[catalogue.appliance])
    at_point = volunteer(street.point_a, skills=[catalogue.appliance])
    at_b = volunteer(street.station_b, skills=[catalogue.appliance])
    volunteer(street.station_c, skills=[catalogue.appliance])

    assert set(ids(rank(order_at(street.station_a, catalogue.repair), now=NOW))) == {at_a.pk, at_point.pk}
    escalated = order_at(street.station_a, catalogue.repair, escalated_to=street.subcentre)
    assert set(ids(rank(escalated, now=NOW))) == {at_a.pk, at_point.pk, at_b.pk}


def test_inactive_volunteers_and_accounts_are_left_out(street: Street, catalogue: Catalogue) -> None:
    active = volunteer(street.station_a, skills=[catalogue.appliance])
    volunteer(street.station_a, skills=[catalogue.appliance], active=False)
    volunteer(street.station_a, skills=[catalogue.appliance], user_active=False)

    assert ids(rank(order_at(street.station_a, catalogue.repair), now=NOW)) == [active.pk]


def test_a_type_naming_nothing_is_open_to_everyone(street: Street, catalogue: Catalogue) -> None:
    singer = volunteer(street.station_a, skills=[catalogue.singing])
    plain = volunteer(street.station_a)

    found = rank(order_at(street.station_a, catalogue.anything), now=NOW)

    assert ids(found) == [singer.pk, plain.pk]
    assert all("skill" not in {r.factor for r in c.reasons} for c in found)
    # The other weights are scaled to 100: a fresh, free volunteer next door scores all but the prior's gap.
    assert found[0].score == pytest.approx(100 - 100 / 75 * 10 * (1 - 0.75), abs=0.02)


def test_candidates_are_those_policies_qualify(
    street: Street, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SQL's own test of who qualifies agrees with policies.qualified_volunteers, in both of its
    forms (asking per volunteer over a few sites; reading the skill holders once over many)."""
    rng = random.Random(5)
    sites = [street.subcentre, street.station_a, street.station_b, street.point_a, street.station_c]
    skills = [catalogue.appliance, catalogue.electrician, catalogue.singing]
    other_team = Team.objects.create(site=street.station_b, name="乙站宣讲队")
    for _ in range(40):
        volunteer(
            rng.choice(sites),
            skills=rng.sample(skills, rng.randint(0, 2)),
            teams=rng.sample([catalogue.repair_team, other_team], rng.randint(0, 1)),
            active=rng.random() > 0.1,
            user_active=rng.random() > 0.1,
        )
    order = order_at(street.station_a, catalogue.repair, escalated_to=street.district)
    refused = Volunteer.objects.filter(site=street.station_b).first()
    assert refused is not None
    OrderEvent.objects.create(order=order, action="decline", to_status="pending", volunteer=refused)
    expected = set(policies.qualified_volunteers(order).exclude(pk=refused.pk).values_list("pk", flat=True))
    assert 5 < len(expected) < 40

    assert set(ids(rank(order, limit=100, now=NOW))) == expected
    monkeypatch.setattr(recommend, "MANY_SITES", 0)
    monkeypatch.setattr(recommend, "RINGS", (1, 1, 10**9))
    assert set(ids(rank(order, limit=100, now=NOW))) == expected


# --- The answer's shape -------------------------------------------------------------------


def test_every_reason_is_there_in_chinese_and_adds_up(street: Street, catalogue: Catalogue) -> None:
    v = volunteer(street.station_a, skills=[catalogue.appliance], teams=[catalogue.repair_team])
    past_orders(v, catalogue.repair, street.station_a, count=2, rating=5, days_ago=5)
    volunteer(street.station_b, skills=[catalogue.electrician], availability={})

    found = rank(order_at(street.station_a, catalogue.repair, escalated_to=street.subcentre), now=NOW)

    assert len(found) == 2
    for candidate in found:
        assert [r.factor for r in candidate.reasons] == [
            "skill",
            "distance",
            "availability",
            "load",
            "rating",
            "fairness",
        ]
        assert all(CJK.search(r.text) for r in candidate.reasons)
        assert candidate.score == pytest.approx(sum(r.points for r in candidate.reasons), abs=0.05)
        assert 0 <= candidate.score <= 100
    assert reason(found[0], "skill").text == "具备技能：家电维修；服务队成员：甲站维修队"
    assert found[0].score >= found[1].score


def test_ties_are_broken_by_volunteer_id(street: Street, catalogue: Catalogue) -> None:
    twins = [volunteer(street.station_a, skills=[catalogue.appliance]) for _ in range(4)]
    order = order_at(street.station_a, catalogue.repair)

    first = rank(order, now=NOW)

    assert ids(first) == [v.pk for v in twins]
    assert len({c.score for c in first}) == 1
    assert [ids(rank(order, now=NOW)) for _ in range(3)] == [ids(first)] * 3


def test_the_limit_is_honoured(street: Street, catalogue: Catalogue) -> None:
    for _ in range(7):
        volunteer(street.station_a, skills=[catalogue.appliance])
    order = order_at(street.station_a, catalogue.repair)

    assert len(rank(order, now=NOW)) == 5
    assert len(rank(order, limit=3, now=NOW)) == 3
    assert len(rank(order, limit=20, now=NOW)) == 7
    assert rank(order, limit=0, now=NOW) == []


def test_no_candidates(street: Street, catalogue: Catalogue) -> None:
    volunteer(street.station_a, skills=[catalogue.singing])

    assert rank(order_at(street.station_a, catalogue.repair), now=NOW) == []


def test_an_order_placed_through_the_services(street: Street, people: People, catalogue: Catalogue) -> None:
    v = volunteer(street.station_a, skills=[catalogue.appliance])

    order = place_order(
        actor=people.resident_a,
        service_type=catalogue.repair,
        description="洗衣机不转了",
        latitude=A[0],
        longitude=A[1],
    )

    assert ids(rank(order)) == [v.pk]


# --- The ranking is exact -----------------------------------------------------------------


def _reference(order: Order, now: dt.datetime, limit: int) -> list[tuple[float, int]]:
    """Every candidate scored in Python from scratch, best first."""
    plan = recommend._plan(order, now)
    refused = set(
        OrderEvent.objects.filter(order=order, action__in=recommend.REFUSALS).values_list("volunteer_id", flat=True)
    )
    scored = []
    for v in policies.qualified_volunteers(order).select_related("site").prefetch_related("skills", "memberships"):
        if v.pk in refused:
            continue
        points = 0.0
        w = plan.weights
        if "skill" in w:
            teams = {m.team_id for m in v.memberships.all()} & set(plan.team_ids)
            held = {s.pk for s in v.skills.all()} & set(plan.skills)
            points += w["skill"] * (1.0 if teams else len(held) / len(plan.skills))
        if "distance" in w and plan.origin and v.site.has_location:
            assert v.site.latitude is not None
            assert v.site.longitude is not None
            points += w["distance"] * recommend.distance_raw(
                haversine_m(*plan.origin, v.site.latitude, v.site.longitude)
            )
        if "availability" in w and plan.slot:
            points += w["availability"] * recommend.availability_raw(v.availability, *plan.slot)
        mine = Order.objects.filter(accepted_by=v)
        held_n = mine.filter(status__in=["accepted", "in_service"]).count()
        recent = mine.filter(accepted_at__gte=now - dt.timedelta(days=30)).count()
        ratings = [r for r in mine.values_list("rating", flat=True) if r is not None]
        points += w["load"] / (1 + held_n) + w["fairness"] / (1 + recent)
        points += w["rating"] * recommend.rating_raw(sum(ratings), len(ratings))
        scored.append((-points, v.pk))
    return sorted(scored)[:limit]


@pytest.mark.parametrize("rings", [(8, 24, 10**9), (1, 2, 10**9), (2, 1, 10**9)])
def test_rank_matches_scoring_every_candidate(
    street: Street, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch, rings: tuple[int, ...]
) -> None:
    """Twenty sites around 甲站, 120 volunteers with every kind of history; scoring site by site and
    skipping hopeless sites gives the same five, with the same scores, as scoring everyone."""
    monkeypatch.setattr(recommend, "RINGS", rings)
    monkeypatch.setattr(recommend, "MANY_SITES", 4)
    rng = random.Random(11)
    sites = [street.station_a, street.station_b, street.point_a]
    for i in range(17):
        sites.append(
            create_site(
                actor=None,
                parent=street.station_b,
                level=SiteLevel.POINT,
                name=f"乙站{i + 1}号点",
                code=f"HP-JH-B-{i + 1}",
                kind=SiteKind.BUILDING,
                latitude=None if i == 0 else A[0] + rng.uniform(-0.05, 0.05),
                longitude=None if i == 0 else A[1] + rng.uniform(-0.05, 0.05),
            )
        )
    skills = [catalogue.appliance, catalogue.electrician, catalogue.singing]
    slots = [{}, {"sat": ["morning"]}, {"sat": ["evening"]}, {"sun": ["morning", "afternoon"]}]
    everyone = []
    for _ in range(120):
        v = volunteer(
            rng.choice(sites),
            skills=rng.sample(skills, rng.randint(0, 3)),
            teams=[catalogue.repair_team] if rng.random() < 0.1 else [],
            availability=rng.choice(slots),
        )
        everyone.append(v)
        for status, rating, days in (
            (OrderStatus.CLOSED, rng.choice([None, 3, 4, 5, 5]), rng.uniform(1, 90)),
            (OrderStatus.ACCEPTED, None, rng.uniform(0, 5)),
        ):
            if rng.random() < 0.4:
                past_orders(
                    v,
                    catalogue.repair,
                    street.station_a,
                    count=rng.randint(1, 3),
                    status=status,
                    rating=rating,
                    days_ago=days,
                )
    orders = [
        order_at(street.station_a, catalogue.repair, escalated_to=street.subcentre),
        order_at(street.station_a, catalogue.repair, escalated_to=street.subcentre, location=(31.25, 121.52)),
        order_at(street.station_a, catalogue.repair, escalated_to=street.subcentre, preferred_at=None),
        order_at(street.station_a, catalogue.anything, escalated_to=street.subcentre, location=(31.19, 121.47)),
        order_at(street.station_b, catalogue.repair, location=None),
    ]
    for v in rng.sample(everyone, 10):
        OrderEvent.objects.create(order=orders[0], action="decline", to_status="pending", volunteer=v)

    for order in orders:
        want = _reference(order, NOW, 5)
        got = rank(order, now=NOW)
        assert ids(got) == [pk for _, pk in want]
        assert [c.score for c in got] == pytest.approx([-s for s, _ in want], abs=0.05)


def test_a_far_volunteer_with_a_fine_record_is_not_skipped(
    street: Street, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second ring only looks at the orders of volunteers whose other points can still reach the
    first ring's fifth score; a team member 2.9 km away with thirty 5★ ratings just can, and wins."""
    monkeypatch.setattr(recommend, "RINGS", (3, 10**9))  # 甲站, its point and the sub-centre; then 乙站
    for _ in range(5):
        near = volunteer(street.station_a, skills=[catalogue.appliance])
        past_orders(near, catalogue.repair, street.station_a, status=OrderStatus.ACCEPTED, days_ago=2)
    far = volunteer(street.station_b, teams=[catalogue.repair_team], availability={})
    past_orders(far, catalogue.repair, street.station_b, count=30, rating=5)
    order = order_at(street.station_a, catalogue.repair, escalated_to=street.subcentre)

    found = rank(order, now=NOW)

    assert ids(found)[0] == far.pk
    assert [c.score for c in found] == pytest.approx([-s for s, _ in _reference(order, NOW, 5)], abs=0.05)
    # 25 + 6.6 + 7.5 (no availability given) + 15 + 9.6 + 10 against 12.5 + 25 + 15 + 7.5 + 7.5 + 5.
    d = haversine_m(*A, 31.2300, 121.5100)
    assert found[0].score == pytest.approx(25 + 25_000 / (1000 + d) + 7.5 + 15 + 10 * (170 / 35 - 1) / 4 + 10, abs=0.01)
    assert found[1].score == pytest.approx(72.5, abs=0.01)


def test_where_only_full_skill_points_can_win_only_those_are_read(
    street: Street, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After 甲站's five busy one-skill volunteers (72.5 each), no one-skill volunteer of 乙站 can
    reach the bar (6.6 + 12.5 + 15 + 35 < 72.5), but a holder of both skills can: 乙站 is read for
    its full-skill volunteers only, and the holder of both with a fine record wins."""
    monkeypatch.setattr(recommend, "RINGS", (3, 10**9))  # 甲站, its point and the sub-centre; then 乙站
    for _ in range(5):
        near = volunteer(street.station_a, skills=[catalogue.appliance])
        past_orders(near, catalogue.repair, street.station_a, status=OrderStatus.ACCEPTED, days_ago=2)
    both = volunteer(street.station_b, skills=[catalogue.appliance, catalogue.electrician])
    past_orders(both, catalogue.repair, street.station_b, count=30, rating=5)
    one = volunteer(street.station_b, skills=[catalogue.electrician])  # a fresh record: 66.6 at best
    order = order_at(street.station_a, catalogue.repair, escalated_to=street.subcentre)

    with CaptureQueriesContext(connection) as ctx:
        found = rank(order, now=NOW)

    assert ids(found)[0] == both.pk
    assert one.pk not in ids(found)
    assert [c.score for c in found] == pytest.approx([-s for s, _ in _reference(order, NOW, 5)], abs=0.05)
    d = haversine_m(*A, 31.2300, 121.5100)
    assert found[0].score == pytest.approx(25 + 25_000 / (1000 + d) + 15 + 15 + 10 * (170 / 35 - 1) / 4 + 10, abs=0.01)
    # The second ring asked for the holders of every skill, not for everyone at 乙站.
    (second,) = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("WITH c")][1:]
    assert "t.skill_id" in second
    assert "LIMIT 1) IS NOT NULL" not in second


# --- Queries ------------------------------------------------------------------------------


def _network(street: Street, catalogue: Catalogue, *, sites: int, per_site: int) -> Order:
    places = [street.station_a]
    for i in range(sites - 1):
        places.append(
            create_site(
                actor=None,
                parent=street.station_a,
                level=SiteLevel.POINT,
                name=f"甲站{i + 1}号点",
                code=f"HP-JH-A-N{i + 1}",
                kind=SiteKind.BUILDING,
                latitude=A[0] + 0.002 * i,
                longitude=A[1],
            )
        )
    for place in places:
        for _ in range(per_site):
            v = volunteer(place, skills=[catalogue.appliance])
            past_orders(v, catalogue.repair, place, rating=4)
    return order_at(street.station_a, catalogue.repair)


# The type's skills and teams, the sites, up to three rings, four for the chosen five.
QUERY_BUDGET = 10


@pytest.mark.parametrize(("sites", "per_site"), [(1, 1), (2, 3), (40, 3)])
def test_queries_do_not_grow_with_candidates(
    street: Street,
    catalogue: Catalogue,
    django_assert_max_num_queries: Callable[..., Any],
    sites: int,
    per_site: int,
) -> None:
    order = Order.objects.select_related("service_type", "site", "escalated_to").get(
        pk=_network(street, catalogue, sites=sites, per_site=per_site).pk
    )

    with django_assert_max_num_queries(QUERY_BUDGET):
        found = rank(order, now=NOW)

    assert len(found) == min(5, sites * per_site)


def test_the_same_queries_for_few_and_many(street: Street, catalogue: Catalogue) -> None:
    order = _network(street, catalogue, sites=1, per_site=6)
    with CaptureQueriesContext(connection) as small:
        assert len(rank(Order.objects.get(pk=order.pk), now=NOW)) == 5
    Volunteer.objects.filter(site=street.station_a).update(is_active=False)
    for _ in range(60):
        volunteer(street.station_a, skills=[catalogue.appliance])
    with CaptureQueriesContext(connection) as large:
        assert len(rank(Order.objects.get(pk=order.pk), now=NOW)) == 5

    assert len(large.captured_queries) == len(small.captured_queries)
