"""Reminders before activities and bookings: within their window, to the right people, once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from conftest import People, Street
from wenming.notices.models import Message
from wenming.notices.reminders import send_activity_reminders, send_booking_reminders, when_label
from wenming.notices.tests.conftest import make_activity, make_booking, make_signup, make_venue

pytestmark = pytest.mark.django_db

SMS = "wenming.notices.notifier.SmsNotifier"
IN_SITE = "wenming.notices.notifier.InSiteNotifier"
# Wednesday 2 December 2026, nine in the morning in Shanghai.
NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC) - dt.timedelta(hours=8)


@pytest.fixture
def immediate(django_capture_on_commit_callbacks: Any) -> Any:
    """Run the reminder's on-commit deliveries at once, as the worker would."""

    def run(fn: Any, **kwargs: Any) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            result: int = fn(**kwargs)
        return result

    return run


def test_when_label_is_local_time_in_chinese() -> None:
    assert when_label(dt.datetime(2026, 12, 3, 6, 30, tzinfo=dt.UTC)) == "12月3日（周四）14:30"


def test_confirmed_signups_of_activities_within_a_day_are_reminded(
    people: People, street: Street, immediate: Any, sms_outbox: list, settings: Any
) -> None:
    settings.NOTIFIERS = [IN_SITE, SMS]
    venue = make_venue(street.station_a)
    street.station_a.address = "嘉禾路88号"
    street.station_a.save()
    soon = make_activity(street.station_a, people.manager_a, NOW + dt.timedelta(hours=5, minutes=30), venue=venue)
    later = make_activity(street.station_a, people.manager_a, NOW + dt.timedelta(hours=30), title="太极拳")
    draft = make_activity(street.station_a, people.manager_a, NOW + dt.timedelta(hours=3), status="draft")
    cancelled = make_activity(street.station_a, people.manager_a, NOW + dt.timedelta(hours=3), status="cancelled")
    past = make_activity(street.station_a, people.manager_a, NOW - dt.timedelta(minutes=5))
    reminded = make_signup(soon, people.resident_a)
    make_signup(soon, people.resident_b, status="cancelled")
    make_signup(soon, people.volunteer_a, status="waitlisted")
    for activity in (later, draft, cancelled, past):
        make_signup(activity, people.liaison_a)

    assert immediate(send_activity_reminders, now=NOW) == 1
    message = Message.objects.get()
    assert message.recipient == people.resident_a
    assert message.kind == "activity_reminder"
    assert message.title == "活动提醒：社区书法讲座"
    assert message.body == (
        "您报名的活动“社区书法讲座”将于12月2日（周三）14:30开始，"
        "地点：甲居民区实践站多功能活动室（嘉禾路88号）。请准时参加。"
    )
    assert message.link == f"/activities/{soon.pk}/"
    assert message.dedupe_key == f"activity-reminder:{reminded.pk}"
    assert [phone for phone, _text in sms_outbox] == [people.resident_a.phone]


def test_each_signup_is_reminded_once(
    people: People, street: Street, immediate: Any, sms_outbox: list, settings: Any
) -> None:
    settings.NOTIFIERS = [IN_SITE, SMS]
    activity = make_activity(street.station_a, people.manager_a, NOW + dt.timedelta(hours=20), location="小区广场")
    make_signup(activity, people.resident_a)
    assert immediate(send_activity_reminders, now=NOW) == 1
    # Every ten minutes until it starts: nobody hears again.
    for minutes in range(10, 20 * 60, 10):
        assert immediate(send_activity_reminders, now=NOW + dt.timedelta(minutes=minutes)) == 0
    assert Message.objects.count() == 1
    assert len(sms_outbox) == 1
    assert "地点：小区广场" in Message.objects.get().body
    # Someone who signs up later is reminded on the next run.
    make_signup(activity, people.resident_b)
    assert immediate(send_activity_reminders, now=NOW + dt.timedelta(hours=19)) == 1
    assert Message.objects.count() == 2


def test_the_window_follows_the_setting_and_the_clock(
    people: People, street: Street, immediate: Any, settings: Any
) -> None:
    settings.ACTIVITY_REMINDER_HOURS = 2
    activity = make_activity(street.station_a, people.manager_a, NOW + dt.timedelta(hours=3))
    make_signup(activity, people.resident_a)
    with time_machine.travel(NOW, tick=False):
        assert immediate(send_activity_reminders) == 0
    with time_machine.travel(NOW + dt.timedelta(hours=1, minutes=10), tick=False):
        assert immediate(send_activity_reminders) == 1


def test_activity_reminders_use_a_fixed_number_of_queries(
    people: People, street: Street, django_assert_num_queries: Any, settings: Any
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    venue = make_venue(street.station_a)
    for i, person in enumerate((people.resident_a, people.resident_b, people.volunteer_a, people.leader_a)):
        activity = make_activity(street.station_a, people.manager_a, NOW + dt.timedelta(hours=i + 1), venue=venue)
        make_signup(activity, person)
    # One SELECT, plus the savepoint of the reminders' transaction (the test's own is the outer one).
    with django_assert_num_queries(3):
        assert send_activity_reminders(now=NOW) == 4


# --- Bookings -----------------------------------------------------------------------------------------


def test_approved_bookings_within_two_hours_are_reminded_once(
    people: People, street: Street, immediate: Any, sms_outbox: list, settings: Any
) -> None:
    settings.NOTIFIERS = [IN_SITE, SMS]
    venue = make_venue(street.station_a, "书画室")
    soon = make_booking(venue, people.resident_a, NOW + dt.timedelta(hours=1, minutes=30))
    make_booking(make_venue(street.station_a, "舞蹈室"), people.resident_b, NOW + dt.timedelta(hours=3))  # not yet
    make_booking(venue, people.volunteer_a, NOW + dt.timedelta(minutes=30), status="pending")
    make_booking(venue, people.liaison_a, NOW + dt.timedelta(minutes=20), status="cancelled")

    assert immediate(send_booking_reminders, now=NOW) == 1
    message = Message.objects.get()
    assert message.recipient == people.resident_a
    assert message.kind == "booking_reminder"
    assert message.title == "场地预约提醒：书画室"
    assert message.body == (
        "您预约的甲居民区实践站书画室将于12月2日（周三）10:30开始使用（至12:30），"
        "用途：合唱队排练。如不能按时到场，请及时取消预约。"
    )
    assert message.link == "/bookings/mine/"
    assert message.dedupe_key == f"booking-reminder:{soon.pk}"
    assert immediate(send_booking_reminders, now=NOW + dt.timedelta(minutes=10)) == 0
    assert immediate(send_booking_reminders, now=NOW + dt.timedelta(hours=1, minutes=10)) == 1  # 刘大爷's, now due
    assert len(sms_outbox) == 2


def test_a_booking_held_for_an_activity_is_not_reminded(people: People, street: Street, immediate: Any) -> None:
    venue = make_venue(street.station_a)
    activity = make_activity(street.station_a, people.manager_a, NOW + dt.timedelta(hours=1), venue=venue)
    make_booking(venue, people.manager_a, activity.starts_at, activity=activity, ends_at=activity.ends_at)
    assert immediate(send_booking_reminders, now=NOW) == 0


def test_booking_reminders_use_a_fixed_number_of_queries(
    people: People, street: Street, django_assert_num_queries: Any, settings: Any
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    venues = [make_venue(street.station_a, f"活动室{i}") for i in range(4)]
    for venue, person in zip(
        venues, (people.resident_a, people.resident_b, people.volunteer_a, people.leader_a), strict=True
    ):
        make_booking(venue, person, NOW + dt.timedelta(minutes=50))
    with django_assert_num_queries(3):
        assert send_booking_reminders(now=NOW) == 4


def test_reminder_tasks_run_the_reminders(people: People, street: Street, immediate: Any) -> None:
    from wenming.notices.tasks import activity_reminders, booking_reminders

    make_signup(
        make_activity(street.station_a, people.manager_a, timezone.now() + dt.timedelta(hours=1)), people.resident_a
    )
    make_booking(make_venue(street.station_b), people.resident_b, timezone.now() + dt.timedelta(hours=1))
    assert immediate(activity_reminders.call) == 1
    assert immediate(booking_reminders.call) == 1
    assert sorted(Message.objects.values_list("kind", flat=True)) == ["activity_reminder", "booking_reminder"]
