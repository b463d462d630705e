"""/api/activities…: the list and its filters, one activity, creating, moving, sign-ups, check-in and check-out.

Callers use bearer tokens (``accounts.services.issue_api_token``) or the
session of a signed-in page. Drafts exist only for the staff who run them:
everyone else gets the same 404 as for an id nobody has.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import CJK
from wenming.accounts import services as account_services
from wenming.activities import services
from wenming.activities.models import Activity, Post, Signup, SignupStatus
from wenming.network.models import Brand, Venue
from wenming.volunteers.models import ServiceRecord

pytestmark = pytest.mark.django_db


def auth(user: Any) -> dict[str, str]:
    raw, _token = account_services.issue_api_token(user=user)
    return {"Authorization": f"Bearer {raw}"}


def get(client: Client, url: str, caller: Any = None, **params: Any) -> Any:
    return client.get(url, params, headers=auth(caller) if caller is not None else {})


def post(client: Client, url: str, data: Any, caller: Any = None) -> Any:
    return client.post(url, data, content_type="application/json", headers=auth(caller) if caller else {})


def delete(client: Client, url: str, caller: Any) -> Any:
    return client.delete(url, headers=auth(caller))


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert CJK.search(body["message"]), body
    return body


def titles(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["title"] for row in response.json()["results"]]


# --- GET /api/activities ----------------------------------------------------------------------------


@pytest.fixture
def catalogue(street: Any, make_activity: Any, when: Any) -> dict[str, Activity]:
    """Activities of every kind, on different days of the test week."""
    return {
        "a": make_activity(
            title="甲站书法课", platform="culture", starts_at=when(0, "10:00"), ends_at=when(0, "11:00")
        ),
        "point": make_activity(
            site=street.point_a,
            title="一号楼健身操",
            platform="fitness",
            description="适合老年人的 Yoga 入门",
            starts_at=when(2, "10:00"),
            ends_at=when(2, "11:00"),
        ),
        "b": make_activity(site=street.station_b, title="乙站电影放映", platform="culture", lecture_format="film"),
        "c": make_activity(site=street.station_c, title="丙站科普展", platform="science"),
        "a_draft": make_activity(status="draft", title="甲站草稿"),
        "a_submitted": make_activity(status="submitted", title="甲站待审"),
        "b_draft": make_activity(site=street.station_b, status="draft", title="乙站草稿"),
        "a_cancelled": make_activity(
            status="cancelled", title="甲站已取消", starts_at=when(4, "14:00"), ends_at=when(4, "15:00")
        ),
    }


PUBLIC = ["甲站书法课", "一号楼健身操", "甲站已取消", "乙站电影放映", "丙站科普展"]


def test_the_public_list(client: Client, catalogue: Any) -> None:
    response = get(client, "/api/activities")
    assert titles(response) == PUBLIC  # by start time
    body = response.json()
    assert (body["count"], body["page"], body["page_size"]) == (5, 1, 20)
    row = body["results"][0]
    assert row["site"]["name"] == "甲居民区实践站"
    assert (row["status"], row["status_label"], row["platform_label"]) == ("published", "已发布", "文化服务")
    assert (row["seats"], row["seats_left"], row["waitlisted"]) == (10, 10, 0)


@pytest.mark.parametrize(
    ("persona", "extra"),
    [
        (None, []),
        ("resident_a", []),
        ("volunteer_a", []),
        ("manager_a", ["甲站草稿", "甲站待审"]),
        ("manager_b", ["乙站草稿"]),
        ("manager_c", []),
        ("subcentre_admin", ["甲站草稿", "甲站待审", "乙站草稿"]),
        ("admin", ["甲站草稿", "甲站待审", "乙站草稿"]),
    ],
)
def test_drafts_are_listed_only_for_their_staff(
    persona: str | None, extra: list[str], client: Client, people: Any, catalogue: Any
) -> None:
    caller = getattr(people, persona) if persona else None
    assert sorted(titles(get(client, "/api/activities", caller))) == sorted(PUBLIC + extra)
    assert sorted(titles(get(client, "/api/activities", caller, status="draft"))) == sorted(
        t for t in extra if t.endswith("草稿")
    )


def test_the_site_filter_includes_the_subtree(client: Client, street: Any, catalogue: Any) -> None:
    assert titles(get(client, "/api/activities", site=street.station_a.pk)) == [
        "甲站书法课",
        "一号楼健身操",
        "甲站已取消",
    ]
    assert titles(get(client, "/api/activities", site=street.point_a.pk)) == ["一号楼健身操"]
    assert titles(get(client, "/api/activities", site=street.subcentre.pk)) == PUBLIC[:4]
    assert titles(get(client, "/api/activities", site=street.station_b.pk)) == ["乙站电影放映"]
    assert titles(get(client, "/api/activities", site=999_999)) == []


def test_from_and_to_take_dates_and_moments(client: Client, catalogue: Any, when: Any) -> None:
    wednesday = when(2, "10:00")
    day = timezone.localtime(wednesday).date()
    assert titles(get(client, "/api/activities", **{"from": day.isoformat()})) == PUBLIC[1:]
    # ``to`` as a date includes the whole day.
    assert titles(get(client, "/api/activities", to=day.isoformat())) == PUBLIC[:2]
    assert titles(get(client, "/api/activities", **{"from": day.isoformat(), "to": day.isoformat()})) == [PUBLIC[1]]
    # As moments: ``from`` inclusive, ``to`` exclusive, in any offset.
    moment = timezone.localtime(wednesday).isoformat()
    assert titles(get(client, "/api/activities", **{"from": moment})) == PUBLIC[1:]
    assert titles(get(client, "/api/activities", to=moment)) == PUBLIC[:1]
    utc = wednesday.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    assert titles(get(client, "/api/activities", to=utc)) == PUBLIC[:1]
    response = get(client, "/api/activities", **{"from": "next tuesday"})
    assert response.status_code == 422
    response = get(
        client, "/api/activities", **{"from": timezone.localtime(wednesday).replace(tzinfo=None).isoformat()}
    )
    assert response.status_code == 422  # a moment must say its offset


def test_platform_and_text_filters(client: Client, catalogue: Any) -> None:
    assert titles(get(client, "/api/activities", platform="culture")) == ["甲站书法课", "乙站电影放映"]
    assert titles(get(client, "/api/activities", platform="fitness")) == ["一号楼健身操"]
    assert get(client, "/api/activities", platform="painting").status_code == 422
    assert titles(get(client, "/api/activities", q="书法")) == ["甲站书法课"]
    assert titles(get(client, "/api/activities", q="yoga")) == ["一号楼健身操"]  # in the description
    assert titles(get(client, "/api/activities", q="草稿")) == []
    assert titles(get(client, "/api/activities", q="站", platform="culture", site=catalogue["a"].site_id)) == [
        "甲站书法课"
    ]


def test_pages(client: Client, catalogue: Any) -> None:
    first = get(client, "/api/activities", page_size=2).json()
    last = get(client, "/api/activities", page_size=2, page=3).json()
    beyond = get(client, "/api/activities", page_size=2, page=9).json()
    assert [r["title"] for r in first["results"]] == PUBLIC[:2]
    assert [r["title"] for r in last["results"]] == PUBLIC[4:]
    assert (beyond["count"], beyond["results"]) == (5, [])
    assert get(client, "/api/activities", page_size=101).status_code == 422


def test_a_list_costs_the_same_queries_for_2_or_20_rows(
    client: Client, people: Any, street: Any, make_activity: Any, when: Any
) -> None:
    hall = Venue.objects.create(site=street.station_a, name="多功能活动室", area_m2=80, capacity=40)

    def make(count: int, offset: int) -> None:
        for i in range(count):
            start = when(0, "08:00") + dt.timedelta(hours=3 * (i + offset))
            make_activity(
                site=street.point_a if i % 3 == 0 else street.station_a,
                venue=hall if i % 2 == 0 else None,
                title=f"活动{i + offset}",
                starts_at=start,
                ends_at=start + dt.timedelta(hours=2),
            )

    def queries(caller: Any) -> int:
        headers = auth(caller) if caller else {}
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/api/activities", {"page_size": 20}, headers=headers)
        assert response.status_code == 200
        return len(captured)

    make(2, 0)
    few = {persona: queries(getattr(people, persona) if persona else None) for persona in (None, "manager_a")}
    make(18, 2)
    assert len(get(client, "/api/activities", page_size=20).json()["results"]) == 20
    many = {persona: queries(getattr(people, persona) if persona else None) for persona in (None, "manager_a")}
    # Anonymous: the count and the page. Signed in: the token and the role grants besides.
    assert few == many == {None: 2, "manager_a": 4}


# --- GET /api/activities/{id} -----------------------------------------------------------------------


def test_one_activity_with_its_posts_and_theme(
    client: Client, people: Any, street: Any, make_activity: Any, when: Any
) -> None:
    start = timezone.localtime(when(5, "09:00"))
    plan = services.create_plan(actor=people.manager_a, site=street.station_a, year=start.year, title="计划")
    services.set_monthly_theme(actor=people.manager_a, plan=plan, month=start.month, theme="邻里守望")
    brand = Brand.objects.create(site=street.station_a, name="甲站益家")
    activity = make_activity(brand=brand, posts=[{"name": "引导员", "headcount": 2}])
    body = get(client, f"/api/activities/{activity.pk}").json()
    assert body["id"] == activity.pk
    assert body["theme"] == "邻里守望"
    assert body["brand"] == {"id": brand.pk, "name": "甲站益家"}
    assert [(p["name"], p["headcount"], p["filled"]) for p in body["posts"]] == [("引导员", 2, 0)]
    assert dt.datetime.fromisoformat(body["cancel_deadline"]) == activity.starts_at
    assert dt.datetime.fromisoformat(body["checkin_opens_at"]) == activity.checkin_opens_at


@pytest.mark.parametrize("persona", [None, "resident_a", "volunteer_a", "manager_b", "manager_c"])
def test_someone_elses_draft_is_not_found(persona: str | None, client: Client, people: Any, make_activity: Any) -> None:
    caller = getattr(people, persona) if persona else None
    for status in ("draft", "submitted"):
        activity = make_activity(status=status)
        assert_error(get(client, f"/api/activities/{activity.pk}", caller), 404, "not_found")
    assert_error(get(client, "/api/activities/987654", caller), 404, "not_found")


def test_own_drafts_are_readable(client: Client, people: Any, make_activity: Any) -> None:
    activity = make_activity(status="draft")
    for persona in ("manager_a", "subcentre_admin", "admin"):
        response = get(client, f"/api/activities/{activity.pk}", getattr(people, persona))
        assert response.status_code == 200
        assert response.json()["status"] == "draft"


def test_a_draft_cancelled_before_publication_stays_hidden(client: Client, people: Any, make_activity: Any) -> None:
    """Cancelled without ever being published: not in the public list, so not readable one by one either."""
    activity = make_activity(status="draft", title="没发布就取消的")
    services.cancel_activity(actor=people.manager_a, activity=activity, reason="计划有变")
    assert "没发布就取消的" not in titles(get(client, "/api/activities"))
    assert_error(get(client, f"/api/activities/{activity.pk}"), 404, "not_found")
    assert_error(get(client, f"/api/activities/{activity.pk}", people.manager_b), 404, "not_found")
    assert get(client, f"/api/activities/{activity.pk}", people.manager_a).status_code == 200


# --- POST /api/activities ----------------------------------------------------------------------------


def payload(street: Any, when: Any, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "site_id": street.station_a.pk,
        "title": "反诈宣传讲座",
        "platform": "theory",
        "lecture_format": "bench",
        "starts_at": when(5, "14:00").isoformat(),
        "ends_at": when(5, "15:30").isoformat(),
        "seats": 30,
        "waitlist_limit": 5,
        "posts": [{"name": "签到引导", "headcount": 2}],
    }
    body.update(extra)
    return body


def test_create_answers_201_with_the_draft(client: Client, people: Any, street: Any, when: Any) -> None:
    response = post(client, "/api/activities", payload(street, when), people.manager_a)
    assert response.status_code == 201, response.content
    body = response.json()
    activity = Activity.objects.get(pk=body["id"])
    assert (body["status"], activity.status, activity.created_by) == ("draft", "draft", people.manager_a)
    assert (body["lecture_format"], body["seats"], body["waitlist_limit"]) == ("bench", 30, 5)
    assert [p["name"] for p in body["posts"]] == ["签到引导"]
    assert activity.starts_at == when(5, "14:00")


def test_create_from_a_session(client: Client, people: Any, street: Any, when: Any) -> None:
    client.force_login(people.manager_a)
    response = client.post("/api/activities", payload(street, when), content_type="application/json")
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("persona", "status", "code"),
    [
        (None, 401, "unauthorized"),
        ("resident_a", 403, "forbidden"),
        ("volunteer_a", 403, "forbidden"),
        ("manager_b", 403, "forbidden"),
    ],
)
def test_create_needs_staff_of_the_site(
    persona: str | None, status: int, code: str, client: Client, people: Any, street: Any, when: Any
) -> None:
    caller = getattr(people, persona) if persona else None
    assert_error(post(client, "/api/activities", payload(street, when), caller), status, code)
    assert not Activity.objects.exists()


def test_create_refusals_write_nothing(client: Client, people: Any, street: Any, when: Any) -> None:
    b_venue = Venue.objects.create(site=street.station_b, name="乙站活动室", area_m2=50, capacity=20)
    b_brand = Brand.objects.create(site=street.station_b, name="乙站品牌")
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"ends_at": when(5, "13:00").isoformat()}, 400, "invalid_time"),
        ({"signup_closes_at": when(5, "16:00").isoformat()}, 400, "invalid_time"),
        ({"venue_id": b_venue.pk}, 400, "invalid_venue"),
        ({"venue_id": 987_654}, 400, "invalid_reference"),
        ({"site_id": 987_654}, 400, "invalid_reference"),
        ({"brand_id": b_brand.pk}, 400, "invalid_brand"),
        ({"posts": [{"name": "签到引导", "headcount": 1}, {"name": "签到引导", "headcount": 1}]}, 409, "post_exists"),
        ({"posts": [{"name": "签到", "headcount": 1, "ends_at": when(5, "13:00").isoformat()}]}, 400, "invalid_post"),
        ({"starts_at": "2026-06-01T14:00:00"}, 422, "invalid"),
        ({"platform": "painting"}, 422, "invalid"),
        ({"seats": -1}, 422, "invalid"),
        ({"status": "published"}, 422, "invalid"),
        ({"title": ""}, 422, "invalid"),
    ]
    for extra, status, code in cases:
        assert_error(post(client, "/api/activities", payload(street, when, **extra), people.manager_a), status, code)
    assert not Activity.objects.exists()
    assert not Post.objects.exists()
    response = client.post(
        "/api/activities", "{not json", content_type="application/json", headers=auth(people.manager_a)
    )
    assert_error(response, 400, "malformed_json")


# --- The workflow through the API ----------------------------------------------------------------------


def test_submit_approve_return_cancel(client: Client, people: Any, make_activity: Any) -> None:
    activity = make_activity(status="draft")
    url = f"/api/activities/{activity.pk}"
    assert_error(post(client, f"{url}/submit", {}, people.manager_b), 404, "not_found")
    assert post(client, f"{url}/submit", {}, people.manager_a).json()["status"] == "submitted"
    assert_error(post(client, f"{url}/approve", {}, people.manager_a), 403, "approval_required")
    assert_error(post(client, f"{url}/return", {"note": ""}, people.subcentre_admin), 400, "note_required")
    assert post(client, f"{url}/return", {"note": "补充"}, people.subcentre_admin).json()["status"] == "draft"
    post(client, f"{url}/submit", {}, people.manager_a)
    body = post(client, f"{url}/approve", {"note": "好"}, people.subcentre_admin).json()
    assert body["status"] == "published"
    assert_error(post(client, f"{url}/approve", {}, people.subcentre_admin), 409, "invalid_transition")
    assert_error(post(client, f"{url}/cancel", {"reason": " "}, people.manager_a), 400, "reason_required")
    body = post(client, f"{url}/cancel", {"reason": "下雨"}, people.manager_a).json()
    assert (body["status"], body["cancel_reason"]) == ("cancelled", "下雨")
    assert_error(post(client, f"{url}/cancel", {"reason": "再取消"}, people.manager_a), 409, "invalid_transition")


# --- Sign-ups --------------------------------------------------------------------------------------------


def test_sign_up_confirmed_waitlisted_then_full(
    client: Client, people: Any, make_activity: Any, make_resident: Any
) -> None:
    activity = make_activity(seats=1, waitlist_limit=1)
    url = f"/api/activities/{activity.pk}/signups"
    first = post(client, url, {}, people.resident_a)
    assert first.status_code == 201, first.content
    body = first.json()
    assert (body["status"], body["kind"], body["activity_id"], body["post"]) == (
        "confirmed",
        "resident",
        activity.pk,
        None,
    )
    signup = Signup.objects.get(pk=body["id"])
    assert body["code"] == signup.code
    assert body["qr"] == services.signup_qr_url(signup)
    second = post(client, url, {}, people.resident_b)
    assert (second.status_code, second.json()["status"]) == (201, "waitlisted")
    assert_error(post(client, url, {}, make_resident()), 409, "full")
    assert_error(post(client, url, {}, people.resident_a), 409, "already_signed_up")
    detail = get(client, f"/api/activities/{activity.pk}").json()
    assert (detail["seats_left"], detail["waitlisted"]) == (0, 1)


def test_full_without_a_waitlist(client: Client, people: Any, make_activity: Any) -> None:
    activity = make_activity(seats=1)
    url = f"/api/activities/{activity.pk}/signups"
    assert post(client, url, {}, people.resident_a).status_code == 201
    assert_error(post(client, url, {}, people.resident_b), 409, "full")
    assert Signup.objects.count() == 1


def test_sign_up_with_a_session_and_an_empty_body(client: Client, people: Any, make_activity: Any) -> None:
    activity = make_activity()
    client.force_login(people.resident_a)
    response = client.post(f"/api/activities/{activity.pk}/signups", content_type="application/json")
    assert response.status_code == 201, response.content
    assert Signup.objects.get().user == people.resident_a


def test_staff_sign_others_up(client: Client, people: Any, make_activity: Any) -> None:
    activity = make_activity()
    url = f"/api/activities/{activity.pk}/signups"
    response = post(client, url, {"user_id": people.resident_a.pk}, people.manager_a)
    assert response.status_code == 201, response.content
    assert Signup.objects.get().created_by == people.manager_a
    assert_error(post(client, url, {"user_id": people.resident_b.pk}, people.manager_b), 403, "forbidden")
    assert_error(post(client, url, {"user_id": people.resident_b.pk}, people.resident_a), 403, "forbidden")
    assert_error(post(client, url, {"user_id": 987_654}, people.manager_a), 400, "invalid_reference")
    assert Signup.objects.count() == 1


def test_sign_up_refusals(client: Client, people: Any, chen: Any, make_activity: Any) -> None:
    draft = make_activity(status="draft")
    assert_error(post(client, f"/api/activities/{draft.pk}/signups", {}, people.resident_a), 404, "not_found")
    cancelled = make_activity(status="cancelled")
    assert_error(
        post(client, f"/api/activities/{cancelled.pk}/signups", {}, people.resident_a), 409, "activity_cancelled"
    )
    none = make_activity(seats=0)
    assert_error(post(client, f"/api/activities/{none.pk}/signups", {}, people.resident_a), 409, "no_seats")
    assert_error(post(client, f"/api/activities/{none.pk}/signups", {}), 401, "unauthorized")
    assert not Signup.objects.exists()


def test_volunteers_sign_up_to_posts(client: Client, people: Any, chen: Any, make_activity: Any) -> None:
    activity = make_activity(posts=[{"name": "引导员", "headcount": 1}])
    other = make_activity(posts=[{"name": "摄影", "headcount": 1}])
    url = f"/api/activities/{activity.pk}/signups"
    guide = activity.posts.get()
    assert_error(post(client, url, {"post_id": other.posts.get().pk}, people.volunteer_a), 404, "not_found")
    assert_error(post(client, url, {"post_id": guide.pk}, people.resident_a), 403, "not_a_volunteer")
    response = post(client, url, {"post_id": guide.pk}, people.volunteer_a)
    assert response.status_code == 201, response.content
    assert (response.json()["kind"], response.json()["post"]) == ("volunteer", "引导员")
    second = post(client, url, {"post_id": guide.pk, "user_id": people.leader_a.pk}, people.manager_a)
    assert_error(second, 403, "not_a_volunteer")
    assert get(client, f"/api/activities/{activity.pk}").json()["posts"][0]["filled"] == 1


def test_cancel_my_sign_up(client: Client, people: Any, make_activity: Any, when: Any) -> None:
    activity = make_activity(seats=1, waitlist_limit=1, cancel_deadline=when(4, "12:00"))
    url = f"/api/activities/{activity.pk}/signups"
    post(client, url, {}, people.resident_a)
    post(client, url, {}, people.resident_b)
    response = delete(client, f"{url}/me", people.resident_a)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert Signup.objects.get(user=people.resident_b).status == SignupStatus.CONFIRMED  # promoted
    assert_error(delete(client, f"{url}/me", people.resident_a), 404, "not_found")
    with time_machine.travel(when(4, "12:00"), tick=False):
        assert_error(delete(client, f"{url}/me", people.resident_b), 409, "cancel_closed")
    assert Signup.objects.get(user=people.resident_b).status == SignupStatus.CONFIRMED


def test_the_sign_up_list_is_for_staff_with_masked_phones(
    client: Client, people: Any, chen: Any, make_activity: Any
) -> None:
    activity = make_activity(posts=[{"name": "引导员", "headcount": 1}])
    url = f"/api/activities/{activity.pk}/signups"
    post(client, url, {}, people.resident_a)
    post(client, url, {"post_id": activity.posts.get().pk}, people.volunteer_a)
    response = get(client, url, people.manager_a)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 2
    rows = {r["person"]["name"]: r for r in body["results"]}
    assert rows["王阿姨"]["phone"] == "138****0006"
    assert rows["小陈"]["post"] == "引导员"
    assert people.resident_a.phone not in response.content.decode()
    assert get(client, url, people.subcentre_admin).status_code == 200
    for persona in ("resident_a", "volunteer_a", "manager_b", "manager_c"):
        assert_error(get(client, url, getattr(people, persona)), 404, "not_found")
    assert_error(get(client, url), 401, "unauthorized")


def test_my_sign_ups(client: Client, people: Any, make_activity: Any, when: Any) -> None:
    first = make_activity(title="第一场")
    second = make_activity(title="第二场", starts_at=when(6, "09:00"), ends_at=when(6, "10:00"))
    for activity in (first, second):
        post(client, f"/api/activities/{activity.pk}/signups", {}, people.resident_a)
    post(client, f"/api/activities/{first.pk}/signups", {}, people.resident_b)
    body = get(client, "/api/signups/mine", people.resident_a).json()
    assert [row["activity"]["title"] for row in body] == ["第二场", "第一场"]
    assert all(row["code"] and row["qr"].startswith("http") for row in body)


# --- Check-in and check-out -------------------------------------------------------------------------------


@pytest.fixture
def door(client: Client, people: Any, chen: Any, make_activity: Any) -> dict[str, Any]:
    activity = make_activity(posts=[{"name": "引导员", "headcount": 1}])
    wang = services.sign_up(actor=people.resident_a, activity=activity, now=activity.starts_at - dt.timedelta(days=1))
    helper = services.sign_up(
        actor=people.volunteer_a,
        activity=activity,
        post=activity.posts.get(),
        now=activity.starts_at - dt.timedelta(days=1),
    )
    return {"activity": activity, "wang": wang, "chen": helper, "url": f"/api/activities/{activity.pk}"}


def test_check_in_with_the_qr_url_the_bare_token_or_the_code(client: Client, people: Any, door: Any) -> None:
    activity, wang, url = door["activity"], door["wang"], door["url"]
    headers = auth(people.manager_a)
    with time_machine.travel(activity.starts_at, tick=False):
        scan = client.post(
            f"{url}/checkin", {"token": services.signup_qr_url(wang)}, content_type="application/json", headers=headers
        )
        assert scan.status_code == 200, scan.content
        assert scan.json() == {
            "outcome": "ok",
            "message": "签到成功",
            "person": {"id": people.resident_a.pk, "name": "王阿姨"},
            "post": None,
            "hours": None,
        }
        again = client.post(
            f"{url}/checkin", {"token": services.signup_token(wang)}, content_type="application/json", headers=headers
        )
        assert again.json()["outcome"] == "already"
        by_code = client.post(
            f"{url}/checkin", {"code": door["chen"].code.lower()}, content_type="application/json", headers=headers
        )
        assert (by_code.json()["outcome"], by_code.json()["post"]) == ("ok", "引导员")
        bad = client.post(f"{url}/checkin", {"token": "nonsense"}, content_type="application/json", headers=headers)
        assert bad.json() == {
            "outcome": "invalid",
            "message": "无效的签到码",
            "person": None,
            "post": None,
            "hours": None,
        }
        no_t = client.post(
            f"{url}/checkin",
            {"token": "https://x.example/staff/scan/?q=1"},
            content_type="application/json",
            headers=headers,
        )
        assert no_t.json()["outcome"] == "invalid"
    assert Signup.objects.get(pk=wang.pk).checked_in_at == activity.starts_at


def test_check_in_outside_the_window_or_scope(client: Client, people: Any, door: Any) -> None:
    activity, wang, url = door["activity"], door["wang"], door["url"]
    with time_machine.travel(activity.checkin_opens_at - dt.timedelta(minutes=1), tick=False):
        early = post(client, f"{url}/checkin", {"code": wang.code}, people.manager_a)
        assert early.json()["outcome"] == "not_open"
        for persona in ("manager_b", "resident_a", "volunteer_a"):
            assert_error(
                post(client, f"{url}/checkin", {"code": wang.code}, getattr(people, persona)), 404, "not_found"
            )
    with time_machine.travel(activity.starts_at, tick=False):
        assert_error(post(client, f"{url}/checkin", {"code": wang.code}, people.manager_b), 404, "not_found")
        assert_error(post(client, f"{url}/checkin", {"code": wang.code}), 401, "unauthorized")
        assert post(client, f"{url}/checkin", {"code": wang.code, "extra": 1}, people.manager_a).status_code == 422
    assert Signup.objects.get(pk=wang.pk).checked_in_at is None


def test_check_out_records_the_hours(client: Client, people: Any, door: Any) -> None:
    activity, helper, url = door["activity"], door["chen"], door["url"]
    with time_machine.travel(activity.starts_at, tick=False):
        not_yet = post(client, f"{url}/checkout", {"code": helper.code}, people.manager_a)
        assert not_yet.json()["outcome"] == "not_checked_in"
        post(client, f"{url}/checkin", {"token": services.signup_qr_url(helper)}, people.manager_a)
    with time_machine.travel(activity.starts_at + dt.timedelta(hours=1, minutes=30), tick=False):
        assert_error(post(client, f"{url}/checkout", {"code": helper.code}, people.manager_b), 404, "not_found")
        out = post(client, f"{url}/checkout", {"token": services.signup_qr_url(helper)}, people.manager_a)
        assert out.status_code == 200, out.content
        assert (out.json()["outcome"], out.json()["hours"], out.json()["post"]) == ("ok", 1.5, "引导员")
        again = post(client, f"{url}/checkout", {"token": services.signup_token(helper)}, people.manager_a)
        assert (again.json()["outcome"], again.json()["message"]) == ("already", "已经签退过了")
    assert list(ServiceRecord.objects.values_list("source", "hours")) == [("activity", Decimal("1.50"))]


@pytest.mark.parametrize("value", ["0001-01-01", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_dates_no_database_can_store_are_refused_not_crashed(street: Any, value: str) -> None:
    answer = Client().get("/api/activities", {"from": value})
    assert answer.status_code == 422
    assert CJK.search(answer.content.decode())
