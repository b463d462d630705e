"""Booking pages: a venue's week and the request form, and "my bookings" (mobile, WeUI);
the approvals list and a venue's week calendar for staff (desktop).

Views parse and render; ``bookings.services`` writes and ``bookings.policies``
decides. A booking or venue a person may not see does not exist for them: 404.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wenming.accounts import policies as account_policies
from wenming.accounts.models import User
from wenming.bookings import policies, selectors, services
from wenming.bookings.forms import BookingForm, RejectForm, add_booking_error
from wenming.bookings.models import HOLDING_STATUSES, Booking, BookingStatus
from wenming.core.errors import DomainError
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


@require_http_methods(["GET", "POST"])
def venue_book(request: HttpRequest, pk: int) -> HttpResponse:
    """A venue's week of busy slots and, for people signed in, the request form."""
    venue = get_object_or_404(Venue.objects.select_related("site"), pk=pk)
    if not policies.can_view_venue_calendar(request.user, venue):
        raise Http404
    if request.method == "POST" and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    actor = request.user if isinstance(request.user, User) else None
    form = BookingForm(request.POST or None, actor=actor)
    if request.method == "POST" and actor is not None and form.is_valid():
        try:
            booking = services.request_booking(
                actor=actor,
                venue=venue,
                starts_at=form.cleaned_data["starts_at"],
                ends_at=form.cleaned_data["ends_at"],
                purpose=form.cleaned_data["purpose"],
                attendees=form.cleaned_data["attendees"],
                organization=form.cleaned_data.get("organization"),
            )
        except DomainError as exc:
            add_booking_error(form, exc)
        else:
            if booking.status == BookingStatus.APPROVED:
                messages.success(request, _("预约成功，请按时到场签到。"))
            else:
                messages.success(request, _("已提交预约申请，审核结果会通知您。"))
            return redirect("bookings:mine")
    week_raw = request.GET.get("week") or (
        form.cleaned_data["date"].isoformat() if form.is_bound and form.is_valid() else None
    )
    monday = selectors.parse_week(week_raw)
    shown = Q(status__in=HOLDING_STATUSES)
    if actor is not None:
        shown |= Q(status=BookingStatus.PENDING, requester=actor)
    bookings = selectors.week_bookings(venue, monday, shown)
    rules = services.rules_for(venue)
    return render(
        request,
        "bookings/venue_book.html",
        {
            "venue": venue,
            "rules": rules,
            "days": selectors.venue_week(venue, monday, bookings),
            "monday": monday,
            "form": form,
            "can_request": actor is not None and policies.can_request_booking(actor, venue),
            **_week_links(monday),
        },
    )


@dataclass(frozen=True)
class MyBooking:
    booking: Booking
    can_cancel: bool
    can_check_in: bool


@login_required
@require_GET
def my_bookings(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    now = timezone.now()
    found = (
        Booking.objects.filter(requester=user)
        .select_related("venue__site", "organization")
        .order_by("-starts_at", "-id")
    )
    page = Paginator(found, MY_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        MyBooking(
            booking=b,
            can_cancel=b.activity_id is None
            and b.status in (BookingStatus.PENDING, BookingStatus.APPROVED)
            and now < b.starts_at,
            can_check_in=b.activity_id is None and services.can_check_in_now(b, now),
        )
        for b in page.object_list
    ]
    return render(request, "bookings/my_bookings.html", {"page": page, "rows": rows})


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
