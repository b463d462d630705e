"""每周活动预告: the week's activities of a site and its subtree, as a page, a poster and a calendar.

- :func:`week_plan` selects the public activities of a site's subtree that
  start in one week (Monday 00:00 to the next Monday 00:00, Asia/Shanghai),
  cancelled ones included and flagged, and lays them out by day with the
  working calendar's holidays and 调休 days. One query, whatever the week.
- :func:`poster_pdf` prints that week on A4 (reportlab, the built-in
  STSong-Light CID font), with a QR code per activity that leads to its
  sign-up page.
- :func:`calendar_feed` is the RFC 5545 feed of the subtree's activities
  from 30 days ago on, for phones' calendars.
- :func:`store_weekly_preview` is the write: it renders a week's poster and
  keeps it in ``WeeklyPreview``; the weekly task calls it.

"Public" is what ``policies.activities_visible_to`` shows an anonymous
visitor: published or completed, or cancelled after it had been published.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlsplit
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.doctemplate import BaseDocTemplate

from wenming.accounts.models import User
from wenming.activities import policies
from wenming.activities.models import (
    PUBLIC_STATUSES,
    Activity,
    ActivityStatus,
    WeeklyPreview,
)
from wenming.core.errors import Invalid
from wenming.lib import holidays, pdf, qr
from wenming.network.models import Site, SiteLevel

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEK_LIMIT = 300  # activities on one week's page or poster; a street's busiest week is far below
FEED_PAST_DAYS = 30
FEED_LIMIT = 500
FIRST_YEAR, LAST_YEAR = 2000, 2100  # the years a plan may have (Plan.year's check constraint)
PREVIEW_LEVELS = (SiteLevel.SUBCENTRE, SiteLevel.STATION)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

WEEKDAYS = (
    gettext_lazy("周一"),
    gettext_lazy("周二"),
    gettext_lazy("周三"),
    gettext_lazy("周四"),
    gettext_lazy("周五"),
    gettext_lazy("周六"),
    gettext_lazy("周日"),
)


def shown_q() -> Q:
    """Activities anyone may see in a preview: public ones, and cancelled ones that had been public."""
    return policies.activities_visible_to(AnonymousUser())


# --- The week ----------------------------------------------------------------------


def this_monday(today: dt.date | None = None) -> dt.date:
    return holidays.monday_of(today or timezone.localdate())


def parse_week(raw: str | None, *, today: dt.date | None = None) -> dt.date:
    """The Monday of the week that holds the date ``raw`` (YYYY-MM-DD); this week when empty.

    Raises ``Invalid`` (code ``bad_week``, field ``week``) for anything else.
    """
    raw = (raw or "").strip()
    if not raw:
        return this_monday(today)
    message = _("日期格式不对，请按“年-月-日”填写，例如 2026-09-28。")
    if not _ISO_DATE.fullmatch(raw):
        raise Invalid(message, code="bad_week", field="week")
    try:
        date = dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise Invalid(message, code="bad_week", field="week") from exc
    if not FIRST_YEAR <= date.year <= LAST_YEAR:
        raise Invalid(
            _("只能查看%(first)d年至%(last)d年的活动预告。") % {"first": FIRST_YEAR, "last": LAST_YEAR},
            code="bad_week",
            field="week",
        )
    return holidays.monday_of(date)


def week_bounds(monday: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[Monday 00:00, next Monday 00:00) in Asia/Shanghai."""
    start = dt.datetime.combine(monday, dt.time.min, tzinfo=SHANGHAI)
    return start, dt.datetime.combine(monday + dt.timedelta(days=7), dt.time.min, tzinfo=SHANGHAI)


def date_label(date: dt.date) -> str:
    return _("%(month)d月%(day)d日") % {"month": date.month, "day": date.day}


def week_label(monday: dt.date) -> str:
    """2026年9月28日—10月4日, or 2026年12月28日—2027年1月3日 across a year."""
    sunday = monday + dt.timedelta(days=6)
    first = _("%(year)d年%(month)d月%(day)d日") % {"year": monday.year, "month": monday.month, "day": monday.day}
    last = (
        date_label(sunday)
        if sunday.year == monday.year
        else _("%(year)d年%(month)d月%(day)d日")
        % {
            "year": sunday.year,
            "month": sunday.month,
            "day": sunday.day,
        }
    )
    return f"{first}—{last}"


def detail_path(activity: Activity) -> str:
    return reverse("activities:detail", args=[activity.pk])


def detail_url(activity: Activity) -> str:
    """The absolute address of the activity's page, where residents sign up: what the poster's QR holds."""
    return settings.SITE_URL.rstrip("/") + detail_path(activity)


def place(activity: Activity) -> str:
    """Where, as a resident reads it: the room and the note, or the host site's address."""
    parts = [p for p in ((activity.venue.name if activity.venue else ""), activity.location) if p]
    if not parts and activity.site.address:
        parts.append(activity.site.address)
    return "，".join(parts)


def time_range(activity: Activity) -> str:
    start, end = timezone.localtime(activity.starts_at), timezone.localtime(activity.ends_at)
    if start.date() == end.date():
        return f"{start:%H:%M}–{end:%H:%M}"
    return f"{start:%H:%M}–{date_label(end.date())} {end:%H:%M}"


def seats_label(activity: Activity) -> str:
    """Seats left as residents read it."""
    if activity.status == ActivityStatus.CANCELLED:
        return _("活动已取消")
    if activity.status == ActivityStatus.COMPLETED or activity.ends_at <= timezone.now():
        return _("活动已结束")
    if activity.seats == 0:
        return _("不设居民报名")
    if activity.seats_left > 0:
        return _("余%(left)d个名额（共%(seats)d个）") % {"left": activity.seats_left, "seats": activity.seats}
    if activity.waitlist_limit > activity.waitlist_count:
        return _("名额已满，可候补")
    return _("名额已满")


@dataclass(frozen=True)
class Listing:
    """One activity as a line of the preview reads it."""

    activity: Activity

    @property
    def time(self) -> str:
        return time_range(self.activity)

    @property
    def place(self) -> str:
        return place(self.activity)

    @property
    def seats(self) -> str:
        return seats_label(self.activity)

    @property
    def cancelled(self) -> bool:
        return self.activity.status == ActivityStatus.CANCELLED

    @property
    def full(self) -> bool:
        return self.activity.seats > 0 and self.activity.seats_left == 0


@dataclass(frozen=True)
class DayPlan:
    day: holidays.Day
    activities: list[Activity]

    @property
    def listings(self) -> list[Listing]:
        return [Listing(a) for a in self.activities]

    @property
    def date(self) -> dt.date:
        return self.day.date

    @property
    def weekday(self) -> str:
        return str(WEEKDAYS[self.day.date.weekday()])

    @property
    def date_label(self) -> str:
        return date_label(self.day.date)

    @property
    def mark(self) -> str:
        """假期 or 调休上班 when the year's calendar is published; nothing otherwise."""
        return self.day.label if self.day.published else ""

    @property
    def is_makeup_workday(self) -> bool:
        return self.day.kind == holidays.DayKind.MAKEUP_WORKDAY

    @property
    def is_holiday(self) -> bool:
        return self.day.kind == holidays.DayKind.HOLIDAY


@dataclass(frozen=True)
class WeekPlan:
    site: Site
    monday: dt.date
    days: list[DayPlan]
    truncated: bool

    @property
    def sunday(self) -> dt.date:
        return self.monday + dt.timedelta(days=6)

    @property
    def previous_monday(self) -> dt.date:
        return self.monday - dt.timedelta(days=7)

    @property
    def next_monday(self) -> dt.date:
        return self.monday + dt.timedelta(days=7)

    @property
    def label(self) -> str:
        return week_label(self.monday)

    @property
    def title(self) -> str:
        return _("%(site)s 每周活动预告 %(dates)s") % {"site": self.site.name, "dates": self.label}

    @cached_property
    def activities(self) -> list[Activity]:
        return [a for d in self.days for a in d.activities]

    @property
    def activity_count(self) -> int:
        """场次 that will take place: the cancelled ones do not count."""
        return sum(1 for a in self.activities if a.status != ActivityStatus.CANCELLED)

    @property
    def has_published_calendar(self) -> bool:
        return all(d.day.published for d in self.days)


def week_activities(site: Site, monday: dt.date, *, limit: int = WEEK_LIMIT) -> QuerySet[Activity]:
    """The week's public (and cancelled) activities of ``site`` and everything below it, by start."""
    start, end = week_bounds(monday)
    return (
        Activity.objects.filter(
            shown_q(),
            site__path__startswith=site.path,
            site__is_active=True,
            starts_at__gte=start,
            starts_at__lt=end,
        )
        .select_related("site", "venue", "brand")
        .order_by("starts_at", "id")[:limit]
    )


def _version(rows: QuerySet[Activity]) -> str:
    """A fingerprint of what a listing shows: it changes with any new, edited, moved, cancelled or
    signed-up-for activity (every edit and move bumps ``revision``; sign-ups move the counters).
    One aggregate query, far cheaper than building and rendering the listing."""
    agg = rows.order_by().aggregate(
        n=Count("id"), top=Max("id"), rev=Sum("revision"), seats=Sum("confirmed_count"), wait=Sum("waitlist_count")
    )
    return "-".join(str(agg[k] or 0) for k in ("n", "top", "rev", "seats", "wait"))


def week_version(site: Site, monday: dt.date) -> str:
    start, end = week_bounds(monday)
    return _version(
        Activity.objects.filter(
            shown_q(), site__path__startswith=site.path, site__is_active=True, starts_at__gte=start, starts_at__lt=end
        )
    )


def feed_version(site: Site, *, now: dt.datetime | None = None) -> str:
    since = (now or timezone.now()) - dt.timedelta(days=FEED_PAST_DAYS)
    rows = Activity.objects.filter(
        shown_q(), site__path__startswith=site.path, site__is_active=True, starts_at__gte=since
    )
    return f"{timezone.localtime(since).date().isoformat()}-{_version(rows)}"


def week_plan(site: Site, monday: dt.date) -> WeekPlan:
    """The week of ``site``'s subtree laid out Monday to Sunday: one query."""
    found = list(week_activities(site, monday, limit=WEEK_LIMIT + 1))
    truncated = len(found) > WEEK_LIMIT
    by_date: dict[dt.date, list[Activity]] = {}
    for activity in found[:WEEK_LIMIT]:
        by_date.setdefault(timezone.localtime(activity.starts_at).date(), []).append(activity)
    days = [DayPlan(day, by_date.get(day.date, [])) for day in holidays.week(monday)]
    return WeekPlan(site, monday, days, truncated)


# --- The poster ---------------------------------------------------------------------

RED = colors.HexColor("#c8161d")  # public holidays, and the brand colour
AMBER = colors.HexColor("#8c6d1f")  # 调休上班
DARK = colors.HexColor("#444444")
GREY = colors.HexColor("#666666")
RULE = colors.HexColor("#dddddd")
QR_SIZE = 22 * mm
MARGIN = 14 * mm
TIME_WIDTH = 28 * mm
CODE_WIDTH = QR_SIZE + 6 * mm


class QrCode(Flowable):
    """A QR code drawn as vector squares, in a group of its own (saveState/restoreState)."""

    def __init__(self, data: str, size: float = QR_SIZE) -> None:
        super().__init__()
        self.data = data
        self.size = size

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.size, self.size

    def draw(self) -> None:
        canvas = self.canv
        canvas.saveState()
        canvas.setFillColor(colors.black)
        qr.draw(canvas, self.data, 0, 0, self.size)
        canvas.restoreState()


def _text(text: str) -> str:
    """User text as Paragraph markup: printable, escaped."""
    return escape(pdf.printable(text))


def _styles() -> dict[str, ParagraphStyle]:
    return {
        "site": pdf.style("site", size=15, colour="#333333", alignment=1),
        "title": pdf.style("title", size=30, leading=38, colour="#c8161d", alignment=1),
        "dates": pdf.style("dates", size=14, colour="#333333", alignment=1, spaceAfter=4),
        "day": pdf.style("day", size=13, colour="#ffffff"),
        "empty": pdf.style("empty", size=10, colour="#666666"),
        "time": pdf.style("time", size=12, leading=15),
        "name": pdf.style("name", size=13, leading=17),
        "detail": pdf.style("detail", size=9.5, leading=13, colour="#444444"),
        "scan": pdf.style("scan", size=8, leading=10, colour="#666666", alignment=1),
        "note": pdf.style("note", size=9, colour="#666666", alignment=1),
    }


def _activity_row(activity: Activity, styles: dict[str, ParagraphStyle]) -> list[object]:
    cancelled = activity.status == ActivityStatus.CANCELLED
    title = _text(activity.title)
    if cancelled:
        title = f'<font color="#c8161d">{escape(_("【已取消】"))}</font><strike>{title}</strike>'
    details = [
        _("主办：%(site)s") % {"site": activity.site.name},
        _("地点：%(place)s") % {"place": place(activity) or _("详见活动页")},
        activity.get_platform_display(),
        _("面向：%(audience)s") % {"audience": activity.get_audience_display()},
    ]
    if activity.brand:
        details.append(_("品牌：%(brand)s") % {"brand": activity.brand.name})
    if not cancelled:
        # A printed poster hangs all week: it gives the seats, not the seats left.
        details.append(_("名额%(seats)d个") % {"seats": activity.seats} if activity.seats else _("不设居民报名"))
    elif activity.cancel_reason:
        details.append(_("取消原因：%(reason)s") % {"reason": activity.cancel_reason})
    body = [Paragraph(title, styles["name"]), Paragraph(_text(" · ".join(details)), styles["detail"])]
    if cancelled:
        code: list[object] = [Paragraph(escape(_("已取消")), styles["scan"])]
    else:
        code = [QrCode(detail_url(activity)), Paragraph(escape(_("扫码报名")), styles["scan"])]
    return [Paragraph(_text(time_range(activity)), styles["time"]), body, code]


def _day_table(day: DayPlan, styles: dict[str, ParagraphStyle], width: float) -> Table:
    """One day: its heading (repeated when the day runs onto the next page), then its activities."""
    heading = f"{escape(day.date_label)}　{escape(day.weekday)}"
    if day.mark:
        heading += f'　<font color="#ffe58f">{escape(day.mark)}</font>'
    if day.is_holiday:
        colour = RED
    elif day.is_makeup_workday:
        colour = AMBER
    else:
        colour = DARK
    rows: list[list[object]] = [[Paragraph(heading, styles["day"]), "", ""]]
    if day.activities:
        rows.extend(_activity_row(a, styles) for a in day.activities)
    else:
        rows.append([Paragraph(escape(_("本日暂无活动")), styles["empty"]), "", ""])
    table = Table(
        rows,
        colWidths=[TIME_WIDTH, width - TIME_WIDTH - CODE_WIDTH, CODE_WIDTH],
        repeatRows=1,
        spaceAfter=4 * mm,
    )
    commands: list[tuple[object, ...]] = [
        ("SPAN", (0, 0), (-1, 0)),
        ("BACKGROUND", (0, 0), (-1, 0), colour),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
        ("LINEBELOW", (0, 1), (-1, -1), 0.5, RULE),
        ("ALIGN", (2, 1), (2, -1), "CENTER"),
    ]
    if not day.activities:
        commands.append(("SPAN", (0, 1), (-1, 1)))
    table.setStyle(TableStyle(commands))
    return table


def poster_pdf(plan: WeekPlan, *, generated_at: dt.datetime | None = None) -> bytes:
    """The week as an A4 poster (PDF bytes): a heading, then each day with its activities and QR codes."""
    styles = _styles()
    buffer = io.BytesIO()
    generated = timezone.localtime(generated_at or timezone.now())
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 6 * mm,
        title=pdf.printable(plan.title),
        author=pdf.printable(plan.site.name),
        subject=_("每周活动预告"),
        creator="Wenming",
    )
    width = A4[0] - 2 * MARGIN
    story: list[Flowable] = [
        Paragraph(_text(plan.site.name), styles["site"]),
        Paragraph(escape(_("每周活动预告")), styles["title"]),
        Paragraph(_text(plan.label), styles["dates"]),
        Spacer(1, 4 * mm),
    ]
    if not plan.activities:
        story.append(Paragraph(escape(_("本周暂无公开活动。")), styles["note"]))
        story.append(Spacer(1, 4 * mm))
    story.extend(_day_table(day, styles, width) for day in plan.days)
    if plan.truncated:
        story.append(Paragraph(escape(_("活动较多，仅列出前%(n)d场。") % {"n": WEEK_LIMIT}), styles["note"]))
    footer = pdf.printable(
        _("扫描二维码查看活动详情并报名 · 生成于 %(time)s") % {"time": f"{generated:%Y-%m-%d %H:%M}"}
    )

    def on_page(canvas: Canvas, document: BaseDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(pdf.chinese_font(), 8)
        canvas.setFillColor(GREY)
        canvas.drawString(MARGIN, MARGIN, footer)
        canvas.drawRightString(A4[0] - MARGIN, MARGIN, str(canvas.getPageNumber()))
        canvas.restoreState()

    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()


# --- The calendar feed ---------------------------------------------------------------


def feed_activities(site: Site, *, now: dt.datetime | None = None, limit: int = FEED_LIMIT) -> list[Activity]:
    """Public (and cancelled) activities of ``site``'s subtree starting from 30 days ago, soonest first.

    Each event's SEQUENCE is the activity's ``revision``, bumped by every edit
    and every move through the workflow, so calendars pick up changes.
    """
    since = (now or timezone.now()) - dt.timedelta(days=FEED_PAST_DAYS)
    return list(
        Activity.objects.filter(shown_q(), site__path__startswith=site.path, site__is_active=True, starts_at__gte=since)
        .select_related("site", "venue")
        .order_by("starts_at", "id")[:limit]
    )


def _vtimezone() -> icalendar.Timezone:
    """Asia/Shanghai: UTC+8 all year, no daylight saving since 1991."""
    zone = icalendar.Timezone()
    zone.add("tzid", "Asia/Shanghai")
    zone.add("x-lic-location", "Asia/Shanghai")
    standard = icalendar.TimezoneStandard()
    standard.add("dtstart", dt.datetime(1970, 1, 1))  # noqa: DTZ001 - a VTIMEZONE's onset is local time
    standard.add("tzoffsetfrom", dt.timedelta(hours=8))
    standard.add("tzoffsetto", dt.timedelta(hours=8))
    standard.add("tzname", "CST")
    zone.add_component(standard)
    return zone


def uid_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "wenming"


def _description(activity: Activity) -> str:
    lines = []
    if activity.status == ActivityStatus.CANCELLED:
        lines.append(
            _("【已取消】%(reason)s") % {"reason": activity.cancel_reason}
            if activity.cancel_reason
            else _("【已取消】")
        )
    lines.append(_("主办：%(site)s") % {"site": activity.site.name})
    lines.append(
        _("%(platform)s · 面向%(audience)s")
        % {"platform": activity.get_platform_display(), "audience": activity.get_audience_display()}
    )
    if activity.status != ActivityStatus.CANCELLED:
        lines.append(seats_label(activity))
    if activity.description:
        lines.extend(["", activity.description])
    lines.extend(["", _("详情与报名：%(url)s") % {"url": detail_url(activity)}])
    return "\n".join(lines)


def _event(activity: Activity, *, stamp: dt.datetime, host: str) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", f"activity-{activity.pk}@{host}")
    event.add("dtstamp", stamp)
    event.add("sequence", activity.revision)
    event.add("dtstart", timezone.localtime(activity.starts_at, SHANGHAI))
    event.add("dtend", timezone.localtime(activity.ends_at, SHANGHAI))
    event.add("summary", activity.title)
    event.add("description", _description(activity))
    where = place(activity)
    event.add("location", f"{activity.site.name}　{where}" if where else activity.site.name)
    event.add("url", detail_url(activity))
    event.add("status", "CANCELLED" if activity.status == ActivityStatus.CANCELLED else "CONFIRMED")
    event.add("categories", [activity.get_platform_display()])
    event.add("transp", "OPAQUE")
    return event


def calendar_feed(site: Site, *, now: dt.datetime | None = None) -> bytes:
    """The subtree's activities as an RFC 5545 calendar (CRLF, lines folded at 75 octets)."""
    now = now or timezone.now()
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Wenming//Activities 1.0//ZH")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _("%(site)s · 文明实践活动") % {"site": site.name})
    calendar.add("x-wr-caldesc", _("%(site)s及下属阵地的公开活动") % {"site": site.name})
    calendar.add("x-wr-timezone", "Asia/Shanghai")
    calendar.add_component(_vtimezone())
    stamp = now.astimezone(dt.UTC).replace(microsecond=0)
    host = uid_host()
    for activity in feed_activities(site, now=now):
        calendar.add_component(_event(activity, stamp=stamp, host=host))
    return bytes(calendar.to_ical())


# --- The stored weekly preview -------------------------------------------------------


def sites_to_preview(monday: dt.date) -> list[Site]:
    """Sub-centres and stations with public activities in their subtree that week (two queries).

    The week's activity paths are read once; a site qualifies when one of
    them lies under it. Sites that already have a preview for the week come
    too, so a preview whose activities were all cancelled is brought up to date.
    """
    start, end = week_bounds(monday)
    paths = set(
        Activity.objects.filter(
            status__in=PUBLIC_STATUSES, site__is_active=True, starts_at__gte=start, starts_at__lt=end
        ).values_list("site__path", flat=True)
    )
    prefixes: set[str] = set()
    for path in paths:
        parts = [p for p in path.split(".") if p]
        for level in PREVIEW_LEVELS:
            if len(parts) >= level:
                prefixes.add(".".join(parts[:level]) + ".")
    already = WeeklyPreview.objects.filter(week_start=monday).values("site_id")
    return list(
        Site.objects.filter(level__in=PREVIEW_LEVELS, is_active=True)
        .filter(Q(path__in=prefixes) | Q(pk__in=already))
        .order_by("path")
    )


def poster_name(site: Site, monday: dt.date) -> str:
    return f"site{site.pk}-{monday.isoformat()}.pdf"


def store_weekly_preview(
    *, actor: User | None, site: Site, week_start: dt.date, now: dt.datetime | None = None
) -> WeeklyPreview:
    """Render ``site``'s poster for the week of ``week_start`` and keep it: one ``WeeklyPreview`` per site and week.

    ``actor`` is None for the scheduled task (the system). The PDF is written
    to storage first and the row updated in one transaction; if the
    transaction fails the new file is removed, and once it commits the
    replaced file is.
    """
    if week_start.weekday() != 0:
        raise Invalid(_("每周活动预告从周一开始。"), code="not_a_monday", field="week_start")
    if site.level not in PREVIEW_LEVELS:
        raise Invalid(_("只有分中心和实践站生成每周活动预告。"), code="preview_level", field="site")
    now = now or timezone.now()
    plan = week_plan(site, week_start)
    poster = WeeklyPreview(site=site, week_start=week_start).poster
    storage = poster.storage
    content = ContentFile(poster_pdf(plan, generated_at=now))
    new_name = storage.save(poster.field.generate_filename(poster.instance, poster_name(site, week_start)), content)
    try:
        with transaction.atomic():
            previous = (
                WeeklyPreview.objects.select_for_update()
                .filter(site=site, week_start=week_start)
                .values_list("poster", flat=True)
                .first()
            )
            preview, _created = WeeklyPreview.objects.update_or_create(
                site=site,
                week_start=week_start,
                defaults={"poster": new_name, "activity_count": plan.activity_count, "generated_at": now},
            )
            if previous and previous != new_name:
                transaction.on_commit(lambda: storage.delete(previous))
    except BaseException:
        storage.delete(new_name)
        raise
    return preview
