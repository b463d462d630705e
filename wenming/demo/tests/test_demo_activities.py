"""The demo street's year of activities and bookings (wenming/demo/activities.py).

The demo is loaded once for the module, on a fixed Tuesday morning, inside a
transaction that is rolled back at the end; every test reads it (each in a
savepoint of its own).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from io import StringIO
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, F, Min, Q
from django.utils import timezone

from wenming.accounts.models import AuditAction, AuditLog, User
from wenming.activities import preview
from wenming.activities.models import (
    Activity,
    ActivityStatus,
    CorrectionStatus,
    HoursCorrection,
    LectureFormat,
    MonthlyTheme,
    Plan,
    Platform,
    Post,
    Recap,
    Signup,
    SignupKind,
    SignupStatus,
    StatusChange,
)
from wenming.activities.services import hours_served
from wenming.bookings.models import HOLDING_STATUSES, Booking, BookingStatus
from wenming.demo import activities, street
from wenming.lib import holidays
from wenming.network.models import Site, SiteKind, SiteLevel
from wenming.volunteers.models import ServiceRecord, ServiceSource, Volunteer

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 17, 10, 30, tzinfo=SHANGHAI)  # a Tuesday
MONDAY = dt.date(2026, 11, 16)


QUEUED: dict[str, int] = {}


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock(), time_machine.travel(NOW, tick=False), transaction.atomic():
        out = StringIO()
        before = len(connection.run_on_commit)
        call_command("load_demo", stdout=out)
        QUEUED["after_load"] = len(connection.run_on_commit) - before
        yield out.getvalue()
        transaction.set_rollback(True)


def subcentre() -> Site:
    return Site.objects.get(code=street.SUBCENTRE_CODE)


def in_street() -> Q:
    return Q(site__path__startswith=subcentre().path)


def test_the_load_reports_what_it_made_and_sends_nobody_anything(demo):
    for word in ("年度计划", "活动", "活动报名", "签到人次", "活动回顾", "场地预约"):
        assert word in demo
    # The people are invented: no notice is queued for after the commit.
    assert QUEUED["after_load"] == 0


def test_a_plan_with_twelve_monthly_themes_for_the_subcentre_and_several_stations(demo):
    sub = subcentre()
    years = {NOW.year - 1, NOW.year}
    assert set(Plan.objects.filter(site=sub).values_list("year", flat=True)) == years
    planned = Plan.objects.filter(year=NOW.year, site__parent=sub)
    assert planned.count() >= 5
    for plan in Plan.objects.filter(Q(site=sub) | Q(site__parent=sub)):
        assert sorted(plan.themes.values_list("month", flat=True)) == list(range(1, 13)), plan
    themes = " ".join(MonthlyTheme.objects.filter(plan__site=sub, plan__year=NOW.year).values_list("theme", flat=True))
    for seed_theme in ("理论学习", "垃圾分类", "文明养犬", "重阳敬老", "学雷锋", "国庆", "春节"):
        assert seed_theme in themes
    # Every activity belongs to the plan of its year: its own site's, else the sub-centre's.
    for activity in Activity.objects.filter(in_street()).select_related("plan", "site"):
        assert activity.plan is not None, activity
        assert activity.plan.year == timezone.localtime(activity.starts_at).year
        assert activity.plan.site_id in (activity.site_id, sub.pk)
        assert activity.week_start == timezone.localdate(activity.starts_at) - dt.timedelta(
            days=timezone.localdate(activity.starts_at).weekday()
        )


def test_a_past_year_on_every_platform_and_lecture_format_at_every_level(demo):
    past = Activity.objects.filter(in_street(), starts_at__lt=NOW)
    first = past.aggregate(m=Min("starts_at"))["m"]
    assert first is not None
    assert NOW - first >= dt.timedelta(days=350)
    assert set(past.values_list("platform", flat=True)) == set(Platform.values)
    assert set(past.values_list("lecture_format", flat=True)) >= set(LectureFormat.values)
    sub = subcentre()
    # A realistic rhythm: every month the sub-centre, the area stations and the residential ones are busy.
    for months_back in range(1, 12):
        day = (NOW - dt.timedelta(days=30 * months_back)).date()
        month = past.filter(starts_at__year=day.year, starts_at__month=day.month)
        assert month.filter(site=sub).count() >= 4, day
        assert month.filter(site__kind__in=[SiteKind.AREA, SiteKind.PARTY_MASS]).count() >= 10, day
        assert month.filter(site__kind=SiteKind.RESIDENTIAL).count() >= 25, day
    # Each residential station runs a few a month on average.
    per_station = Counter(past.filter(site__kind=SiteKind.RESIDENTIAL).values_list("site_id", flat=True))
    assert len(per_station) == 27
    assert all(12 <= n <= 40 for n in per_station.values()), per_station
    # Residential stations do not open on Sundays; the finance street only on working days.
    for activity in past.filter(Q(site__kind=SiteKind.RESIDENTIAL) | Q(site__code="HP-JH-Q7")):
        calendar_day = holidays.day(timezone.localdate(activity.starts_at))
        working = calendar_day.kind in (holidays.DayKind.WORKDAY, holidays.DayKind.MAKEUP_WORKDAY)
        if activity.site.code == "HP-JH-Q7":
            assert working, activity
        else:
            assert calendar_day.date.weekday() != 6 or working, activity


def test_the_weekly_calligraphy_class_runs_all_year(demo):
    occurrences = Activity.objects.filter(series__title="周三书法班").order_by("starts_at")
    past = occurrences.filter(starts_at__lt=NOW)
    assert past.count() >= 30
    assert occurrences.filter(starts_at__gt=NOW).exists()
    for activity in occurrences:
        local = timezone.localtime(activity.starts_at)
        assert (local.weekday(), local.hour, local.minute) == (2, 14, 0)
        assert activity.venue is not None
        assert activity.venue.name == "书画室"
    assert past.filter(status=ActivityStatus.COMPLETED).count() == past.count()
    # Regulars come back week after week; 王阿姨 is one of them.
    wang = User.objects.get(phone="13800000006")
    assert Signup.objects.filter(activity__in=past, user=wang, checked_in_at__isnull=False).count() >= 15


def test_this_week_and_next_are_full_in_the_weekly_preview(demo):
    sub = subcentre()
    for monday, least in ((MONDAY, 12), (MONDAY + dt.timedelta(weeks=1), 15)):
        plan = preview.week_plan(sub, monday)
        upcoming = [a for a in plan.activities if a.status == ActivityStatus.PUBLISHED and a.starts_at > NOW]
        assert len(upcoming) >= least, monday
        kinds = {a.site.kind for a in upcoming}
        assert {SiteKind.STREET, SiteKind.RESIDENTIAL} <= kinds
        assert kinds & {SiteKind.AREA, SiteKind.PARTY_MASS}
        assert sum(1 for day in plan.days if day.listings) >= 5
    # Further ahead only what the sub-centre and area stations have published already.
    later = Activity.objects.filter(in_street(), starts_at__gte=timezone.make_aware(dt.datetime(2026, 12, 7)))
    assert later.exists()
    assert not later.filter(starts_at__gt=NOW + dt.timedelta(days=15), site__kind=SiteKind.RESIDENTIAL).exists()


def test_upcoming_activities_fill_up_and_move_through_the_workflow(demo):
    upcoming = Activity.objects.filter(in_street(), starts_at__gt=NOW)
    published = upcoming.filter(status=ActivityStatus.PUBLISHED, seats__gt=0)
    assert published.count() >= 30
    assert published.filter(confirmed_count__gt=0).count() >= 20
    nearly_full = [a for a in published if a.seats >= 10 and a.confirmed_count >= 0.8 * a.seats]
    assert len(nearly_full) >= 2
    waiting = published.filter(waitlist_count__gt=0)
    assert waiting.exists()
    assert all(a.confirmed_count == a.seats for a in waiting)
    submitted = upcoming.get(status=ActivityStatus.SUBMITTED)
    assert submitted.created_by.phone == "13800000002"  # 张站长 waits for 周主任's approval
    assert submitted.published_at is None
    draft = upcoming.get(status=ActivityStatus.DRAFT)
    assert draft.created_by.phone == "13800000003"
    cancelled = upcoming.filter(status=ActivityStatus.CANCELLED)
    assert cancelled.count() >= 1
    assert all(a.cancel_reason for a in cancelled)
    # Nobody has checked in to what has not begun.
    assert not Signup.objects.filter(activity__in=upcoming, checked_in_at__isnull=False).exists()


def test_counters_equal_their_rows(demo):
    rows = Activity.objects.filter(in_street()).annotate(
        confirmed=Count("signups", filter=Q(signups__kind=SignupKind.RESIDENT, signups__status=SignupStatus.CONFIRMED)),
        waiting=Count("signups", filter=Q(signups__status=SignupStatus.WAITLISTED)),
    )
    assert rows.count() > 900
    for activity in rows:
        assert activity.confirmed_count == activity.confirmed, activity
        assert activity.waitlist_count == activity.waiting, activity
        assert activity.confirmed_count <= activity.seats
    posts = Post.objects.annotate(
        live=Count("signups", filter=~Q(signups__status=SignupStatus.CANCELLED)),
    )
    assert posts.count() > 500
    for post in posts:
        assert post.filled_count == post.live, post
        assert post.filled_count <= post.headcount
    # One live sign-up per person and activity; codes unique per activity (the constraints say so too).
    live = Signup.objects.exclude(status=SignupStatus.CANCELLED).values("activity_id", "user_id")
    assert live.annotate(n=Count("id")).filter(n__gt=1).count() == 0


def test_past_attendance_is_realistic(demo):
    past = Activity.objects.filter(in_street(), status=ActivityStatus.COMPLETED)
    residents = Signup.objects.filter(activity__in=past, kind=SignupKind.RESIDENT)
    confirmed = residents.filter(status=SignupStatus.CONFIRMED)
    came = confirmed.filter(checked_in_at__isnull=False)
    assert confirmed.count() > 5000
    assert 0.78 <= came.count() / confirmed.count() <= 0.92
    assert residents.filter(status=SignupStatus.CANCELLED).count() > 200
    assert residents.filter(status=SignupStatus.WAITLISTED).exists()
    assert residents.filter(promoted_at__isnull=False).exists()
    # Only confirmed people of going-ahead activities check in, at the door, within the window.
    assert not Signup.objects.filter(~Q(status=SignupStatus.CONFIRMED), checked_in_at__isnull=False).exists()
    assert not Signup.objects.filter(activity__status=ActivityStatus.CANCELLED, checked_in_at__isnull=False).exists()
    for signup in came.select_related("activity")[:2000]:
        activity = signup.activity
        assert signup.checked_in_at is not None
        assert activity.checkin_opens_at <= signup.checked_in_at <= activity.checkin_closes_at
        assert signup.created_at < activity.starts_at
        assert signup.checked_in_by_id is not None
    # Some check in with the door QR themselves, the rest are scanned by staff.
    self_checked = came.filter(checked_in_by=F("user")).count()
    assert 0.2 < self_checked / came.count() < 0.5


def test_volunteer_hours_in_the_ledger_match_check_in_and_out(demo):
    served = Signup.objects.filter(kind=SignupKind.VOLUNTEER, checked_out_at__isnull=False).select_related(
        "post", "activity"
    )
    assert served.count() > 800
    entries = {
        e.source_ref: e
        for e in ServiceRecord.objects.filter(source=ServiceSource.ACTIVITY, source_ref__startswith="signup:")
    }
    matched = 0
    for signup in served:
        assert signup.post is not None
        assert signup.checked_in_at is not None
        assert signup.checked_out_at is not None
        hours = hours_served(signup)
        entry = entries.get(f"signup:{signup.pk}")
        if hours == 0:
            continue
        assert entry is not None, signup
        matched += 1
        assert entry.hours == hours
        assert entry.started_at == max(signup.checked_in_at, signup.post.starts_at)
        assert entry.ended_at == min(signup.checked_out_at, signup.post.ends_at)
        elapsed = Decimal((entry.ended_at - entry.started_at).total_seconds()) / 3600
        assert entry.hours == elapsed  # exact: no rounding above the clock
        assert entry.site_id == signup.activity.site_id
        assert Volunteer.objects.filter(pk=entry.volunteer_id, user_id=signup.user_id).exists()
    assert matched > 800
    ids = [str(e.pk) for e in entries.values()]
    audited = set(
        AuditLog.objects.filter(action=AuditAction.LEDGER_ENTRY, target_id__in=ids).values_list("target_id", flat=True)
    )
    assert audited == set(ids)
    # 小陈 serves at 和乐 and the sub-centre through the year.
    chen = Volunteer.objects.get(user__phone="13800000005")
    assert ServiceRecord.objects.filter(volunteer=chen, source=ServiceSource.ACTIVITY).count() >= 10


def test_two_hours_corrections_one_approved_one_pending(demo):
    approved = HoursCorrection.objects.get(status=CorrectionStatus.APPROVED)
    pending = HoursCorrection.objects.get(status=CorrectionStatus.PENDING)
    for correction in (approved, pending):
        signup = correction.signup
        assert signup.kind == SignupKind.VOLUNTEER
        assert signup.checked_in_at == signup.checked_out_at  # checked in and out together at the end
        assert correction.reason
        assert signup.activity.starts_at > NOW - dt.timedelta(days=15)
    entry = approved.ledger_entry
    assert entry is not None
    assert entry.hours == approved.requested_hours > 0
    assert entry.source_ref == f"signup:{approved.signup_id}"
    assert approved.decided_by is not None
    assert pending.ledger_entry is None
    assert not ServiceRecord.objects.filter(source_ref=f"signup:{pending.signup_id}").exists()


def test_recaps_tell_many_past_activities(demo):
    completed = Activity.objects.filter(in_street(), status=ActivityStatus.COMPLETED)
    recaps = Recap.objects.filter(activity__in=completed).select_related("activity")
    assert recaps.count() >= 0.4 * completed.count()
    assert Recap.objects.count() == recaps.count()
    for recap in recaps:
        assert recap.activity.ends_at < recap.published_at <= NOW
        assert recap.activity.title in recap.body
        assert len(recap.body) > 60
    assert recaps.filter(published_at__gt=NOW - dt.timedelta(days=3)).exists()
    assert recaps.filter(body__contains="名志愿者参与服务").exists()


def test_workflow_history_reads_in_order(demo):
    activities_ = Activity.objects.filter(in_street()).exclude(status=ActivityStatus.DRAFT)
    history: dict[int, list[StatusChange]] = {}
    for change in StatusChange.objects.filter(activity__in=activities_).order_by("activity_id", "at", "id"):
        history.setdefault(change.activity_id, []).append(change)
    first_signup = dict(
        Signup.objects.filter(activity__in=activities_)
        .values("activity_id")
        .annotate(m=Min("created_at"))
        .values_list("activity_id", "m")
    )
    for activity in activities_:
        steps = history[activity.pk]
        assert steps[0].to_status == ActivityStatus.DRAFT
        assert [s.from_status for s in steps[1:]] == [s.to_status for s in steps[:-1]], activity
        assert steps[-1].to_status == activity.status
        assert all(s.at <= NOW for s in steps)
        assert activity.created_at == steps[0].at
        if activity.published_at is not None:
            assert activity.created_at < activity.published_at < activity.starts_at
            if activity.pk in first_signup:
                assert activity.published_at <= first_signup[activity.pk]
        if activity.status == ActivityStatus.COMPLETED:
            assert steps[-1].at >= activity.ends_at
        if activity.status == ActivityStatus.CANCELLED:
            assert activity.published_at is not None
            assert activity.published_at < steps[-1].at
            assert not activity.signups.filter(created_at__gte=steps[-1].at).exists(), activity


def test_bookings_by_residents_and_units(demo):
    bookings = Booking.objects.filter(activity__isnull=True)
    assert bookings.count() >= 35
    statuses = Counter(bookings.values_list("status", flat=True))
    for status in (BookingStatus.CHECKED_IN, BookingStatus.NO_SHOW, BookingStatus.APPROVED, BookingStatus.PENDING):
        assert statuses[status] >= 1, status
    rejected = bookings.filter(status=BookingStatus.REJECTED)
    assert rejected.exists()
    assert all(b.decision_note for b in rejected)
    assert rejected.filter(starts_at__gt=NOW).exists()
    assert bookings.filter(organization__isnull=False).exists()
    assert bookings.filter(organization__isnull=True).exists()
    assert not bookings.filter(starts_at__lt=NOW, status__in=[BookingStatus.PENDING, BookingStatus.APPROVED]).exists()
    assert not bookings.filter(starts_at__gt=NOW, status__in=[BookingStatus.CHECKED_IN, BookingStatus.NO_SHOW]).exists()
    upcoming = bookings.filter(starts_at__gt=NOW)
    assert upcoming.filter(status=BookingStatus.APPROVED).exists()
    assert upcoming.filter(status=BookingStatus.PENDING).exists()
    # Every move was made by now, and in order.
    for booking in bookings.prefetch_related("history"):
        moments = [change.at for change in sorted(booking.history.all(), key=lambda change: change.pk)]
        assert moments, booking
        assert moments == sorted(moments)
        assert booking.created_at == moments[0] <= NOW
        assert moments[-1] <= NOW
    for booking in bookings.filter(status=BookingStatus.CHECKED_IN):
        assert booking.checked_in_at is not None
        assert booking.starts_at - dt.timedelta(minutes=30) <= booking.checked_in_at < booking.ends_at
        assert booking.requester_id is not None


def test_no_two_holding_bookings_overlap_and_pending_ones_are_free(demo):
    holding = list(Booking.objects.filter(status__in=HOLDING_STATUSES).order_by("venue_id", "starts_at"))
    assert len(holding) > 500
    by_venue: dict[int, list[Booking]] = {}
    for booking in holding:
        by_venue.setdefault(booking.venue_id, []).append(booking)
    for rows in by_venue.values():
        for before, after in pairwise(rows):
            assert before.ends_at <= after.starts_at, (before, after)
    for pending in Booking.objects.filter(status=BookingStatus.PENDING):
        assert not any(
            b.starts_at < pending.ends_at and pending.starts_at < b.ends_at for b in by_venue.get(pending.venue_id, [])
        ), pending


def test_activities_in_rooms_hold_them(demo):
    in_rooms = Activity.objects.filter(in_street(), venue__isnull=False)
    holds = {b.activity_id: b for b in Booking.objects.filter(activity__isnull=False)}
    for activity in in_rooms:
        if activity.status in (ActivityStatus.DRAFT, ActivityStatus.SUBMITTED):
            assert activity.pk not in holds
            continue
        hold = holds[activity.pk]
        assert (hold.venue_id, hold.starts_at, hold.ends_at) == (
            activity.venue_id,
            activity.starts_at,
            activity.ends_at,
        )
        expected = BookingStatus.CANCELLED if activity.status == ActivityStatus.CANCELLED else BookingStatus.APPROVED
        assert hold.status == expected, activity
        assert activity.published_at is not None
        assert hold.created_at == activity.published_at


def test_loading_twice_changes_nothing(demo):
    models = (Plan, MonthlyTheme, Activity, Post, Signup, StatusChange, Recap, HoursCorrection, Booking, ServiceRecord)
    before = {m.__name__: m.objects.count() for m in models}
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "已存在" in out.getvalue()
    assert {m.__name__: m.objects.count() for m in models} == before


def test_the_database_constraints_hold(demo):
    connection.check_constraints()


def test_the_schedule_is_the_same_for_the_same_seed_and_day(demo):
    sub = subcentre()
    sites = {s.code: s for s in Site.objects.filter(path__startswith=sub.path).select_related("manager")}
    staff = {u.phone: u for u in User.objects.filter(phone__startswith="138000000")}
    volunteers = list(Volunteer.objects.select_related("user").order_by("pk"))

    def plan() -> list[tuple[str, str, dt.datetime]]:
        loader = activities._Loader(sites, staff, volunteers, rng=random.Random(7), today=NOW.date())
        loader.schedule()
        return [(s.host.site.code, s.title, s.starts_at) for s in loader.specs]

    first = plan()
    assert len(first) > 900
    assert plan() == first


def test_templates_last_whole_hundredths_of_an_hour(demo):
    # Post times are a multiple of three minutes (0.05 h), so check-out hours are exact.
    templates = [
        *activities.EVERYDAY,
        *(t for month in activities.THEMED.values() for t in month),
        *(t for *_when, t in activities.BIG_DAYS),
        *(t for *_series, t in activities.SERIES),
    ]
    for template in templates:
        assert template.minutes % 3 == 0, template.titles
        for name, headcount in template.posts:
            before, after, _duty = activities.POST_TIMES[name]
            assert (before + after) % 3 == 0, name
            assert headcount > 0
    assert Site.objects.filter(level=SiteLevel.STATION, parent=subcentre()).count() == 34
