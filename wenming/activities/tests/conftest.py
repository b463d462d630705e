"""Fixtures for the activities tests.

The personas come from the root conftest (张站长 runs 甲站, 李站长 乙站, 钱站长
丙站 in another district, 周主任 the sub-centre above 甲站 and 乙站). Here:

- ``when``: aware Asia/Shanghai times on a fixed week two to three weeks
  ahead (``when(day, "09:00")``, day 0 is that week's Monday), so an
  activity built with the defaults lies in the future and sign-up is open;
- ``make_activity``: an activity made through the services and moved to
  the status asked for (``draft``, ``submitted``, ``published``,
  ``completed``, ``cancelled``) by the people who would move it;
- ``chen``: 小陈 registered as a volunteer of 甲站
  (``wenming.volunteers.services.register_volunteer``);
- ``make_resident``: one more resident of a station;
- ``inbox``: the in-site messages (``notices.Message``) a person received.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any, Protocol

import pytest
from django.utils import timezone

from conftest import People, Street
from wenming.accounts.models import Role, RoleGrant, User
from wenming.activities import services
from wenming.activities.models import Activity, ActivityStatus
from wenming.network.models import Site
from wenming.volunteers import services as volunteer_services
from wenming.volunteers.models import Volunteer

SATURDAY = 5


def week_monday() -> dt.date:
    """The Monday of the week the test activities fall in: two to three weeks from today."""
    today = timezone.localdate()
    return today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=3)


def local(day: dt.date, hhmm: str) -> dt.datetime:
    hour, minute = (int(part) for part in hhmm.split(":"))
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


class When(Protocol):
    def __call__(self, day: int = SATURDAY, hhmm: str = "09:00") -> dt.datetime: ...


@pytest.fixture
def when() -> When:
    """``when(day, "HH:MM")``: that time on day ``day`` (0 = Monday) of the test week."""
    monday = week_monday()

    def at(day: int = SATURDAY, hhmm: str = "09:00") -> dt.datetime:
        return local(monday + dt.timedelta(days=day), hhmm)

    return at


def manager_of(people: People, street: Street, site: Site) -> User:
    """Who runs ``site`` day to day: its station manager (the sub-centre admin above the stations)."""
    if site.path.startswith(street.station_a.path):
        return people.manager_a
    if site.path.startswith(street.station_b.path):
        return people.manager_b
    if site.path.startswith(street.station_c.path):
        return people.manager_c
    if site.path.startswith(street.subcentre.path):
        return people.subcentre_admin
    return people.admin


def activity_fields(when: When, **overrides: Any) -> dict[str, Any]:
    """Valid fields for ``services.create_activity``: a Saturday morning lecture with ten seats."""
    fields: dict[str, Any] = {
        "title": "垃圾分类知识讲座",
        "description": "社区垃圾分类新规解读，现场答疑。",
        "platform": "science",
        "starts_at": when(SATURDAY, "09:00"),
        "ends_at": when(SATURDAY, "11:00"),
        "seats": 10,
        "waitlist_limit": 0,
        "location": "居委会二楼",
    }
    fields.update(overrides)
    return fields


class MakeActivity(Protocol):
    def __call__(
        self,
        *,
        site: Site | None = ...,
        status: str = ...,
        actor: User | None = ...,
        posts: list[dict[str, Any]] | tuple[()] = ...,
        **fields: Any,
    ) -> Activity: ...


@pytest.fixture
def make_activity(people: People, street: Street, when: When) -> MakeActivity:
    """Create an activity through the services, then move it to ``status`` the way people would.

    ``published``: its station manager submits, 平台管理员 approves (so it
    works for every station, with or without a publishing rule);
    ``completed``: published, then completed after its end; ``cancelled``:
    published, then cancelled by its manager.
    """

    def make(
        *,
        site: Site | None = None,
        status: str = ActivityStatus.PUBLISHED,
        actor: User | None = None,
        posts: list[dict[str, Any]] | tuple[()] = (),
        **fields: Any,
    ) -> Activity:
        site = site or street.station_a
        actor = actor or manager_of(people, street, site)
        activity = services.create_activity(actor=actor, site=site, posts=posts, **activity_fields(when, **fields))
        if status == ActivityStatus.DRAFT:
            return activity
        services.submit_activity(actor=actor, activity=activity)
        if status == ActivityStatus.SUBMITTED:
            assert activity.status == ActivityStatus.SUBMITTED
            return activity
        if activity.status == ActivityStatus.SUBMITTED:
            services.approve_activity(actor=people.admin, activity=activity)
        if status == ActivityStatus.COMPLETED:
            services.complete_activity(actor=actor, activity=activity, now=activity.ends_at + dt.timedelta(hours=1))
        elif status == ActivityStatus.CANCELLED:
            services.cancel_activity(actor=actor, activity=activity, reason="天气原因")
        assert activity.status == status, (activity.status, status)
        return activity

    return make


@pytest.fixture
def chen(people: People, street: Street) -> Volunteer:
    """小陈, registered as a volunteer of 甲站 by 张站长."""
    return volunteer_services.register_volunteer(actor=people.manager_a, user=people.volunteer_a, site=street.station_a)


_phones = itertools.count(1)


@pytest.fixture
def make_resident(street: Street) -> Callable[..., User]:
    """``make_resident(name, site=甲站)``: one more resident with a fresh phone number."""

    def make(name: str = "", site: Site | None = None) -> User:
        n = next(_phones)
        user = User.objects.create_user(
            f"1370000{n:04d}", None, name=name or f"居民{n}", home_site=site or street.station_a
        )
        RoleGrant.objects.create(user=user, role=Role.RESIDENT, site=site or street.station_a)
        return user

    return make


@pytest.fixture
def inbox() -> Callable[[User], list[tuple[str, str]]]:
    """``inbox(user)``: (kind, title) of every in-site message the user received, oldest first."""
    from wenming.notices.models import Message

    def read(user: User) -> list[tuple[str, str]]:
        return [(m.kind, m.title) for m in Message.objects.filter(recipient=user).order_by("created_at", "id")]

    return read
