"""Booking pages: a venue's week and the request form (once, or the same time every week),
"my bookings" with each weekly series as one entry, and a series' own page (mobile, WeUI);
the approvals list and a venue's week calendar for staff (desktop).

After a weekly request, the dates that could not be booked are kept in the
session for the series' page, which says why in a few words ("国庆节假期不开放",
"与已通过的预约冲突 19:00–21:00"); they are not stored anywhere else.

Views parse and render; ``bookings.services`` writes and ``bookings.policies``
decides. A booking or venue a person may not see does not exist for them: 404.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F, IntegerField, Max, Q, Value
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wenming.accounts import policies as account_policies
from wenming.accounts.models import User
from wenming.bookings import policies, selectors, services
from wenming.bookings.api import series_refusal
from wenming.bookings.forms import BookingForm, RejectForm, add_booking_error, weeks_offered
from wenming.bookings.models import HOLDING_STATUSES, Blackout, Booking, BookingStatus
from wenming.bookings.services import SeriesDate
from wenming.core.errors import DomainError
from wenming.lib import holidays
from wenming.network.models import Venue

MY_PAGE_SIZE = 20
STAFF_PAGE_SIZE = 30


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    """Back to the page the form was on, when it is one of ours."""
    candidate = request.POST.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(candidate)
    return HttpResponseRedirect(default)


def _week_links(monday: dt.date) -> dict[str, str]:
    return {
        "previous_week": (monday - dt.timedelta(days=7)).isoformat(),
        "next_week": (monday + dt.timedelta(days=7)).isoformat(),
        "this_week": selectors.parse_week(None).isoformat(),
    }


# --- Residents ------------------------------------------------------------------------------------


# The dates of the last weekly series a person asked for that could not be booked, for its page.
SERIES_OUTCOME_KEY = "bookings_series_outcome"


@dataclass(frozen=True)
class UnbookedDate:
    """A date of a weekly series that was not booked, and why, in a few words."""

    date: dt.date
    reason: str

    @property
    def weekday(self) -> str:
        return selectors.weekday_label(self.date)


def _hhmm(value: dt.datetime) -> str:
    return f"{timezone.localtime(value):%H:%M}"


def _outcome_rows(venue: Venue, dates: list[SeriesDate]) -> list[dict[str, Any]]:
    """The refused dates as the session keeps them (JSON): the facts the page words at display time."""
    blackouts: list[Blackout] = []
    if any(d.code == "blackout" for d in dates):
        blackouts = list(
            Blackout.objects.filter(venue=venue, first_date__lte=dates[-1].day, last_date__gte=dates[0].day)
        )
    rows = []
    for d in dates:
        holder = d.holder
        rows.append(
            {
                "date": d.day.isoformat(),
                "code": d.code,
                "message": d.message,
                "blackout": next((b.reason for b in blackouts if b.first_date <= d.day <= b.last_date), ""),
                "holder": {
                    "status": holder.status,
                    "activity": holder.activity_id is not None,
                    "start": _hhmm(holder.starts_at),
                    "end": _hhmm(holder.ends_at),
                }
                if holder is not None
                else None,
            }
        )
    return rows


def _unbooked(row: dict[str, Any]) -> UnbookedDate:
    """One refused date in words: "国庆节假期不开放", "与已通过的预约冲突 19:00–21:00" … or the rule's message."""
    day = dt.date.fromisoformat(row["date"])
    code, holder = row["code"], row.get("holder")
    reason = str(row["message"])
    if code == "holiday_closed" and holidays.day(day).holiday:
        reason = _("%(holiday)s不开放") % {"holiday": holidays.day(day).label}
    elif code == "blackout" and row.get("blackout"):
        reason = _("场地停用（%(reason)s）") % {"reason": row["blackout"]}
    elif code == "slot_taken" and holder:
        times = {"start": holder["start"], "end": holder["end"]}
        if holder["activity"]:
            reason = _("与活动占用的时段冲突 %(start)s–%(end)s") % times
        else:
            label = BookingStatus(holder["status"]).label
            reason = _("与%(status)s的预约冲突 %(start)s–%(end)s") % {"status": label, **times}
    return UnbookedDate(day, reason)


def _request_series(
    request: HttpRequest, form: BookingForm, actor: User, venue: Venue
) -> HttpResponse | list[UnbookedDate]:
    """Ask for the weekly series: its page when a date was booked.

    When none was, the refusal goes onto the form and the dates come back to
    be listed (only when their reasons differ; one reason is said once).
    """
    now = timezone.now()
    data = form.cleaned_data
    created, conflicts = services.request_recurring(
        actor=actor,
        venue=venue,
        first_start=data["starts_at"],
        first_end=data["ends_at"],
        weeks=data["weeks"],
        purpose=data["purpose"],
        attendees=data["attendees"],
        organization=data.get("organization"),
        now=now,
    )
    rows = _outcome_rows(venue, conflicts)
    if not created:
        refusal = series_refusal(conflicts)
        add_booking_error(form, refusal)
        return [_unbooked(row) for row in rows] if refusal.code == "no_dates_available" else []
    series_id = created[0].series_id
    request.session[SERIES_OUTCOME_KEY] = {"series": series_id, "dates": rows}
    if created[0].status == BookingStatus.APPROVED:
        text = ngettext("已预约%(n)d个日期，请按时到场签到。", "已预约%(n)d个日期，请按时到场签到。", len(created))
    else:
        text = ngettext(
            "已提交%(n)d个日期的预约申请，每个日期分别审核，结果会通知您。",
            "已提交%(n)d个日期的预约申请，每个日期分别审核，结果会通知您。",
            len(created),
        )
    messages.success(request, text % {"n": len(created)})
    return redirect("bookings:series", pk=series_id)


@require_http_methods(["GET", "POST"])
def venue_book(request: HttpRequest, pk: int) -> HttpResponse:
    """A venue's week of busy slots and, for people signed in, the request form (once, or every week)."""
    venue = get_object_or_404(Venue.objects.select_related("site"), pk=pk)
    if not policies.can_view_venue_calendar(request.user, venue):
        raise Http404
    if request.method == "POST" and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    actor = request.user if isinstance(request.user, User) else None
    rules = services.rules_for(venue)
    form = BookingForm(request.POST or None, actor=actor, max_weeks=weeks_offered(rules.max_days_ahead))
    unbooked: list[UnbookedDate] = []
    if request.method == "POST" and actor is not None and form.is_valid():
        try:
            if form.cleaned_data["weeks"] > 1:
                outcome = _request_series(request, form, actor, venue)
                if isinstance(outcome, HttpResponse):
                    return outcome
                unbooked = outcome
            else:
                booking = services.request_booking(
                    actor=actor,
                    venue=venue,
                    starts_at=form.cleaned_data["starts_at"],
                    ends_at=form.cleaned_data["ends_at"],
                    purpose=form.cleaned_data["purpose"],
                    attendees=form.cleaned_data["attendees"],
                    organization=form.cleaned_data.get("organization"),
                )
                if booking.status == BookingStatus.APPROVED:
                    messages.success(request, _("预约成功，请按时到场签到。"))
                else:
                    messages.success(request, _("已提交预约申请，审核结果会通知您。"))
                return redirect("bookings:mine")
        except DomainError as exc:
            add_booking_error(form, exc)
    week_raw = request.GET.get("week") or (
        form.cleaned_data["date"].isoformat() if form.is_bound and "date" in form.cleaned_data else None
    )
    monday = selectors.parse_week(week_raw)
    shown = Q(status__in=HOLDING_STATUSES)
    if actor is not None:
        shown |= Q(status=BookingStatus.PENDING, requester=actor)
    bookings = selectors.week_bookings(venue, monday, shown)
    return render(
        request,
        "bookings/venue_book.html",
        {
            "venue": venue,
            "rules": rules,
            "days": selectors.venue_week(venue, monday, bookings),
            "monday": monday,
            "form": form,
            "unbooked": unbooked,
            "can_request": actor is not None and policies.can_request_booking(actor, venue),
            **_week_links(monday),
        },
    )


@dataclass(frozen=True)
class MyBooking:
    booking: Booking
    can_cancel: bool
    can_check_in: bool

    is_series = False


def _my_row(booking: Booking, now: dt.datetime) -> MyBooking:
    return MyBooking(
        booking=booking,
        can_cancel=booking.activity_id is None
        and booking.status in (BookingStatus.PENDING, BookingStatus.APPROVED)
        and now < booking.starts_at,
        can_check_in=booking.activity_id is None and services.can_check_in_now(booking, now),
    )


@dataclass(frozen=True)
class MySeries:
    """The dates of one weekly series, shown together: same venue, weekday and time."""

    series_id: int
    rows: list[MyBooking]  # by date
    now: dt.datetime

    is_series = True

    @property
    def first(self) -> Booking:
        return self.rows[0].booking

    @property
    def last(self) -> Booking:
        return self.rows[-1].booking

    @property
    def weekday(self) -> str:
        return selectors.weekday_label(timezone.localdate(self.first.starts_at))

    @property
    def status_counts(self) -> list[tuple[str, int]]:
        """("待审核", 3), ("已通过", 1) …, in the order of the workflow."""
        counts = Counter(row.booking.status for row in self.rows)
        return [(str(status.label), counts[status]) for status in BookingStatus if counts[status]]

    @property
    def next_booking(self) -> Booking | None:
        live = (BookingStatus.PENDING, BookingStatus.APPROVED)
        return next((r.booking for r in self.rows if r.booking.status in live and r.booking.ends_at > self.now), None)


def _my_entries(user: User) -> Any:
    """One entry per booking outside a series and one per series, latest date first: (booking, series, sort).

    A union of two value queries, so the page counts and slices entries in the database.
    """
    null_id = Value(None, output_field=IntegerField())
    singles = (
        Booking.objects.filter(requester=user, series__isnull=True)
        .annotate(entry_booking=F("pk"), entry_series=null_id, entry_sort=F("starts_at"))
        .values_list("entry_booking", "entry_series", "entry_sort")
        .order_by()
    )
    series = (
        Booking.objects.filter(requester=user, series__isnull=False)
        .values("series_id")
        .annotate(entry_booking=null_id, entry_series=F("series_id"), entry_sort=Max("starts_at"))
        .values_list("entry_booking", "entry_series", "entry_sort")
        .order_by()
    )
    return singles.union(series, all=True).order_by("-entry_sort", "-entry_series", "-entry_booking")


def _mine() -> Any:
    return Booking.objects.select_related("venue__site", "organization")


@login_required
@require_GET
def my_bookings(request: HttpRequest) -> HttpResponse:
    """我的预约: latest first, the dates of a weekly series grouped as one entry."""
    user = _user(request)
    now = timezone.now()
    page = Paginator(_my_entries(user), MY_PAGE_SIZE).get_page(request.GET.get("page"))
    keys = list(page.object_list)
    single_ids = [booking_id for booking_id, _series_id, _sort in keys if booking_id is not None]
    series_ids = [series_id for booking_id, series_id, _sort in keys if booking_id is None]
    singles = {b.pk: b for b in _mine().filter(pk__in=single_ids)} if single_ids else {}
    grouped: dict[int, list[MyBooking]] = {}
    if series_ids:
        for b in _mine().filter(requester=user, series_id__in=series_ids).order_by("starts_at", "id"):
            assert b.series_id is not None
            grouped.setdefault(b.series_id, []).append(_my_row(b, now))
    entries: list[MyBooking | MySeries] = []
    for booking_id, series_id, _sort in keys:
        if booking_id is not None and booking_id in singles:
            entries.append(_my_row(singles[booking_id], now))
        elif series_id is not None and series_id in grouped:
            entries.append(MySeries(series_id, grouped[series_id], now))
    return render(request, "bookings/my_bookings.html", {"page": page, "rows": entries})


@login_required
@require_GET
def series_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One weekly series of mine: every date with its status, and, right after asking, the dates not booked."""
    user = _user(request)
    now = timezone.now()
    bookings = list(_mine().filter(requester=user, series_id=pk).order_by("starts_at", "id"))
    if not bookings:
        raise Http404
    outcome = request.session.get(SERIES_OUTCOME_KEY) or {}
    unbooked = [_unbooked(row) for row in outcome.get("dates", [])] if outcome.get("series") == pk else []
    return render(
        request,
        "bookings/series.html",
        {"series": MySeries(pk, [_my_row(b, now) for b in bookings], now), "unbooked": unbooked},
    )


def _booking_for(request: HttpRequest, pk: int) -> Booking:
    booking = get_object_or_404(Booking.objects.select_related("venue__site", "requester"), pk=pk)
    if not policies.can_view_booking(request.user, booking):
        raise Http404
    return booking


@login_required
@require_POST
def booking_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    booking = _booking_for(request, pk)
    try:
        services.cancel_booking(actor=_user(request), booking=booking, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("预约已取消。"))
    return _back(request, reverse("bookings:mine"))


@login_required
@require_POST
def booking_check_in(request: HttpRequest, pk: int) -> HttpResponse:
    booking = _booking_for(request, pk)
    try:
        services.check_in_booking(actor=_user(request), booking=booking)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("签到成功。"))
    return _back(request, reverse("bookings:mine"))


# --- Staff ----------------------------------------------------------------------------------------


def _staff(request: HttpRequest) -> User:
    user = _user(request)
    if not account_policies.is_staff_anywhere(user):
        raise PermissionDenied(_("预约审核仅供阵地工作人员使用。"))
    return user


@dataclass(frozen=True)
class PendingRow:
    booking: Booking
    clash: Booking | None  # a holding booking it overlaps: approving it would be refused


@login_required
@require_GET
def staff_bookings(request: HttpRequest) -> HttpResponse:
    """预约审核: the pending requests in the staff member's scope, soonest first."""
    user = _staff(request)
    now = timezone.now()
    pending = (
        Booking.objects.filter(policies.bookings_decidable_by(user), status=BookingStatus.PENDING, ends_at__gt=now)
        .select_related("venue__site", "requester", "organization")
        .order_by("starts_at", "id")
    )
    page = Paginator(pending, STAFF_PAGE_SIZE).get_page(request.GET.get("page"))
    items = list(page.object_list)
    holders: list[Booking] = []
    if items:
        # One query for every holding booking that could clash with a request on this page.
        holders = list(
            Booking.objects.filter(
                venue_id__in={b.venue_id for b in items},
                status__in=HOLDING_STATUSES,
                starts_at__lt=max(b.ends_at for b in items),
                ends_at__gt=min(b.starts_at for b in items),
            ).order_by("starts_at")
        )
    rows = [
        PendingRow(
            b,
            next(
                (
                    h
                    for h in holders
                    if h.venue_id == b.venue_id and h.starts_at < b.ends_at and b.starts_at < h.ends_at
                ),
                None,
            ),
        )
        for b in items
    ]
    return render(request, "bookings/staff_bookings.html", {"page": page, "rows": rows, "reject_form": RejectForm()})


def _decidable(request: HttpRequest, pk: int) -> Booking:
    booking = _booking_for(request, pk)
    if not policies.can_decide_booking(request.user, booking):
        raise Http404
    return booking


@login_required
@require_POST
def staff_approve(request: HttpRequest, pk: int) -> HttpResponse:
    booking = _decidable(request, pk)
    try:
        services.approve_booking(actor=_user(request), booking=booking)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("已通过 %(name)s 的预约（%(venue)s）。") % {"name": booking.requester.name, "venue": booking.venue.name},
        )
    return _back(request, reverse("bookings:staff_bookings"))


@login_required
@require_POST
def staff_reject(request: HttpRequest, pk: int) -> HttpResponse:
    booking = _decidable(request, pk)
    form = RejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写不通过的原因。"))
        return _back(request, reverse("bookings:staff_bookings"))
    try:
        services.reject_booking(actor=_user(request), booking=booking, reason=form.cleaned_data["reason"])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已驳回 %(name)s 的预约。") % {"name": booking.requester.name})
    return _back(request, reverse("bookings:staff_bookings"))


@login_required
@require_GET
def staff_venue_calendar(request: HttpRequest, pk: int) -> HttpResponse:
    """A venue's week for staff: every live booking with its details, holidays and 调休 marked."""
    venue = get_object_or_404(Venue.objects.select_related("site"), pk=pk)
    if not policies.can_view_venue_bookings(request.user, venue):
        raise Http404
    monday = selectors.parse_week(request.GET.get("week"))
    live = Q(status__in=(*HOLDING_STATUSES, BookingStatus.PENDING, BookingStatus.NO_SHOW))
    bookings = selectors.week_bookings(venue, monday, live)
    return render(
        request,
        "bookings/staff_calendar.html",
        {
            "venue": venue,
            "rules": services.rules_for(venue),
            "days": selectors.venue_week(venue, monday, bookings),
            "monday": monday,
            "sunday": monday + dt.timedelta(days=6),
            **_week_links(monday),
        },
    )
