"""Staff pages of the activities domain, the check-in pages and the recaps (news).

Staff (desktop):
- ``/staff/activities/``: the activities of the user's staff scope, filtered by status and week, with
  the counts 报名 / 候补 / 签到; new (one, or a weekly series), edit, posts (岗位), and one activity's
  page with the workflow buttons (submit / approve / return / cancel / skip a date), its photos
  (upload, remove, reorder: ``photos``) and its history.
- ``/staff/activities/approvals/``: submitted activities awaiting a sub-centre admin.
- ``/staff/activities/<id>/signups/`` (and ``signups.xlsx``, the audited sign-in sheet).
- ``/staff/scan/`` and ``/staff/activities/<id>/scan/``: the scanner (签到 / 签退).
- ``/staff/activities/<id>/onsite-qr/``: the printable on-site QR for self check-in.
- ``/staff/corrections/``: hours corrections awaiting the station manager.
- ``/staff/activities/<id>/recap/``: publish the recap, add photos.

Residents (mobile): ``/activities/<id>/checkin/`` (self check-in from the on-site QR),
``/activities/signups/<id>/correction/`` (a volunteer asks for an hours correction), and the public
news of a site, ``/sites/<id>/news/`` and ``/news/<id>/``.

Views parse and render; ``services`` (and ``recaps``, ``exports``) write, ``policies`` decide. An
activity outside the staff member's scope does not exist for them: 404.

Scanning is a GET on purpose: a phone's camera app (or WeChat's 扫一扫) opens the QR's URL with a
plain GET, and the person must be checked in at once. The signed token in the URL is what allows it:
it names one sign-up, cannot be guessed or forged, and checking in twice only answers 已经签到过了.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wenming.accounts.models import User
from wenming.accounts.policies import admin_scope, is_staff_anywhere, people_visible_to, staff_scope
from wenming.activities import exports, photos, policies, recaps, services
from wenming.activities.forms import (
    ActivityFilterForm,
    ActivityForm,
    CorrectionDecisionForm,
    CorrectionRequestForm,
    NoteForm,
    PostForm,
    PostFormSet,
    ReasonForm,
    RecapForm,
    RecapPhotoForm,
    ScanForm,
    SeriesForm,
    StaffSignupForm,
    add_domain_error,
)
from wenming.activities.models import (
    PUBLIC_STATUSES,
    TRANSITIONS,
    Activity,
    ActivityPhoto,
    ActivityStatus,
    CorrectionStatus,
    HoursCorrection,
    Recap,
    RecapPhoto,
    Signup,
    SignupStatus,
)
from wenming.core.errors import DomainError, NotFound
from wenming.lib import qr
from wenming.lib.images import photo_response
from wenming.lib.phone import InvalidPhone, normalize
from wenming.network.models import Site
from wenming.volunteers.models import ServiceRecord, ServiceSource

LIST_PAGE_SIZE = 30
SIGNUP_PAGE_SIZE = 100
NEWS_PAGE_SIZE = 10
RECENT_SCANS = 8
DECIDED_SHOWN = 20

# How each scan outcome looks: green for done, amber for "nothing to do", red for refused.
OUTCOME_TONES = {
    services.Outcome.OK: "ok",
    services.Outcome.ALREADY: "info",
    services.Outcome.NOT_OPEN: "warn",
    services.Outcome.WAITLISTED: "warn",
    services.Outcome.NOT_CHECKED_IN: "warn",
    services.Outcome.CLOSED: "bad",
    services.Outcome.CANCELLED: "bad",
    services.Outcome.INVALID: "bad",
}


# --- Helpers ---------------------------------------------------------------------------------------


def _staff(request: HttpRequest) -> User:
    """The signed-in staff member, or the 403 page."""
    user = request.user
    if not isinstance(user, User) or not is_staff_anywhere(user):
        raise PermissionDenied(_("此页面仅供阵地工作人员使用。"))
    return user


def _activity(actor: User, pk: int) -> Activity:
    """An activity the staff member runs, or 404."""
    activity = (
        Activity.objects.select_related("site", "venue", "venue__site", "brand", "project", "series", "plan")
        .filter(pk=pk)
        .first()
    )
    if activity is None or not policies.can_edit_activity(actor, activity):
        raise Http404
    return activity


def _editable(activity: Activity) -> bool:
    return activity.status not in (ActivityStatus.COMPLETED, ActivityStatus.CANCELLED)


def _detail_url(activity: Activity) -> str:
    return reverse("activities_staff:detail", args=[activity.pk])


def _scan_tone(scan: services.Scan | None) -> str:
    return OUTCOME_TONES.get(scan.outcome, "bad") if scan is not None else ""


def _token_from(raw: str) -> str:
    """A scanned QR carries the whole URL; accept that, or just its ``t`` parameter."""
    raw = (raw or "").strip()
    if "?" in raw:
        values = parse_qs(urlsplit(raw).query).get("t")
        return values[0] if values else ""
    return raw


def _status(exc: DomainError) -> int:
    return exc.status if 400 <= exc.status < 500 else 400


# --- The activity list -------------------------------------------------------------------------------


def _with_counts(rows: QuerySet[Activity]) -> QuerySet[Activity]:
    live = ~Q(signups__status=SignupStatus.CANCELLED)
    return rows.annotate(
        signed_up=Count("signups", filter=Q(signups__status=SignupStatus.CONFIRMED)),
        checked_in=Count("signups", filter=live & Q(signups__checked_in_at__isnull=False)),
    )


@login_required
@require_GET
def activity_list(request: HttpRequest) -> HttpResponse:
    actor = _staff(request)
    form = ActivityFilterForm(request.GET)
    rows = Activity.objects.filter(staff_scope(actor).site_q("site__")).select_related("site", "venue")
    week: dt.date | None = None
    if form.is_valid():
        data = form.cleaned_data
        week = data["week"]
        if data["status"]:
            rows = rows.filter(status=data["status"])
        if week:
            rows = rows.filter(week_start=week)
        if data["q"]:
            rows = rows.filter(title__icontains=data["q"])
    rows = _with_counts(rows).order_by("-starts_at", "-id")
    page = Paginator(rows, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "activities/staff/activity_list.html",
        {
            "page": page,
            "form": form,
            "week": week,
            "week_end": week + dt.timedelta(days=6) if week else None,
            "can_approve": not admin_scope(actor).is_empty,
        },
    )


@login_required
@require_GET
def approvals(request: HttpRequest) -> HttpResponse:
    """审核: submitted activities in the sub-centre admin's scope, the earliest first."""
    actor = _staff(request)
    scope = admin_scope(actor)
    if scope.is_empty:
        raise PermissionDenied(_("活动审核仅供分中心管理员使用。"))
    rows = (
        Activity.objects.filter(scope.site_q("site__"), status=ActivityStatus.SUBMITTED)
        .select_related("site", "venue", "created_by")
        .order_by("starts_at", "id")
    )
    page = Paginator(rows, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "activities/staff/approvals.html", {"page": page})


# --- New, series, edit, posts ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def activity_new(request: HttpRequest) -> HttpResponse:
    actor = _staff(request)
    form = ActivityForm(request.POST or None, actor=actor)
    posts = PostFormSet(request.POST or None, prefix="posts")
    posts_error = ""
    if request.method == "POST" and form.is_valid() and posts.is_valid():
        specs = [post.spec() for post in posts if post.has_changed() and post.cleaned_data]
        try:
            activity = services.create_activity(
                actor=actor, site=form.cleaned_data["site"], posts=specs, **form.service_fields()
            )
        except DomainError as exc:
            if exc.extra.get("field") == "posts":
                posts_error = exc.message
            else:
                add_domain_error(form, exc)
        else:
            messages.success(request, _("已保存草稿“%(title)s”。确认无误后请提交审核。") % {"title": activity.title})
            return HttpResponseRedirect(_detail_url(activity))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "activities/staff/activity_form.html",
        {"form": form, "posts": posts, "posts_error": posts_error, "activity": None},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def series_new(request: HttpRequest) -> HttpResponse:
    """每周系列活动: one draft per week, each changed or skipped on its own afterwards."""
    actor = _staff(request)
    form = SeriesForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            series = services.create_series(
                actor=actor,
                site=data["site"],
                last_date=data["last_date"],
                skip_dates=data["skip_dates"],
                posts=form.posts(),
                **form.service_fields(),
            )
        except DomainError as exc:
            if exc.extra.get("field") == "posts":
                form.add_error("post_name", exc.message)
            else:
                add_domain_error(form, exc)
        else:
            count = series.occurrences.count()
            messages.success(
                request,
                _("已创建系列活动“%(title)s”，共%(count)d次（草稿）。") % {"title": series.title, "count": count},
            )
            return HttpResponseRedirect(f"{reverse('activities_staff:list')}?q={quote(series.title)}")
    status = 400 if request.method == "POST" else 200
    return render(request, "activities/staff/series_form.html", {"form": form}, status=status)


def _render_edit(
    request: HttpRequest, activity: Activity, form: ActivityForm, post_form: PostForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "activities/staff/activity_form.html",
        {
            "form": form,
            "activity": activity,
            "post_form": post_form,
            "existing_posts": activity.posts.order_by("starts_at", "id"),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def activity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _staff(request)
    activity = _activity(actor, pk)
    if not _editable(activity):
        messages.error(request, _("活动已结束或已取消，不能再修改。"))
        return HttpResponseRedirect(_detail_url(activity))
    form = ActivityForm(request.POST or None, actor=actor, activity=activity)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.update_activity(actor=actor, activity=activity, **form.service_fields())
            except DomainError as exc:
                add_domain_error(form, exc)
                activity.refresh_from_db()
            else:
                messages.success(request, _("已保存修改。"))
                return HttpResponseRedirect(_detail_url(activity))
        return _render_edit(request, activity, form, PostForm(prefix="post"), status=400)
    return _render_edit(request, activity, form, PostForm(prefix="post"))


@login_required
@require_POST
def add_post(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _staff(request)
    activity = _activity(actor, pk)
    post_form = PostForm(request.POST, prefix="post")
    if post_form.is_valid():
        try:
            post = services.add_post(actor=actor, activity=activity, **post_form.spec())
        except DomainError as exc:
            post_form.add_error(None, exc.message)
        else:
            messages.success(request, _("已添加岗位“%(name)s”。") % {"name": post.name})
            return HttpResponseRedirect(reverse("activities_staff:edit", args=[activity.pk]))
    return _render_edit(request, activity, ActivityForm(actor=actor, activity=activity), post_form, status=400)


# --- One activity and its workflow ---------------------------------------------------------------------


def _actions(actor: User, activity: Activity) -> dict[str, bool]:
    status = activity.status
    can_edit = policies.can_edit_activity(actor, activity)
    can_approve = policies.can_approve_activity(actor, activity)
    return {
        "edit": can_edit and _editable(activity),
        "submit": can_edit and status == ActivityStatus.DRAFT,
        "approve": can_approve and status == ActivityStatus.SUBMITTED,
        "return": can_approve and status == ActivityStatus.SUBMITTED,
        "cancel": can_edit and (status, ActivityStatus.CANCELLED) in TRANSITIONS,
        "skip": can_edit and activity.series_id is not None and _editable(activity),
        "recap": can_edit and activity.status in PUBLIC_STATUSES and timezone.now() >= activity.starts_at,
    }


def _render_detail(
    request: HttpRequest, actor: User, activity: Activity, status: int = 200, **forms: Any
) -> HttpResponse:
    occurrences: list[Activity] = []
    if activity.series_id is not None:
        occurrences = list(
            Activity.objects.filter(series_id=activity.series_id).only("id", "title", "starts_at", "status")[:60]
        )
    context = {
        "activity": activity,
        "actions": _actions(actor, activity),
        "history": activity.history.select_related("actor").order_by("at", "id"),
        "posts": activity.posts.order_by("starts_at", "id"),
        "counts": services.attendance(activity),
        "theme": services.theme_of(activity),
        "occurrences": occurrences,
        "has_recap": Recap.objects.filter(activity=activity).exists(),
        "photos": list(activity.photos.order_by("position", "id")),
        "max_photos": photos.MAX_PHOTOS,
        "photo_form": forms.get("photo_form") or RecapPhotoForm(prefix="photo"),
        "cancel_form": forms.get("cancel_form") or ReasonForm(prefix="cancel"),
        "skip_form": forms.get("skip_form") or ReasonForm(prefix="skip"),
        "return_form": forms.get("return_form") or NoteForm(prefix="return"),
        "approve_form": forms.get("approve_form") or NoteForm(prefix="approve"),
        "error": forms.get("error", ""),
    }
    return render(request, "activities/staff/activity_detail.html", context, status=status)


@login_required
@never_cache
@require_GET
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _staff(request)
    return _render_detail(request, actor, _activity(actor, pk))


MOVES = ("submit", "approve", "return", "cancel", "skip")


@login_required
@require_POST
def activity_move(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One workflow button: the service decides whether the move is allowed."""
    actor = _staff(request)
    activity = _activity(actor, pk)
    if action not in MOVES:
        raise Http404
    prefix = {"cancel": "cancel", "skip": "skip", "return": "return", "approve": "approve"}.get(action, "")
    form: ReasonForm | NoteForm | None = None
    if action in ("cancel", "skip"):
        form = ReasonForm(request.POST, prefix=prefix)
    elif action in ("return", "approve"):
        form = NoteForm(request.POST, prefix=prefix)
    forms: dict[str, Any] = {f"{prefix}_form": form} if form is not None else {}
    if form is not None and not form.is_valid():
        return _render_detail(request, actor, activity, status=400, **forms)
    text = ""
    if form is not None:
        text = form.cleaned_data.get("reason") or form.cleaned_data.get("note") or ""
    try:
        if action == "submit":
            services.submit_activity(actor=actor, activity=activity)
            done = _("活动已发布。") if activity.status == ActivityStatus.PUBLISHED else _("已提交，等待分中心审核。")
        elif action == "approve":
            services.approve_activity(actor=actor, activity=activity, note=text)
            done = _("已审核通过并发布。")
        elif action == "return":
            services.return_activity(actor=actor, activity=activity, note=text)
            done = _("已退回修改。")
        elif action == "cancel":
            services.cancel_activity(actor=actor, activity=activity, reason=text)
            done = _("活动已取消，已通知报名者。")
        else:
            services.skip_occurrence(actor=actor, activity=activity, reason=text)
            done = _("本次活动已停办，系列中的其他日期不受影响。")
    except DomainError as exc:
        if exc.status == 404:
            raise Http404 from exc
        activity.refresh_from_db()
        if form is not None and exc.extra.get("field") in form.fields:
            add_domain_error(form, exc)
            return _render_detail(request, actor, activity, status=_status(exc), **forms)
        return _render_detail(request, actor, activity, status=_status(exc), error=exc.message, **forms)
    messages.success(request, done)
    if request.POST.get("back") == "approvals":
        return HttpResponseRedirect(reverse("activities_staff:approvals"))
    return HttpResponseRedirect(_detail_url(activity))


# --- Photos of an activity ------------------------------------------------------------------------------


def _photos_url(activity: Activity) -> str:
    return f"{_detail_url(activity)}#photos"


def _photo(activity: Activity, photo_pk: int) -> ActivityPhoto:
    """One of the activity's photos; a removed one (a second click, another tab) is a domain error, not a 404."""
    photo = ActivityPhoto.objects.filter(pk=photo_pk, activity=activity).first()
    if photo is None:
        raise NotFound(_("该照片已删除。"), code="photo_gone")
    photo.activity = activity
    return photo


@login_required
@require_POST
def activity_photos(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload photos (several at once: all of them are added, or none)."""
    actor = _staff(request)
    activity = _activity(actor, pk)
    form = RecapPhotoForm(request.POST, request.FILES, prefix="photo")
    if form.is_valid():
        try:
            added = photos.add_activity_photos(
                actor=actor, activity=activity, images=form.cleaned_data["photos"], caption=form.cleaned_data["caption"]
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            return _render_detail(request, actor, activity, status=_status(exc), photo_form=form)
        messages.success(request, _("已添加%(count)d张照片。") % {"count": len(added)})
        return HttpResponseRedirect(_photos_url(activity))
    return _render_detail(request, actor, activity, status=400, photo_form=form)


@login_required
@require_POST
def photo_remove(request: HttpRequest, pk: int, photo_pk: int) -> HttpResponse:
    actor = _staff(request)
    activity = _activity(actor, pk)
    try:
        photos.remove_activity_photo(actor=actor, photo=_photo(activity, photo_pk))
    except DomainError as exc:
        messages.info(request, exc.message)
    else:
        messages.success(request, _("已删除照片。"))
    return HttpResponseRedirect(_photos_url(activity))


@login_required
@require_POST
def photo_move(request: HttpRequest, pk: int, photo_pk: int, by: int) -> HttpResponse:
    """前移 / 后移: one place earlier or later."""
    actor = _staff(request)
    activity = _activity(actor, pk)
    try:
        photos.move_activity_photo(actor=actor, photo=_photo(activity, photo_pk), by=by)
    except DomainError as exc:
        messages.info(request, exc.message)
    return HttpResponseRedirect(_photos_url(activity))


# --- Sign-ups ----------------------------------------------------------------------------------------


def _render_signups(request: HttpRequest, activity: Activity, form: StaffSignupForm, status: int = 200) -> HttpResponse:
    shown = request.GET.get("status", "")
    rows = Signup.objects.filter(activity=activity).select_related("user", "post").order_by("created_at", "id")
    if shown in SignupStatus.values:
        rows = rows.filter(status=shown)
    elif shown == "checked_in":
        rows = rows.filter(checked_in_at__isnull=False)
    else:
        shown = ""
    page = Paginator(rows, SIGNUP_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "activities/staff/signups.html",
        {
            "activity": activity,
            "page": page,
            "form": form,
            "shown": shown,
            "statuses": [("", _("全部")), *SignupStatus.choices, ("checked_in", _("已签到"))],
            "counts": services.attendance(activity),
            "can_sign_up": activity.status == ActivityStatus.PUBLISHED and timezone.now() < activity.ends_at,
            "has_posts": activity.posts.exists(),
            "offset": page.start_index() - 1 if page.paginator.count else 0,
        },
        status=status,
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def signups(request: HttpRequest, pk: int) -> HttpResponse:
    """报名名单, and 代报名: staff sign up a person of their scope found by phone number."""
    actor = _staff(request)
    activity = _activity(actor, pk)
    if not policies.can_view_signups(actor, activity):
        raise Http404
    form = StaffSignupForm(request.POST or None, activity=activity)
    if request.method != "POST":
        return _render_signups(request, activity, form)
    if form.is_valid():
        person: User | None = None
        try:
            phone = normalize(form.cleaned_data["phone"])
        except InvalidPhone as exc:
            form.add_error("phone", str(exc))
        else:
            person = User.objects.filter(people_visible_to(actor), phone=phone).first()
            if person is None:
                form.add_error("phone", _("在您负责的阵地没有找到这个手机号的人员，请核对号码或先为其代注册。"))
        if person is not None:
            try:
                signup = services.sign_up(actor=actor, activity=activity, user=person, post=form.cleaned_data["post"])
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("已为%(name)s报名（%(status)s），签到码 %(code)s。")
                    % {"name": person.name, "status": SignupStatus(signup.status).label, "code": signup.code},
                )
                return HttpResponseRedirect(reverse("activities_staff:signups", args=[activity.pk]))
    return _render_signups(request, activity, form, status=400)


def _signup_of(actor: User, pk: int, signup_pk: int) -> Signup:
    activity = _activity(actor, pk)
    signup = get_object_or_404(Signup.objects.select_related("user", "post"), pk=signup_pk, activity=activity)
    signup.activity = activity
    return signup


@login_required
@require_POST
def signup_cancel(request: HttpRequest, pk: int, signup_pk: int) -> HttpResponse:
    """Cancel on someone's behalf (they phoned in); a freed seat goes to the waitlist."""
    actor = _staff(request)
    signup = _signup_of(actor, pk, signup_pk)
    try:
        services.cancel_signup(actor=actor, signup=signup)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已取消%(name)s的报名。") % {"name": signup.user.name})
    return HttpResponseRedirect(reverse("activities_staff:signups", args=[pk]))


@login_required
@require_POST
def signup_attend(request: HttpRequest, pk: int, signup_pk: int) -> HttpResponse:
    """签到 / 签退 from the list, for someone without their phone."""
    actor = _staff(request)
    signup = _signup_of(actor, pk, signup_pk)
    if request.POST.get("mode") == "out":
        scan = services.check_out(actor=actor, signup=signup)
    else:
        scan = services.check_in(actor=actor, activity=signup.activity, code=signup.code)
    level = messages.SUCCESS if scan.ok else messages.WARNING
    messages.add_message(request, level, f"{signup.user.name}：{scan.message}")
    return HttpResponseRedirect(reverse("activities_staff:signups", args=[pk]))


@login_required
@never_cache
@require_GET
def signups_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    """签到表 as xlsx (masked as on screen); the service audits the export."""
    actor = _staff(request)
    activity = _activity(actor, pk)
    try:
        data = exports.export_signin_sheet(actor=actor, activity=activity, request=request)
    except DomainError as exc:
        raise Http404 from exc
    ascii_name, readable = exports.filename(activity)
    response = HttpResponse(data, content_type=exports.XLSX_TYPE)
    response["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(readable)}"
    return response


# --- The scanner -------------------------------------------------------------------------------------


def _scan(actor: User, activity: Activity | None, mode: str, token: str = "", code: str = "") -> services.Scan:
    if mode == "out":
        return services.check_out(actor=actor, activity=activity, token=token, code=code)
    return services.check_in(actor=actor, activity=activity, token=token, code=code)


def _render_scan(
    request: HttpRequest,
    actor: User,
    activity: Activity | None,
    *,
    mode: str,
    scan: services.Scan | None = None,
    form: ScanForm | None = None,
) -> HttpResponse:
    context: dict[str, Any] = {
        "activity": activity,
        "mode": mode,
        "scan": scan,
        "tone": _scan_tone(scan),
        "person": scan.signup.user if scan and scan.signup and scan.outcome != services.Outcome.INVALID else None,
        "post": scan.signup.post if scan and scan.signup and scan.outcome != services.Outcome.INVALID else None,
        "form": form or ScanForm(initial={"mode": mode}),
    }
    if request.headers.get("HX-Request"):
        response = render(request, "activities/staff/scan.html#result", context)
    else:
        if activity is not None:
            context["counts"] = services.attendance(activity)
            context["has_posts"] = activity.posts.exists()
            context["recent"] = (
                Signup.objects.filter(activity=activity, checked_in_at__isnull=False)
                .select_related("user", "post")
                .order_by("-checked_in_at", "-id")[:RECENT_SCANS]
            )
        else:
            context["today"] = _today_in_scope(actor)
        response = render(request, "activities/staff/scan.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _today_in_scope(actor: User) -> QuerySet[Activity]:
    today = timezone.localdate()
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    return (
        Activity.objects.filter(
            staff_scope(actor).site_q("site__"),
            status__in=PUBLIC_STATUSES,
            checkin_opens_at__lt=start + dt.timedelta(days=1),
            checkin_closes_at__gte=start,
        )
        .select_related("site")
        .order_by("starts_at", "id")[:50]
    )


def _mode(raw: str | None) -> str:
    return "out" if raw == "out" else "in"


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def scan(request: HttpRequest) -> HttpResponse:
    """``/staff/scan/?t=<token>``: the page a staff phone's camera opens from a sign-up QR; checks in at once."""
    actor = _staff(request)
    if request.method == "POST":
        form = ScanForm(request.POST)
        mode = _mode(request.POST.get("mode"))
        if not form.is_valid() or not _token_from(form.cleaned_data["token"]):
            return _render_scan(request, actor, None, mode=mode, scan=services.Scan(services.Outcome.INVALID))
        return _render_scan(
            request,
            actor,
            None,
            mode=mode,
            scan=_scan(actor, None, mode, token=_token_from(form.cleaned_data["token"])),
        )
    mode = _mode(request.GET.get("mode"))
    token = _token_from(request.GET.get("t", ""))[:500]
    result = _scan(actor, None, mode, token=token) if token else None
    if "t" in request.GET and not token:
        result = services.Scan(services.Outcome.INVALID)
    return _render_scan(request, actor, None, mode=mode, scan=result)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def activity_scan(request: HttpRequest, pk: int) -> HttpResponse:
    """One activity's door: camera (where the browser can), photo, or the typed short code (no JavaScript needed)."""
    actor = _staff(request)
    activity = _activity(actor, pk)
    if not policies.can_scan(actor, activity):
        raise Http404
    if request.method != "POST":
        return _render_scan(request, actor, activity, mode=_mode(request.GET.get("mode")))
    form = ScanForm(request.POST)
    mode = _mode(request.POST.get("mode"))
    if not form.is_valid():
        return _render_scan(request, actor, activity, mode=mode, form=form)
    token = _token_from(form.cleaned_data["token"])
    code = "" if token else form.cleaned_data["code"]
    result = _scan(actor, activity, mode, token=token, code=code)
    return _render_scan(request, actor, activity, mode=mode, scan=result, form=ScanForm(initial={"mode": mode}))


@login_required
@require_GET
def onsite_qr(request: HttpRequest, pk: int) -> HttpResponse:
    """A printable A4 page with the activity's on-site QR: residents scan it to check themselves in."""
    actor = _staff(request)
    activity = _activity(actor, pk)
    url = services.onsite_qr_url(activity)
    return render(
        request,
        "activities/staff/onsite_qr.html",
        {"activity": activity, "qr_svg": qr.svg(url, title=_("现场签到二维码")), "url": url},
    )


# --- Self check-in (mobile) ---------------------------------------------------------------------------


@never_cache
@require_GET
def self_checkin(request: HttpRequest, pk: int) -> HttpResponse:
    """``/activities/<id>/checkin/?t=<on-site token>``: a signed-in resident checks themselves in."""
    activity = (
        Activity.objects.filter(policies.activities_visible_to(request.user), pk=pk)
        .select_related("site", "venue")
        .first()
    )
    if activity is None:
        raise Http404
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    actor = request.user
    assert isinstance(actor, User)
    result = services.self_check_in(actor=actor, activity=activity, token=request.GET.get("t", "")[:500])
    return render(
        request,
        "activities/checkin/self_checkin.html",
        {"activity": activity, "scan": result, "tone": _scan_tone(result)},
    )


# --- Hours corrections ---------------------------------------------------------------------------------


def _recorded_hours(signup_ids: list[int]) -> dict[int, Decimal]:
    """The hours in the ledger for each sign-up's check-out, with the corrections already applied."""
    refs = [f"signup:{pk}" for pk in signup_ids]
    rows = ServiceRecord.objects.filter(
        Q(source=ServiceSource.ACTIVITY, source_ref__in=refs)
        | Q(corrects__source=ServiceSource.ACTIVITY, corrects__source_ref__in=refs)
    ).values_list("hours", "source", "source_ref", "corrects__source_ref")
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for hours, source, ref, corrected_ref in rows:
        key = ref if source == ServiceSource.ACTIVITY else corrected_ref
        totals[int(str(key).removeprefix("signup:"))] += hours
    return totals


def _render_corrections(
    request: HttpRequest, actor: User, errors: dict[int, CorrectionDecisionForm] | None = None, status: int = 200
) -> HttpResponse:
    scope_q = staff_scope(actor).site_q("signup__activity__site__")
    related = ("signup__user", "signup__post", "signup__activity__site")
    pending = list(
        HoursCorrection.objects.filter(scope_q, status=CorrectionStatus.PENDING)
        .select_related(*related)
        .order_by("requested_at", "id")
    )
    decided = (
        HoursCorrection.objects.filter(scope_q)
        .exclude(status=CorrectionStatus.PENDING)
        .select_related(*related, "decided_by")
        .order_by("-decided_at", "-id")[:DECIDED_SHOWN]
    )
    recorded = _recorded_hours([c.signup_id for c in pending])
    errors = errors or {}
    rows = [
        {
            "correction": c,
            "recorded": recorded.get(c.signup_id, Decimal("0.00")),
            "form": errors.get(c.pk) or CorrectionDecisionForm(prefix=f"c{c.pk}"),
        }
        for c in pending
    ]
    return render(request, "activities/staff/corrections.html", {"rows": rows, "decided": decided}, status=status)


@login_required
@never_cache
@require_GET
def corrections(request: HttpRequest) -> HttpResponse:
    actor = _staff(request)
    return _render_corrections(request, actor)


@login_required
@require_POST
def correction_decide(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _staff(request)
    correction = get_object_or_404(
        HoursCorrection.objects.select_related("signup__activity__site", "signup__post", "signup__user"), pk=pk
    )
    if not policies.can_decide_correction(actor, correction):
        raise Http404
    form = CorrectionDecisionForm(request.POST, prefix=f"c{pk}")
    if not form.is_valid():
        return _render_corrections(request, actor, {pk: form}, status=400)
    approve = form.cleaned_data["decision"] == "approve"
    try:
        services.decide_hours_correction(
            actor=actor, correction=correction, approve=approve, note=form.cleaned_data["note"]
        )
    except DomainError as exc:
        if exc.code == "already_decided":
            messages.info(request, exc.message)
            return HttpResponseRedirect(reverse("activities_staff:corrections"))
        add_domain_error(form, exc)
        return _render_corrections(request, actor, {pk: form}, status=_status(exc))
    messages.success(
        request,
        (_("已通过%(name)s的时长更正。") if approve else _("已驳回%(name)s的时长更正。"))
        % {"name": correction.signup.user.name},
    )
    return HttpResponseRedirect(reverse("activities_staff:corrections"))


@login_required
@require_http_methods(["GET", "POST"])
def correction_request(request: HttpRequest, pk: int) -> HttpResponse:
    """A volunteer asks for their hours at one sign-up to be corrected (linked from 我的报名)."""
    actor = request.user
    assert isinstance(actor, User)
    signup = get_object_or_404(Signup.objects.select_related("activity", "activity__site", "post"), pk=pk, user=actor)
    form = CorrectionRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_hours_correction(
                actor=actor, signup=signup, hours=form.cleaned_data["hours"], reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("更正申请已提交，站长审核后会通知您。"))
            return HttpResponseRedirect(reverse("activities:mine"))
    return render(
        request,
        "activities/checkin/correction_request.html",
        {
            "signup": signup,
            "form": form,
            "recorded": _recorded_hours([signup.pk]).get(signup.pk, Decimal("0.00")),
            "history": signup.corrections.order_by("-requested_at"),
        },
        status=400 if request.method == "POST" else 200,
    )


# --- Recaps (staff) ---------------------------------------------------------------------------------------


def _render_recap(
    request: HttpRequest,
    activity: Activity,
    recap: Recap | None,
    *,
    form: RecapForm | None = None,
    photo_form: RecapPhotoForm | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "activities/staff/recap.html",
        {
            "activity": activity,
            "recap": recap,
            "photos": recap.photos.order_by("position", "id") if recap else [],
            "form": form or RecapForm(initial={"title": _("【活动回顾】%(title)s") % {"title": activity.title}}),
            "photo_form": photo_form or RecapPhotoForm(),
            "started": timezone.now() >= activity.starts_at and activity.status in PUBLIC_STATUSES,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def recap_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _staff(request)
    activity = _activity(actor, pk)
    recap = Recap.objects.filter(activity=activity).first()
    if request.method != "POST":
        return _render_recap(request, activity, recap)
    if recap is not None:
        messages.info(request, _("该活动已有回顾。"))
        return HttpResponseRedirect(reverse("activities_staff:recap", args=[pk]))
    form = RecapForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            recap = recaps.publish_recap_with_photos(
                actor=actor, activity=activity, title=data["title"], body=data["body"], images=data["photos"]
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("回顾已发布。"))
            return HttpResponseRedirect(reverse("activities_staff:recap", args=[pk]))
    return _render_recap(request, activity, None, form=form, status=400)


@login_required
@require_POST
def recap_photos(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _staff(request)
    activity = _activity(actor, pk)
    recap = get_object_or_404(Recap, activity=activity)
    form = RecapPhotoForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            added = recaps.add_recap_photos(
                actor=actor, recap=recap, images=form.cleaned_data["photos"], caption=form.cleaned_data["caption"]
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已添加%(count)d张照片。") % {"count": len(added)})
            return HttpResponseRedirect(reverse("activities_staff:recap", args=[pk]))
    return _render_recap(request, activity, recap, photo_form=form, status=400)


# --- News (public, mobile) --------------------------------------------------------------------------------


def _public_recaps() -> QuerySet[Recap]:
    return Recap.objects.filter(activity__status__in=PUBLIC_STATUSES, activity__site__is_active=True)


@require_GET
def site_news(request: HttpRequest, pk: int) -> HttpResponse:
    """A site's news: the recaps of its activities and its subtree's, newest first."""
    site = get_object_or_404(Site.objects.filter(is_active=True), pk=pk)
    rows = (
        _public_recaps()
        .filter(activity__site__path__startswith=site.path)
        .select_related("activity", "activity__site")
        .prefetch_related(Prefetch("photos", queryset=RecapPhoto.objects.order_by("position", "id")))
        .order_by("-published_at", "-id")
    )
    page = Paginator(rows, NEWS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "activities/news/site_news.html", {"site": site, "page": page})


@require_GET
def recap_page(request: HttpRequest, pk: int) -> HttpResponse:
    recap = get_object_or_404(_public_recaps().select_related("activity", "activity__site", "activity__venue"), pk=pk)
    return render(
        request,
        "activities/news/recap.html",
        {"recap": recap, "activity": recap.activity, "photos": recap.photos.order_by("position", "id")},
    )


@require_GET
def recap_photo(request: HttpRequest, pk: int) -> FileResponse:
    """A recap's photo, public like the recap; served from the media storage."""
    photo = get_object_or_404(
        RecapPhoto.objects.filter(recap__activity__status__in=PUBLIC_STATUSES, recap__activity__site__is_active=True),
        pk=pk,
    )
    return photo_response(photo.image, cache_control="public, max-age=86400")
