"""Residents' pages: an activity's page with its sign-up buttons, and 我的报名 with the QR and short code.

王阿姨 (resident_a) signs up and cancels; 刘大爷 (resident_b) takes the last
seat before her; 小陈 (volunteer_a) takes a volunteer post; 张站长 sees his
station's drafts, 李站长 does not.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from wenming.activities import services
from wenming.activities.models import Activity, Post, Signup, SignupKind, SignupStatus
from wenming.activities.tests.test_preview import NATIONAL_DAY_WEEK, SHANGHAI, at, draft, publish
from wenming.lib import qr
from wenming.volunteers.services import register_volunteer

if TYPE_CHECKING:
    from conftest import People, Street

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 9, 25, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def calligraphy(people: People, street: Street) -> Activity:
    return publish(
        people,
        street.station_a,
        "书法写春联",
        at(NATIONAL_DAY_WEEK, 14),
        seats=20,
        waitlist_limit=5,
        location="二楼书画室",
        description="请自带毛笔。\n现场提供红纸。",
        contact_name="张站长",
        posts=[{"name": "签到引导", "headcount": 3}, {"name": "秩序维护", "headcount": 1}],
    )


def detail(activity: Activity) -> str:
    return reverse("activities:detail", args=[activity.pk])


def page(response: Any) -> str:
    return response.content.decode()


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- The activity page ----------------------------------------------------------------------


def test_anyone_sees_the_activity(client: Client, street: Street, calligraphy: Activity) -> None:
    response = client.get(detail(calligraphy))
    assert response.status_code == 200
    text = page(response)
    for expected in (
        "书法写春联",
        "2026年9月28日",
        "14:00–16:00",
        "二楼书画室",
        street.station_a.name,
        reverse("network:site_detail", args=[street.station_a.pk]),
        "请自带毛笔。<br>现场提供红纸。",
        "余20个名额（共20个）",
        "候补 0/5 人",
        "签到引导",
        "已报 0/3 人",
        "秩序维护",
        "已报 0/1 人",
        "文化服务",
        "全体居民",
    ):
        assert expected in text, expected
    assert f"{reverse('accounts:login')}?next={detail(calligraphy)}" in text  # sign in to sign up
    assert reverse("activities:sign_up", args=[calligraphy.pk]) not in text
    assert f"{reverse('activities:week', args=[street.station_a.pk])}?week=2026-09-28" in text


def test_a_draft_exists_only_for_its_staff(client: Client, people: People, street: Street) -> None:
    hidden = draft(people, street.station_a, "筹备中的活动", at(NATIONAL_DAY_WEEK, 9))
    assert client.get(detail(hidden)).status_code == 404
    client.force_login(people.resident_a)
    assert client.get(detail(hidden)).status_code == 404
    assert client.post(reverse("activities:sign_up", args=[hidden.pk])).status_code == 404
    client.force_login(people.manager_b)
    assert client.get(detail(hidden)).status_code == 404
    client.force_login(people.manager_a)
    response = client.get(detail(hidden))
    assert response.status_code == 200
    assert "草稿" in page(response)
    assert "活动未开放报名。" in page(response)


def test_an_unknown_activity_is_404(client: Client, db: None) -> None:
    assert client.get(reverse("activities:detail", args=[999_999])).status_code == 404


def test_a_cancelled_activity_says_so_and_takes_no_sign_ups(
    client: Client, people: People, calligraphy: Activity
) -> None:
    services.cancel_activity(actor=people.manager_a, activity=calligraphy, reason="场地维修")
    client.force_login(people.resident_a)
    text = page(client.get(detail(calligraphy)))
    assert "本活动已取消：场地维修" in text
    assert "wm-banner_cancelled" in text
    assert reverse("activities:sign_up", args=[calligraphy.pk]) not in text
    response = client.post(reverse("activities:sign_up", args=[calligraphy.pk]), follow=True)
    assert "活动已取消。" in messages_of(response)
    assert not Signup.objects.exists()


# --- Signing up -------------------------------------------------------------------------------


def test_resident_signs_up_and_gets_a_qr_and_a_code(client: Client, people: People, calligraphy: Activity) -> None:
    client.force_login(people.resident_a)
    text = page(client.get(detail(calligraphy)))
    assert reverse("activities:sign_up", args=[calligraphy.pk]) in text
    assert "我要报名" in text

    response = client.post(reverse("activities:sign_up", args=[calligraphy.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("activities:mine")
    signup = Signup.objects.get(activity=calligraphy, user=people.resident_a)
    assert signup.status == SignupStatus.CONFIRMED
    assert signup.kind == SignupKind.RESIDENT

    mine = client.get(response["Location"])
    text = page(mine)
    assert f"报名成功！到场时出示签到码 {signup.code}。" in messages_of(mine)
    assert f'<p class="wm-code" aria-label="签到码">{signup.code}</p>' in text
    assert qr.svg(services.signup_qr_url(signup), title="签到二维码") in text  # inline, no image request
    assert "<img" not in text
    assert reverse("activities:cancel_signup", args=[signup.pk]) in text
    assert "报名成功" in text

    again = page(client.get(detail(calligraphy)))
    assert "您已报名本活动。" in again
    assert reverse("activities:sign_up", args=[calligraphy.pk]) not in again
    assert "余19个名额（共20个）" in again


def test_signing_up_twice_is_a_message_not_an_error(client: Client, people: People, calligraphy: Activity) -> None:
    client.force_login(people.resident_a)
    client.post(reverse("activities:sign_up", args=[calligraphy.pk]))
    response = client.post(reverse("activities:sign_up", args=[calligraphy.pk]), follow=True)
    assert response.status_code == 200
    assert "已经报过名了。" in messages_of(response)
    assert Signup.objects.filter(activity=calligraphy).count() == 1


def test_a_full_activity_offers_the_waitlist(client: Client, people: People, street: Street) -> None:
    tight = publish(people, street.station_a, "心理讲座", at(NATIONAL_DAY_WEEK, 15), seats=1, waitlist_limit=1)
    services.sign_up(actor=people.resident_b, activity=tight)
    client.force_login(people.resident_a)
    text = page(client.get(detail(tight)))
    assert "名额已满，排队候补" in text
    response = client.post(reverse("activities:sign_up", args=[tight.pk]), follow=True)
    assert "名额已满，您已进入候补；有人取消时将按顺序自动递补并通知您。" in messages_of(response)
    signup = Signup.objects.get(activity=tight, user=people.resident_a)
    assert signup.status == SignupStatus.WAITLISTED
    mine = page(response)
    assert "候补中" in mine
    assert "<svg" not in mine  # no code until the seat is hers
    assert signup.code not in mine


def test_a_full_activity_without_waitlist_says_full(client: Client, people: People, street: Street) -> None:
    tight = publish(people, street.station_a, "心理讲座", at(NATIONAL_DAY_WEEK, 15), seats=1)
    services.sign_up(actor=people.resident_b, activity=tight)
    client.force_login(people.resident_a)
    text = page(client.get(detail(tight)))
    assert "名额已满。" in text
    assert reverse("activities:sign_up", args=[tight.pk]) not in text
    response = client.post(reverse("activities:sign_up", args=[tight.pk]), follow=True)
    assert "名额已满。" in messages_of(response)


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ({"signup_opens_at": NOW + dt.timedelta(days=1)}, "报名将于9月26日 10:00开始。"),
        (
            {"signup_closes_at": NOW - dt.timedelta(hours=1), "signup_opens_at": NOW - dt.timedelta(days=2)},
            "报名已截止。",
        ),
    ],
)
def test_sign_up_window_is_shown(
    client: Client, people: People, street: Street, window: dict[str, Any], message: str
) -> None:
    activity = publish(people, street.station_a, "亲子手工", at(NATIONAL_DAY_WEEK, 9), seats=10, **window)
    client.force_login(people.resident_a)
    text = page(client.get(detail(activity)))
    assert message in text
    assert reverse("activities:sign_up", args=[activity.pk]) not in text


def test_anonymous_sign_up_goes_to_sign_in(client: Client, calligraphy: Activity) -> None:
    response = client.post(reverse("activities:sign_up", args=[calligraphy.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert not Signup.objects.exists()


def test_sign_up_is_post_only(client: Client, people: People, calligraphy: Activity) -> None:
    client.force_login(people.resident_a)
    assert client.get(reverse("activities:sign_up", args=[calligraphy.pk])).status_code == 405
    assert not Signup.objects.exists()


def test_the_form_carries_a_csrf_token(people: People, calligraphy: Activity) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(people.resident_a)
    assert browser.post(reverse("activities:sign_up", args=[calligraphy.pk])).status_code == 403
    form = page(browser.get(detail(calligraphy)))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token is not None
    response = browser.post(reverse("activities:sign_up", args=[calligraphy.pk]), {"csrfmiddlewaretoken": token[1]})
    assert response.status_code == 302
    assert Signup.objects.filter(user=people.resident_a).count() == 1


# --- Volunteer posts ---------------------------------------------------------------------------


def test_volunteer_takes_a_post(client: Client, people: People, street: Street, calligraphy: Activity) -> None:
    register_volunteer(actor=None, user=people.volunteer_a, site=street.station_a)
    post = Post.objects.get(activity=calligraphy, name="签到引导")
    client.force_login(people.volunteer_a)
    text = page(client.get(detail(calligraphy)))
    assert "报名岗位" in text
    assert f'name="post" value="{post.pk}"' in text
    response = client.post(reverse("activities:sign_up", args=[calligraphy.pk]), {"post": str(post.pk)}, follow=True)
    assert "已报名志愿岗位“签到引导”。" in messages_of(response)
    signup = Signup.objects.get(activity=calligraphy, user=people.volunteer_a)
    assert (signup.kind, signup.post_id, signup.status) == (SignupKind.VOLUNTEER, post.pk, SignupStatus.CONFIRMED)
    assert "志愿岗位：签到引导" in page(response)
    again = page(client.get(detail(calligraphy)))
    assert "已报 1/3 人" in again
    assert "您已报名志愿岗位“签到引导”。" in again


def test_a_full_post_shows_full(client: Client, people: People, street: Street, calligraphy: Activity) -> None:
    register_volunteer(actor=None, user=people.volunteer_a, site=street.station_a)
    register_volunteer(actor=None, user=people.leader_a, site=street.station_a)
    single = Post.objects.get(activity=calligraphy, name="秩序维护")
    services.sign_up(actor=people.leader_a, activity=calligraphy, post=single)
    client.force_login(people.volunteer_a)
    text = page(client.get(detail(calligraphy)))
    assert "已报 1/1 人" in text
    assert f'name="post" value="{single.pk}"' not in text
    response = client.post(reverse("activities:sign_up", args=[calligraphy.pk]), {"post": str(single.pk)}, follow=True)
    assert "该岗位已满。" in messages_of(response)


def test_a_resident_cannot_take_a_post(client: Client, people: People, calligraphy: Activity) -> None:
    post = Post.objects.get(activity=calligraphy, name="签到引导")
    client.force_login(people.resident_a)
    text = page(client.get(detail(calligraphy)))
    assert f'name="post" value="{post.pk}"' not in text
    assert "志愿岗位仅限注册志愿者报名。" in text
    response = client.post(reverse("activities:sign_up", args=[calligraphy.pk]), {"post": str(post.pk)}, follow=True)
    assert "只有注册志愿者才能报名志愿岗位。" in messages_of(response)
    assert not Signup.objects.exists()


@pytest.mark.parametrize("raw", ["abc", "-1", "99999999", "1.5", "9" * 40, "１"])
def test_a_bad_post_is_a_message(
    client: Client, people: People, street: Street, calligraphy: Activity, raw: str
) -> None:
    register_volunteer(actor=None, user=people.volunteer_a, site=street.station_a)
    client.force_login(people.volunteer_a)
    response = client.post(reverse("activities:sign_up", args=[calligraphy.pk]), {"post": raw}, follow=True)
    assert response.status_code == 200
    assert "未找到该岗位。" in messages_of(response)
    assert not Signup.objects.exists()


def test_a_post_of_another_activity_is_refused(
    client: Client, people: People, street: Street, calligraphy: Activity
) -> None:
    register_volunteer(actor=None, user=people.volunteer_a, site=street.station_a)
    other = publish(
        people, street.station_a, "另一场", at(NATIONAL_DAY_WEEK, 9), posts=[{"name": "摄影", "headcount": 1}]
    )
    foreign = Post.objects.get(activity=other)
    client.force_login(people.volunteer_a)
    response = client.post(reverse("activities:sign_up", args=[calligraphy.pk]), {"post": str(foreign.pk)}, follow=True)
    assert "未找到该岗位。" in messages_of(response)
    assert not Signup.objects.exists()


# --- My sign-ups and cancelling ---------------------------------------------------------------


def test_my_sign_ups_needs_sign_in(client: Client, db: None) -> None:
    response = client.get(reverse("activities:mine"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_cancel_before_the_deadline(client: Client, people: People, calligraphy: Activity) -> None:
    signup = services.sign_up(actor=people.resident_a, activity=calligraphy)
    client.force_login(people.resident_a)
    response = client.post(reverse("activities:cancel_signup", args=[signup.pk]), follow=True)
    assert "已取消报名“书法写春联”。" in messages_of(response)
    signup.refresh_from_db()
    assert signup.status == SignupStatus.CANCELLED
    calligraphy.refresh_from_db()
    assert calligraphy.confirmed_count == 0
    text = page(response)
    assert "已取消" in text
    assert reverse("activities:cancel_signup", args=[signup.pk]) not in text
    assert "<svg" not in text


def test_no_cancel_after_the_deadline(client: Client, people: People, street: Street) -> None:
    activity = publish(
        people, street.station_a, "亲子手工", at(NATIONAL_DAY_WEEK, 9), seats=10,
        cancel_deadline=NOW + dt.timedelta(hours=1),
    )  # fmt: skip
    signup = services.sign_up(actor=people.resident_a, activity=activity)
    client.force_login(people.resident_a)
    assert reverse("activities:cancel_signup", args=[signup.pk]) in page(client.get(reverse("activities:mine")))
    with time_machine.travel(NOW + dt.timedelta(hours=2), tick=False):
        text = page(client.get(reverse("activities:mine")))
        assert reverse("activities:cancel_signup", args=[signup.pk]) not in text
        assert signup.code in text  # still confirmed, still shown
        response = client.post(reverse("activities:cancel_signup", args=[signup.pk]), follow=True)
    assert "已过取消报名的截止时间，请联系活动负责人。" in messages_of(response)
    signup.refresh_from_db()
    assert signup.status == SignupStatus.CONFIRMED


def test_nobody_cancels_someone_elses_sign_up(client: Client, people: People, calligraphy: Activity) -> None:
    signup = services.sign_up(actor=people.resident_a, activity=calligraphy)
    client.force_login(people.resident_b)
    assert client.post(reverse("activities:cancel_signup", args=[signup.pk])).status_code == 404
    assert client.post(reverse("activities:cancel_signup", args=[999_999])).status_code == 404
    signup.refresh_from_db()
    assert signup.status == SignupStatus.CONFIRMED


def test_anonymous_cancel_goes_to_sign_in(client: Client, people: People, calligraphy: Activity) -> None:
    signup = services.sign_up(actor=people.resident_a, activity=calligraphy)
    response = client.post(reverse("activities:cancel_signup", args=[signup.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_upcoming_sign_ups_come_first(client: Client, people: People, street: Street) -> None:
    later = publish(people, street.station_a, "下周的活动", at(dt.date(2026, 10, 6), 9))
    sooner = publish(people, street.station_a, "明天的活动", NOW + dt.timedelta(days=1), seats=5)
    earlier = NOW - dt.timedelta(days=3)
    past = publish(people, street.station_a, "上周的活动", earlier, seats=5)
    services.sign_up(actor=people.resident_a, activity=past, now=earlier - dt.timedelta(days=1))
    later_activity = Activity.objects.get(pk=later.pk)
    Activity.objects.filter(pk=later.pk).update(seats=5)
    later_activity.refresh_from_db()
    services.sign_up(actor=people.resident_a, activity=later_activity)
    services.sign_up(actor=people.resident_a, activity=sooner)
    services.sign_up(actor=people.resident_b, activity=sooner)  # someone else's: not on her page
    client.force_login(people.resident_a)
    text = page(client.get(reverse("activities:mine")))
    assert text.index("明天的活动") < text.index("下周的活动") < text.index("已结束的活动") < text.index("上周的活动")
    assert text.count('class="wm-ticket"') == 3
    assert text.count("<svg") == 2  # codes for what is still to come


def test_my_sign_ups_query_count_is_constant(
    client: Client, people: People, street: Street, django_assert_num_queries: Any
) -> None:
    client.force_login(people.resident_a)

    def add(n: int) -> None:
        for i in range(n):
            activity = publish(people, street.point_a, f"活动{i}", at(NATIONAL_DAY_WEEK, 8 + i), seats=5)
            services.sign_up(actor=people.resident_a, activity=activity)

    add(1)
    url = reverse("activities:mine")
    client.get(url)
    with django_assert_num_queries(5) as baseline:  # session, user, the header's staff check, upcoming, past
        client.get(url)
    Signup.objects.all().delete()
    add(5)
    with django_assert_num_queries(len(baseline.captured_queries)):
        assert page(client.get(url)).count('class="wm-ticket"') == 5
