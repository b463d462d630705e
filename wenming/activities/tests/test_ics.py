"""The iCalendar feed of a site's subtree: RFC 5545 checked by a strict parser and line by line.

``ical`` (allenporter/ical) parses with pydantic validation and no
compatibility modes; on top of it the tests check what it lets pass: CRLF
everywhere, lines folded at 75 octets, one UID and one DTSTAMP per event.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import icalendar
import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from ical.calendar import Calendar
from ical.calendar_stream import IcsCalendarStream
from ical.event import EventStatus

from wenming.activities import preview, services
from wenming.activities.tests.test_preview import NATIONAL_DAY_WEEK, SHANGHAI, at, draft, publish
from wenming.network.models import Site

if TYPE_CHECKING:
    from conftest import People, Street

pytestmark = pytest.mark.django_db

SITE_URL = "https://wenming.example.org"
NOW = dt.datetime(2026, 9, 25, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _site_url(settings: Any) -> None:
    settings.SITE_URL = SITE_URL


def feed(client: Client, site: Site) -> Any:
    return client.get(reverse("activities:calendar", args=[site.pk]))


def strict(body: bytes) -> Calendar:
    return IcsCalendarStream.calendar_from_ics(body.decode("utf-8"))


def unfolded(body: bytes) -> list[str]:
    return body.decode("utf-8").replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")


def assert_rfc5545_lines(body: bytes) -> None:
    assert body.endswith(b"\r\n")
    assert b"\n" not in body.replace(b"\r\n", b""), "a bare LF"
    assert b"\r" not in body.replace(b"\r\n", b""), "a bare CR"
    for raw in body.split(b"\r\n")[:-1]:
        assert len(raw) <= 75, f"line longer than 75 octets: {raw!r}"
        raw.decode("utf-8")  # folding never splits a character
    lines = unfolded(body)
    assert lines[0] == "BEGIN:VCALENDAR"
    assert lines[-2] == "END:VCALENDAR"
    events: list[list[str]] = []
    current: list[str] | None = None
    for line in lines:
        if line == "BEGIN:VEVENT":
            current = []
        elif line == "END:VEVENT":
            assert current is not None
            events.append(current)
            current = None
        elif current is not None:
            current.append(line)
    assert len(events) == lines.count("BEGIN:VEVENT")
    for event in events:
        names = [line.split(":", 1)[0].split(";", 1)[0] for line in event]
        for required in ("UID", "DTSTAMP", "DTSTART"):
            assert names.count(required) == 1, (required, event)


@time_machine.travel(NOW)
def test_feed_parses_strictly_with_the_right_events(client: Client, people: People, street: Street) -> None:
    calligraphy = publish(
        people, street.station_a, "书法写春联：迎国庆，送祝福，欢迎全体居民带上家人一起参加，现场提供笔墨纸砚",
        at(NATIONAL_DAY_WEEK, 14), seats=20, location="二楼书画室", description="第一行\n第二行，逗号; 分号\\反斜杠",
    )  # fmt: skip
    reading = publish(people, street.point_a, "国庆读书会", at(dt.date(2026, 10, 2), 9, 30), hours=1.5)
    response = feed(client, street.station_a)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content
    assert_rfc5545_lines(body)

    calendar = strict(body)
    assert calendar.version == "2.0"
    assert calendar.prodid
    assert [tz.tz_id for tz in calendar.timezones] == ["Asia/Shanghai"]
    extras = {p.name.lower(): p.value for p in calendar.extras}
    assert extras["x-wr-calname"] == f"{street.station_a.name} · 文明实践活动"
    assert "X-WR-TIMEZONE:Asia/Shanghai" in unfolded(body)

    events = {e.uid: e for e in calendar.events}
    assert set(events) == {
        f"activity-{calligraphy.pk}@wenming.example.org",
        f"activity-{reading.pk}@wenming.example.org",
    }
    first = events[f"activity-{calligraphy.pk}@wenming.example.org"]
    assert first.summary == calligraphy.title
    assert isinstance(first.dtstart, dt.datetime)
    assert first.dtstart == calligraphy.starts_at
    assert first.dtstart.utcoffset() == dt.timedelta(hours=8)
    assert str(first.dtstart.tzinfo) == "Asia/Shanghai"
    assert first.dtend == calligraphy.ends_at
    assert first.status == EventStatus.CONFIRMED
    assert first.url == f"{SITE_URL}/activities/{calligraphy.pk}/"
    assert "二楼书画室" in (first.location or "")
    assert first.description is not None
    assert "第一行\n第二行，逗号; 分号\\反斜杠" in first.description
    assert f"{SITE_URL}/activities/{calligraphy.pk}/" in first.description
    assert first.dtstamp == NOW
    assert isinstance(first.sequence, int)
    second = events[f"activity-{reading.pk}@wenming.example.org"]
    assert isinstance(second.dtend, dt.datetime)
    assert isinstance(second.dtstart, dt.datetime)
    assert second.dtend - second.dtstart == dt.timedelta(hours=1, minutes=30)
    assert street.point_a.name in (second.location or "")

    # Times as written in the file: local wall time with the zone's TZID.
    lines = unfolded(body)
    assert "DTSTART;TZID=Asia/Shanghai:20260928T140000" in lines
    assert "DTSTAMP:20260925T020000Z" in lines


@time_machine.travel(NOW)
def test_a_cancelled_activity_says_cancelled_with_a_higher_sequence(
    client: Client, people: People, street: Street
) -> None:
    film = publish(people, street.station_a, "露天电影", at(dt.date(2026, 9, 29), 19))
    before = {e.uid: e for e in strict(feed(client, street.station_a).content).events}
    uid = f"activity-{film.pk}@wenming.example.org"
    assert before[uid].status == EventStatus.CONFIRMED

    services.cancel_activity(actor=people.manager_a, activity=film, reason="天气原因")
    body = feed(client, street.station_a).content
    after = {e.uid: e for e in strict(body).events}
    assert after[uid].status == EventStatus.CANCELLED
    assert "STATUS:CANCELLED" in unfolded(body)
    assert (after[uid].sequence or 0) > (before[uid].sequence or 0) >= 1
    assert "天气原因" in (after[uid].description or "")


@time_machine.travel(NOW)
def test_uids_are_stable(client: Client, people: People, street: Street) -> None:
    publish(people, street.station_a, "书法写春联", at(NATIONAL_DAY_WEEK, 14))
    first = [e.uid for e in strict(feed(client, street.station_a).content).events]
    publish(people, street.station_a, "更早的活动", at(NATIONAL_DAY_WEEK, 8))
    second = [e.uid for e in strict(feed(client, street.station_a).content).events]
    assert set(first) < set(second)
    # The sub-centre's feed names the same activity with the same UID.
    assert set(first) < {e.uid for e in strict(feed(client, street.subcentre).content).events}


@time_machine.travel(NOW)
def test_feed_covers_the_subtree_from_thirty_days_ago(client: Client, people: People, street: Street) -> None:
    publish(people, street.point_a, "一号楼读书会", at(NATIONAL_DAY_WEEK, 9))
    publish(people, street.station_a, "二十九天前", NOW - dt.timedelta(days=29))
    publish(people, street.station_a, "三十一天前", NOW - dt.timedelta(days=31))
    publish(people, street.station_a, "明年", NOW + dt.timedelta(days=300))
    publish(people, street.station_b, "乙站太极拳", at(NATIONAL_DAY_WEEK, 8), manager=people.manager_b)
    draft(people, street.station_a, "草稿", at(NATIONAL_DAY_WEEK, 10))
    summaries = [e.summary for e in strict(feed(client, street.station_a).content).events]
    assert summaries == ["二十九天前", "一号楼读书会", "明年"]
    assert [e.summary for e in strict(feed(client, street.station_b).content).events] == ["乙站太极拳"]


@time_machine.travel(NOW)
def test_feed_is_capped(people: People, street: Street) -> None:
    for i in range(4):
        publish(people, street.station_a, f"活动{i}", at(NATIONAL_DAY_WEEK, 8 + i))
    capped = preview.feed_activities(street.station_a, limit=3)
    assert [a.title for a in capped] == ["活动0", "活动1", "活动2"]


@time_machine.travel(NOW)
def test_an_empty_feed_is_still_a_valid_calendar(client: Client, street: Street) -> None:
    body = feed(client, street.station_c).content
    assert_rfc5545_lines(body)
    calendar = strict(body)
    assert calendar.events == []
    assert icalendar.Calendar.from_ical(body)["X-WR-CALNAME"] == f"{street.station_c.name} · 文明实践活动"


@time_machine.travel(NOW)
def test_feed_query_count_is_constant(
    client: Client, people: People, street: Street, django_assert_num_queries: Any
) -> None:
    publish(people, street.station_a, "活动一", at(NATIONAL_DAY_WEEK, 9))
    with django_assert_num_queries(3):  # the site, the feed's fingerprint, the activities
        feed(client, street.subcentre)
    for i in range(6):
        publish(people, street.point_a, f"更多{i}", at(NATIONAL_DAY_WEEK, 10 + i))
    with django_assert_num_queries(3):
        body = feed(client, street.subcentre).content
    assert len(strict(body).events) == 7
    with django_assert_num_queries(2):  # unchanged: from the cache, byte for byte
        assert feed(client, street.subcentre).content == body


def test_feed_of_an_unknown_or_closed_site_is_404(client: Client, street: Street) -> None:
    assert client.get(reverse("activities:calendar", args=[999_999])).status_code == 404
    Site.objects.filter(pk=street.station_b.pk).update(is_active=False)
    assert feed(client, street.station_b).status_code == 404


def test_calendar_apps_may_ask_with_head(client: Client, street: Street) -> None:
    response = client.head(reverse("activities:calendar", args=[street.station_a.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert client.post(reverse("activities:calendar", args=[street.station_a.pk])).status_code == 405
