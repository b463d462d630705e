"""The activities API: the activity list, one activity, creating and moving activities, sign-ups and check-in.

Public activities are readable by anyone; drafts and submitted ones only by
the staff who run them (``wenming.activities.policies``). Writes happen in
``wenming.activities.services``; handlers parse, look up and shape.
"""

import datetime as dt
from typing import Annotated, Any, Literal

from django.db.models import Prefetch, Q, prefetch_related_objects
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, Router, Schema
from ninja.params import functions as params
from ninja.responses import Status
from pydantic import AwareDatetime

from wenming.accounts.api import OPTIONAL, SIGNED_IN, PersonRef, SiteRef, current_user, signed_in
from wenming.accounts.models import User
from wenming.activities import policies, services
from wenming.activities.models import (
    Activity,
    ActivityPhoto,
    ActivityStatus,
    Audience,
    Platform,
    Post,
    Signup,
    SignupStatus,
)
from wenming.core.api_errors import Id, In, IsoDate, Moment, PageNumber, PageSize, SafeText, documented, lazy_str
from wenming.core.errors import Invalid
from wenming.network.api import PhotoOut
from wenming.network.models import Brand, Project, Site, Venue

TAG = gettext_lazy("活动")
router = Router()

PlatformCode = Literal["theory", "education", "culture", "science", "fitness"]
FormatCode = Literal["", "hall", "bench", "corridor", "corner", "online", "film"]
AudienceCode = Literal[
    "all", "elderly", "children", "families", "youth", "women", "disabled", "party_members", "volunteers"
]
Seats = Annotated[int, Field(ge=0, le=100_000)]

# --- Schemas --------------------------------------------------------------------------------------


class PostOut(Schema):
    id: int
    name: str
    description: str
    headcount: int
    filled: int
    starts_at: dt.datetime
    ends_at: dt.datetime


class ActivityOut(Schema):
    id: int
    title: str
    site: SiteRef
    venue: SiteRef | None = Field(description=lazy_str(gettext_lazy("场地（编号与名称）")))
    location: str
    platform: str
    platform_label: str
    lecture_format: str
    audience: str
    audience_label: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: str = Field(
        description=lazy_str(
            gettext_lazy("draft 草稿，submitted 待审核，published 已发布，completed 已结束，cancelled 已取消")
        )
    )
    status_label: str
    seats: int = Field(description=lazy_str(gettext_lazy("居民名额；0 表示无需报名")))
    seats_left: int
    waitlist_limit: int
    waitlisted: int
    signup_opens_at: dt.datetime | None
    signup_closes_at: dt.datetime


class ActivityDetailOut(ActivityOut):
    description: str
    brand: SiteRef | None
    project: SiteRef | None
    theme: str | None = Field(description=lazy_str(gettext_lazy("所在月份的月度主题")))
    cancel_deadline: dt.datetime
    checkin_opens_at: dt.datetime
    checkin_closes_at: dt.datetime
    cancel_reason: str
    posts: list[PostOut]
    photos: list[PhotoOut]


class ActivityPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[ActivityOut]


class PostIn(In):
    name: Annotated[SafeText, Field(min_length=1, max_length=50)]
    description: Annotated[SafeText, Field(max_length=200)] = ""
    headcount: Annotated[int, Field(ge=1, le=10_000)]
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None


class ActivityIn(In):
    site_id: Id
    title: Annotated[SafeText, Field(min_length=1, max_length=100)]
    description: Annotated[SafeText, Field(max_length=20_000)] = ""
    platform: PlatformCode
    lecture_format: FormatCode = ""
    audience: AudienceCode = "all"
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    venue_id: Id | None = None
    location: Annotated[SafeText, Field(max_length=200)] = ""
    brand_id: Id | None = None
    project_id: Id | None = None
    seats: Seats = 0
    waitlist_limit: Seats = 0
    signup_opens_at: AwareDatetime | None = None
    signup_closes_at: AwareDatetime | None = None
    cancel_deadline: AwareDatetime | None = None
    posts: Annotated[list[PostIn], Field(max_length=50)] = []


class NoteIn(In):
    note: Annotated[SafeText, Field(max_length=200)] = ""


class SignupIn(In):
    user_id: Id | None = Field(None, description=lazy_str(gettext_lazy("工作人员代为报名时填写报名人；本人报名不填")))
    post_id: Id | None = Field(None, description=lazy_str(gettext_lazy("志愿者报名的岗位；居民报名不填")))


class SignupOut(Schema):
    id: int
    activity_id: int
    status: str = Field(description=lazy_str(gettext_lazy("confirmed 报名成功，waitlisted 候补中，cancelled 已取消")))
    status_label: str
    kind: str
    post: str | None
    code: str = Field(description=lazy_str(gettext_lazy("签到短码（本人与工作人员可见）")))
    qr: str = Field(description=lazy_str(gettext_lazy("签到二维码的内容（本人与工作人员可见）")))
    created_at: dt.datetime
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None


class MySignupOut(SignupOut):
    activity: ActivityOut


class SignupRow(Schema):
    id: int
    person: PersonRef
    phone: str = Field(description=lazy_str(gettext_lazy("手机号（打码）")))
    status: str
    kind: str
    post: str | None
    created_at: dt.datetime
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None


class SignupList(Schema):
    count: int
    results: list[SignupRow]


class ScanIn(In):
    token: Annotated[SafeText, Field(max_length=200)] = Field(
        "", description=lazy_str(gettext_lazy("扫码得到的内容（二维码中的链接或其中的 t 参数）"))
    )
    code: Annotated[SafeText, Field(max_length=16)] = Field("", description=lazy_str(gettext_lazy("手输的签到短码")))


class ScanOut(Schema):
    outcome: str = Field(
        description=lazy_str(
            gettext_lazy(
                "ok 成功，already 已签到（或已签退），not_open 尚未开始，closed 已截止，cancelled 已取消，"
                "waitlisted 候补中，not_checked_in 尚未签到，invalid 无效"
            )
        )
    )
    message: str
    person: PersonRef | None
    post: str | None
    hours: float | None = Field(description=lazy_str(gettext_lazy("签退时记入的服务时长（小时）")))


# --- Shaping ----------------------------------------------------------------------------------------


def _ref(obj: Site | Venue | Brand | Project | None) -> SiteRef | None:
    return SiteRef(id=obj.pk, name=obj.name) if obj is not None else None


def activity_out(a: Activity) -> ActivityOut:
    return ActivityOut(**_summary(a))


def _summary(a: Activity) -> dict[str, Any]:
    return {
        "id": a.pk,
        "title": a.title,
        "site": SiteRef(id=a.site.pk, name=a.site.name),
        "venue": _ref(a.venue),
        "location": a.location,
        "platform": a.platform,
        "platform_label": str(Platform(a.platform).label),
        "lecture_format": a.lecture_format,
        "audience": a.audience,
        "audience_label": str(Audience(a.audience).label),
        "starts_at": a.starts_at,
        "ends_at": a.ends_at,
        "status": a.status,
        "status_label": str(ActivityStatus(a.status).label),
        "seats": a.seats,
        "seats_left": a.seats_left,
        "waitlist_limit": a.waitlist_limit,
        "waitlisted": a.waitlist_count,
        "signup_opens_at": a.signup_opens_at,
        "signup_closes_at": a.signup_window()[1],
    }


def activity_detail(a: Activity) -> ActivityDetailOut:
    theme = services.theme_of(a)
    return ActivityDetailOut(
        **_summary(a),
        description=a.description,
        brand=_ref(a.brand),
        project=_ref(a.project),
        theme=theme.theme if theme else None,
        cancel_deadline=a.cancel_until(),
        checkin_opens_at=a.checkin_opens_at,
        checkin_closes_at=a.checkin_closes_at,
        cancel_reason=a.cancel_reason,
        posts=[
            PostOut(
                id=p.pk,
                name=p.name,
                description=p.description,
                headcount=p.headcount,
                filled=p.filled_count,
                starts_at=p.starts_at,
                ends_at=p.ends_at,
            )
            for p in a.posts.all()
        ],
        photos=[
            PhotoOut(url=reverse("activities:photo", args=[p.pk]), caption=p.caption)
            for p in a.photos.all()  # in the order shown (the model's ordering, or the prefetch's)
        ],
    )


def signup_fields(s: Signup) -> dict[str, Any]:
    return {
        "id": s.pk,
        "activity_id": s.activity_id,
        "status": s.status,
        "status_label": str(SignupStatus(s.status).label),
        "kind": s.kind,
        "post": s.post.name if s.post else None,
        "code": s.code,
        "qr": services.signup_qr_url(s),
        "created_at": s.created_at,
        "checked_in_at": s.checked_in_at,
        "checked_out_at": s.checked_out_at,
    }


def scan_out(scan: services.Scan) -> ScanOut:
    s = scan.signup
    return ScanOut(
        outcome=scan.outcome.value,
        message=scan.message,
        person=PersonRef(id=s.user.pk, name=s.user.name) if s is not None and scan.outcome != "invalid" else None,
        post=s.post.name if s is not None and s.post is not None and scan.outcome != "invalid" else None,
        hours=float(scan.hours) if scan.hours is not None else None,
    )


def _visible(request: HttpRequest, activity_id: int) -> Activity:
    user = current_user(request)
    activity = Activity.objects.select_related("site", "venue", "brand", "project").filter(pk=activity_id).first()
    if activity is None or not policies.can_view_activity(user, activity):
        raise Http404
    return activity


def _object[M: (Site, Venue, Brand, Project, Post, User)](model: type[M], pk: int | None, field: str) -> M | None:
    if pk is None:
        return None
    found = model._default_manager.filter(pk=pk).first()
    if found is None:
        raise Invalid(_("所选的对象不存在。"), code="invalid_reference", field=field)
    return found


# --- Operations -------------------------------------------------------------------------------------


@router.get(
    "/activities",
    auth=OPTIONAL,
    **documented(
        gettext_lazy("列出活动"),
        gettext_lazy(
            "已发布（含已结束、已取消）的活动，按开始时间排列；工作人员还能看到自己阵地的草稿与待审核活动。"
            "site 包括其下所有阵地；from、to 按开始时间筛选；q 查标题与介绍。"
        ),
        tag=TAG,
        success={200: ActivityPage},
        errors={401: ("invalid_token",), 422: ("invalid",)},
        optional_auth=True,
    ),
)
def list_activities(
    request: HttpRequest,
    site: Annotated[Id | None, params.Query(None, description=lazy_str(gettext_lazy("阵地编号（含下级）")))] = None,
    from_: Annotated[
        Moment | IsoDate | None,
        params.Query(
            None, alias="from", description=lazy_str(gettext_lazy("开始：日期（含当天）或带时区的时刻（含）"))
        ),
    ] = None,
    to: Annotated[
        Moment | IsoDate | None,
        params.Query(None, description=lazy_str(gettext_lazy("结束：日期（含当天）或带时区的时刻（不含）"))),
    ] = None,
    platform: PlatformCode | None = None,
    status: Literal["draft", "submitted", "published", "completed", "cancelled"] | None = None,
    q: Annotated[SafeText | None, params.Query(None, max_length=100)] = None,
    page: PageNumber = 1,
    page_size: PageSize = 20,
) -> ActivityPage:
    user = current_user(request)
    rows = Activity.objects.filter(policies.activities_visible_to(user))
    if site is not None:
        root = Site.objects.filter(pk=site).only("path").first()
        rows = rows.filter(site__path__startswith=root.path) if root else rows.none()
    if from_ is not None:
        rows = rows.filter(starts_at__gte=_start_of(from_))
    if to is not None:
        rows = rows.filter(starts_at__lt=_end_of(to))
    if platform:
        rows = rows.filter(platform=platform)
    if status:
        rows = rows.filter(status=status)
    if q:
        rows = rows.filter(Q(title__icontains=q) | Q(description__icontains=q))
    count = rows.count()
    start = (page - 1) * page_size
    found = (
        list(rows.select_related("site", "venue").order_by("starts_at", "id")[start : start + page_size])
        if start < count
        else []
    )
    return ActivityPage(count=count, page=page, page_size=page_size, results=[activity_out(a) for a in found])


def _start_of(value: dt.datetime | dt.date) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return timezone.make_aware(dt.datetime.combine(value, dt.time.min))


def _end_of(value: dt.datetime | dt.date) -> dt.datetime:
    """``to`` is inclusive for a date (the whole day), exclusive for a moment."""
    if isinstance(value, dt.datetime):
        return value
    return timezone.make_aware(dt.datetime.combine(value + dt.timedelta(days=1), dt.time.min))


@router.get(
    "/activities/{activity_id}",
    auth=OPTIONAL,
    **documented(
        gettext_lazy("查看活动"),
        gettext_lazy("一场活动的全部公开信息，包括志愿岗位与所在月份的主题。"),
        tag=TAG,
        success={200: ActivityDetailOut},
        errors={401: ("invalid_token",), 404: ("not_found",), 422: ("invalid",)},
        optional_auth=True,
    ),
)
def get_activity(request: HttpRequest, activity_id: Id) -> ActivityDetailOut:
    activity = _visible(request, activity_id)
    # One query for the posts and one for the photos, however many there are.
    prefetch_related_objects(
        [activity], "posts", Prefetch("photos", queryset=ActivityPhoto.objects.order_by("position", "id"))
    )
    return activity_detail(activity)


@router.post(
    "/activities",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("新建活动"),
        gettext_lazy("工作人员在所管阵地新建活动（草稿），可同时设置志愿岗位。之后提交审核或直接发布。"),
        tag=TAG,
        success={201: ActivityDetailOut},
        errors={
            400: (
                "invalid_title",
                "invalid_platform",
                "invalid_format",
                "invalid_audience",
                "invalid_time",
                "invalid_seats",
                "invalid_venue",
                "invalid_brand",
                "invalid_project",
                "invalid_post",
                "too_long",
                "invalid_site",
                "invalid_reference",
                "malformed_json",
            ),
            401: ("unauthorized", "invalid_token"),
            403: ("forbidden", "csrf_failed"),
            409: ("post_exists",),
            415: ("unsupported_media_type",),
            422: ("invalid",),
        },
    ),
)
def create_activity(request: HttpRequest, payload: ActivityIn) -> Status[ActivityDetailOut]:
    user = signed_in(request)
    site = _object(Site, payload.site_id, "site_id")
    assert site is not None
    activity = services.create_activity(
        actor=user,
        site=site,
        title=payload.title,
        description=payload.description,
        platform=payload.platform,
        lecture_format=payload.lecture_format,
        audience=payload.audience,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        venue=_object(Venue, payload.venue_id, "venue_id"),
        location=payload.location,
        brand=_object(Brand, payload.brand_id, "brand_id"),
        project=_object(Project, payload.project_id, "project_id"),
        seats=payload.seats,
        waitlist_limit=payload.waitlist_limit,
        signup_opens_at=payload.signup_opens_at,
        signup_closes_at=payload.signup_closes_at,
        cancel_deadline=payload.cancel_deadline,
        posts=[p.model_dump() for p in payload.posts],
    )
    return Status(201, activity_detail(activity))


MOVE_ERRORS = {
    401: ("unauthorized", "invalid_token"),
    403: ("forbidden", "csrf_failed", "approval_required"),
    404: ("not_found",),
    409: ("invalid_transition", "stale", "venue_taken"),
    415: ("unsupported_media_type",),
    422: ("invalid",),
}


def _staff_activity(request: HttpRequest, activity_id: int) -> tuple[User, Activity]:
    user = signed_in(request)
    activity = Activity.objects.select_related("site", "venue", "brand", "project").filter(pk=activity_id).first()
    if activity is None or not policies.can_view_activity(user, activity):
        raise Http404
    return user, activity


@router.post(
    "/activities/{activity_id}/submit",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("提交活动"),
        gettext_lazy("提交给上级分中心审核；所在阵地允许免审核，或提交人本身有审核权时，直接发布。"),
        tag=TAG,
        success={200: ActivityDetailOut},
        errors={**MOVE_ERRORS, 400: ("malformed_json",)},
    ),
)
def submit_activity(request: HttpRequest, activity_id: Id) -> ActivityDetailOut:
    user, activity = _staff_activity(request, activity_id)
    return activity_detail(services.submit_activity(actor=user, activity=activity))


@router.post(
    "/activities/{activity_id}/approve",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("审核通过"),
        gettext_lazy("分中心审核通过并发布；有场地的活动同时占用该场地。"),
        tag=TAG,
        success={200: ActivityDetailOut},
        errors={**MOVE_ERRORS, 400: ("malformed_json",)},
    ),
)
def approve_activity(request: HttpRequest, activity_id: Id, payload: NoteIn | None = None) -> ActivityDetailOut:
    user, activity = _staff_activity(request, activity_id)
    note = payload.note if payload else ""
    return activity_detail(services.approve_activity(actor=user, activity=activity, note=note))


@router.post(
    "/activities/{activity_id}/return",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("退回修改"),
        gettext_lazy("分中心把待审核的活动退回草稿，并说明原因。"),
        tag=TAG,
        success={200: ActivityDetailOut},
        errors={**MOVE_ERRORS, 400: ("note_required", "malformed_json")},
    ),
)
def return_activity(request: HttpRequest, activity_id: Id, payload: NoteIn) -> ActivityDetailOut:
    user, activity = _staff_activity(request, activity_id)
    return activity_detail(services.return_activity(actor=user, activity=activity, note=payload.note))


class CancelIn(In):
    reason: Annotated[SafeText, Field(max_length=200)]


@router.post(
    "/activities/{activity_id}/cancel",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("取消活动"),
        gettext_lazy("取消活动并释放场地；所有已报名和候补的人都会收到通知。"),
        tag=TAG,
        success={200: ActivityDetailOut},
        errors={**MOVE_ERRORS, 400: ("reason_required", "malformed_json")},
    ),
)
def cancel_activity(request: HttpRequest, activity_id: Id, payload: CancelIn) -> ActivityDetailOut:
    user, activity = _staff_activity(request, activity_id)
    return activity_detail(services.cancel_activity(actor=user, activity=activity, reason=payload.reason))


SIGNUP_ERRORS = {
    400: ("malformed_json", "invalid_reference", "inactive_user"),
    401: ("unauthorized", "invalid_token"),
    403: ("forbidden", "csrf_failed", "not_a_volunteer"),
    404: ("not_found",),
    409: ("full", "post_full", "no_seats", "already_signed_up", "not_open", "closed", "activity_cancelled", "busy"),
    415: ("unsupported_media_type",),
    422: ("invalid",),
}


@router.post(
    "/activities/{activity_id}/signups",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("报名"),
        gettext_lazy(
            "居民本人报名（不填 user_id），或工作人员代为报名。名额满时进入候补（status=waitlisted），"
            "候补也满时回答 409 full。志愿者报名岗位时填 post_id。每人每场只能报名一次。"
        ),
        tag=TAG,
        success={201: SignupOut},
        errors=SIGNUP_ERRORS,
    ),
)
def sign_up(request: HttpRequest, activity_id: Id, payload: SignupIn | None = None) -> Status[SignupOut]:
    user = signed_in(request)
    activity = _visible(request, activity_id)
    person = _object(User, payload.user_id if payload else None, "user_id")
    post = None
    if payload is not None and payload.post_id is not None:
        post = Post.objects.filter(pk=payload.post_id, activity=activity).first()
        if post is None:
            raise Http404
    signup = services.sign_up(actor=user, activity=activity, user=person, post=post)
    return Status(201, SignupOut(**signup_fields(signup)))


@router.delete(
    "/activities/{activity_id}/signups/me",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("取消我的报名"),
        gettext_lazy("在取消截止时间前取消本人报名；名额自动递补给第一位候补者。"),
        tag=TAG,
        success={200: SignupOut},
        errors={
            401: ("unauthorized", "invalid_token"),
            403: ("forbidden", "csrf_failed"),
            404: ("not_found",),
            409: ("cancel_closed", "already_cancelled", "checked_in", "closed"),
            422: ("invalid",),
        },
    ),
)
def cancel_my_signup(request: HttpRequest, activity_id: Id) -> SignupOut:
    user = signed_in(request)
    activity = _visible(request, activity_id)
    signup = (
        Signup.objects.select_related("activity", "post")
        .filter(activity=activity, user=user)
        .exclude(status=SignupStatus.CANCELLED)
        .first()
    )
    if signup is None:
        raise Http404
    return SignupOut(**signup_fields(services.cancel_signup(actor=user, signup=signup)))


@router.get(
    "/activities/{activity_id}/signups",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("报名名单"),
        gettext_lazy("工作人员查看一场活动的报名、候补与签到情况；手机号已打码。"),
        tag=TAG,
        success={200: SignupList},
        errors={401: ("unauthorized", "invalid_token"), 404: ("not_found",), 422: ("invalid",)},
    ),
)
def list_signups(request: HttpRequest, activity_id: Id) -> SignupList:
    user, activity = _staff_activity(request, activity_id)
    if not policies.can_view_signups(user, activity):
        raise Http404
    rows = Signup.objects.filter(activity=activity).select_related("user", "post").order_by("created_at", "id")
    results = [
        SignupRow(
            id=s.pk,
            person=PersonRef(id=s.user.pk, name=s.user.name),
            phone=s.user.masked_phone,
            status=s.status,
            kind=s.kind,
            post=s.post.name if s.post else None,
            created_at=s.created_at,
            checked_in_at=s.checked_in_at,
            checked_out_at=s.checked_out_at,
        )
        for s in rows
    ]
    return SignupList(count=len(results), results=results)


@router.get(
    "/signups/mine",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("我的报名"),
        gettext_lazy("本人的报名，最近的活动在前；含签到码与签到二维码的内容。"),
        tag=TAG,
        success={200: list[MySignupOut]},
        errors={401: ("unauthorized", "invalid_token")},
    ),
)
def my_signups(request: HttpRequest) -> list[MySignupOut]:
    user = signed_in(request)
    rows = (
        Signup.objects.filter(user=user)
        .select_related("activity", "activity__site", "activity__venue", "post")
        .order_by("-activity__starts_at", "-id")[:100]
    )
    return [MySignupOut(**signup_fields(s), activity=activity_out(s.activity)) for s in rows]


def _token(raw: str) -> str:
    """Accept the whole URL from a QR code, or just its ``t`` parameter."""
    from urllib.parse import parse_qs, urlsplit

    raw = raw.strip()
    if "?" in raw:
        values = parse_qs(urlsplit(raw).query).get("t")
        return values[0] if values else ""
    return raw


SCAN_ERRORS = {
    400: ("malformed_json",),
    401: ("unauthorized", "invalid_token"),
    403: ("csrf_failed",),
    404: ("not_found",),
    415: ("unsupported_media_type",),
    422: ("invalid",),
}


@router.post(
    "/activities/{activity_id}/checkin",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("签到"),
        gettext_lazy(
            "工作人员扫报名二维码（token）或输入签到短码（code）为报名者签到。每次都回答明确的结果 outcome："
            "成功、已签到、尚未开始、已截止、已取消、候补中或无效。"
        ),
        tag=TAG,
        success={200: ScanOut},
        errors=SCAN_ERRORS,
    ),
)
def check_in(request: HttpRequest, activity_id: Id, payload: ScanIn) -> ScanOut:
    user, activity = _staff_activity(request, activity_id)
    if not policies.can_scan(user, activity):
        raise Http404
    scan = services.check_in(actor=user, activity=activity, token=_token(payload.token), code=payload.code)
    return scan_out(scan)


@router.post(
    "/activities/{activity_id}/checkout",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("志愿者签退"),
        gettext_lazy(
            "工作人员为志愿者签退（扫码或短码）。服务时长按签到到签退之间、落在岗位时间内的部分计算，"
            "不超过岗位时长，记入时长台账。"
        ),
        tag=TAG,
        success={200: ScanOut},
        errors=SCAN_ERRORS,
    ),
)
def check_out(request: HttpRequest, activity_id: Id, payload: ScanIn) -> ScanOut:
    user, activity = _staff_activity(request, activity_id)
    if not policies.can_scan(user, activity):
        raise Http404
    scan = services.check_out(actor=user, activity=activity, token=_token(payload.token), code=payload.code)
    return scan_out(scan)
