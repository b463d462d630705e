"""Plans and themes, creating and editing activities, weekly series, and sign-up.

Every refusal carries its code (and field) and writes nothing. Seat
counters on the activity move only with the rows: after any sequence of
sign-ups and cancellations, ``confirmed_count`` and ``waitlist_count``
equal the confirmed and waitlisted rows, and the waitlist moves up first
in, first out (a property test drives random sequences against a model).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from wenming.accounts.models import User
from wenming.activities import services
from wenming.activities.models import (
    Activity,
    ActivityStatus,
    MonthlyTheme,
    Plan,
    Post,
    Series,
    Signup,
    SignupKind,
    SignupStatus,
    StatusChange,
)
from wenming.activities.tests.conftest import SATURDAY, activity_fields, week_monday
from wenming.core.errors import Conflict, DomainError, Invalid, NotAllowed, NotFound
from wenming.network.models import Brand, Project, Venue
from wenming.volunteers import services as volunteer_services

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, int, int, int]:
    return Activity.objects.count(), Post.objects.count(), StatusChange.objects.count(), Series.objects.count()


def live_counts(activity: Activity) -> tuple[int, int, int, int]:
    """(confirmed_count, confirmed rows, waitlist_count, waitlisted rows) of a resident activity."""
    activity.refresh_from_db()
    rows = Signup.objects.filter(activity=activity, kind=SignupKind.RESIDENT)
    return (
        activity.confirmed_count,
        rows.filter(status=SignupStatus.CONFIRMED).count(),
        activity.waitlist_count,
        rows.filter(status=SignupStatus.WAITLISTED).count(),
    )


# --- Plans and themes ------------------------------------------------------------------------------


def test_one_plan_per_site_and_year(people: Any, street: Any) -> None:
    plan = services.create_plan(actor=people.manager_a, site=street.station_a, year=2026, title="2026年甲站工作计划")
    assert (plan.site, plan.year) == (street.station_a, 2026)
    with pytest.raises(Conflict) as refused:
        services.create_plan(actor=people.subcentre_admin, site=street.station_a, year=2026, title="又一个")
    assert (refused.value.code, refused.value.extra.get("field")) == ("plan_exists", "year")
    # Another year, another site: fine.
    services.create_plan(actor=people.manager_a, site=street.station_a, year=2027, title="2027年计划")
    services.create_plan(actor=people.manager_b, site=street.station_b, year=2026, title="乙站计划")
    assert Plan.objects.count() == 3


@pytest.mark.parametrize(
    ("persona", "year", "title", "error", "code"),
    [
        ("manager_a", 1999, "计划", Invalid, "invalid_year"),
        ("manager_a", 2101, "计划", Invalid, "invalid_year"),
        ("manager_a", 2026, "   ", Invalid, "invalid_title"),
        ("manager_a", 2026, "长" * 101, Invalid, "invalid_title"),
        ("manager_b", 2026, "计划", NotAllowed, "forbidden"),
        ("resident_a", 2026, "计划", NotAllowed, "forbidden"),
    ],
)
def test_create_plan_refusals(
    persona: str, year: int, title: str, error: type[DomainError], code: str, people: Any, street: Any
) -> None:
    with pytest.raises(error) as refused:
        services.create_plan(actor=getattr(people, persona), site=street.station_a, year=year, title=title)
    assert refused.value.code == code
    assert not Plan.objects.exists()


def test_monthly_themes(people: Any, street: Any) -> None:
    plan = services.create_plan(actor=people.manager_a, site=street.station_a, year=2026, title="计划")
    services.set_monthly_theme(actor=people.manager_a, plan=plan, month=3, theme="学雷锋志愿服务月")
    services.set_monthly_theme(actor=people.manager_a, plan=plan, month=3, theme="文明实践月", description="改了")
    assert list(MonthlyTheme.objects.filter(plan=plan).values_list("month", "theme", "description")) == [
        (3, "文明实践月", "改了")
    ]
    for month, theme, code in ((0, "主题", "invalid_month"), (13, "主题", "invalid_month"), (4, " ", "invalid_theme")):
        with pytest.raises(Invalid) as refused:
            services.set_monthly_theme(actor=people.manager_a, plan=plan, month=month, theme=theme)
        assert refused.value.code == code
    with pytest.raises(NotAllowed):
        services.set_monthly_theme(actor=people.manager_b, plan=plan, month=5, theme="别人的")
    assert MonthlyTheme.objects.count() == 1


def test_plan_for_falls_back_to_the_nearest_ancestor(people: Any, street: Any) -> None:
    day = dt.date(2026, 6, 1)
    assert services.plan_for(street.point_a, day) is None
    district = services.create_plan(actor=people.admin, site=street.district, year=2026, title="区计划")
    assert services.plan_for(street.point_a, day) == district
    sub = services.create_plan(actor=people.subcentre_admin, site=street.subcentre, year=2026, title="街道计划")
    station = services.create_plan(actor=people.manager_a, site=street.station_a, year=2026, title="甲站计划")
    assert services.plan_for(street.point_a, day) == station
    assert services.plan_for(street.station_a, day) == station
    assert services.plan_for(street.station_b, day) == sub
    assert services.plan_for(street.station_c, day) is None  # another district
    assert services.plan_for(street.station_a, dt.date(2027, 1, 1)) is None


def test_an_activity_belongs_to_its_plan_week_and_theme(
    people: Any, street: Any, make_activity: Any, when: Any
) -> None:
    start = when(SATURDAY, "09:00")
    local = timezone.localtime(start)
    plan = services.create_plan(actor=people.subcentre_admin, site=street.subcentre, year=local.year, title="街道计划")
    services.set_monthly_theme(actor=people.subcentre_admin, plan=plan, month=local.month, theme="全民健身")
    activity = make_activity(site=street.point_a, status="draft")
    assert activity.plan == plan
    assert activity.week_start == week_monday()
    theme = services.theme_of(activity)
    assert theme is not None
    assert theme.theme == "全民健身"
    # A month without a theme, or no plan at all: none.
    MonthlyTheme.objects.all().delete()
    assert services.theme_of(activity) is None
    loose = make_activity(site=street.station_c, status="draft")
    assert loose.plan is None
    assert services.theme_of(loose) is None


# --- Creating activities ---------------------------------------------------------------------------


def test_create_fills_in_the_defaults(people: Any, street: Any, when: Any) -> None:
    activity = services.create_activity(
        actor=people.manager_a,
        site=street.station_a,
        posts=[{"name": "引导员", "headcount": 2}, {"name": "摄影", "headcount": 1, "starts_at": when(5, "10:00")}],
        **activity_fields(when, title="  垃圾分类知识讲座  "),
    )
    assert activity.status == ActivityStatus.DRAFT
    assert activity.title == "垃圾分类知识讲座"
    assert activity.created_by == people.manager_a
    assert activity.checkin_opens_at == when(5, "08:30")
    assert activity.checkin_closes_at == when(5, "11:00")
    assert activity.audience == "all"
    assert activity.lecture_format == ""
    assert (activity.confirmed_count, activity.waitlist_count) == (0, 0)
    posts = {p.name: p for p in activity.posts.all()}
    assert (posts["引导员"].starts_at, posts["引导员"].ends_at) == (activity.starts_at, activity.ends_at)
    assert (posts["摄影"].starts_at, posts["摄影"].ends_at) == (when(5, "10:00"), activity.ends_at)
    assert activity.signup_window() == (None, activity.starts_at)
    assert activity.cancel_until() == activity.starts_at


def test_venues_brands_and_projects_of_the_site_chain_are_accepted(people: Any, street: Any, when: Any) -> None:
    above = Venue.objects.create(site=street.subcentre, name="报告厅", area_m2=300, capacity=200)
    below = Venue.objects.create(site=street.point_a, name="一号楼活动室", area_m2=40, capacity=20)
    brand = Brand.objects.create(site=street.subcentre, name="嘉禾研习")
    project = Project.objects.create(brand=brand, name="小微学堂")
    for venue in (above, below):
        services.create_activity(actor=people.manager_a, site=street.station_a, **activity_fields(when, venue=venue))
    derived = services.create_activity(
        actor=people.manager_a, site=street.station_a, **activity_fields(when, project=project)
    )
    assert derived.brand == brand  # the project's brand, when none was chosen


@pytest.fixture
def elsewhere(street: Any) -> dict[str, Any]:
    """Things of 乙站 and of 丙站 (another district), which 甲站 may not use, and 甲站's own."""
    b_brand = Brand.objects.create(site=street.station_b, name="乙站品牌")
    a_brand = Brand.objects.create(site=street.station_a, name="甲站品牌")
    return {
        "b_venue": Venue.objects.create(site=street.station_b, name="乙站活动室", area_m2=50, capacity=20),
        "c_venue": Venue.objects.create(site=street.station_c, name="丙站活动室", area_m2=50, capacity=20),
        "closed_venue": Venue.objects.create(
            site=street.station_a, name="停用的活动室", area_m2=50, capacity=20, is_active=False
        ),
        "b_brand": b_brand,
        "a_brand": a_brand,
        "b_project": Project.objects.create(brand=b_brand, name="乙站项目"),
        "a_project": Project.objects.create(brand=a_brand, name="甲站项目"),
        "other_a_brand": Brand.objects.create(site=street.station_a, name="甲站另一个品牌"),
    }


# (overrides of the valid fields, expected code, expected field); values starting with "@" name a fixture object.
INVALID: list[tuple[dict[str, Any], str, str]] = [
    ({"title": ""}, "invalid_title", "title"),
    ({"title": "   "}, "invalid_title", "title"),
    ({"title": "长" * 101}, "invalid_title", "title"),
    ({"platform": "art"}, "invalid_platform", "platform"),
    ({"platform": ""}, "invalid_platform", "platform"),
    ({"lecture_format": "podcast"}, "invalid_format", "lecture_format"),
    ({"audience": "martians"}, "invalid_audience", "audience"),
    ({"starts_at": "naive-start"}, "invalid_time", "starts_at"),
    ({"starts_at": "2026-06-01 09:00"}, "invalid_time", "starts_at"),
    ({"ends_at": "naive-end"}, "invalid_time", "ends_at"),
    ({"ends_at": "same-as-start"}, "invalid_time", "ends_at"),
    ({"ends_at": "before-start"}, "invalid_time", "ends_at"),
    ({"ends_at": "eight-days"}, "invalid_time", "ends_at"),
    ({"seats": -1}, "invalid_seats", "seats"),
    ({"seats": 100_001}, "invalid_seats", "seats"),
    ({"seats": "10"}, "invalid_seats", "seats"),
    ({"seats": 2.5}, "invalid_seats", "seats"),
    ({"seats": True}, "invalid_seats", "seats"),
    ({"waitlist_limit": -3}, "invalid_seats", "waitlist_limit"),
    ({"signup_opens_at": "naive-start"}, "invalid_time", "signup_opens_at"),
    ({"signup_closes_at": "after-end"}, "invalid_time", "signup_closes_at"),
    ({"signup_opens_at": "monday", "signup_closes_at": "monday"}, "invalid_time", "signup_closes_at"),
    ({"signup_opens_at": "tuesday", "signup_closes_at": "monday"}, "invalid_time", "signup_closes_at"),
    ({"cancel_deadline": "after-end"}, "invalid_time", "cancel_deadline"),
    ({"cancel_deadline": "naive-start"}, "invalid_time", "cancel_deadline"),
    ({"checkin_opens_at": "monday", "checkin_closes_at": "monday"}, "invalid_time", "checkin_closes_at"),
    ({"checkin_closes_at": "before-start-early"}, "invalid_time", "checkin_closes_at"),
    ({"contact_name": "长" * 51}, "too_long", "contact_name"),
    ({"contact_phone": "1" * 21}, "too_long", "contact_phone"),
    ({"location": "长" * 201}, "too_long", "location"),
    ({"status": "published"}, "invalid_field", "status"),
    ({"confirmed_count": 3}, "invalid_field", "confirmed_count"),
    ({"venue": "@b_venue"}, "invalid_venue", "venue"),
    ({"venue": "@c_venue"}, "invalid_venue", "venue"),
    ({"venue": "@closed_venue"}, "invalid_venue", "venue"),
    ({"brand": "@b_brand"}, "invalid_brand", "brand"),
    ({"project": "@b_project"}, "invalid_project", "project"),
    ({"brand": "@other_a_brand", "project": "@a_project"}, "invalid_project", "project"),
]


def _resolve(value: Any, when: Any, elsewhere: dict[str, Any]) -> Any:
    times = {
        "naive-start": dt.datetime(2030, 6, 1, 9, 0),
        "naive-end": dt.datetime(2030, 6, 1, 11, 0),
        "same-as-start": when(SATURDAY, "09:00"),
        "before-start": when(SATURDAY, "08:00"),
        "before-start-early": when(SATURDAY, "08:00"),
        "eight-days": when(SATURDAY, "09:00") + dt.timedelta(days=8),
        "after-end": when(SATURDAY, "11:01"),
        "monday": when(0, "09:00"),
        "tuesday": when(1, "09:00"),
    }
    if isinstance(value, str) and value.startswith("@"):
        return elsewhere[value[1:]]
    if isinstance(value, str) and value in times:
        return times[value]
    return value


@pytest.mark.parametrize(("overrides", "code", "field"), INVALID)
def test_invalid_fields_are_refused_and_nothing_is_created(
    overrides: dict[str, Any], code: str, field: str, people: Any, street: Any, when: Any, elsewhere: dict[str, Any]
) -> None:
    fields = activity_fields(when, **{k: _resolve(v, when, elsewhere) for k, v in overrides.items()})
    before = counts()
    with pytest.raises(Invalid) as refused:
        services.create_activity(
            actor=people.manager_a, site=street.station_a, posts=[{"name": "引导员", "headcount": 1}], **fields
        )
    assert (refused.value.code, refused.value.extra.get("field")) == (code, field)
    assert refused.value.status == 400
    assert counts() == before


@pytest.mark.parametrize(
    ("posts", "error", "code"),
    [
        ([{"name": "", "headcount": 1}], Invalid, "invalid_post"),
        ([{"name": "长" * 51, "headcount": 1}], Invalid, "invalid_post"),
        ([{"name": "引导员", "headcount": 0}], Invalid, "invalid_post"),
        ([{"name": "引导员", "headcount": "2"}], Invalid, "invalid_post"),
        ([{"name": "引导员", "headcount": 1, "starts_at": "after-end"}], Invalid, "invalid_post"),
        ([{"name": "引导员", "headcount": 1, "ends_at": "naive-end"}], Invalid, "invalid_time"),
        ([{"name": "引导员", "headcount": 1}, {"name": "引导员", "headcount": 2}], Conflict, "post_exists"),
    ],
)
def test_invalid_posts_create_nothing(
    posts: list[dict[str, Any]],
    error: type[DomainError],
    code: str,
    people: Any,
    street: Any,
    when: Any,
    elsewhere: dict[str, Any],
) -> None:
    resolved = [{k: _resolve(v, when, elsewhere) for k, v in p.items()} for p in posts]
    before = counts()
    with pytest.raises(error) as refused:
        services.create_activity(actor=people.manager_a, site=street.station_a, posts=resolved, **activity_fields(when))
    assert refused.value.code == code
    assert counts() == before


def test_who_may_create_and_where(people: Any, street: Any, when: Any) -> None:
    for persona in ("manager_b", "resident_a", "volunteer_a", "leader_a", "manager_c"):
        with pytest.raises(NotAllowed):
            services.create_activity(actor=getattr(people, persona), site=street.station_a, **activity_fields(when))
    street.station_a.is_active = False
    street.station_a.save()
    with pytest.raises(Invalid) as refused:
        services.create_activity(actor=people.manager_a, site=street.station_a, **activity_fields(when))
    assert refused.value.code == "invalid_site"
    assert counts() == (0, 0, 0, 0)
    # A sub-centre admin runs the stations below; the platform admin everything.
    services.create_activity(actor=people.subcentre_admin, site=street.station_b, **activity_fields(when))
    services.create_activity(actor=people.admin, site=street.station_c, **activity_fields(when))


# --- Editing ---------------------------------------------------------------------------------------


def test_update_moves_the_check_in_window_and_the_week(people: Any, make_activity: Any, when: Any) -> None:
    activity = make_activity(status="draft")
    services.update_activity(
        actor=people.manager_a,
        activity=activity,
        starts_at=when(7 + 2, "14:00"),
        ends_at=when(7 + 2, "16:00"),
        title="改期后的讲座",
    )
    fresh = Activity.objects.get(pk=activity.pk)
    assert fresh.title == "改期后的讲座"
    assert (fresh.checkin_opens_at, fresh.checkin_closes_at) == (when(9, "13:30"), when(9, "16:00"))
    assert fresh.week_start == week_monday() + dt.timedelta(weeks=1)


def test_update_refusals_change_nothing(people: Any, make_activity: Any, make_resident: Any, when: Any) -> None:
    activity = make_activity(seats=3, waitlist_limit=2)
    for person in [make_resident() for _ in range(4)]:
        services.sign_up(actor=person, activity=activity, now=when(0, "09:00"))
    before = Activity.objects.values().get(pk=activity.pk)
    cases: list[tuple[Any, dict[str, Any], type[DomainError], str]] = [
        (people.manager_a, {"seats": 2}, Invalid, "invalid_seats"),
        (people.manager_a, {"waitlist_limit": 0}, Invalid, "invalid_seats"),
        (people.manager_a, {"ends_at": when(SATURDAY, "08:00")}, Invalid, "invalid_time"),
        (people.manager_a, {"title": ""}, Invalid, "invalid_title"),
        (people.manager_a, {"status": "draft"}, Invalid, "invalid_field"),
        (people.manager_b, {"title": "乙站改的"}, NotFound, "not_found"),
        (people.resident_a, {"title": "居民改的"}, NotFound, "not_found"),
    ]
    for actor, changes, error, code in cases:
        with pytest.raises(error) as refused:
            services.update_activity(actor=actor, activity=Activity.objects.get(pk=activity.pk), **changes)
        assert refused.value.code == code, changes
    assert Activity.objects.values().get(pk=activity.pk) == before


def test_finished_activities_cannot_be_edited(people: Any, make_activity: Any) -> None:
    for status in ("completed", "cancelled"):
        activity = make_activity(status=status)
        with pytest.raises(Invalid) as refused:
            services.update_activity(actor=people.manager_a, activity=activity, title="新标题")
        assert refused.value.code == "activity_closed"
        with pytest.raises(Invalid):
            services.add_post(actor=people.manager_a, activity=activity, name="补录", headcount=1)
        assert Activity.objects.get(pk=activity.pk).title == "垃圾分类知识讲座"


# --- Weekly series ----------------------------------------------------------------------------------


def _series(people: Any, street: Any, when: Any, weeks: int, **extra: Any) -> Series:
    """A Tuesday-evening series starting in the test week, ``weeks`` weeks long."""
    fields = activity_fields(
        when,
        title="每周太极拳",
        platform="fitness",
        starts_at=when(1, "18:30"),
        ends_at=when(1, "20:00"),
        signup_opens_at=when(0, "08:00"),
        cancel_deadline=when(1, "12:00"),
    )
    fields.update(extra)
    first = timezone.localtime(fields["starts_at"]).date()
    return services.create_series(
        actor=people.manager_a,
        site=street.station_a,
        last_date=first + dt.timedelta(weeks=weeks - 1),
        posts=[{"name": "教练助手", "headcount": 1, "starts_at": when(1, "18:00")}],
        **fields,
    )


def test_a_series_is_one_draft_per_week_at_the_same_wall_clock_time(people: Any, street: Any, when: Any) -> None:
    series = _series(people, street, when, weeks=4)
    assert (series.weekday, series.starts, series.ends) == (1, dt.time(18, 30), dt.time(20, 0))
    occurrences = list(series.occurrences.order_by("starts_at"))
    assert len(occurrences) == 4
    for week, activity in enumerate(occurrences):
        day = week_monday() + dt.timedelta(days=1, weeks=week)
        start, end = timezone.localtime(activity.starts_at), timezone.localtime(activity.ends_at)
        assert activity.status == ActivityStatus.DRAFT
        assert activity.series_date == day
        assert (start.date(), start.time(), end.time()) == (day, dt.time(18, 30), dt.time(20, 0))
        assert timezone.localtime(activity.signup_opens_at).date() == day - dt.timedelta(days=1)
        assert activity.cancel_until() == start.replace(hour=12, minute=0)
        assert activity.checkin_opens_at == activity.starts_at - dt.timedelta(minutes=30)
        assert activity.week_start == day - dt.timedelta(days=1)
        post = activity.posts.get()
        assert timezone.localtime(post.starts_at).time() == dt.time(18, 0)
        assert timezone.localtime(post.starts_at).date() == day


def test_skip_dates_leave_those_weeks_out(people: Any, street: Any, when: Any) -> None:
    first = timezone.localtime(when(1, "18:30")).date()
    second = first + dt.timedelta(weeks=1)
    made = services.create_series(
        actor=people.manager_a,
        site=street.station_a,
        last_date=first + dt.timedelta(weeks=2),
        skip_dates=[second],
        **activity_fields(when, starts_at=when(1, "18:30"), ends_at=when(1, "20:00")),
    )
    assert list(made.occurrences.order_by("series_date").values_list("series_date", flat=True)) == [
        first,
        first + dt.timedelta(weeks=2),
    ]


def test_skip_occurrence_cancels_that_date_only(
    people: Any, street: Any, when: Any, inbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    series = _series(people, street, when, weeks=3)
    assert services.submit_series(actor=people.subcentre_admin, series=series) == 3
    first, second, third = series.occurrences.order_by("starts_at")
    assert second.signup_opens_at is not None
    services.sign_up(actor=people.resident_a, activity=second, now=second.signup_opens_at + dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        services.skip_occurrence(actor=people.manager_a, activity=second, reason="社区停电")
    statuses = dict(series.occurrences.values_list("pk", "status"))
    assert statuses == {first.pk: "published", second.pk: "cancelled", third.pk: "published"}
    assert ("activity_cancelled", "活动取消通知") in inbox(people.resident_a)

    loose = services.create_activity(actor=people.manager_a, site=street.station_a, **activity_fields(when))
    with pytest.raises(Invalid) as refused:
        services.skip_occurrence(actor=people.manager_a, activity=loose, reason="x")
    assert refused.value.code == "not_in_series"
    assert Activity.objects.get(pk=loose.pk).status == ActivityStatus.DRAFT


def test_editing_one_occurrence_changes_only_it(people: Any, street: Any, when: Any) -> None:
    series = _series(people, street, when, weeks=3)
    first, second, third = series.occurrences.order_by("starts_at")
    moved_start = second.starts_at + dt.timedelta(hours=1)
    services.update_activity(
        actor=people.manager_a,
        activity=second,
        title="太极拳（改到晚上七点半）",
        starts_at=moved_start,
        ends_at=moved_start + dt.timedelta(hours=1),
    )
    rows = {a.pk: a for a in series.occurrences.all()}
    assert rows[second.pk].title == "太极拳（改到晚上七点半）"
    assert rows[second.pk].starts_at == moved_start
    for other in (first, third):
        assert (rows[other.pk].title, rows[other.pk].starts_at, rows[other.pk].ends_at) == (
            other.title,
            other.starts_at,
            other.ends_at,
        )
    assert Series.objects.get(pk=series.pk).starts == dt.time(18, 30)


def test_a_series_lasts_at_most_53_weeks(people: Any, street: Any, when: Any) -> None:
    fields = activity_fields(when, starts_at=when(1, "18:30"), ends_at=when(1, "20:00"))
    first = timezone.localtime(fields["starts_at"]).date()
    with pytest.raises(Invalid) as refused:
        services.create_series(
            actor=people.manager_a, site=street.station_a, last_date=first + dt.timedelta(weeks=53), **fields
        )
    assert (refused.value.code, refused.value.extra.get("field")) == ("invalid_date", "last_date")
    with pytest.raises(Invalid) as refused:
        services.create_series(
            actor=people.manager_a, site=street.station_a, last_date=first - dt.timedelta(days=1), **fields
        )
    assert refused.value.code == "invalid_date"
    assert counts() == (0, 0, 0, 0)
    longest = services.create_series(
        actor=people.manager_a, site=street.station_a, last_date=first + dt.timedelta(weeks=52, days=6), **fields
    )
    assert longest.occurrences.count() == 53


def test_series_refusals(people: Any, street: Any, when: Any) -> None:
    fields = activity_fields(when)
    last = timezone.localtime(fields["starts_at"]).date() + dt.timedelta(weeks=2)
    with pytest.raises(NotAllowed):
        services.create_series(actor=people.manager_b, site=street.station_a, last_date=last, **fields)
    with pytest.raises(Invalid) as refused:
        services.create_series(actor=people.manager_a, site=street.station_a, last_date=last, **{**fields, "seats": -1})
    assert refused.value.code == "invalid_seats"
    with pytest.raises(Invalid) as refused:
        services.create_series(
            actor=people.manager_a,
            site=street.station_a,
            last_date=last,
            posts=[{"name": "", "headcount": 1}],
            **fields,
        )
    assert refused.value.code == "invalid_post"
    assert counts() == (0, 0, 0, 0)


# --- Sign-up: seats and the waitlist ------------------------------------------------------------------


def test_capacity_is_strict(people: Any, make_activity: Any, make_resident: Any, when: Any) -> None:
    activity = make_activity(seats=2, waitlist_limit=1)
    now = when(0, "09:00")
    first, second, third, fourth = (make_resident() for _ in range(4))
    assert services.sign_up(actor=first, activity=activity, now=now).status == SignupStatus.CONFIRMED
    assert services.sign_up(actor=second, activity=activity, now=now).status == SignupStatus.CONFIRMED
    waiting = services.sign_up(actor=third, activity=activity, now=now)
    assert waiting.status == SignupStatus.WAITLISTED
    with pytest.raises(Conflict) as refused:
        services.sign_up(actor=fourth, activity=activity, now=now)
    assert (refused.value.code, refused.value.status) == ("full", 409)
    assert live_counts(activity) == (2, 2, 1, 1)
    assert not Signup.objects.filter(user=fourth).exists()
    assert activity.seats_left == 0


def test_no_waitlist_means_full_at_once(people: Any, make_activity: Any, make_resident: Any, when: Any) -> None:
    activity = make_activity(seats=1)
    services.sign_up(actor=make_resident(), activity=activity, now=when(0, "09:00"))
    with pytest.raises(Conflict) as refused:
        services.sign_up(actor=make_resident(), activity=activity, now=when(0, "09:00"))
    assert refused.value.code == "full"
    assert live_counts(activity) == (1, 1, 0, 0)


def test_an_activity_without_seats_takes_no_residents(people: Any, make_activity: Any, when: Any) -> None:
    activity = make_activity(seats=0)
    with pytest.raises(Conflict) as refused:
        services.sign_up(actor=people.resident_a, activity=activity, now=when(0, "09:00"))
    assert refused.value.code == "no_seats"


def test_once_per_person_and_again_after_cancelling(people: Any, make_activity: Any, when: Any) -> None:
    activity = make_activity(seats=5)
    now = when(0, "09:00")
    first = services.sign_up(actor=people.resident_a, activity=activity, now=now)
    with pytest.raises(Conflict) as refused:
        services.sign_up(actor=people.resident_a, activity=activity, now=now)
    assert refused.value.code == "already_signed_up"
    # Staff signing her up again: the same answer.
    with pytest.raises(Conflict) as refused:
        services.sign_up(actor=people.manager_a, activity=activity, user=people.resident_a, now=now)
    assert refused.value.code == "already_signed_up"
    assert live_counts(activity) == (1, 1, 0, 0)

    services.cancel_signup(actor=people.resident_a, signup=first, now=now)
    again = services.sign_up(actor=people.resident_a, activity=activity, now=now)
    assert again.pk != first.pk
    assert again.status == SignupStatus.CONFIRMED
    assert again.code != ""
    assert len(again.code) == services.CODE_LENGTH
    assert Signup.objects.get(pk=first.pk).status == SignupStatus.CANCELLED
    assert live_counts(activity) == (1, 1, 0, 0)


def test_the_sign_up_window(people: Any, make_activity: Any, when: Any) -> None:
    activity = make_activity(signup_opens_at=when(1, "09:00"), signup_closes_at=when(4, "18:00"))
    with pytest.raises(Conflict) as refused:
        services.sign_up(actor=people.resident_a, activity=activity, now=when(1, "08:59"))
    assert refused.value.code == "not_open"
    with pytest.raises(Conflict) as refused:
        services.sign_up(actor=people.resident_b, activity=activity, now=when(4, "18:00"))
    assert refused.value.code == "closed"
    assert not Signup.objects.exists()
    services.sign_up(actor=people.resident_a, activity=activity, now=when(1, "09:00"))
    services.sign_up(actor=people.resident_b, activity=activity, now=when(4, "17:59"))
    assert live_counts(activity) == (2, 2, 0, 0)


def test_without_a_closing_time_sign_up_closes_at_the_start(people: Any, make_activity: Any) -> None:
    activity = make_activity()
    with pytest.raises(Conflict) as refused:
        services.sign_up(actor=people.resident_a, activity=activity, now=activity.starts_at)
    assert refused.value.code == "closed"
    services.sign_up(actor=people.resident_a, activity=activity, now=activity.starts_at - dt.timedelta(seconds=1))


def test_staff_sign_people_up_outside_the_window(people: Any, make_activity: Any, when: Any) -> None:
    activity = make_activity(signup_opens_at=when(1, "09:00"), signup_closes_at=when(4, "18:00"))
    early = services.sign_up(actor=people.manager_a, activity=activity, user=people.resident_a, now=when(0, "08:00"))
    assert (early.user, early.created_by, early.status) == (people.resident_a, people.manager_a, "confirmed")
    # After the close, even during the activity; not after its end.
    services.sign_up(actor=people.subcentre_admin, activity=activity, user=people.resident_b, now=when(5, "10:00"))
    with pytest.raises(Conflict) as refused:
        services.sign_up(actor=people.manager_a, activity=activity, user=people.liaison_a, now=activity.ends_at)
    assert refused.value.code == "closed"
    assert live_counts(activity) == (2, 2, 0, 0)


@pytest.mark.parametrize("persona", ["manager_b", "manager_c", "resident_b", "volunteer_a", "leader_a"])
def test_only_its_own_staff_sign_others_up(persona: str, people: Any, make_activity: Any, when: Any) -> None:
    activity = make_activity()
    with pytest.raises(NotAllowed) as refused:
        services.sign_up(actor=getattr(people, persona), activity=activity, user=people.resident_a, now=when(0, "9:00"))
    assert refused.value.status == 403
    assert not Signup.objects.exists()
    assert live_counts(activity) == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("status", "actor", "error", "code"),
    [
        ("draft", "resident_a", NotFound, "not_found"),
        ("submitted", "resident_a", NotFound, "not_found"),
        ("draft", "manager_a", Conflict, "not_open"),
        ("cancelled", "resident_a", Conflict, "activity_cancelled"),
        ("completed", "resident_a", Conflict, "not_open"),
    ],
)
def test_only_published_activities_take_sign_ups(
    status: str, actor: str, error: type[DomainError], code: str, people: Any, make_activity: Any, when: Any
) -> None:
    activity = make_activity(status=status)
    with pytest.raises(error) as refused:
        services.sign_up(actor=getattr(people, actor), activity=activity, user=people.resident_a, now=when(0, "9:00"))
    assert refused.value.code == code
    assert not Signup.objects.exists()


def test_inactive_people_cannot_be_signed_up(people: Any, make_activity: Any, make_resident: Any, when: Any) -> None:
    activity = make_activity()
    person = make_resident()
    person.is_active = False
    person.save()
    with pytest.raises(Invalid) as refused:
        services.sign_up(actor=people.manager_a, activity=activity, user=person, now=when(0, "09:00"))
    assert refused.value.code == "inactive_user"
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(NotAllowed) as anonymous:
        services.sign_up(actor=AnonymousUser(), activity=activity, now=when(0, "09:00"))  # type: ignore[arg-type]
    assert (anonymous.value.code, anonymous.value.status) == ("unauthorized", 401)
    assert live_counts(activity) == (0, 0, 0, 0)


# --- Cancelling a sign-up and the waitlist --------------------------------------------------------------


def test_cancel_before_the_deadline_but_not_after(people: Any, make_activity: Any, when: Any) -> None:
    activity = make_activity(cancel_deadline=when(4, "12:00"))
    signup = services.sign_up(actor=people.resident_a, activity=activity, now=when(0, "09:00"))
    with pytest.raises(Conflict) as refused:
        services.cancel_signup(actor=people.resident_a, signup=signup, now=when(4, "12:00"))
    assert refused.value.code == "cancel_closed"
    assert Signup.objects.get(pk=signup.pk).status == SignupStatus.CONFIRMED
    services.cancel_signup(actor=people.resident_a, signup=signup, now=when(4, "11:59"))
    assert Signup.objects.get(pk=signup.pk).status == SignupStatus.CANCELLED
    assert live_counts(activity) == (0, 0, 0, 0)
    with pytest.raises(Conflict) as refused:
        services.cancel_signup(actor=people.resident_a, signup=signup, now=when(4, "11:59"))
    assert refused.value.code == "already_cancelled"


def test_staff_cancel_after_the_deadline_others_cannot_at_all(people: Any, make_activity: Any, when: Any) -> None:
    activity = make_activity()
    signup = services.sign_up(actor=people.resident_a, activity=activity, now=when(0, "09:00"))
    for persona in ("resident_b", "manager_b", "volunteer_a"):
        with pytest.raises(NotFound):
            services.cancel_signup(actor=getattr(people, persona), signup=signup, now=when(0, "10:00"))
    services.cancel_signup(actor=people.manager_a, signup=signup, now=activity.starts_at)
    assert Signup.objects.get(pk=signup.pk).status == SignupStatus.CANCELLED


def test_cancelling_a_seat_promotes_the_first_waiting(
    people: Any,
    make_activity: Any,
    make_resident: Any,
    when: Any,
    inbox: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    activity = make_activity(seats=1, waitlist_limit=3)
    holder, first, second, third = (make_resident(f"居民{i}") for i in range(4))
    seat = services.sign_up(actor=holder, activity=activity, now=when(0, "09:00"))
    # Joined the waitlist in this order (the third by staff, with an earlier clock than the others' rows' ids).
    w1 = services.sign_up(actor=first, activity=activity, now=when(0, "09:01"))
    w2 = services.sign_up(actor=second, activity=activity, now=when(0, "09:02"))
    w3 = services.sign_up(actor=people.manager_a, activity=activity, user=third, now=when(0, "09:03"))
    assert [s.status for s in (w1, w2, w3)] == ["waitlisted"] * 3
    assert live_counts(activity) == (1, 1, 3, 3)

    # Someone leaving the waitlist promotes nobody.
    services.cancel_signup(actor=second, signup=w2, now=when(1, "09:00"))
    assert live_counts(activity) == (1, 1, 2, 2)

    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_signup(actor=holder, signup=seat, now=when(1, "10:00"))
    promoted = Signup.objects.get(pk=w1.pk)
    assert promoted.status == SignupStatus.CONFIRMED
    assert promoted.promoted_at == when(1, "10:00")
    assert Signup.objects.get(pk=w3.pk).status == SignupStatus.WAITLISTED
    assert live_counts(activity) == (1, 1, 1, 1)
    assert ("signup", "报名成功") in inbox(first)

    services.cancel_signup(actor=first, signup=promoted, now=when(1, "11:00"))
    assert Signup.objects.get(pk=w3.pk).status == SignupStatus.CONFIRMED
    assert live_counts(activity) == (1, 1, 0, 0)


def test_no_promotion_once_the_activity_has_started(
    people: Any, make_activity: Any, make_resident: Any, when: Any
) -> None:
    activity = make_activity(seats=1, waitlist_limit=1)
    seat = services.sign_up(actor=make_resident(), activity=activity, now=when(0, "09:00"))
    waiting = services.sign_up(actor=make_resident(), activity=activity, now=when(0, "09:00"))
    services.cancel_signup(actor=people.manager_a, signup=seat, now=activity.starts_at + dt.timedelta(minutes=5))
    assert Signup.objects.get(pk=waiting.pk).status == SignupStatus.WAITLISTED
    assert live_counts(activity) == (0, 0, 1, 1)


def test_a_checked_in_sign_up_cannot_be_cancelled(people: Any, make_activity: Any, when: Any) -> None:
    activity = make_activity()
    signup = services.sign_up(actor=people.resident_a, activity=activity, now=when(0, "09:00"))
    services.check_in(actor=people.manager_a, activity=activity, code=signup.code, now=activity.starts_at)
    with pytest.raises(Conflict) as refused:
        services.cancel_signup(actor=people.manager_a, signup=Signup.objects.get(pk=signup.pk), now=activity.starts_at)
    assert refused.value.code == "checked_in"
    assert live_counts(activity) == (1, 1, 0, 0)


class SeatModel:
    """What the seats should look like: confirmed people, and the waitlist in order."""

    def __init__(self, seats: int, limit: int) -> None:
        self.seats, self.limit = seats, limit
        self.confirmed: list[int] = []
        self.waiting: list[int] = []

    def sign_up(self, who: int) -> str:
        if who in self.confirmed or who in self.waiting:
            return "already_signed_up"
        if len(self.confirmed) < self.seats:
            self.confirmed.append(who)
            return "confirmed"
        if len(self.waiting) < self.limit:
            self.waiting.append(who)
            return "waitlisted"
        return "full"

    def cancel(self, who: int) -> None:
        if who in self.waiting:
            self.waiting.remove(who)
        elif who in self.confirmed:
            self.confirmed.remove(who)
            if self.waiting:
                self.confirmed.append(self.waiting.pop(0))


STEPS = st.lists(st.tuples(st.sampled_from(["sign_up", "cancel", "staff_cancel"]), st.integers(0, 5)), max_size=40)


@given(seats=st.integers(1, 3), limit=st.integers(0, 2), steps=STEPS)
@hypothesis_settings(
    max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_counters_always_match_the_rows(
    seats: int,
    limit: int,
    steps: list[tuple[str, int]],
    people: Any,
    make_activity: Any,
    make_resident: Any,
    when: Any,
) -> None:
    """Any sequence of sign-ups and cancellations: counters equal rows, the waitlist is first in, first out."""
    pool: list[User] = list(User.objects.filter(name__startswith="性质").order_by("id")) or [
        make_resident(f"性质{i}") for i in range(6)
    ]
    activity = make_activity(seats=seats, waitlist_limit=limit)
    model = SeatModel(seats, limit)
    clock = when(0, "08:00")
    for action, who in steps:
        clock += dt.timedelta(minutes=1)
        person = pool[who]
        if action == "sign_up":
            expected = model.sign_up(who)
            try:
                got = services.sign_up(actor=person, activity=activity, now=clock).status
            except Conflict as refused:
                got = refused.code
            assert got == expected, (action, who)
        else:
            live = Signup.objects.filter(activity=activity, user=person).exclude(status="cancelled").first()
            if live is None:
                continue
            model.cancel(who)
            actor = person if action == "cancel" else people.manager_a
            services.cancel_signup(actor=actor, signup=live, now=clock)
        confirmed, confirmed_rows, waiting, waiting_rows = live_counts(activity)
        assert (confirmed, waiting) == (confirmed_rows, waiting_rows)
        assert confirmed <= seats
        assert waiting <= limit
        rows = Signup.objects.filter(activity=activity).exclude(status="cancelled")
        by_status: dict[str, set[int]] = {"confirmed": set(), "waitlisted": set()}
        for pk, status in rows.values_list("user_id", "status"):
            by_status[status].add(pk)
        assert by_status["confirmed"] == {pool[i].pk for i in model.confirmed}
        assert by_status["waitlisted"] == {pool[i].pk for i in model.waiting}


# --- Volunteers and their posts -------------------------------------------------------------------------


def test_volunteers_sign_up_to_posts_within_the_headcount(
    people: Any, street: Any, chen: Any, make_activity: Any, make_resident: Any, when: Any
) -> None:
    activity = make_activity(seats=5, posts=[{"name": "引导员", "headcount": 1}, {"name": "摄影", "headcount": 2}])
    guide = activity.posts.get(name="引导员")
    now = when(0, "09:00")
    mine = services.sign_up(actor=people.volunteer_a, activity=activity, post=guide, now=now)
    assert (mine.kind, mine.status, mine.post) == (SignupKind.VOLUNTEER, SignupStatus.CONFIRMED, guide)
    assert Post.objects.get(pk=guide.pk).filled_count == 1
    assert live_counts(activity) == (0, 0, 0, 0)  # posts are not seats

    other = make_resident("小李")
    volunteer_services.register_volunteer(actor=people.manager_a, user=other, site=street.station_a)
    with pytest.raises(Conflict) as refused:
        services.sign_up(actor=other, activity=activity, post=guide, now=now)
    assert refused.value.code == "post_full"
    assert Post.objects.get(pk=guide.pk).filled_count == 1
    assert not Signup.objects.filter(user=other).exists()

    # 小陈 steps down; the place is free again.
    services.cancel_signup(actor=people.volunteer_a, signup=mine, now=now)
    assert Post.objects.get(pk=guide.pk).filled_count == 0
    services.sign_up(actor=other, activity=activity, post=guide, now=now)
    assert Post.objects.get(pk=guide.pk).filled_count == 1


def test_posts_are_for_registered_volunteers(people: Any, chen: Any, make_activity: Any, when: Any) -> None:
    activity = make_activity(posts=[{"name": "引导员", "headcount": 3}])
    post = activity.posts.get()
    # 王阿姨 is not a volunteer; 赵队长 holds a team-leader role but no volunteer record.
    for persona in ("resident_a", "leader_a"):
        with pytest.raises(NotAllowed) as refused:
            services.sign_up(actor=getattr(people, persona), activity=activity, post=post, now=when(0, "09:00"))
        assert (refused.value.code, refused.value.status) == ("not_a_volunteer", 403)
    chen.is_active = False
    chen.save()
    with pytest.raises(NotAllowed) as refused:
        services.sign_up(actor=people.volunteer_a, activity=activity, post=post, now=when(0, "09:00"))
    assert refused.value.code == "not_a_volunteer"
    assert Post.objects.get(pk=post.pk).filled_count == 0
    assert not Signup.objects.exists()


def test_a_post_of_another_activity_is_not_found(people: Any, chen: Any, make_activity: Any, when: Any) -> None:
    activity = make_activity()
    other = make_activity(posts=[{"name": "引导员", "headcount": 3}])
    with pytest.raises(NotFound):
        services.sign_up(actor=people.volunteer_a, activity=activity, post=other.posts.get(), now=when(0, "09:00"))
    assert not Signup.objects.exists()


def test_a_volunteer_holds_one_place_per_activity(people: Any, chen: Any, make_activity: Any, when: Any) -> None:
    activity = make_activity(posts=[{"name": "引导员", "headcount": 3}, {"name": "摄影", "headcount": 3}])
    guide, photo = activity.posts.order_by("id")
    services.sign_up(actor=people.volunteer_a, activity=activity, post=guide, now=when(0, "09:00"))
    for post in (photo, None):
        with pytest.raises(Conflict) as refused:
            services.sign_up(actor=people.volunteer_a, activity=activity, post=post, now=when(0, "09:00"))
        assert refused.value.code == "already_signed_up"
    assert Post.objects.get(pk=photo.pk).filled_count == 0
    assert live_counts(activity) == (0, 0, 0, 0)


def test_staff_sign_a_volunteer_up_to_a_post(people: Any, chen: Any, make_activity: Any, when: Any) -> None:
    activity = make_activity(posts=[{"name": "引导员", "headcount": 1}])
    signup = services.sign_up(
        actor=people.manager_a,
        activity=activity,
        user=people.volunteer_a,
        post=activity.posts.get(),
        now=when(0, "9:00"),
    )
    assert (signup.kind, signup.created_by) == ("volunteer", people.manager_a)
    added = services.add_post(actor=people.manager_a, activity=activity, name="后勤", headcount=2)
    assert added.activity == activity
    with pytest.raises(Conflict) as refused:
        services.add_post(actor=people.manager_a, activity=activity, name="后勤", headcount=2)
    assert refused.value.code == "post_exists"
    with pytest.raises(NotFound):
        services.add_post(actor=people.manager_b, activity=activity, name="乙站的岗位", headcount=2)
    assert activity.posts.count() == 2
