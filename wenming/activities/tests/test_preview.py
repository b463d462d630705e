"""每周活动预告: the week selector (subtree, statuses, week bounds, queries) and the mobile week page.

The helpers at the top (``publish``, ``at``) are shared with the other
preview, poster, calendar and residents' page tests.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from wenming.activities import preview, services
from wenming.activities.models import Activity, ActivityStatus
from wenming.core.errors import Invalid
from wenming.network import services as network_services
from wenming.network.models import Site

if TYPE_CHECKING:
    from conftest import People, Street

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NATIONAL_DAY_WEEK = dt.date(2026, 9, 28)  # 10月1日–4日 are 国庆节 holidays
SPRING_FESTIVAL_WEEK = dt.date(2026, 2, 9)  # 2月14日 (Saturday) is 调休上班, 2月15日 春节


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A Shanghai wall-clock time."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def publish(
    people: People,
    site: Site,
    title: str,
    starts_at: dt.datetime,
    *,
    hours: float = 2,
    manager: Any = None,
    approver: Any = None,
    **fields: Any,
) -> Activity:
    """An activity created by the site's manager and approved by the sub-centre admin (or ``approver``)."""
    fields.setdefault("platform", "culture")
    activity = services.create_activity(
        actor=manager or people.manager_a,
        site=site,
        title=title,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=hours),
        **fields,
    )
    services.submit_activity(actor=manager or people.manager_a, activity=activity)
    if activity.status == "submitted":
        services.approve_activity(actor=approver or people.subcentre_admin, activity=activity)
    return activity


def draft(people: People, site: Site, title: str, starts_at: dt.datetime, **fields: Any) -> Activity:
    fields.setdefault("platform", "culture")
    return services.create_activity(
        actor=people.manager_a,
        site=site,
        title=title,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
        **fields,
    )


def titles(plan: preview.WeekPlan) -> list[str]:
    return [a.title for a in plan.activities]


def html(response: Any) -> str:
    return response.content.decode()


# --- Parsing the week ---------------------------------------------------------------------


def test_any_date_of_the_week_names_its_monday() -> None:
    for day in range(28, 31):
        assert preview.parse_week(f"2026-09-{day}") == NATIONAL_DAY_WEEK
    assert preview.parse_week("2026-10-04") == NATIONAL_DAY_WEEK
    assert preview.parse_week("2026-10-05") == dt.date(2026, 10, 5)
    assert preview.parse_week(" 2026-10-01 ") == NATIONAL_DAY_WEEK


@time_machine.travel(dt.datetime(2026, 10, 1, 1, 0, tzinfo=SHANGHAI))
def test_no_week_is_this_week_in_shanghai() -> None:
    # 1 a.m. on Thursday 1 October in Shanghai is still Wednesday in UTC: the week is Shanghai's.
    assert preview.parse_week(None) == NATIONAL_DAY_WEEK
    assert preview.parse_week("") == NATIONAL_DAY_WEEK


@time_machine.travel(dt.datetime(2026, 10, 5, 0, 30, tzinfo=SHANGHAI))
def test_monday_just_after_midnight_is_the_new_week() -> None:
    assert preview.parse_week(None) == dt.date(2026, 10, 5)


@pytest.mark.parametrize(
    "raw",
    ["abc", "2026-13-01", "2026-02-30", "20260928", "2026-W40", "2026-W40-1", "2026/09/28", "２０２６-09-28",
     "2026-09-28T00:00", "1999-12-31", "2101-01-04", "0000-01-01", "2026-09-28\x00", "9" * 5000, "'; drop table"],
)  # fmt: skip
def test_bad_week_is_refused_with_a_message(raw: str) -> None:
    with pytest.raises(Invalid) as caught:
        preview.parse_week(raw)
    assert caught.value.code == "bad_week"
    assert caught.value.extra["field"] == "week"
    assert caught.value.message


def test_week_bounds_are_shanghai_midnights() -> None:
    start, end = preview.week_bounds(NATIONAL_DAY_WEEK)
    assert start == dt.datetime(2026, 9, 27, 16, 0, tzinfo=dt.UTC)
    assert end == dt.datetime(2026, 10, 4, 16, 0, tzinfo=dt.UTC)


def test_week_label_spans_years() -> None:
    assert preview.week_label(NATIONAL_DAY_WEEK) == "2026年9月28日—10月4日"
    assert preview.week_label(dt.date(2026, 12, 28)) == "2026年12月28日—2027年1月3日"


# --- The selector -------------------------------------------------------------------------


def test_the_week_runs_from_monday_midnight_to_the_next(people: People, street: Street) -> None:
    a = street.station_a
    publish(people, a, "上周日深夜", at(dt.date(2026, 9, 27), 23, 0), hours=0.5)
    publish(people, a, "周一零点半", at(NATIONAL_DAY_WEEK, 0, 30))  # Sunday 16:30 in UTC
    publish(people, a, "周日深夜", at(dt.date(2026, 10, 4), 23, 30), hours=0.5)
    publish(people, a, "下周一零点", at(dt.date(2026, 10, 5), 0, 0))
    plan = preview.week_plan(a, NATIONAL_DAY_WEEK)
    assert titles(plan) == ["周一零点半", "周日深夜"]
    assert [a.title for a in plan.days[0].activities] == ["周一零点半"]
    assert [a.title for a in plan.days[6].activities] == ["周日深夜"]


def test_a_station_sees_its_points_and_not_other_stations(people: People, street: Street) -> None:
    monday = NATIONAL_DAY_WEEK
    publish(people, street.point_a, "一号楼读书会", at(monday, 9))
    publish(people, street.station_a, "甲站书法课", at(monday, 14))
    publish(people, street.station_b, "乙站太极拳", at(monday, 8), manager=people.manager_b)
    publish(people, street.station_c, "丙站观影", at(monday, 19), manager=people.manager_c, approver=people.admin)

    assert titles(preview.week_plan(street.station_a, monday)) == ["一号楼读书会", "甲站书法课"]
    assert titles(preview.week_plan(street.point_a, monday)) == ["一号楼读书会"]
    assert titles(preview.week_plan(street.station_b, monday)) == ["乙站太极拳"]
    assert titles(preview.week_plan(street.subcentre, monday)) == ["乙站太极拳", "一号楼读书会", "甲站书法课"]
    assert titles(preview.week_plan(street.district, monday)) == ["乙站太极拳", "一号楼读书会", "甲站书法课"]
    assert titles(preview.week_plan(street.other_district, monday)) == ["丙站观影"]


def test_only_public_and_cancelled_activities_are_shown(people: People, street: Street) -> None:
    monday, a = NATIONAL_DAY_WEEK, street.station_a
    draft(people, a, "草稿", at(monday, 9))
    submitted = draft(people, a, "待审核", at(monday, 10))
    services.submit_activity(actor=people.manager_a, activity=submitted)
    assert Activity.objects.get(pk=submitted.pk).status == ActivityStatus.SUBMITTED
    dropped = draft(people, a, "草稿就取消了", at(monday, 11))
    services.cancel_activity(actor=people.manager_a, activity=dropped, reason="不办了")
    published = publish(people, a, "已发布", at(monday, 12))
    called_off = publish(people, a, "发布后取消", at(monday, 13))
    services.cancel_activity(actor=people.manager_a, activity=called_off, reason="场地维修")
    done = publish(people, a, "已结束", at(monday, 8), hours=1)
    services.complete_activity(actor=None, activity=done)

    plan = preview.week_plan(a, monday)
    assert titles(plan) == ["已结束", "已发布", "发布后取消"]
    listings = {item.activity.title: item for item in plan.days[0].listings}
    assert listings["发布后取消"].cancelled
    assert not listings["已发布"].cancelled
    assert plan.activity_count == 2  # the cancelled one is shown, not counted
    assert published.pk in {x.pk for x in plan.activities}


def test_inactive_sites_activities_are_left_out(people: People, street: Street) -> None:
    publish(people, street.point_a, "一号楼读书会", at(NATIONAL_DAY_WEEK, 9))
    Site.objects.filter(pk=street.point_a.pk).update(is_active=False)
    assert titles(preview.week_plan(street.station_a, NATIONAL_DAY_WEEK)) == []


def _busy_week(people: People, street: Street, count: int) -> None:
    venue = network_services.create_venue(
        actor=None, site=street.station_a, name="多功能厅", area_m2=Decimal("60"), capacity=40
    )
    brand = network_services.create_brand(actor=None, site=street.station_a, name="甲站乐荟")
    hosts = [street.station_a, street.point_a]
    for i in range(count):
        publish(
            people,
            hosts[i % 2],
            f"活动{i:02d}",
            at(NATIONAL_DAY_WEEK + dt.timedelta(days=i % 7), 8 + i % 10),
            venue=venue if i % 3 == 0 else None,
            brand=brand,
            location="二楼",
            seats=20,
        )


def test_the_selector_is_one_query_whatever_the_week(
    people: People, street: Street, django_assert_num_queries: Any
) -> None:
    _busy_week(people, street, 3)
    with django_assert_num_queries(1):
        plan = preview.week_plan(street.subcentre, NATIONAL_DAY_WEEK)
        for item in plan.days[0].listings + plan.days[1].listings + plan.days[2].listings:
            _ = (item.activity.site.name, item.place, item.activity.brand and item.activity.brand.name, item.seats)
    _busy_week_more(people, street)
    with django_assert_num_queries(1):
        plan = preview.week_plan(street.subcentre, NATIONAL_DAY_WEEK)
        assert len(plan.activities) == 15
        for day in plan.days:
            for item in day.listings:
                _ = (item.activity.site.name, item.place, item.activity.brand and item.activity.brand.name)


def _busy_week_more(people: People, street: Street) -> None:
    for i in range(12):
        publish(people, street.point_a, f"更多{i:02d}", at(NATIONAL_DAY_WEEK + dt.timedelta(days=i % 7), 20))


def test_a_very_busy_week_is_capped(people: People, street: Street, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preview, "WEEK_LIMIT", 3)
    _busy_week(people, street, 5)
    plan = preview.week_plan(street.station_a, NATIONAL_DAY_WEEK)
    assert len(plan.activities) == 3
    assert plan.truncated


# --- Days: holidays and 调休 ----------------------------------------------------------------


def test_national_day_week_marks_the_holidays(street: Street) -> None:
    plan = preview.week_plan(street.station_a, NATIONAL_DAY_WEEK)
    assert [d.date for d in plan.days] == [NATIONAL_DAY_WEEK + dt.timedelta(days=i) for i in range(7)]
    assert [d.weekday for d in plan.days] == ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
    assert [d.mark for d in plan.days] == ["", "", "", "国庆节假期", "国庆节假期", "国庆节假期", "国庆节假期"]
    assert plan.has_published_calendar


def test_spring_festival_week_has_a_makeup_saturday(street: Street) -> None:
    plan = preview.week_plan(street.station_a, SPRING_FESTIVAL_WEEK)
    assert [d.mark for d in plan.days] == ["", "", "", "", "", "调休上班", "春节假期"]
    assert plan.days[5].is_makeup_workday
    assert plan.days[6].is_holiday


def test_a_year_not_yet_published_is_shown_plainly(street: Street) -> None:
    plan = preview.week_plan(street.station_a, dt.date(2027, 9, 27))  # 2027's arrangement is not out
    assert [d.mark for d in plan.days] == [""] * 7
    assert not plan.has_published_calendar


# --- The week page ------------------------------------------------------------------------


def week_url(site: Site, week: str | None = None) -> str:
    url = reverse("activities:week", args=[site.pk])
    return f"{url}?week={week}" if week is not None else url


@time_machine.travel(dt.datetime(2026, 9, 25, 10, 0, tzinfo=SHANGHAI))
def test_week_page_lists_the_week_day_by_day(client: Client, people: People, street: Street) -> None:
    venue = network_services.create_venue(
        actor=None, site=street.station_a, name="多功能厅", area_m2=Decimal("60"), capacity=40
    )
    reading = publish(
        people, street.point_a, "国庆读书会", at(dt.date(2026, 10, 2), 9, 30), seats=30, location="一楼大厅",
        platform="education", audience="elderly",
    )  # fmt: skip
    calligraphy = publish(people, street.station_a, "书法写春联", at(NATIONAL_DAY_WEEK, 14), seats=2, venue=venue)
    page = html(client.get(week_url(street.station_a, "2026-10-01")))
    assert "每周活动预告" in page
    assert street.station_a.name in page
    assert "2026年9月28日—10月4日" in page
    # Days in order, Monday first, with the holiday marks.
    positions = [page.index(f"{label}") for label in ("9月28日 周一", "9月29日 周二", "10月1日 周四", "10月4日 周日")]
    assert positions == sorted(positions)
    assert page.count("国庆节假期") == 4
    assert "调休上班" not in page
    # Each activity: time, title, host site, place, platform, audience, seats left, detail link.
    assert page.index("书法写春联") < page.index("国庆读书会")
    assert "09:30–11:30" in page
    assert street.point_a.name in page
    assert "一楼大厅" in page
    assert "多功能厅" in page
    assert "教育服务" in page
    assert "老年人" in page
    assert "余30个名额（共30个）" in page
    assert reverse("activities:detail", args=[reading.pk]) in page
    assert reverse("activities:detail", args=[calligraphy.pk]) in page
    # Previous and next weeks, the poster and the calendar feed.
    assert f"{reverse('activities:week', args=[street.station_a.pk])}?week=2026-09-21" in page
    assert f"{reverse('activities:week', args=[street.station_a.pk])}?week=2026-10-05" in page
    assert f"{reverse('activities:poster', args=[street.station_a.pk])}?week=2026-09-28" in page
    assert reverse("activities:calendar", args=[street.station_a.pk]) in page
    assert '<meta name="viewport"' in page


@time_machine.travel(dt.datetime(2026, 9, 25, 10, 0, tzinfo=SHANGHAI))
def test_week_page_shows_seats_left_and_full(client: Client, people: People, street: Street) -> None:
    roomy = publish(people, street.station_a, "亲子手工", at(NATIONAL_DAY_WEEK, 9), seats=10)
    tight = publish(people, street.station_a, "心理讲座", at(NATIONAL_DAY_WEEK, 15), seats=1, waitlist_limit=2)
    closed = publish(people, street.station_a, "只招志愿者", at(NATIONAL_DAY_WEEK, 18), seats=0)
    services.sign_up(actor=people.resident_a, activity=roomy)
    services.sign_up(actor=people.resident_a, activity=tight)
    page = html(client.get(week_url(street.station_a, "2026-09-28")))
    assert "余9个名额（共10个）" in page
    assert "名额已满，可候补" in page
    assert "不设居民报名" in page
    assert closed.title in page


def test_week_page_flags_a_cancelled_activity(client: Client, people: People, street: Street) -> None:
    called_off = publish(people, street.station_a, "露天电影", at(NATIONAL_DAY_WEEK, 19))
    services.cancel_activity(actor=people.manager_a, activity=called_off, reason="天气原因")
    page = html(client.get(week_url(street.station_a, "2026-09-28")))
    assert "露天电影" in page
    assert "wm-act_cancelled" in page
    assert "已取消" in page


def test_week_page_marks_the_makeup_saturday(client: Client, street: Street) -> None:
    page = html(client.get(week_url(street.subcentre, "2026-02-14")))
    assert "2026年2月9日—2月15日" in page
    assert "调休上班" in page
    assert "春节假期" in page
    assert page.index("调休上班") < page.index("春节假期")


def test_week_page_of_an_unpublished_year_has_no_marks(client: Client, street: Street) -> None:
    page = html(client.get(week_url(street.station_a, "2027-10-01")))
    assert "假期" not in page.replace("节假日安排尚未公布", "")
    assert "调休上班" not in page
    assert "节假日安排尚未公布" in page


@time_machine.travel(dt.datetime(2026, 9, 30, 12, 0, tzinfo=SHANGHAI))
def test_week_page_defaults_to_this_week(client: Client, people: People, street: Street) -> None:
    publish(people, street.station_a, "本周活动", at(dt.date(2026, 10, 2), 9))
    publish(people, street.station_a, "下周活动", at(dt.date(2026, 10, 6), 9))
    page = html(client.get(week_url(street.station_a)))
    assert "本周活动" in page
    assert "下周活动" not in page
    assert "今天" in page


@pytest.mark.parametrize("raw", ["abc", "2026-02-30", "2026-13-01", "1900-01-01", "x" * 300, "2026-09-28%00"])
def test_week_page_with_bad_week_says_so(client: Client, street: Street, raw: str) -> None:
    response = client.get(week_url(street.station_a, raw))
    assert response.status_code == 400
    assert "日期格式不对" in html(response) or "只能查看" in html(response)
    assert "每周活动预告" in html(response)  # and the page still shows this week


def test_week_page_of_an_unknown_or_closed_site_is_404(client: Client, street: Street) -> None:
    assert client.get(reverse("activities:week", args=[999_999])).status_code == 404
    Site.objects.filter(pk=street.station_b.pk).update(is_active=False)
    assert client.get(week_url(street.station_b)).status_code == 404


def test_week_page_does_not_list_another_station(client: Client, people: People, street: Street) -> None:
    publish(people, street.point_a, "一号楼读书会", at(NATIONAL_DAY_WEEK, 9))
    publish(people, street.station_b, "乙站太极拳", at(NATIONAL_DAY_WEEK, 8), manager=people.manager_b)
    page = html(client.get(week_url(street.station_a, "2026-09-28")))
    assert "一号楼读书会" in page
    assert "乙站太极拳" not in page


def test_week_page_query_count_is_constant(
    client: Client, people: People, street: Street, django_assert_num_queries: Any
) -> None:
    _busy_week(people, street, 2)
    url = week_url(street.subcentre, "2026-09-28")
    with django_assert_num_queries(3):  # the site, the week's fingerprint, the week's activities
        assert client.get(url).status_code == 200
    _busy_week_more(people, street)
    with django_assert_num_queries(3):  # the fingerprint changed: built again
        page = html(client.get(url))
    assert page.count('class="wm-act"') == 14
    with django_assert_num_queries(2):  # nothing changed: the listing comes from the cache
        again = html(client.get(url))
    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
    assert token.sub("", again) == token.sub("", page)


def test_the_cached_week_follows_every_change(people: People, street: Street, client: Client) -> None:
    """Seats taken, a title edited, an activity cancelled: the next view shows it at once."""
    _busy_week(people, street, 1)
    url = week_url(street.subcentre, "2026-09-28")
    first = html(client.get(url))
    activity = Activity.objects.filter(status="published", seats__gt=0).order_by("id").first()
    assert activity is not None
    services.sign_up(actor=people.resident_b, activity=activity, now=activity.starts_at - dt.timedelta(days=1))
    after_signup = html(client.get(url))
    assert after_signup != first
    services.update_activity(actor=people.admin, activity=activity, title="改名后的活动")
    assert "改名后的活动" in html(client.get(url))
    services.cancel_activity(actor=people.admin, activity=activity, reason="场地维修")
    assert "已取消" in html(client.get(url))


def test_week_page_query_count_signed_in(
    client: Client, people: People, street: Street, django_assert_num_queries: Any
) -> None:
    client.force_login(people.resident_a)
    _busy_week(people, street, 2)
    url = week_url(street.subcentre, "2026-09-28")
    client.get(url)
    with django_assert_num_queries(5):  # session, user, the header's staff check, site, fingerprint (cached)
        client.get(url)
    _busy_week_more(people, street)
    with django_assert_num_queries(6):  # … and the activities, once, since the week changed
        assert client.get(url).status_code == 200
