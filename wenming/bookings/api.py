"""The venue-booking API (场地预约).

Anyone may read a venue's calendar of busy slots; who booked and why is
shown only to the requester and to staff whose scope covers the venue
(``policies.can_view_booking``). Signed-in people request slots and see
their own bookings; staff approve, reject, cancel and check in.

A slot that is already held answers 409 ``slot_taken``, and the body names
the booking in the way under ``conflict`` (its id and times), so a client
can show it or offer the next free slot.
"""

import datetime as dt
from typing import Annotated, Any, Literal, get_args

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from ninja import Field, Router, Schema
from ninja.params import functions as params
from ninja.responses import Status

from wenming.accounts.api import OPTIONAL, SIGNED_IN, PersonRef, SiteRef, current_user, signed_in
from wenming.bookings import policies, services
from wenming.bookings.models import HOLDING_STATUSES, Booking, BookingStatus, VenueRules
from wenming.core.api_errors import (
    ConflictOut,
    ErrorOut,
    Id,
    In,
    PageNumber,
    PageSize,
    SafeText,
    documented,
    error_body,
    lazy_str,
)
from wenming.core.errors import Conflict, DomainError, Invalid
from wenming.lib import holidays
from wenming.network.models import Venue
from wenming.units.models import Organization

MAX_CALENDAR_DAYS = 31
DEFAULT_CALENDAR_DAYS = 7

StatusCode = Literal["pending", "approved", "rejected", "cancelled", "checked_in", "no_show"]
STATUS_HELP = gettext_lazy(
    "状态：pending 待审核，approved 已通过，rejected 未通过，cancelled 已取消，checked_in 已到场，no_show 未到场已释放"
)

# --- Schemas --------------------------------------------------------------------------------------


class VenueRef(Schema):
    id: int
    name: str
    site: SiteRef


class OrganizationRef(Schema):
    id: int
    name: str


class BookingOut(Schema):
    id: int
    venue: VenueRef
    status: StatusCode = Field(description=lazy_str(STATUS_HELP))
    status_label: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    purpose: str
    attendees: int
    requester: PersonRef
    organization: OrganizationRef | None = Field(description=lazy_str(gettext_lazy("以单位名义预约时的单位")))
    activity_id: int | None = Field(description=lazy_str(gettext_lazy("活动占用场地时的活动编号")))
    series_id: int | None = Field(description=lazy_str(gettext_lazy("周期预约的编号")))
    created_at: dt.datetime
    decided_at: dt.datetime | None
    decision_note: str = Field(description=lazy_str(gettext_lazy("审核意见或取消说明")))
    checked_in_at: dt.datetime | None


class BookingPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[BookingOut]


class BookingIn(In):
    starts_at: dt.datetime = Field(
        description=lazy_str(gettext_lazy("开始时间（ISO 8601，整分钟；不带时区时按北京时间）")),
        examples=["2027-03-02T14:00:00+08:00"],
    )
    ends_at: dt.datetime = Field(
        description=lazy_str(gettext_lazy("结束时间，须晚于开始时间且在同一天")), examples=["2027-03-02T16:00:00+08:00"]
    )
    purpose: Annotated[SafeText, Field(min_length=1, max_length=200, description=lazy_str(gettext_lazy("用途")))]
    attendees: Annotated[int, Field(ge=1, le=100_000, description=lazy_str(gettext_lazy("人数")))] = 1
    organization_id: Id | None = Field(
        None, description=lazy_str(gettext_lazy("以单位名义预约时的单位编号（须为该单位联络员）"))
    )


class RejectIn(In):
    reason: Annotated[SafeText, Field(min_length=1, max_length=200, description=lazy_str(gettext_lazy("不通过的原因")))]


class SlotOut(Schema):
    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: StatusCode = Field(description=lazy_str(STATUS_HELP))
    is_activity: bool = Field(description=lazy_str(gettext_lazy("是否为活动占用")))
    booking: BookingOut | None = Field(
        description=lazy_str(gettext_lazy("预约详情；仅预约人和负责该场地的工作人员可见"))
    )


class DayOut(Schema):
    date: dt.date
    kind: Literal["workday", "weekend", "holiday", "makeup_workday"] = Field(
        description=lazy_str(gettext_lazy("workday 工作日，weekend 周末，holiday 法定节假日，makeup_workday 调休上班"))
    )
    label: str = Field(description=lazy_str(gettext_lazy("节假日或调休的说明")))
    opening_hours: list[str] = Field(description=lazy_str(gettext_lazy("当天可预约的时段，如 09:00–21:00")))
    closed_reason: str = Field(description=lazy_str(gettext_lazy("当天不能预约的原因（停用、节假日），可预约时为空")))


class CalendarOut(Schema):
    venue: VenueRef
    from_date: dt.date = Field(description=lazy_str(gettext_lazy("起始日期（含）")))
    to_date: dt.date = Field(description=lazy_str(gettext_lazy("结束日期（不含）")))
    days: list[DayOut]
    slots: list[SlotOut] = Field(
        description=lazy_str(gettext_lazy("已被占用的时段；预约人和工作人员还能看到各自可见的待审核申请"))
    )


class RecurringIn(BookingIn):
    weeks: Annotated[
        int,
        Field(
            ge=1,
            le=services.MAX_RECURRING_WEEKS,
            description=lazy_str(
                format_lazy(
                    gettext_lazy("连续预约的周数（含第一次），每周同一时间，1至{n}周"), n=services.MAX_RECURRING_WEEKS
                )
            ),
        ),
    ]


# Why one date of a weekly series could not be booked: the venue's rules, or a holding booking in the way.
DateConflictCode = Literal[
    "in_past",
    "too_short",
    "too_long",
    "outside_opening_hours",
    "too_far_ahead",
    "too_soon",
    "blackout",
    "holiday_closed",
    "slot_taken",
    "unavailable",
]
DATE_CONFLICT_CODES: tuple[str, ...] = get_args(DateConflictCode)
DATE_CONFLICT_HELP = gettext_lazy(
    "不能预约的原因：in_past 已过，too_short 时长太短，too_long 时长太长，outside_opening_hours 不在开放时间，"
    "too_far_ahead 超出可提前预约的天数，too_soon 提前不足，blackout 场地停用，holiday_closed 法定节假日不开放，"
    "slot_taken 与已通过的预约或活动冲突（conflict 给出那条预约），unavailable 其他原因（见 message）"
)


class DateConflictOut(Schema):
    date: dt.date
    starts_at: dt.datetime = Field(description=lazy_str(gettext_lazy("该日期申请的开始时间")))
    ends_at: dt.datetime = Field(description=lazy_str(gettext_lazy("该日期申请的结束时间")))
    code: DateConflictCode = Field(description=lazy_str(DATE_CONFLICT_HELP))
    message: str = Field(description=lazy_str(gettext_lazy("给人看的原因，默认简体中文")))
    conflict: ConflictOut | None = Field(
        description=lazy_str(gettext_lazy("slot_taken 时占用该时段的预约（id、starts_at、ends_at）"))
    )


class RecurringOut(Schema):
    series_id: int = Field(description=lazy_str(gettext_lazy("周期预约的编号，各次预约的 series_id")))
    created: list[BookingOut] = Field(
        description=lazy_str(gettext_lazy("已提交的各次预约（pending 待审核，approved 已通过），按日期排列"))
    )
    conflicts: list[DateConflictOut] = Field(description=lazy_str(gettext_lazy("未能预约的日期及原因，按日期排列")))


class RecurringErrorOut(ErrorOut):
    conflicts: list[DateConflictOut] | None = Field(
        None, description=lazy_str(gettext_lazy("没有一个日期能预约时，逐个日期说明原因"))
    )


# --- Shaping --------------------------------------------------------------------------------------


def _local(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value)


def venue_ref(venue: Venue) -> VenueRef:
    return VenueRef(id=venue.pk, name=venue.name, site=SiteRef(id=venue.site.pk, name=venue.site.name))


def booking_out(booking: Booking) -> BookingOut:
    org = booking.organization
    return BookingOut(
        id=booking.pk,
        venue=venue_ref(booking.venue),
        status=booking.status,  # type: ignore[arg-type]
        status_label=booking.get_status_display(),
        starts_at=_local(booking.starts_at),
        ends_at=_local(booking.ends_at),
        purpose=booking.purpose,
        attendees=booking.attendees,
        requester=PersonRef(id=booking.requester.pk, name=booking.requester.name),
        organization=OrganizationRef(id=org.pk, name=org.name) if org is not None else None,
        activity_id=booking.activity_id,
        series_id=booking.series_id,
        created_at=_local(booking.created_at),
        decided_at=_local(booking.decided_at) if booking.decided_at else None,
        decision_note=booking.decision_note,
        checked_in_at=_local(booking.checked_in_at) if booking.checked_in_at else None,
    )


def _with_details() -> QuerySet[Booking]:
    return Booking.objects.select_related("venue__site", "requester", "organization")


def _visible_booking(request: HttpRequest, booking_id: int) -> Booking:
    """The booking, or 404 whether it does not exist or the caller may not see it."""
    actor = signed_in(request)
    booking = get_object_or_404(_with_details(), pk=booking_id)
    if not policies.can_view_booking(actor, booking):
        raise Http404
    return booking


# --- Weekly series: why each date was refused ------------------------------------------------------


SeriesDate = services.SeriesDate


def series_refusal(dates: list[SeriesDate]) -> DomainError:
    """The answer when no date of a series could be booked.

    Refused for one and the same reason every time, the answer is that
    reason, as a single request would get it (``too_long``, ``blackout``,
    ``slot_taken`` naming the first booking in the way …); otherwise
    ``no_dates_available``. Callers list every date besides.
    """
    first = dates[0]
    if all(d.code == first.code for d in dates) and first.code != "unavailable":
        if first.code == "slot_taken":
            return services.taken(first.holder)
        return Invalid(first.message, code=first.code, field=first.field)
    return Conflict(
        ngettext(
            "所选的%(n)d个日期都无法预约，没有提交申请。",
            "所选的%(n)d个日期都无法预约，没有提交申请。",
            len(dates),
        )
        % {"n": len(dates)},
        code="no_dates_available",
    )


def series_date_out(date: SeriesDate) -> DateConflictOut:
    holder = date.holder
    return DateConflictOut(
        date=date.day,
        starts_at=_local(date.starts_at),
        ends_at=_local(date.ends_at),
        code=date.code,  # type: ignore[arg-type]
        message=date.message,
        conflict=ConflictOut(id=holder.pk, starts_at=_local(holder.starts_at), ends_at=_local(holder.ends_at))
        if holder is not None
        else None,
    )


# --- Operations -----------------------------------------------------------------------------------

router = Router()

TAG = gettext_lazy("场地预约")
AUTH_ERRORS = ("unauthorized", "invalid_token")
WRITE_FORBIDDEN = ("forbidden", "csrf_failed")
RULE_CODES = (
    "invalid_time",
    "in_past",
    "too_short",
    "too_long",
    "too_far_ahead",
    "too_soon",
    "blackout",
    "holiday_closed",
    "outside_opening_hours",
    "over_capacity",
    "invalid_attendees",
    "invalid_purpose",
    "not_bookable",
    "malformed_json",
)


@router.post(
    "/venues/{venue_id}/bookings",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("预约场地"),
        gettext_lazy(
            "按场地的预约规则申请一个时段：开放时间、时长、提前天数和小时数、停用日期、法定节假日、容纳人数。"
            "场地无需审核时立即通过（status 为 approved），否则等待审核（pending）。"
            "时段已被占用时回答 409 slot_taken，并在 conflict 中给出占用该时段的预约（id、starts_at、ends_at）。"
            "单位联络员可用 organization_id 以单位名义预约。"
        ),
        tag=TAG,
        success={201: BookingOut},
        errors={
            400: RULE_CODES,
            401: AUTH_ERRORS,
            403: (*WRITE_FORBIDDEN, "not_liaison"),
            404: ("not_found",),
            409: ("slot_taken",),
            415: ("unsupported_media_type",),
            422: ("invalid",),
        },
    ),
)
def request_booking(request: HttpRequest, venue_id: Id, payload: BookingIn) -> Status[BookingOut]:
    actor = signed_in(request)
    venue = get_object_or_404(Venue.objects.select_related("site"), pk=venue_id)
    organization = None
    if payload.organization_id is not None:
        organization = get_object_or_404(Organization.objects.select_related("site"), pk=payload.organization_id)
    booking = services.request_booking(
        actor=actor,
        venue=venue,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        purpose=payload.purpose,
        attendees=payload.attendees,
        organization=organization,
    )
    return Status(201, booking_out(booking))


def _with_series_errors(spec: dict[str, Any]) -> dict[str, Any]:
    """The 400 and 409 answers of a series carry ``conflicts`` besides the usual error fields."""
    spec["response"] = {**spec["response"], 400: RecurringErrorOut, 409: RecurringErrorOut}
    return spec


@router.post(
    "/venues/{venue_id}/bookings/recurring",
    auth=SIGNED_IN,
    **_with_series_errors(
        documented(
            gettext_lazy("每周重复预约场地"),
            gettext_lazy(
                "从 starts_at–ends_at 起，连续 weeks 周在每周同一时间各申请一次，"
                "每个日期按场地的预约规则单独检查、单独审核。"
                "能预约的日期立即提交（created，status 为 pending 待审核或 approved 已通过），"
                "不能预约的日期列在 conflicts 中，各有原因码 code 和说明 message；与已通过的预约或活动冲突时"
                "（slot_taken），conflict 给出那条预约的 id、starts_at、ends_at。只要有一个日期提交成功就回答 201。"
                "一个日期也不能预约时不创建任何记录：每个日期原因相同时，回答与单次预约相同的错误"
                "（400 加规则的错误码，或 409 slot_taken 并在 conflict 中给出第一条冲突的预约）；"
                "原因不同时回答 409 no_dates_available。这两种情况下 conflicts 都逐个日期说明原因。"
                "单位联络员可用 organization_id 以单位名义预约。"
            ),
            tag=TAG,
            success={201: RecurringOut},
            errors={
                400: (*RULE_CODES, "invalid_weeks"),
                401: AUTH_ERRORS,
                403: (*WRITE_FORBIDDEN, "not_liaison"),
                404: ("not_found",),
                409: ("slot_taken", "no_dates_available"),
                415: ("unsupported_media_type",),
                422: ("invalid",),
            },
        )
    ),
)
def request_recurring(
    request: HttpRequest, venue_id: Id, payload: RecurringIn
) -> Status[RecurringOut] | Status[dict[str, Any]]:
    actor = signed_in(request)
    venue = get_object_or_404(Venue.objects.select_related("site"), pk=venue_id)
    organization = None
    if payload.organization_id is not None:
        organization = get_object_or_404(Organization.objects.select_related("site"), pk=payload.organization_id)
    now = timezone.now()
    created, conflicts = services.request_recurring(
        actor=actor,
        venue=venue,
        first_start=payload.starts_at,
        first_end=payload.ends_at,
        weeks=payload.weeks,
        purpose=payload.purpose,
        attendees=payload.attendees,
        organization=organization,
        now=now,
    )
    listed = [series_date_out(d) for d in conflicts]
    if not created:
        refusal = series_refusal(conflicts)
        body = error_body(
            refusal.code, refusal.message, field=refusal.extra.get("field"), conflict=refusal.extra.get("conflict")
        )
        return Status(refusal.status, body | {"conflicts": [d.model_dump() for d in listed]})
    series_id = created[0].series_id
    assert series_id is not None
    return Status(201, RecurringOut(series_id=series_id, created=[booking_out(b) for b in created], conflicts=listed))


def _calendar_range(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    first = start or timezone.localdate()
    low, high = dt.date(services.EARLIEST_YEAR, 1, 1), dt.date(services.LATEST_YEAR, 12, 31)
    if not low <= first <= high or (end is not None and not low <= end <= high):
        raise Invalid(
            _("日期应在%(first)d年至%(last)d年之间。")
            % {"first": services.EARLIEST_YEAR, "last": services.LATEST_YEAR},
            code="invalid_range",
            field="from" if not low <= first <= high else "to",
        )
    last = end or first + dt.timedelta(days=DEFAULT_CALENDAR_DAYS)
    if last <= first:
        raise Invalid(_("结束日期须晚于起始日期。"), code="invalid_range", field="to")
    if (last - first).days > MAX_CALENDAR_DAYS:
        raise Invalid(_("一次最多查看%(days)d天。") % {"days": MAX_CALENDAR_DAYS}, code="invalid_range", field="to")
    return first, last


def _day_out(rules: VenueRules, day: dt.date, blackouts: list[tuple[dt.date, dt.date, str]]) -> DayOut:
    info = holidays.day(day)
    windows = services.opening_windows(rules, day.weekday())
    closed = ""
    for first, last, reason in blackouts:
        if first <= day <= last:
            closed = _("场地停用：%(reason)s") % {"reason": reason}
            break
    if not closed and rules.closed_on_holidays and holidays.is_public_holiday(day):
        closed = _("法定节假日不开放")
    if not closed and not windows:
        closed = _("当天不开放")
    return DayOut(
        date=day,
        kind=info.kind.value,
        label=info.label,
        opening_hours=[f"{services.hhmm(a)}–{services.hhmm(b)}" for a, b in windows],
        closed_reason=closed,
    )


@router.get(
    "/venues/{venue_id}/bookings",
    auth=OPTIONAL,
    **documented(
        gettext_lazy("场地日历"),
        gettext_lazy(
            "场地在一段日期内（默认从今天起7天，最多31天）的占用时段，以及每天的开放时间、节假日和调休。"
            "任何人都能看到哪些时段已被占用；预约人和负责该场地的工作人员还能看到预约详情和待审核的申请。"
        ),
        tag=TAG,
        success={200: CalendarOut},
        errors={400: ("invalid_range",), 401: ("invalid_token",), 404: ("not_found",), 422: ("invalid",)},
        optional_auth=True,
    ),
)
def venue_calendar(
    request: HttpRequest,
    venue_id: Id,
    start: Annotated[
        dt.date | None, params.Query(None, alias="from", description=lazy_str(gettext_lazy("起始日期（含），默认今天")))
    ] = None,
    end: Annotated[
        dt.date | None,
        params.Query(None, alias="to", description=lazy_str(gettext_lazy("结束日期（不含），默认起始后7天"))),
    ] = None,
) -> CalendarOut:
    user = current_user(request)
    venue = get_object_or_404(Venue.objects.select_related("site"), pk=venue_id)
    if not policies.can_view_venue_calendar(user, venue):
        raise Http404
    first, last = _calendar_range(start, end)
    window_start = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
    window_end = timezone.make_aware(dt.datetime.combine(last, dt.time.min))
    shown = Q(status__in=HOLDING_STATUSES)
    if user.is_authenticated:
        shown |= Q(status=BookingStatus.PENDING) & policies.bookings_visible_to(user)
    bookings = list(
        _with_details()
        .filter(venue=venue, starts_at__lt=window_end, ends_at__gt=window_start)
        .filter(shown)
        .order_by("starts_at", "id")
    )
    rules = services.rules_for(venue)
    blackouts = list(
        venue.blackouts.filter(first_date__lt=last, last_date__gte=first).values_list(
            "first_date", "last_date", "reason"
        )
    )
    days = [_day_out(rules, first + dt.timedelta(days=i), blackouts) for i in range((last - first).days)]
    details_for_staff = policies.can_view_venue_bookings(user, venue)
    slots = [
        SlotOut(
            id=b.pk,
            starts_at=_local(b.starts_at),
            ends_at=_local(b.ends_at),
            status=b.status,  # type: ignore[arg-type]
            is_activity=b.activity_id is not None,
            booking=booking_out(b) if details_for_staff or policies.is_requester(user, b) else None,
        )
        for b in bookings
    ]
    return CalendarOut(venue=venue_ref(venue), from_date=first, to_date=last, days=days, slots=slots)


@router.get(
    "/bookings/mine",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("我的预约"),
        gettext_lazy("当前用户申请的场地预约，开始时间晚的在前；可按状态筛选。"),
        tag=TAG,
        success={200: BookingPage},
        errors={401: AUTH_ERRORS, 422: ("invalid",)},
    ),
)
def my_bookings(
    request: HttpRequest,
    status: Annotated[StatusCode | None, params.Query(None, description=lazy_str(STATUS_HELP))] = None,
    page: PageNumber = 1,
    page_size: PageSize = 20,
) -> BookingPage:
    actor = signed_in(request)
    found = _with_details().filter(requester=actor)
    if status is not None:
        found = found.filter(status=status)
    count = found.count()
    start = (page - 1) * page_size
    rows = list(found.order_by("-starts_at", "-id")[start : start + page_size]) if start < count else []
    return BookingPage(count=count, page=page, page_size=page_size, results=[booking_out(b) for b in rows])


@router.get(
    "/bookings/{booking_id}",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("查看预约"),
        gettext_lazy("预约人和负责该场地的工作人员可查看；其他人与不存在的预约一样回答 404。"),
        tag=TAG,
        success={200: BookingOut},
        errors={401: AUTH_ERRORS, 404: ("not_found",), 422: ("invalid",)},
    ),
)
def get_booking(request: HttpRequest, booking_id: Id) -> BookingOut:
    return booking_out(_visible_booking(request, booking_id))


@router.post(
    "/bookings/{booking_id}/approve",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("通过预约"),
        gettext_lazy(
            "负责该场地的工作人员通过一条待审核的申请。与已通过的预约时间重叠时回答 409 slot_taken，"
            "并在 conflict 中给出那条预约（id、starts_at、ends_at）。"
        ),
        tag=TAG,
        success={200: BookingOut},
        errors={
            400: ("in_past",),
            401: AUTH_ERRORS,
            403: WRITE_FORBIDDEN,
            404: ("not_found",),
            409: ("slot_taken", "not_pending"),
            422: ("invalid",),
        },
    ),
)
def approve_booking(request: HttpRequest, booking_id: Id) -> BookingOut:
    booking = _visible_booking(request, booking_id)
    booking = services.approve_booking(actor=signed_in(request), booking=booking)
    return booking_out(booking)


@router.post(
    "/bookings/{booking_id}/reject",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("不通过预约"),
        gettext_lazy("负责该场地的工作人员驳回一条待审核的申请，须写明原因，原因会告知预约人。"),
        tag=TAG,
        success={200: BookingOut},
        errors={
            400: ("invalid_reason", "malformed_json"),
            401: AUTH_ERRORS,
            403: WRITE_FORBIDDEN,
            404: ("not_found",),
            409: ("not_pending",),
            415: ("unsupported_media_type",),
            422: ("invalid",),
        },
    ),
)
def reject_booking(request: HttpRequest, booking_id: Id, payload: RejectIn) -> BookingOut:
    booking = _visible_booking(request, booking_id)
    return booking_out(services.reject_booking(actor=signed_in(request), booking=booking, reason=payload.reason))


@router.post(
    "/bookings/{booking_id}/cancel",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("取消预约"),
        gettext_lazy(
            "预约人在开始前、工作人员在结束前可取消待审核或已通过的预约，时段随即释放。活动占用的场地须在活动中修改。"
        ),
        tag=TAG,
        success={200: BookingOut},
        errors={
            401: AUTH_ERRORS,
            403: WRITE_FORBIDDEN,
            404: ("not_found",),
            409: ("not_cancellable", "too_late", "activity_hold"),
            422: ("invalid",),
        },
    ),
)
def cancel_booking(request: HttpRequest, booking_id: Id) -> BookingOut:
    booking = _visible_booking(request, booking_id)
    return booking_out(services.cancel_booking(actor=signed_in(request), booking=booking))


@router.post(
    "/bookings/{booking_id}/check-in",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("到场签到"),
        gettext_lazy(
            "预约人或工作人员在开始前30分钟至结束之间为已通过的预约签到；开始后超过规定时间仍未签到的预约会被自动释放。"
        ),
        tag=TAG,
        success={200: BookingOut},
        errors={
            401: AUTH_ERRORS,
            403: WRITE_FORBIDDEN,
            404: ("not_found",),
            409: ("already_checked_in", "not_approved", "check_in_closed", "activity_hold"),
            422: ("invalid",),
        },
    ),
)
def check_in_booking(request: HttpRequest, booking_id: Id) -> BookingOut:
    booking = _visible_booking(request, booking_id)
    return booking_out(services.check_in_booking(actor=signed_in(request), booking=booking))
