"""The staff pages of activities, the scanner, self check-in, hours corrections and the admin.

Personas: 张站长 runs 甲站 (where the activities are), 李站长 runs 乙站 and
must find nothing of 甲站's, 周主任 (the sub-centre admin) approves, 王阿姨
and 刘大爷 are residents, 小陈 a volunteer. Every page is rendered for the
right persona and answers 404 to staff of another station; every form
refuses bad input with its Chinese message and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from django.utils import timezone

from conftest import People, Street
from wenming.accounts.models import User
from wenming.activities import services
from wenming.activities.models import (
    Activity,
    ActivityStatus,
    CorrectionStatus,
    HoursCorrection,
    MonthlyTheme,
    Plan,
    Post,
    PublishingRule,
    Series,
    Signup,
    SignupStatus,
    StatusChange,
)
from wenming.lib import qr
from wenming.volunteers.models import ServiceRecord

pytestmark = pytest.mark.django_db

FMT = "%Y-%m-%dT%H:%M"


def page(response: Any) -> str:
    return response.content.decode()


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime(FMT)


@pytest.fixture
def activity(make_activity: Any) -> Activity:
    """A published Saturday lecture at 甲站 with three seats and two waitlist places."""
    return make_activity(seats=3, waitlist_limit=2)


@pytest.fixture
def volunteer_activity(make_activity: Any, when: Any) -> Activity:
    return make_activity(
        title="社区清洁日",
        seats=5,
        posts=[{"name": "引导员", "headcount": 2, "starts_at": when(5, "09:00"), "ends_at": when(5, "11:00")}],
    )


def form_data(when: Any, street: Street, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "site": street.station_a.pk,
        "title": "重阳节包饺子",
        "description": "和邻居们一起包饺子。",
        "platform": "culture",
        "lecture_format": "",
        "audience": "elderly",
        "starts_at": local(when(2, "14:00")),
        "ends_at": local(when(2, "16:00")),
        "venue": "",
        "location": "居委会活动室",
        "brand": "",
        "project": "",
        "seats": "20",
        "waitlist_limit": "5",
        "signup_opens_at": "",
        "signup_closes_at": "",
        "cancel_deadline": "",
        "checkin_opens_at": "",
        "checkin_closes_at": "",
        "contact_name": "张站长",
        "contact_phone": "021-12345678",
        "posts-TOTAL_FORMS": "3",
        "posts-INITIAL_FORMS": "0",
        "posts-MIN_NUM_FORMS": "0",
        "posts-MAX_NUM_FORMS": "20",
    }
    data.update(overrides)
    return data


# --- The paths the QR codes carry ------------------------------------------------------------------


def test_qr_paths_resolve_to_these_pages() -> None:
    assert reverse("activities_staff:scan") == services.SCAN_PATH
    assert resolve(services.SCAN_PATH).url_name == "scan"
    match = resolve(services.SELF_CHECKIN_PATH.format(id=42))
    assert (match.namespace, match.url_name, match.kwargs) == ("activities_staff", "self_checkin", {"pk": 42})


# --- Who sees which page ------------------------------------------------------------------------------

ACTIVITY_PAGES = ("detail", "edit", "signups", "signups_xlsx", "activity_scan", "onsite_qr", "recap")


@pytest.mark.parametrize("name", ACTIVITY_PAGES)
def test_activity_pages_for_their_staff_and_404_for_another_station(
    client: Client, people: People, activity: Activity, name: str
) -> None:
    url = reverse(f"activities_staff:{name}", args=[activity.pk])
    for persona in (people.manager_a, people.subcentre_admin, people.admin):
        signed_in(client, persona)
        response = client.get(url)
        assert response.status_code == 200, (persona.name, response.status_code)
    for stranger in (people.manager_b, people.manager_c):
        signed_in(client, stranger)
        assert client.get(url).status_code == 404, stranger.name
    signed_in(client, people.resident_a)
    assert client.get(url).status_code == 403
    client.logout()
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_an_unknown_activity_is_404(client: Client, people: People) -> None:
    signed_in(client, people.manager_a)
    assert client.get(reverse("activities_staff:detail", args=[999_999])).status_code == 404


@pytest.mark.parametrize("name", ["list", "new", "series_new", "corrections", "scan"])
def test_staff_pages_render_for_staff_only(client: Client, people: People, name: str) -> None:
    url = reverse(f"activities_staff:{name}")
    signed_in(client, people.manager_a)
    response = client.get(url)
    assert response.status_code == 200
    assert '<meta name="viewport"' in page(response)
    signed_in(client, people.resident_a)
    assert client.get(url).status_code == 403


def test_approvals_queue_is_for_subcentre_admins(
    client: Client, people: People, street: Street, make_activity: Any
) -> None:
    submitted = make_activity(title="防诈骗讲座", status=ActivityStatus.SUBMITTED)
    other = make_activity(title="丙站读书会", site=street.station_c, status=ActivityStatus.SUBMITTED)
    signed_in(client, people.manager_a)
    assert client.get(reverse("activities_staff:approvals")).status_code == 403
    signed_in(client, people.subcentre_admin)
    text = page(client.get(reverse("activities_staff:approvals")))
    assert submitted.title in text
    assert other.title not in text  # another district


def test_list_shows_the_scope_with_counts(
    client: Client, people: People, street: Street, make_activity: Any, activity: Activity
) -> None:
    make_activity(title="乙站电影放映", site=street.station_b)
    services.sign_up(actor=people.resident_a, activity=activity)
    signed_in(client, people.manager_a)
    response = client.get(reverse("activities_staff:list"))
    text = page(response)
    assert activity.title in text
    assert "乙站电影放映" not in text
    row = next(r for r in response.context["page"].object_list if r.pk == activity.pk)
    assert (row.signed_up, row.waitlist_count, row.checked_in) == (1, 0, 0)

    signed_in(client, people.manager_b)
    text = page(client.get(reverse("activities_staff:list")))
    assert "乙站电影放映" in text
    assert activity.title not in text


def test_list_filters_by_status_week_and_title(
    client: Client, people: People, make_activity: Any, when: Any, activity: Activity
) -> None:
    draft = make_activity(title="手工编织课", status=ActivityStatus.DRAFT)
    later = make_activity(title="下周的讲座", starts_at=when(9, "09:00"), ends_at=when(9, "10:00"))
    signed_in(client, people.manager_a)
    url = reverse("activities_staff:list")

    text = page(client.get(url, {"status": "draft"}))
    assert draft.title in text
    assert activity.title not in text

    # Any day of the week finds the week.
    text = page(client.get(url, {"week": when(3).date().isoformat()}))
    assert activity.title in text
    assert later.title not in text

    text = page(client.get(url, {"q": "讲座"}))
    assert later.title in text
    assert draft.title not in text

    response = client.get(url, {"week": "not-a-date", "status": "nonsense"})
    assert response.status_code == 200


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_list_pages_take_a_fixed_number_of_queries(
    client: Client, people: People, make_activity: Any, make_resident: Any, when: Any
) -> None:
    signed_in(client, people.manager_a)
    first = make_activity(title="第1场", seats=20, status=ActivityStatus.SUBMITTED)
    for i in range(2):
        services.sign_up(actor=make_resident(), activity=make_activity(title=f"第{i + 2}场", seats=20))
    urls = {
        "list": reverse("activities_staff:list"),
        "approvals": reverse("activities_staff:approvals"),
        "corrections": reverse("activities_staff:corrections"),
    }
    published = make_activity(title="名单", seats=50)
    for _ in range(2):
        services.sign_up(actor=make_resident(), activity=published)
    urls["signups"] = reverse("activities_staff:signups", args=[published.pk])
    signed_in(client, people.subcentre_admin)
    before = {name: _queries(client, url) for name, url in urls.items()}

    for i in range(5):
        make_activity(title=f"再一场{i}", seats=20, status=ActivityStatus.SUBMITTED)
        services.sign_up(actor=make_resident(), activity=published)
    assert first.status == ActivityStatus.SUBMITTED
    after = {name: _queries(client, url) for name, url in urls.items()}
    assert after == before


# --- New, edit, posts -----------------------------------------------------------------------------------


def test_new_activity_with_posts_is_a_draft(client: Client, people: People, street: Street, when: Any) -> None:
    signed_in(client, people.manager_a)
    data = form_data(
        when,
        street,
        **{"posts-0-name": "签到引导", "posts-0-headcount": "2", "posts-1-name": "摄影", "posts-1-headcount": "1"},
    )
    response = client.post(reverse("activities_staff:new"), data)
    assert response.status_code == 302
    activity = Activity.objects.get(title="重阳节包饺子")
    assert response["Location"] == reverse("activities_staff:detail", args=[activity.pk])
    assert activity.status == ActivityStatus.DRAFT
    assert (activity.site_id, activity.audience, activity.seats, activity.waitlist_limit) == (
        street.station_a.pk,
        "elderly",
        20,
        5,
    )
    assert timezone.localtime(activity.starts_at).strftime(FMT) == local(when(2, "14:00"))
    assert activity.checkin_opens_at == activity.starts_at - dt.timedelta(minutes=30)
    assert sorted(Post.objects.filter(activity=activity).values_list("name", "headcount")) == [
        ("摄影", 1),
        ("签到引导", 2),
    ]
    detail = page(client.get(response["Location"]))
    assert "提交审核" in detail
    assert "草稿" in detail


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": ""}, "title", "请输入活动标题。"),
        ({"platform": ""}, "platform", "请选择活动所属的服务平台。"),
        ({"starts_at": "明天上午"}, "starts_at", "请输入正确的日期和时间。"),
        ({"seats": "-1"}, "seats", "不能小于0。"),
        ({"seats": "很多"}, "seats", "请输入整数。"),
        ({"ends_at": "{start}"}, "ends_at", "结束时间必须晚于开始时间。"),
        (
            {"signup_opens_at": "{later}", "signup_closes_at": "{start}"},
            "signup_closes_at",
            "报名截止必须晚于报名开始。",
        ),
        ({"site": "{station_b}"}, "site", "您不能在所选阵地组织活动，请选择您负责的阵地。"),
        ({"posts-0-name": "引导", "posts-0-headcount": "0"}, None, "不能小于1。"),
    ],
)
def test_new_activity_refuses_bad_input_and_saves_nothing(
    client: Client,
    people: People,
    street: Street,
    when: Any,
    overrides: dict[str, str],
    field: str | None,
    message: str,
) -> None:
    start = local(when(2, "14:00"))
    values = {"start": start, "later": local(when(2, "15:00")), "station_b": str(street.station_b.pk)}
    resolved = {k: v.format(**values) for k, v in overrides.items()}
    signed_in(client, people.manager_a)
    response = client.post(reverse("activities_staff:new"), form_data(when, street, **resolved))
    assert response.status_code == 400
    assert message in page(response)
    if field:
        assert message in response.context["form"].errors[field]
    assert not Activity.objects.exists()
    assert not Post.objects.exists()


def test_a_refused_post_leaves_no_activity(client: Client, people: People, street: Street, when: Any) -> None:
    signed_in(client, people.manager_a)
    data = form_data(
        when,
        street,
        **{"posts-0-name": "引导", "posts-0-headcount": "1", "posts-1-name": "引导", "posts-1-headcount": "2"},
    )
    response = client.post(reverse("activities_staff:new"), data)
    assert response.status_code == 400
    assert "同一活动的岗位名称不能重复。" in page(response)
    assert not Activity.objects.exists()


def test_venue_choices_are_the_site_chain(client: Client, people: People, street: Street) -> None:
    from wenming.network import services as network_services

    ours = network_services.create_venue(
        actor=None, site=street.station_a, name="甲站活动室", area_m2="60", capacity=30
    )
    above = network_services.create_venue(
        actor=None, site=street.subcentre, name="分中心报告厅", area_m2="300", capacity=200
    )
    theirs = network_services.create_venue(
        actor=None, site=street.station_b, name="乙站活动室", area_m2="50", capacity=20
    )
    signed_in(client, people.manager_a)
    text = page(client.get(reverse("activities_staff:new")))
    assert ours.name in text
    assert above.name in text
    assert theirs.name not in text


def test_edit_changes_only_what_changed(client: Client, people: People, activity: Activity, when: Any) -> None:
    signed_in(client, people.manager_a)
    url = reverse("activities_staff:edit", args=[activity.pk])
    form = client.get(url).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    for name in ("starts_at", "ends_at", "checkin_opens_at", "checkin_closes_at"):
        data[name] = local(getattr(activity, name))
    data.update({"title": "垃圾分类知识讲座（第二期）", "seats": "8"})
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors if response.context else None
    activity.refresh_from_db()
    assert (activity.title, activity.seats) == ("垃圾分类知识讲座（第二期）", 8)


def test_edit_refuses_fewer_seats_than_signed_up(
    client: Client, people: People, activity: Activity, make_resident: Any
) -> None:
    services.sign_up(actor=people.resident_a, activity=activity)
    services.sign_up(actor=make_resident(), activity=activity)
    signed_in(client, people.manager_a)
    url = reverse("activities_staff:edit", args=[activity.pk])
    form = client.get(url).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    for name in ("starts_at", "ends_at", "checkin_opens_at", "checkin_closes_at"):
        data[name] = local(getattr(activity, name))
    data.update({"seats": "1", "title": "改了标题"})
    response = client.post(url, data)
    assert response.status_code == 400
    assert "已有2人报名成功，名额不能少于这个数。" in response.context["form"].errors["seats"]
    activity.refresh_from_db()
    assert (activity.seats, activity.title) == (3, "垃圾分类知识讲座")


def test_another_station_cannot_edit(client: Client, people: People, activity: Activity) -> None:
    signed_in(client, people.manager_b)
    response = client.post(reverse("activities_staff:edit", args=[activity.pk]), {"title": "乙站改的"})
    assert response.status_code == 404
    activity.refresh_from_db()
    assert activity.title == "垃圾分类知识讲座"


def test_add_post_and_refuse_a_duplicate(client: Client, people: People, activity: Activity) -> None:
    signed_in(client, people.manager_a)
    url = reverse("activities_staff:add_post", args=[activity.pk])
    response = client.post(url, {"post-name": "秩序维护", "post-headcount": "3"})
    assert response.status_code == 302
    post = Post.objects.get(activity=activity)
    assert (post.name, post.headcount, post.starts_at, post.ends_at) == (
        "秩序维护",
        3,
        activity.starts_at,
        activity.ends_at,
    )
    response = client.post(url, {"post-name": "秩序维护", "post-headcount": "1"})
    assert response.status_code == 400
    assert "同一活动的岗位名称不能重复。" in page(response)
    response = client.post(url, {"post-name": "", "post-headcount": "abc"})
    assert response.status_code == 400
    assert "请输入岗位名称。" in page(response)
    assert "请输入整数。" in page(response)
    assert Post.objects.filter(activity=activity).count() == 1
    signed_in(client, people.manager_b)
    assert client.post(url, {"post-name": "乙站的岗", "post-headcount": "1"}).status_code == 404
    assert Post.objects.filter(activity=activity).count() == 1


# --- The workflow -----------------------------------------------------------------------------------------


def test_submit_return_resubmit_approve(client: Client, people: People, make_activity: Any) -> None:
    draft = make_activity(status=ActivityStatus.DRAFT)
    signed_in(client, people.manager_a)
    assert client.post(reverse("activities_staff:submit", args=[draft.pk])).status_code == 302
    draft.refresh_from_db()
    assert draft.status == ActivityStatus.SUBMITTED

    # A station manager may not approve their own station's work.
    response = client.post(reverse("activities_staff:approve", args=[draft.pk]))
    assert response.status_code == 403
    assert "活动须由上级分中心审核。" in page(response)
    draft.refresh_from_db()
    assert draft.status == ActivityStatus.SUBMITTED

    signed_in(client, people.subcentre_admin)
    assert draft.title in page(client.get(reverse("activities_staff:approvals")))
    response = client.post(reverse("activities_staff:return", args=[draft.pk]), {"return-note": " "})
    assert response.status_code == 400
    assert "退回时请说明原因。" in response.context["return_form"].errors["note"]
    draft.refresh_from_db()
    assert draft.status == ActivityStatus.SUBMITTED

    response = client.post(
        reverse("activities_staff:return", args=[draft.pk]), {"return-note": "请补充场地", "back": "approvals"}
    )
    assert response["Location"] == reverse("activities_staff:approvals")
    draft.refresh_from_db()
    assert draft.status == ActivityStatus.DRAFT

    signed_in(client, people.manager_a)
    client.post(reverse("activities_staff:submit", args=[draft.pk]))
    signed_in(client, people.subcentre_admin)
    client.post(reverse("activities_staff:approve", args=[draft.pk]), {"approve-note": "同意"})
    draft.refresh_from_db()
    assert draft.status == ActivityStatus.PUBLISHED
    history = page(client.get(reverse("activities_staff:detail", args=[draft.pk])))
    assert "请补充场地" in history
    assert "同意" in history
    assert list(StatusChange.objects.filter(activity=draft).values_list("to_status", flat=True)) == [
        "draft",
        "submitted",
        "draft",
        "submitted",
        "published",
    ]


def test_cancel_needs_a_reason(client: Client, people: People, activity: Activity) -> None:
    signed_in(client, people.manager_a)
    url = reverse("activities_staff:cancel", args=[activity.pk])
    response = client.post(url, {"cancel-reason": ""})
    assert response.status_code == 400
    assert "请填写原因。" in response.context["cancel_form"].errors["reason"]
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.PUBLISHED
    assert client.post(url, {"cancel-reason": "暴雨预警"}).status_code == 302
    activity.refresh_from_db()
    assert (activity.status, activity.cancel_reason) == (ActivityStatus.CANCELLED, "暴雨预警")
    # Nothing moves a cancelled activity again.
    response = client.post(url, {"cancel-reason": "再取消一次"})
    assert response.status_code == 409
    assert "“已取消”的活动不能改为“已取消”。" in page(response)
    signed_in(client, people.manager_b)
    assert client.post(reverse("activities_staff:submit", args=[activity.pk])).status_code == 404


def test_workflow_moves_are_posts_only(client: Client, people: People, activity: Activity) -> None:
    signed_in(client, people.manager_a)
    for name in ("submit", "approve", "return", "cancel", "skip"):
        assert client.get(reverse(f"activities_staff:{name}", args=[activity.pk])).status_code == 405
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.PUBLISHED


# --- Weekly series ----------------------------------------------------------------------------------------


def test_series_then_skip_one_date(client: Client, people: People, street: Street, when: Any) -> None:
    signed_in(client, people.manager_a)
    data = form_data(when, street, title="太极拳晨练", platform="fitness")
    first = when(2, "14:00")
    data.update(
        {
            "starts_at": local(first),
            "ends_at": local(when(2, "15:00")),
            "last_date": (first + dt.timedelta(weeks=3)).date().isoformat(),
            "skip_dates": (first + dt.timedelta(weeks=1)).date().isoformat(),
            "post_name": "领练",
            "post_headcount": "1",
        }
    )
    response = client.post(reverse("activities_staff:series_new"), data)
    assert response.status_code == 302
    series = Series.objects.get(title="太极拳晨练")
    dates = list(series.occurrences.order_by("starts_at").values_list("series_date", flat=True))
    assert dates == [(first + dt.timedelta(weeks=w)).date() for w in (0, 2, 3)]
    assert Post.objects.filter(activity__series=series, name="领练").count() == 3

    one = series.occurrences.order_by("starts_at")[1]
    response = client.post(reverse("activities_staff:skip", args=[one.pk]), {"skip-reason": "社区活动室维修"})
    assert response.status_code == 302
    statuses = dict(series.occurrences.values_list("pk", "status"))
    assert statuses.pop(one.pk) == ActivityStatus.CANCELLED
    assert set(statuses.values()) == {ActivityStatus.DRAFT}


def test_series_refuses_bad_dates(client: Client, people: People, street: Street, when: Any) -> None:
    signed_in(client, people.manager_a)
    data = form_data(when, street, title="太极拳晨练")
    data.update({"last_date": when(0).date().isoformat(), "skip_dates": "十月一日"})
    response = client.post(reverse("activities_staff:series_new"), data)
    assert response.status_code == 400
    assert "日期“十月一日”格式不正确，应为：2026-10-01。" in page(response)
    data["skip_dates"] = ""
    response = client.post(reverse("activities_staff:series_new"), data)
    assert response.status_code == 400
    assert "末次日期不能早于首次日期。" in response.context["form"].errors["last_date"]
    assert not Series.objects.exists()
    assert not Activity.objects.exists()


def test_skip_is_only_for_a_series(client: Client, people: People, activity: Activity) -> None:
    signed_in(client, people.manager_a)
    response = client.post(reverse("activities_staff:skip", args=[activity.pk]), {"skip-reason": "停办"})
    assert response.status_code == 400
    assert "这不是系列活动中的一次。" in page(response)
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.PUBLISHED


# --- Sign-ups -------------------------------------------------------------------------------------------


def test_signup_list_masks_phones(client: Client, people: People, activity: Activity) -> None:
    services.sign_up(actor=people.resident_a, activity=activity)
    signed_in(client, people.manager_a)
    text = page(client.get(reverse("activities_staff:signups", args=[activity.pk])))
    assert "王阿姨" in text
    assert "138****0006" in text
    assert people.resident_a.phone not in text


def test_staff_sign_up_by_phone(client: Client, people: People, activity: Activity) -> None:
    signed_in(client, people.manager_a)
    url = reverse("activities_staff:signups", args=[activity.pk])
    response = client.post(url, {"phone": "138 0000 0006"})
    assert response.status_code == 302
    signup = Signup.objects.get(activity=activity)
    assert (signup.user_id, signup.created_by_id, signup.status) == (
        people.resident_a.pk,
        people.manager_a.pk,
        SignupStatus.CONFIRMED,
    )
    assert "代报名" in page(client.get(url))


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        ("", "请输入报名人的手机号。"),
        ("12345", "手机号格式不正确，应为11位中国大陆手机号。"),
        ("13800000007", "在您负责的阵地没有找到这个手机号的人员，请核对号码或先为其代注册。"),  # 刘大爷 of 乙站
        ("13911112222", "在您负责的阵地没有找到这个手机号的人员，请核对号码或先为其代注册。"),
    ],
)
def test_staff_sign_up_refuses(client: Client, people: People, activity: Activity, phone: str, message: str) -> None:
    signed_in(client, people.manager_a)
    response = client.post(reverse("activities_staff:signups", args=[activity.pk]), {"phone": phone})
    assert response.status_code == 400
    assert message in response.context["form"].errors["phone"]
    assert not Signup.objects.exists()


def test_staff_sign_up_twice_and_full(client: Client, people: People, make_activity: Any) -> None:
    small = make_activity(seats=1)
    services.sign_up(actor=people.resident_a, activity=small)
    signed_in(client, people.manager_a)
    url = reverse("activities_staff:signups", args=[small.pk])
    response = client.post(url, {"phone": "13800000006"})
    assert response.status_code == 400
    assert "已经报过名了。" in page(response)
    response = client.post(url, {"phone": "13800000008"})  # 孙经理, no waitlist
    assert response.status_code == 400
    assert "名额已满。" in page(response)
    assert Signup.objects.filter(activity=small).count() == 1


def test_volunteer_post_signup_by_phone(
    client: Client, people: People, volunteer_activity: Activity, chen: Any
) -> None:
    post = volunteer_activity.posts.get()
    signed_in(client, people.manager_a)
    url = reverse("activities_staff:signups", args=[volunteer_activity.pk])
    response = client.post(url, {"phone": "13800000006", "post": post.pk})
    assert response.status_code == 400
    assert "只有注册志愿者才能报名志愿岗位。" in page(response)
    assert client.post(url, {"phone": "13800000005", "post": post.pk}).status_code == 302
    signup = Signup.objects.get(activity=volunteer_activity)
    assert (signup.user_id, signup.post_id, signup.kind) == (people.volunteer_a.pk, post.pk, "volunteer")


def test_cancel_on_someones_behalf_promotes_the_waitlist(client: Client, people: People, make_activity: Any) -> None:
    small = make_activity(seats=1, waitlist_limit=1)
    wang = services.sign_up(actor=people.resident_a, activity=small)
    sun = services.sign_up(actor=people.liaison_a, activity=small)
    assert sun.status == SignupStatus.WAITLISTED
    signed_in(client, people.manager_b)
    url = reverse("activities_staff:signup_cancel", args=[small.pk, wang.pk])
    assert client.post(url).status_code == 404
    signed_in(client, people.manager_a)
    assert client.post(url).status_code == 302
    assert Signup.objects.get(pk=wang.pk).status == SignupStatus.CANCELLED
    assert Signup.objects.get(pk=sun.pk).status == SignupStatus.CONFIRMED
    response = client.post(url, follow=True)
    assert "该报名已取消。" in page(response)


def test_check_in_from_the_list(client: Client, people: People, activity: Activity) -> None:
    wang = services.sign_up(actor=people.resident_a, activity=activity)
    url = reverse("activities_staff:signup_attend", args=[activity.pk, wang.pk])
    with time_machine.travel(activity.starts_at, tick=False):
        signed_in(client, people.manager_a)
        response = client.post(url, follow=True)
    assert "王阿姨：签到成功" in page(response)
    assert Signup.objects.get(pk=wang.pk).checked_in_at == activity.starts_at


# --- The scanner --------------------------------------------------------------------------------------------


def test_token_in_the_url_checks_in_at_once(client: Client, people: People, activity: Activity) -> None:
    wang = services.sign_up(actor=people.resident_a, activity=activity)
    url = services.signup_qr_url(wang).removeprefix(services.settings.SITE_URL)
    assert url.startswith(services.SCAN_PATH + "?t=")
    with time_machine.travel(activity.starts_at + dt.timedelta(minutes=5), tick=False):
        signed_in(client, people.manager_a)
        response = client.get(url)
        assert response.status_code == 200
        text = page(response)
        assert "签到成功" in text
        assert "王阿姨" in text
        assert "wm-scan-result_ok" in text
        assert activity.title in text
        again = page(client.get(url))
    assert "已经签到过了" in again
    assert "wm-scan-result_info" in again
    row = Signup.objects.get(pk=wang.pk)
    assert (row.checked_in_at, row.checked_in_by_id) == (
        activity.starts_at + dt.timedelta(minutes=5),
        people.manager_a.pk,
    )


def test_token_needs_a_staff_member_of_the_station(client: Client, people: People, activity: Activity) -> None:
    wang = services.sign_up(actor=people.resident_a, activity=activity)
    url = f"{services.SCAN_PATH}?t={services.signup_token(wang)}"
    with time_machine.travel(activity.starts_at, tick=False):
        client.logout()
        response = client.get(url)
        assert response.status_code == 302  # sign in, then back here
        assert "next=" in response["Location"]
        signed_in(client, people.manager_b)
        text = page(client.get(url))
        assert "无效的签到码" in text
        assert "王阿姨" not in text
        signed_in(client, people.resident_b)
        assert client.get(url).status_code == 403
    assert Signup.objects.get(pk=wang.pk).checked_in_at is None


def test_a_forged_or_empty_token_is_invalid(client: Client, people: People, activity: Activity) -> None:
    wang = services.sign_up(actor=people.resident_a, activity=activity)
    with time_machine.travel(activity.starts_at, tick=False):
        signed_in(client, people.manager_a)
        for token in (f"{wang.pk}:forged", "", "x" * 5000):
            text = page(client.get(services.SCAN_PATH, {"t": token}))
            assert "无效的签到码" in text, token
    assert Signup.objects.get(pk=wang.pk).checked_in_at is None


def test_short_code_form_works_without_javascript(client: Client, people: People, activity: Activity) -> None:
    wang = services.sign_up(actor=people.resident_a, activity=activity)
    url = reverse("activities_staff:activity_scan", args=[activity.pk])
    with time_machine.travel(activity.starts_at, tick=False):
        signed_in(client, people.manager_a)
        form_page = page(client.get(url))
        # A plain form that posts to this page, with a text box for the code.
        assert f'action="{url}"' in form_page
        assert 'method="post"' in form_page
        assert 'name="code"' in form_page
        response = client.post(url, {"mode": "in", "code": f" {wang.code.lower()} "})
    text = page(response)
    assert response.status_code == 200
    assert "签到成功" in text
    assert "王阿姨" in text
    assert Signup.objects.get(pk=wang.pk).checked_in_at == activity.starts_at


def test_scanner_partial_for_htmx(client: Client, people: People, activity: Activity) -> None:
    wang = services.sign_up(actor=people.resident_a, activity=activity)
    url = reverse("activities_staff:activity_scan", args=[activity.pk])
    with time_machine.travel(activity.starts_at, tick=False):
        signed_in(client, people.manager_a)
        response = client.post(
            url, {"mode": "in", "token": services.signup_qr_url(wang)}, headers={"HX-Request": "true"}
        )
    text = page(response).strip()
    assert text.startswith('<div id="wm-scan-result"')
    assert "<html" not in text
    assert "签到成功" in text
    assert "王阿姨" in text
    assert "HX-Request" in response["Vary"]


def test_empty_scan_form_asks_for_a_code(client: Client, people: People, activity: Activity) -> None:
    signed_in(client, people.manager_a)
    response = client.post(reverse("activities_staff:activity_scan", args=[activity.pk]), {"mode": "in", "code": ""})
    assert "请扫描二维码或输入签到码。" in page(response)


@pytest.mark.parametrize(
    ("who", "offset", "message", "tone"),
    [
        ("confirmed", dt.timedelta(minutes=-31), "签到尚未开始", "warn"),
        ("confirmed", dt.timedelta(hours=3), "签到已截止", "bad"),
        ("waiting", dt.timedelta(minutes=5), "仍在候补，未获得名额", "warn"),
        ("cancelled", dt.timedelta(minutes=5), "报名或活动已取消", "bad"),
        ("unknown", dt.timedelta(minutes=5), "无效的签到码", "bad"),
        ("confirmed", dt.timedelta(minutes=5), "签到成功", "ok"),
    ],
)
def test_each_outcome_shows_its_message(
    client: Client,
    people: People,
    make_activity: Any,
    make_resident: Any,
    who: str,
    offset: dt.timedelta,
    message: str,
    tone: str,
) -> None:
    activity = make_activity(seats=1, waitlist_limit=1)
    confirmed = services.sign_up(actor=people.resident_a, activity=activity)
    waiting = services.sign_up(actor=make_resident("赵阿姨"), activity=activity)
    cancelled = services.sign_up(actor=make_resident("钱大爷"), activity=make_activity(title="另一场"))
    services.cancel_signup(actor=cancelled.user, signup=cancelled)
    codes = {"confirmed": confirmed.code, "waiting": waiting.code, "unknown": "ZZZZZZ"}
    target = activity
    if who == "cancelled":
        target, codes["cancelled"] = cancelled.activity, cancelled.code
    with time_machine.travel(activity.starts_at + offset, tick=False):
        signed_in(client, people.manager_a)
        response = client.post(
            reverse("activities_staff:activity_scan", args=[target.pk]), {"mode": "in", "code": codes[who]}
        )
    text = page(response)
    assert message in text
    assert f"wm-scan-result_{tone}" in text
    if who in ("confirmed", "waiting"):
        assert ("王阿姨" if who == "confirmed" else "赵阿姨") in text
    expected_in = who == "confirmed" and tone == "ok"
    assert Signup.objects.filter(checked_in_at__isnull=False).exists() is expected_in


def test_check_out_mode_for_volunteers(client: Client, people: People, volunteer_activity: Activity, chen: Any) -> None:
    post = volunteer_activity.posts.get()
    signup = services.sign_up(actor=people.volunteer_a, activity=volunteer_activity, post=post)
    url = reverse("activities_staff:activity_scan", args=[volunteer_activity.pk])
    start = volunteer_activity.starts_at
    signed_in(client, people.manager_a)
    with time_machine.travel(start, tick=False):
        signed_in(client, people.manager_a)
        text = page(client.post(url, {"mode": "out", "code": signup.code}))
        assert "尚未签到，不能签退" in text
        assert "签退（志愿者）" in page(client.get(url))
        client.post(url, {"mode": "in", "code": signup.code})
    with time_machine.travel(start + dt.timedelta(hours=1, minutes=30), tick=False):
        signed_in(client, people.manager_a)
        text = page(client.post(url, {"mode": "out", "code": signup.code}))
        assert "签退成功，记录服务时长1.50小时" in text
        assert "小陈" in text
        assert "引导员" in text
        assert "已经签退过了" in page(client.post(url, {"mode": "out", "code": signup.code}))
    assert ServiceRecord.objects.get(source_ref=f"signup:{signup.pk}").hours == pytest.approx(1.5)


def test_global_scanner_lists_todays_activities(client: Client, people: People, activity: Activity) -> None:
    with time_machine.travel(activity.starts_at - dt.timedelta(hours=1), tick=False):
        signed_in(client, people.manager_a)
        text = page(client.get(services.SCAN_PATH))
    assert activity.title in text
    assert reverse("activities_staff:activity_scan", args=[activity.pk]) in text


def test_scanner_page_loads_only_local_scripts(client: Client, people: People, activity: Activity) -> None:
    signed_in(client, people.manager_a)
    text = page(client.get(reverse("activities_staff:activity_scan", args=[activity.pk])))
    assert "/static/js/scanner.js" in text
    assert "/static/vendor/htmx-2.0.11/htmx.min.js" in text
    assert "<script>" not in text  # no inline script


# --- On-site QR and self check-in ---------------------------------------------------------------------------


def test_onsite_qr_page_carries_the_self_checkin_url(client: Client, people: People, activity: Activity) -> None:
    signed_in(client, people.manager_a)
    text = page(client.get(reverse("activities_staff:onsite_qr", args=[activity.pk])))
    assert qr.svg(services.onsite_qr_url(activity), title="现场签到二维码") in text
    assert "@page" in text
    assert "A4" in text


def test_self_checkin_signs_in_first_then_checks_in(client: Client, people: People, activity: Activity) -> None:
    wang = services.sign_up(actor=people.resident_a, activity=activity)
    path = services.onsite_qr_url(activity).removeprefix(services.settings.SITE_URL)
    assert path.startswith(services.SELF_CHECKIN_PATH.format(id=activity.pk))
    with time_machine.travel(activity.starts_at, tick=False):
        client.logout()
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
        assert "checkin" in response["Location"]
        signed_in(client, people.resident_a)
        text = page(client.get(path))
        assert "签到成功" in text
        assert "王阿姨" in text
        assert "已经签到过了" in page(client.get(path))
    assert Signup.objects.get(pk=wang.pk).checked_in_at == activity.starts_at


def test_self_checkin_refuses_a_bad_token_or_no_signup(client: Client, people: People, activity: Activity) -> None:
    services.sign_up(actor=people.resident_a, activity=activity)
    base = services.SELF_CHECKIN_PATH.format(id=activity.pk)
    with time_machine.travel(activity.starts_at, tick=False):
        signed_in(client, people.resident_a)
        assert "无效的签到码" in page(client.get(base, {"t": "forged"}))
        signed_in(client, people.resident_b)
        text = page(client.get(base, {"t": services.onsite_token(activity)}))
        assert "无效的签到码" in text
        assert "没有找到您这场活动的报名" in text
    assert not Signup.objects.filter(checked_in_at__isnull=False).exists()


def test_self_checkin_of_a_draft_is_404(client: Client, people: People, make_activity: Any) -> None:
    draft = make_activity(status=ActivityStatus.DRAFT)
    signed_in(client, people.resident_a)
    response = client.get(services.SELF_CHECKIN_PATH.format(id=draft.pk), {"t": services.onsite_token(draft)})
    assert response.status_code == 404


# --- Hours corrections ---------------------------------------------------------------------------------------


@pytest.fixture
def served(people: People, volunteer_activity: Activity, chen: Any) -> Signup:
    """小陈 served one hour at 社区清洁日 (checked in at the start, out an hour later)."""
    post = volunteer_activity.posts.get()
    signup = services.sign_up(actor=people.volunteer_a, activity=volunteer_activity, post=post)
    start = volunteer_activity.starts_at
    services.check_in(actor=people.manager_a, activity=volunteer_activity, code=signup.code, now=start)
    services.check_out(
        actor=people.manager_a, activity=volunteer_activity, code=signup.code, now=start + dt.timedelta(hours=1)
    )
    signup.refresh_from_db()
    return signup


def test_volunteer_requests_a_correction(client: Client, people: People, served: Signup) -> None:
    url = reverse("activities_staff:correction_request", args=[served.pk])
    signed_in(client, people.volunteer_a)
    text = page(client.get(url))
    assert "1.00小时" in text
    assert "社区清洁日" in text
    response = client.post(url, {"hours": "2", "reason": "提前到场布置"})
    assert response.status_code == 302
    assert response["Location"] == reverse("activities:mine")
    correction = HoursCorrection.objects.get(signup=served)
    assert (correction.requested_hours, correction.reason, correction.status) == (2, "提前到场布置", "pending")
    response = client.post(url, {"hours": "1.5", "reason": "再申请一次"})
    assert response.status_code == 400
    assert "已有一条待审核的更正申请。" in page(response)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"hours": "abc", "reason": "x"}, "hours", "时长应为数字。"),
        ({"hours": "30", "reason": "x"}, "hours", "时长应在0到24小时之间。"),
        ({"hours": "1.555", "reason": "x"}, "hours", "时长最多保留两位小数。"),
        ({"hours": "2", "reason": ""}, "reason", "请填写更正理由。"),
    ],
)
def test_correction_request_refuses_bad_input(
    client: Client, people: People, served: Signup, data: dict[str, str], field: str, message: str
) -> None:
    signed_in(client, people.volunteer_a)
    response = client.post(reverse("activities_staff:correction_request", args=[served.pk]), data)
    assert response.status_code == 400
    assert message in response.context["form"].errors[field]
    assert not HoursCorrection.objects.exists()


def test_correction_request_is_only_for_the_volunteer(client: Client, people: People, served: Signup) -> None:
    url = reverse("activities_staff:correction_request", args=[served.pk])
    for other in (people.resident_a, people.manager_a):
        signed_in(client, other)
        assert client.get(url).status_code == 404
        assert client.post(url, {"hours": "2", "reason": "代申请"}).status_code == 404
    assert not HoursCorrection.objects.exists()


def test_correction_before_check_out_is_refused(
    client: Client, people: People, volunteer_activity: Activity, chen: Any
) -> None:
    signup = services.sign_up(
        actor=people.volunteer_a, activity=volunteer_activity, post=volunteer_activity.posts.get()
    )
    signed_in(client, people.volunteer_a)
    response = client.post(
        reverse("activities_staff:correction_request", args=[signup.pk]), {"hours": "2", "reason": "忘记签退"}
    )
    assert response.status_code == 400
    assert "签退后才能申请更正时长。" in page(response)


def test_station_manager_decides_corrections(client: Client, people: People, served: Signup) -> None:
    correction = services.request_hours_correction(
        actor=people.volunteer_a, signup=served, hours="0.5", reason="中途离开"
    )
    url = reverse("activities_staff:corrections")
    signed_in(client, people.manager_b)
    assert "中途离开" not in page(client.get(url))
    assert client.post(reverse("activities_staff:correction_decide", args=[correction.pk])).status_code == 404

    signed_in(client, people.manager_a)
    text = page(client.get(url))
    assert "中途离开" in text
    assert "小陈" in text
    assert "138****0005" in text
    decide = reverse("activities_staff:correction_decide", args=[correction.pk])
    prefix = f"c{correction.pk}"
    response = client.post(decide, {f"{prefix}-decision": "reject", f"{prefix}-note": ""})
    assert response.status_code == 400
    assert "驳回时请说明原因。" in page(response)
    assert HoursCorrection.objects.get(pk=correction.pk).status == CorrectionStatus.PENDING

    assert client.post(decide, {f"{prefix}-decision": "approve", f"{prefix}-note": "属实"}).status_code == 302
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.APPROVED
    assert correction.ledger_entry is not None
    assert correction.ledger_entry.hours == pytest.approx(-0.5)
    followed = client.post(decide, {f"{prefix}-decision": "reject", f"{prefix}-note": "再审"}, follow=True)
    assert "该申请已处理。" in page(followed)
    assert "已通过" in page(client.get(url))


def test_a_request_beyond_the_posts_time_is_refused_and_nothing_waits(
    client: Client, people: People, served: Signup
) -> None:
    """More than the post's scheduled time can never be approved, so it is refused when asked."""
    signed_in(client, people.volunteer_a)
    response = client.post(
        reverse("activities_staff:correction_request", args=[served.pk]), {"hours": "3", "reason": "提前到场布置"}
    )
    assert "不能超过岗位时长" in page(response)
    assert not served.corrections.exists()
    assert ServiceRecord.objects.filter(volunteer__user=people.volunteer_a).count() == 1


def test_corrections_page_takes_a_fixed_number_of_queries(
    client: Client, people: People, street: Street, make_activity: Any, make_resident: Any, when: Any
) -> None:
    from wenming.volunteers import services as volunteer_services

    activity = make_activity(
        title="助老服务",
        posts=[{"name": "陪护", "headcount": 20, "starts_at": when(5, "09:00"), "ends_at": when(5, "11:00")}],
    )
    post = activity.posts.get()

    def one_more() -> None:
        person = make_resident()
        volunteer_services.register_volunteer(actor=people.manager_a, user=person, site=street.station_a)
        signup = services.sign_up(actor=person, activity=activity, post=post)
        services.check_in(actor=people.manager_a, activity=activity, code=signup.code, now=activity.starts_at)
        services.check_out(
            actor=people.manager_a, activity=activity, code=signup.code, now=activity.starts_at + dt.timedelta(hours=1)
        )
        signup.refresh_from_db()
        services.request_hours_correction(actor=person, signup=signup, hours="0.5", reason="中途离开")

    one_more()
    signed_in(client, people.manager_a)
    url = reverse("activities_staff:corrections")
    before = _queries(client, url)
    for _ in range(4):
        one_more()
    assert HoursCorrection.objects.count() == 5
    assert _queries(client, url) == before


# --- Admin: plans and publishing rules ------------------------------------------------------------------------


def test_plan_admin_creates_through_the_service(client: Client, people: People, street: Street) -> None:
    signed_in(client, people.subcentre_admin)
    response = client.post(
        reverse("admin:activities_plan_add"),
        {
            "site": street.station_a.pk,
            "year": "2026",
            "title": "甲站2026年文明实践计划",
            "description": "",
            "themes-TOTAL_FORMS": "1",
            "themes-INITIAL_FORMS": "0",
            "themes-MIN_NUM_FORMS": "0",
            "themes-MAX_NUM_FORMS": "12",
            "themes-0-month": "10",
            "themes-0-theme": "敬老月",
            "themes-0-description": "",
        },
    )
    assert response.status_code == 302, page(response)[:2000]
    plan = Plan.objects.get(site=street.station_a, year=2026)
    assert list(plan.themes.values_list("month", "theme")) == [(10, "敬老月")]

    # The same year again: the service's refusal, nothing saved.
    response = client.post(
        reverse("admin:activities_plan_add"),
        {
            "site": street.station_a.pk,
            "year": "2026",
            "title": "重复的计划",
            "themes-TOTAL_FORMS": "0",
            "themes-INITIAL_FORMS": "0",
            "themes-MIN_NUM_FORMS": "0",
            "themes-MAX_NUM_FORMS": "12",
        },
    )
    assert response.status_code == 200
    assert "errorlist" in page(response)
    assert Plan.objects.count() == 1

    # Another district's plan is not in 周主任's list.
    services.create_plan(actor=people.admin, site=street.station_c, year=2026, title="丙站计划")
    text = page(client.get(reverse("admin:activities_plan_changelist")))
    assert "甲站2026年文明实践计划" in text
    assert "丙站计划" not in text
    other = Plan.objects.get(title="丙站计划")
    assert client.get(reverse("admin:activities_plan_change", args=[other.pk])).status_code == 302


def test_plan_admin_adds_a_theme_to_an_existing_plan(client: Client, people: People, street: Street) -> None:
    plan = services.create_plan(actor=people.subcentre_admin, site=street.station_a, year=2026, title="计划")
    services.set_monthly_theme(actor=people.subcentre_admin, plan=plan, month=1, theme="迎新春")
    theme = plan.themes.get()
    signed_in(client, people.subcentre_admin)
    response = client.post(
        reverse("admin:activities_plan_change", args=[plan.pk]),
        {
            "themes-TOTAL_FORMS": "2",
            "themes-INITIAL_FORMS": "1",
            "themes-MIN_NUM_FORMS": "0",
            "themes-MAX_NUM_FORMS": "12",
            "themes-0-id": theme.pk,
            "themes-0-plan": plan.pk,
            "themes-0-month": "1",
            "themes-0-theme": "迎新春·写春联",
            "themes-0-description": "",
            "themes-1-plan": plan.pk,
            "themes-1-month": "3",
            "themes-1-theme": "学雷锋",
            "themes-1-description": "",
        },
    )
    assert response.status_code == 302, page(response)[:3000]
    assert dict(MonthlyTheme.objects.filter(plan=plan).values_list("month", "theme")) == {
        1: "迎新春·写春联",
        3: "学雷锋",
    }


def test_plan_admin_refuses_moving_a_theme_to_another_month(client: Client, people: People, street: Street) -> None:
    plan = services.create_plan(actor=people.subcentre_admin, site=street.station_a, year=2026, title="计划")
    theme = services.set_monthly_theme(actor=people.subcentre_admin, plan=plan, month=1, theme="迎新春")
    client.force_login(people.subcentre_admin)
    response = client.post(
        reverse("admin:activities_plan_change", args=[plan.pk]),
        {
            "themes-TOTAL_FORMS": "1",
            "themes-INITIAL_FORMS": "1",
            "themes-MIN_NUM_FORMS": "0",
            "themes-MAX_NUM_FORMS": "12",
            "themes-0-id": theme.pk,
            "themes-0-plan": plan.pk,
            "themes-0-month": "2",
            "themes-0-theme": "闹元宵",
            "themes-0-description": "",
        },
    )
    assert response.status_code == 200
    assert "已有主题的月份不能修改；请修改该月的主题内容。" in page(response)
    assert list(MonthlyTheme.objects.filter(plan=plan).values_list("month", "theme")) == [(1, "迎新春")]


def test_publishing_rule_admin_goes_through_the_service(client: Client, people: People, street: Street) -> None:
    signed_in(client, people.subcentre_admin)
    response = client.post(
        reverse("admin:activities_publishingrule_add"), {"site": street.station_a.pk, "publish_directly": "on"}
    )
    assert response.status_code == 302
    assert PublishingRule.objects.get(site=street.station_a).publish_directly is True
    signed_in(client, people.manager_a)
    response = client.get(reverse("admin:activities_publishingrule_changelist"))
    assert response.status_code == 302  # not an admin: sent to sign in
    assert not PublishingRule.objects.filter(site=street.station_b).exists()
