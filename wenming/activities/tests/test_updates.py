"""Editing what exists: more seats go to the waitlist first; posts, plans and recaps change through services."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from conftest import People, Street
from wenming.activities import services
from wenming.activities.models import ActivityStatus, Plan, SignupStatus
from wenming.core.errors import Conflict, Invalid, NotAllowed, NotFound


def test_more_seats_go_to_the_waitlist_in_order(people: People, make_activity: Any, make_resident: Any) -> None:
    activity = make_activity(seats=1, waitlist_limit=3)
    first, second, third, fourth = (make_resident() for _ in range(4))
    services.sign_up(actor=first, activity=activity)
    waiting = [services.sign_up(actor=p, activity=activity) for p in (second, third, fourth)]
    assert [s.status for s in waiting] == [SignupStatus.WAITLISTED] * 3

    services.update_activity(actor=people.manager_a, activity=activity, seats=3)

    statuses = [type(s).objects.get(pk=s.pk).status for s in waiting]
    assert statuses == [SignupStatus.CONFIRMED, SignupStatus.CONFIRMED, SignupStatus.WAITLISTED]
    assert (activity.confirmed_count, activity.waitlist_count) == (3, 1)
    # A newcomer now waits behind the fourth person instead of jumping the queue.
    assert services.sign_up(actor=make_resident(), activity=activity).status == SignupStatus.WAITLISTED


def test_seats_never_below_those_confirmed(people: People, make_activity: Any, make_resident: Any) -> None:
    activity = make_activity(seats=2)
    for _ in range(2):
        services.sign_up(actor=make_resident(), activity=activity)
    with pytest.raises(Invalid) as refused:
        services.update_activity(actor=people.manager_a, activity=activity, seats=1)
    assert refused.value.code == "invalid_seats"
    activity.refresh_from_db()
    assert activity.seats == 2


def test_a_post_changes_but_never_below_its_volunteers(
    people: People, make_activity: Any, when: Any, chen: Any
) -> None:
    activity = make_activity(posts=[{"name": "引导", "headcount": 2}])
    post = activity.posts.get()
    services.sign_up(actor=people.volunteer_a, activity=activity, post=post)

    changed = services.update_post(actor=people.manager_a, post=post, name="签到引导", headcount=1)
    assert (changed.name, changed.headcount, changed.filled_count) == ("签到引导", 1, 1)

    with pytest.raises(Invalid) as refused:
        services.update_post(actor=people.manager_a, post=post, headcount=0)
    assert refused.value.code == "invalid_post"
    with pytest.raises(Invalid):
        services.update_post(actor=people.manager_a, post=post, ends_at=post.starts_at - dt.timedelta(hours=1))
    with pytest.raises(NotFound):
        services.update_post(actor=people.manager_b, post=post, name="别人的岗位")
    post.refresh_from_db()
    assert (post.name, post.headcount) == ("签到引导", 1)


def test_a_post_name_stays_unique(people: People, make_activity: Any) -> None:
    activity = make_activity(posts=[{"name": "引导", "headcount": 2}, {"name": "摄影", "headcount": 1}])
    photo = activity.posts.get(name="摄影")
    with pytest.raises(Conflict):
        services.update_post(actor=people.manager_a, post=photo, name="引导")
    photo.refresh_from_db()
    assert photo.name == "摄影"


def test_plans_are_edited_by_their_staff_only(people: People, street: Street) -> None:
    plan = services.create_plan(actor=people.manager_a, site=street.station_a, year=2027, title="2027年计划")
    services.update_plan(actor=people.manager_a, plan=plan, title="2027年度工作计划", description="年有计划")
    plan.refresh_from_db()
    assert (plan.title, plan.description) == ("2027年度工作计划", "年有计划")
    with pytest.raises(NotAllowed):
        services.update_plan(actor=people.manager_b, plan=plan, title="改")
    with pytest.raises(Invalid):
        services.update_plan(actor=people.manager_a, plan=plan, title="  ")
    assert Plan.objects.get(pk=plan.pk).title == "2027年度工作计划"


def test_a_recap_is_edited_through_the_service(people: People, make_activity: Any) -> None:
    activity = make_activity(status=ActivityStatus.COMPLETED)
    later = activity.ends_at + dt.timedelta(hours=1)
    recap = services.publish_recap(actor=people.manager_a, activity=activity, title="回顾", body="很热闹", now=later)
    services.update_recap(actor=people.manager_a, recap=recap, body="居民反响热烈")
    recap.refresh_from_db()
    assert recap.body == "居民反响热烈"
    with pytest.raises(NotFound):
        services.update_recap(actor=people.manager_b, recap=recap, body="改")
    with pytest.raises(Invalid):
        services.update_recap(actor=people.manager_a, recap=recap, title="")
