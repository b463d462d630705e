"""Residents' activity pages (mobile, WeChat's browser) and the weekly preview.

- ``/sites/<id>/week/``: 每周活动预告 of a site and its subtree, day by day,
  with holidays and 调休 days; links to the printable poster and the
  calendar feed.
- ``/sites/<id>/week/poster.pdf`` and ``/sites/<id>/activities.ics``.
- ``/activities/<id>/``: one activity, with its photos and the sign-up buttons.
- ``/activities/photos/<id>``: one photo of an activity, to whoever may see the activity.
- ``/activities/mine/``: my sign-ups, with the QR code and short code to
  show at the door.

Views parse and render; ``services`` does every write and ``policies``
decides who sees what. An activity a visitor may not see does not exist for
them (404).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from wenming.accounts.models import User
from wenming.activities import policies, preview, services
from wenming.activities.models import Activity, ActivityPhoto, ActivityStatus, Post, Signup, SignupStatus
from wenming.core.errors import DomainError, Invalid
from wenming.lib import qr
from wenming.lib.images import photo_response
from wenming.network.models import Site
from wenming.volunteers.models import Volunteer

MY_SIGNUPS_PAST_LIMIT = 20
# The feed is cached by its fingerprint; the time limit only bounds what site renames etc. leave stale.
FEED_CACHE_SECONDS = 900
WEEK_CACHE_SECONDS = 300
# Short enough that a photo taken down stops being served from caches within the hour.
PHOTO_CACHE_SECONDS = 3600
_ID = re.compile(r"[0-9]{1,18}")  # ASCII digits that fit a bigint (str.isdigit also takes "１" and "²")


def _public_site(pk: int) -> Site:
    return get_object_or_404(Site.objects.filter(is_active=True), pk=pk)


def _week_or_error(request: HttpRequest) -> tuple[dt.date, str]:
    """The week asked for, or this week and the message saying what was wrong with the input."""
    try:
        return preview.parse_week(request.GET.get("week")), ""
    except Invalid as exc:
        return preview.this_monday(), exc.message


def _render_week(request: HttpRequest, site: Site, monday: dt.date, error: str = "") -> HttpResponse:
    """The week page. Its listing is cached by the week's fingerprint (``preview.week_version``): the
    plan is only built, and the days only rendered, when something shown has changed."""
    this_week = preview.this_monday()
    return render(
        request,
        "activities/week.html",
        {
            "site": site,
            "nav": preview.WeekPlan(site, monday, days=[], truncated=False),
            "plan": SimpleLazyObject(lambda: preview.week_plan(site, monday)),
            "version": preview.week_version(site, monday),
            "cache_seconds": WEEK_CACHE_SECONDS,
            "error": error,
            "is_this_week": monday == this_week,
            "this_week": this_week,
            "today": timezone.localdate(),
        },
        status=400 if error else 200,
    )


# --- The weekly preview --------------------------------------------------------------------


@require_safe
def week(request: HttpRequest, pk: int) -> HttpResponse:
    site = _public_site(pk)
    monday, error = _week_or_error(request)
    return _render_week(request, site, monday, error)


@require_safe
def poster(request: HttpRequest, pk: int) -> HttpResponse:
    """The week's A4 poster, made on request from the current data."""
    site = _public_site(pk)
    monday, error = _week_or_error(request)
    if error:
        return _render_week(request, site, monday, error)
    plan = preview.week_plan(site, monday)
    response = HttpResponse(preview.poster_pdf(plan), content_type="application/pdf")
    ascii_name = f"weekly-preview-{site.pk}-{monday.isoformat()}.pdf"
    readable = f"{site.name}-每周活动预告-{monday.isoformat()}.pdf"
    response["Content-Disposition"] = f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(readable)}"
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_safe
def calendar(request: HttpRequest, pk: int) -> HttpResponse:
    """The subtree's public activities as an iCalendar feed (subscribe from a phone's calendar)."""
    site = _public_site(pk)
    key = f"wenming:feed:{site.pk}:{get_language()}:{preview.feed_version(site)}"
    body = cache.get(key)
    if body is None:
        body = preview.calendar_feed(site)
        cache.set(key, body, FEED_CACHE_SECONDS)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="activities-{site.pk}.ics"'
    response["Cache-Control"] = "public, max-age=900"
    return response


# --- One activity ---------------------------------------------------------------------------


def _visible_activity(request: HttpRequest, pk: int) -> Activity:
    found = (
        Activity.objects.filter(policies.activities_visible_to(request.user), pk=pk)
        .select_related("site", "venue", "brand", "project")
        .first()
    )
    if found is None:
        raise Http404
    return found


@dataclass(frozen=True)
class SignupState:
    """What the sign-up area of an activity page offers."""

    open: bool
    message: str


def _signup_state(activity: Activity, now: dt.datetime) -> SignupState:
    if activity.status == ActivityStatus.CANCELLED:
        return SignupState(False, _("活动已取消。"))
    if activity.status == ActivityStatus.COMPLETED or now >= activity.ends_at:
        return SignupState(False, _("活动已结束。"))
    if activity.status != ActivityStatus.PUBLISHED:
        return SignupState(False, _("活动未开放报名。"))
    opens, closes = activity.signup_window()
    if opens is not None and now < opens:
        local = timezone.localtime(opens)
        when = f"{preview.date_label(local.date())} {local:%H:%M}"
        return SignupState(False, _("报名将于%(when)s开始。") % {"when": when})
    if now >= closes:
        return SignupState(False, _("报名已截止。"))
    return SignupState(True, "")


@never_cache
@require_safe
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _visible_activity(request, pk)
    now = timezone.now()
    posts = list(activity.posts.order_by("starts_at", "id"))
    mine: Signup | None = None
    is_volunteer = False
    user = request.user
    if user.is_authenticated:
        mine = (
            Signup.objects.filter(activity=activity, user=user)
            .exclude(status=SignupStatus.CANCELLED)
            .select_related("post")
            .first()
        )
        is_volunteer = Volunteer.objects.filter(user=user, is_active=True).exists()
    state = _signup_state(activity, now)
    seats_open = activity.seats_left > 0
    can_wait = not seats_open and activity.waitlist_count < activity.waitlist_limit
    return render(
        request,
        "activities/detail.html",
        {
            "activity": activity,
            "listing": preview.Listing(activity),
            "posts": posts,
            "photos": list(activity.photos.order_by("position", "id")),
            "mine": mine,
            "is_volunteer": is_volunteer,
            "state": state,
            "resident_open": state.open and activity.seats > 0 and (seats_open or can_wait),
            "can_wait": can_wait,
            "week_url": f"{reverse('activities:week', args=[activity.site_id])}?week={activity.week_start.isoformat()}",
            "login_url": f"{reverse('accounts:login')}?next={quote(request.get_full_path())}",
            "cancelled": activity.status == ActivityStatus.CANCELLED,
        },
    )


@require_safe
def activity_photo(request: HttpRequest, pk: int) -> FileResponse:
    """One photo of an activity, to whoever may see the activity (404 to anyone else); from the media storage."""
    photo = ActivityPhoto.objects.select_related("activity__site").filter(pk=pk).first()
    if photo is None or not policies.can_view_activity(request.user, photo.activity):
        raise Http404
    # A draft's photo is for its staff only: no shared cache may keep it.
    shared = policies.can_view_activity(AnonymousUser(), photo.activity)
    return photo_response(
        photo.image, cache_control=f"{'public' if shared else 'private'}, max-age={PHOTO_CACHE_SECONDS}"
    )


@require_POST
def sign_up(request: HttpRequest, pk: int) -> HttpResponse:
    """Sign up as a resident, or (with ``post``) for a volunteer post."""
    detail = reverse("activities:detail", args=[pk])
    if not request.user.is_authenticated:
        return redirect_to_login(detail)
    actor = request.user
    assert isinstance(actor, User)
    activity = _visible_activity(request, pk)
    post: Post | None = None
    raw_post = request.POST.get("post", "").strip()
    if raw_post:
        post = Post.objects.filter(activity=activity, pk=int(raw_post)).first() if _ID.fullmatch(raw_post) else None
        if post is None:
            messages.error(request, _("未找到该岗位。"))
            return HttpResponseRedirect(detail)
    try:
        signup = services.sign_up(actor=actor, activity=activity, post=post)
    except DomainError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(detail)
    if signup.status == SignupStatus.WAITLISTED:
        messages.success(request, _("名额已满，您已进入候补；有人取消时将按顺序自动递补并通知您。"))
    elif post is not None:
        messages.success(request, _("已报名志愿岗位“%(post)s”。") % {"post": post.name})
    else:
        messages.success(request, _("报名成功！到场时出示签到码 %(code)s。") % {"code": signup.code})
    return HttpResponseRedirect(reverse("activities:mine"))


# --- My sign-ups ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MySignup:
    signup: Signup
    listing: preview.Listing
    can_cancel: bool
    qr_svg: str

    @property
    def activity(self) -> Activity:
        return self.signup.activity


def _my_signup(signup: Signup, now: dt.datetime) -> MySignup:
    activity = signup.activity
    live = signup.status != SignupStatus.CANCELLED and activity.status != ActivityStatus.CANCELLED
    upcoming = now < activity.ends_at
    show_code = live and upcoming and signup.status == SignupStatus.CONFIRMED
    return MySignup(
        signup=signup,
        listing=preview.Listing(activity),
        can_cancel=live and signup.checked_in_at is None and now < activity.cancel_until(),
        qr_svg=qr.svg(services.signup_qr_url(signup), title=_("签到二维码")) if show_code else "",
    )


@never_cache
@login_required
@require_safe
def my_signups(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    person = request.user
    assert isinstance(person, User)
    base = Signup.objects.filter(user=person).select_related("activity", "activity__site", "activity__venue", "post")
    upcoming = list(base.filter(activity__ends_at__gt=now).order_by("activity__starts_at", "id"))
    past = list(base.filter(activity__ends_at__lte=now).order_by("-activity__starts_at", "-id")[:MY_SIGNUPS_PAST_LIMIT])
    return render(
        request,
        "activities/mine.html",
        {
            "upcoming": [_my_signup(s, now) for s in upcoming],
            "past": [_my_signup(s, now) for s in past],
        },
    )


@require_POST
def cancel_signup(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("activities:mine"))
    actor = request.user
    assert isinstance(actor, User)
    signup = get_object_or_404(Signup.objects.select_related("activity"), pk=pk, user=actor)
    try:
        services.cancel_signup(actor=actor, signup=signup)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已取消报名“%(title)s”。") % {"title": signup.activity.title})
    return HttpResponseRedirect(reverse("activities:mine"))
