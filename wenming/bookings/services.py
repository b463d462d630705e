"""Every write about venue bookings (场地预约).

The workflow is data (``TRANSITIONS``); each move is one service here that
refuses any other, writes a ``StatusChange`` row, keeps ``decided_by``,
``decided_at`` and ``decision_note`` on the booking, and queues the
requester's notice (``notices.services.notify`` sends on commit).

No two holding bookings (approved, checked in) of a venue overlap. Every
service that makes a booking hold its venue does it through ``_hold``:

- on SQLite every write transaction is IMMEDIATE (settings), so the overlap
  check and the write run with the database's write lock held: serialised;
- on PostgreSQL the holding writes to one venue take turns on the venue's
  row (``lock_venue``, FOR NO KEY UPDATE, which pending requests never wait
  for), so the check sees every holder committed before it and the refusal
  says which booking is in the way. The exclusion constraint
  ``booking_no_overlap`` is the last word: a write that overlaps anyway
  fails in a savepoint and becomes the same ``slot_taken`` refusal, naming
  the booking that won.

Without the turn, racing writes would all pass the check and their
exclusion checks would wait for one another; PostgreSQL then aborts some as
deadlocks (the concurrency tests saw dozens per run). ``_hold`` still
retries a write aborted that way, from the check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from wenming.accounts.models import User
from wenming.activities.models import Activity
from wenming.bookings import policies
from wenming.bookings.models import (
    HOLDING_STATUSES,
    Blackout,
    Booking,
    BookingSeries,
    BookingStatus,
    StatusChange,
    VenueRules,
)
from wenming.core.errors import Conflict, DomainError, Invalid, NotAllowed, NotFound
from wenming.lib import holidays
from wenming.network.models import Venue
from wenming.notices.services import notify
from wenming.units.models import Organization

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_MINUTES = 24 * 60
# When a venue's rules give no opening hours: 09:00–21:00 every day.
DEFAULT_WINDOWS: tuple[tuple[int, int], ...] = ((9 * 60, 21 * 60),)
CHECK_IN_EARLY_MINUTES = 30
MAX_RECURRING_WEEKS = 26
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
OVERLAP_CONSTRAINT = "booking_no_overlap"
WRITE_ATTEMPTS = 5  # a write PostgreSQL aborted as a deadlock is retried from the check
PURPOSE_MAX = 200
NOTE_MAX = 200

# The workflow as data: (from, to) → the service that makes the move.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("", BookingStatus.PENDING): "request_booking",
    ("", BookingStatus.APPROVED): "request_booking",
    (BookingStatus.PENDING, BookingStatus.APPROVED): "approve_booking",
    (BookingStatus.PENDING, BookingStatus.REJECTED): "reject_booking",
    (BookingStatus.PENDING, BookingStatus.CANCELLED): "cancel_booking",
    (BookingStatus.APPROVED, BookingStatus.CANCELLED): "cancel_booking",
    (BookingStatus.APPROVED, BookingStatus.CHECKED_IN): "check_in_booking",
    (BookingStatus.APPROVED, BookingStatus.NO_SHOW): "release_no_shows",
    # An activity's own booking: held, moved, released and held again.
    (BookingStatus.CANCELLED, BookingStatus.APPROVED): "hold_venue_for_activity",
    (BookingStatus.APPROVED, BookingStatus.APPROVED): "hold_venue_for_activity",  # moved
}


def _for_update() -> QuerySet[Booking]:
    """Bookings whose rows are locked until the transaction ends: FOR NO KEY UPDATE OF the booking table
    only (PostgreSQL; SQLite's IMMEDIATE transaction already holds the write lock)."""
    return Booking.objects.select_for_update(of=("self",), no_key=True)


# --- Rules ----------------------------------------------------------------------------------------


def rules_for(venue: Venue) -> VenueRules:
    """The venue's rules, or an unsaved row with the defaults when it has none."""
    try:
        return venue.rules
    except VenueRules.DoesNotExist:
        return VenueRules(venue=venue)


def _minutes(text: Any) -> int | None:
    """ "HH:MM" as minutes after midnight ("24:00" is the end of the day), or None."""
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":":
        return None
    hours, minutes = text[:2], text[3:]
    if not (hours.isdigit() and minutes.isdigit()):
        return None
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > DAY_MINUTES:
        return None
    return value


def clean_opening_hours(raw: Any) -> dict[str, list[list[str]]]:
    """Validate ``{"mon": [["09:00", "12:00"], ["14:00", "21:00"]], …}``; ``{}`` means the default hours."""
    if raw in (None, ""):
        return {}
    error = Invalid(
        _('开放时间格式不正确，应为每个星期的时段，例如 {"mon": [["09:00", "21:00"]]}。'),
        code="invalid_opening_hours",
        field="opening_hours",
    )
    if not isinstance(raw, dict):
        raise error
    clean: dict[str, list[list[str]]] = {}
    for key, windows in raw.items():
        if key not in WEEKDAY_KEYS or not isinstance(windows, list):
            raise error
        parsed: list[tuple[int, int, list[str]]] = []
        for window in windows:
            if not isinstance(window, list | tuple) or len(window) != 2:
                raise error
            start, end = _minutes(window[0]), _minutes(window[1])
            if start is None or end is None or end <= start:
                raise error
            parsed.append((start, end, [str(window[0]), str(window[1])]))
        parsed.sort()
        if any(later[0] < earlier[1] for earlier, later in pairwise(parsed)):
            raise error
        clean[key] = [pair for _start, _end, pair in parsed]
    return {key: clean[key] for key in WEEKDAY_KEYS if key in clean}


def opening_windows(rules: VenueRules, weekday: int) -> list[tuple[int, int]]:
    """The bookable windows of a weekday (0 Monday), in minutes after midnight; [] when closed."""
    hours = rules.opening_hours
    if not hours or not isinstance(hours, dict):
        return list(DEFAULT_WINDOWS)
    windows: list[tuple[int, int]] = []
    for window in hours.get(WEEKDAY_KEYS[weekday]) or []:
        if isinstance(window, list | tuple) and len(window) == 2:
            start, end = _minutes(window[0]), _minutes(window[1])
            if start is not None and end is not None and start < end:
                windows.append((start, end))
    return sorted(windows)


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def windows_label(windows: list[tuple[int, int]]) -> str:
    if not windows:
        return _("当天不开放")
    return "、".join(f"{hhmm(start)}–{hhmm(end)}" for start, end in windows)


def _local_span(starts_at: dt.datetime, ends_at: dt.datetime) -> tuple[dt.date, int, int] | None:
    """The local date and minutes of a span within one day, or None when it crosses midnight."""
    start, end = timezone.localtime(starts_at), timezone.localtime(ends_at)
    day = start.date()
    start_minute = start.hour * 60 + start.minute
    if end.date() == day:
        return day, start_minute, end.hour * 60 + end.minute
    if end.date() == day + dt.timedelta(days=1) and end.time() == dt.time(0, 0):
        return day, start_minute, DAY_MINUTES
    return None


def blackout_on(venue: Venue, day: dt.date) -> Blackout | None:
    return Blackout.objects.filter(venue=venue, first_date__lte=day, last_date__gte=day).first()


def _refuse_blackout(venue: Venue, day: dt.date) -> None:
    blackout = blackout_on(venue, day)
    if blackout is not None:
        raise Invalid(
            _("%(first)s至%(last)s场地停用（%(reason)s），不能预约。")
            % {
                "first": blackout.first_date.isoformat(),
                "last": blackout.last_date.isoformat(),
                "reason": blackout.reason,
            },
            code="blackout",
            field="starts_at",
        )


def check_rules(
    *, venue: Venue, rules: VenueRules, starts_at: dt.datetime, ends_at: dt.datetime, now: dt.datetime
) -> None:
    """Refuse a slot the venue's rules do not allow, with the rule's own code. Times are already clean."""
    if starts_at <= now:
        raise Invalid(_("开始时间已过，请选择以后的时间。"), code="in_past", field="starts_at")
    minutes = int((ends_at - starts_at).total_seconds() // 60)
    if minutes < rules.min_minutes:
        raise Invalid(
            _("每次预约至少%(minutes)d分钟。") % {"minutes": rules.min_minutes}, code="too_short", field="ends_at"
        )
    if minutes > rules.max_minutes:
        raise Invalid(
            _("每次预约最长%(minutes)d分钟。") % {"minutes": rules.max_minutes}, code="too_long", field="ends_at"
        )
    span = _local_span(starts_at, ends_at)
    if span is None:
        raise Invalid(_("预约须在同一天内开始和结束。"), code="outside_opening_hours", field="ends_at")
    day, start_minute, end_minute = span
    if day > timezone.localdate(now) + dt.timedelta(days=rules.max_days_ahead):
        raise Invalid(
            _("最多只能预约%(days)d天以内的场地。") % {"days": rules.max_days_ahead},
            code="too_far_ahead",
            field="starts_at",
        )
    if starts_at < now + dt.timedelta(hours=rules.min_hours_ahead):
        raise Invalid(
            _("请至少提前%(hours)d小时预约。") % {"hours": rules.min_hours_ahead}, code="too_soon", field="starts_at"
        )
    _refuse_blackout(venue, day)
    if rules.closed_on_holidays and holidays.is_public_holiday(day):
        raise Invalid(
            _("%(date)s是法定节假日（%(name)s），场地不开放预约。")
            % {"date": day.isoformat(), "name": holidays.day(day).holiday},
            code="holiday_closed",
            field="starts_at",
        )
    windows = opening_windows(rules, day.weekday())
    if not any(start <= start_minute and end_minute <= end for start, end in windows):
        raise Invalid(
            _("所选时间不在场地开放时间内（%(hours)s）。") % {"hours": windows_label(windows)},
            code="outside_opening_hours",
            field="starts_at",
        )


# --- Input ----------------------------------------------------------------------------------------


def clean_times(starts_at: Any, ends_at: Any) -> tuple[dt.datetime, dt.datetime]:
    """Aware datetimes on whole minutes, the end after the start. A naive time is Beijing time."""
    clean: list[dt.datetime] = []
    for value, field in ((starts_at, "starts_at"), (ends_at, "ends_at")):
        if not isinstance(value, dt.datetime):
            raise Invalid(_("请选择时间。"), code="invalid_time", field=field)
        # Checked on the wall-clock year first, so that no arithmetic on an absurd date overflows.
        if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
            raise Invalid(
                _("请选择%(first)d年至%(last)d年之间的时间。") % {"first": EARLIEST_YEAR, "last": LATEST_YEAR},
                code="invalid_time",
                field=field,
            )
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        if value.second or value.microsecond:
            raise Invalid(_("请按整分钟选择时间。"), code="invalid_time", field=field)
        clean.append(value)
    if clean[1] <= clean[0]:
        raise Invalid(_("结束时间必须晚于开始时间。"), code="invalid_time", field="ends_at")
    return clean[0], clean[1]


def _clean_text(value: Any, *, code: str, field: str, message: str, limit: int, required: bool) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if (required and not text) or len(text) > limit or any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise Invalid(message, code=code, field=field)
    return text


def _clean_purpose(purpose: Any) -> str:
    return _clean_text(
        purpose,
        code="invalid_purpose",
        field="purpose",
        message=_("请填写用途，不超过%(n)d个字。") % {"n": PURPOSE_MAX},
        limit=PURPOSE_MAX,
        required=True,
    )


def _clean_note(note: Any, *, required: bool = False) -> str:
    return _clean_text(
        note,
        code="invalid_reason",
        field="reason",
        message=(_("请填写原因，不超过%(n)d个字。") if required else _("说明不能超过%(n)d个字。")) % {"n": NOTE_MAX},
        limit=NOTE_MAX,
        required=required,
    )


def _clean_attendees(attendees: Any, venue: Venue) -> int:
    if isinstance(attendees, bool) or not isinstance(attendees, int) or attendees < 1:
        raise Invalid(_("人数至少为1人。"), code="invalid_attendees", field="attendees")
    if attendees > venue.capacity:
        raise Invalid(
            _("人数超过场地容纳人数（%(capacity)d人）。") % {"capacity": venue.capacity},
            code="over_capacity",
            field="attendees",
        )
    return attendees


def _signed_in(actor: Any) -> User:
    if not isinstance(actor, User) or not actor.is_active:
        raise NotAllowed(_("请先登录。"))
    return actor


def _bookable(actor: User, venue: Venue) -> None:
    if not policies.is_venue_open(venue):
        raise NotFound(_("未找到该场地。"))
    if not venue.is_bookable:
        raise Invalid(_("该场地暂不开放预约。"), code="not_bookable")
    if not policies.can_request_booking(actor, venue):
        raise NotAllowed(_("您没有预约该场地的权限。"))


def _for_organization(actor: User, organization: Organization | None) -> None:
    if organization is not None and not policies.can_book_for_organization(actor, organization):
        raise NotAllowed(_("您不是该单位的联络员，不能以该单位名义预约。"), code="not_liaison", field="organization")


# --- Holding a venue ------------------------------------------------------------------------------


def overlapping_holder(
    venue_id: int, starts_at: dt.datetime, ends_at: dt.datetime, *, exclude_pk: int | None = None
) -> Booking | None:
    """The first holding booking of the venue that overlaps [starts_at, ends_at)."""
    found = Booking.objects.filter(
        venue_id=venue_id, status__in=HOLDING_STATUSES, starts_at__lt=ends_at, ends_at__gt=starts_at
    )
    if exclude_pk is not None:
        found = found.exclude(pk=exclude_pk)
    return found.order_by("starts_at", "id").first()


def taken(conflict: Booking | None, *, code: str = "slot_taken", field: str | None = "starts_at") -> Conflict:
    """The refusal for a slot that is held, naming the booking that holds it."""
    extra: dict[str, Any] = {"field": field} if field else {}
    if conflict is None:
        return Conflict(_("该时段已被预约，请选择其他时间。"), code=code, **extra)
    start, end = timezone.localtime(conflict.starts_at), timezone.localtime(conflict.ends_at)
    message = _("该时段已被预约（%(start)s–%(end)s），请选择其他时间。") % {
        "start": f"{start:%Y-%m-%d %H:%M}",
        "end": f"{end:%H:%M}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}",
    }
    return Conflict(
        message,
        code=code,
        conflict_id=conflict.pk,
        conflict_starts_at=conflict.starts_at,
        conflict_ends_at=conflict.ends_at,
        # The same, as the API shows it: {"id", "starts_at", "ends_at"} in Beijing time.
        conflict={"id": conflict.pk, "starts_at": start, "ends_at": end},
        **extra,
    )


def _constraint_name(exc: BaseException) -> str:
    cause = exc.__cause__
    diag = getattr(cause, "diag", None)
    return str(getattr(diag, "constraint_name", "") or "") or (
        OVERLAP_CONSTRAINT if OVERLAP_CONSTRAINT in str(exc) else ""
    )


def _is_deadlock(exc: OperationalError) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) in {"40P01", "40001"}


def lock_venue(venue_id: int) -> None:
    """Take the venue's turn for holding writes, until the transaction ends.

    PostgreSQL: FOR NO KEY UPDATE of the venue's row. It does not block the
    KEY SHARE that inserting any booking takes for its foreign key, so
    pending requests never wait; it only makes two holding writes to the
    same venue go one after the other. Without it, two racing writes both
    pass the check, and their exclusion checks can wait for each other
    (PostgreSQL aborts one as a deadlock). SQLite: nothing to do, the
    IMMEDIATE transaction already holds the database's write lock.
    """
    Venue.objects.select_for_update(no_key=True).filter(pk=venue_id).values_list("pk", flat=True).first()


def _hold(
    write: Callable[[], None],
    *,
    venue_id: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    exclude_pk: int | None = None,
    code: str = "slot_taken",
    field: str | None = "starts_at",
) -> None:
    """Make a booking hold [starts_at, ends_at) with ``write``, inside the caller's transaction.

    Holding writes to one venue take turns on the venue's row (``lock_venue``),
    so the check before the write sees every holder that committed before it
    and gives the refusal its message. The exclusion constraint stays the
    last word: a write that still overlaps (one made elsewhere without the
    turn) fails in the savepoint, and the refusal names the booking that won.
    """
    lock_venue(venue_id)
    for _attempt in range(WRITE_ATTEMPTS):
        holder = overlapping_holder(venue_id, starts_at, ends_at, exclude_pk=exclude_pk)
        if holder is not None:
            raise taken(holder, code=code, field=field)
        try:
            with transaction.atomic():
                write()
        except IntegrityError as exc:
            if _constraint_name(exc) != OVERLAP_CONSTRAINT:
                raise
            holder = overlapping_holder(venue_id, starts_at, ends_at, exclude_pk=exclude_pk)
            raise taken(holder, code=code, field=field) from exc
        except OperationalError as exc:
            if not _is_deadlock(exc):
                raise
            continue
        return
    raise taken(overlapping_holder(venue_id, starts_at, ends_at, exclude_pk=exclude_pk), code=code, field=field)


def _record(booking: Booking, from_status: str, actor: User | None, note: str = "", *, at: dt.datetime) -> None:
    assert (from_status, booking.status) in TRANSITIONS, (from_status, booking.status)
    StatusChange.objects.create(
        booking=booking, from_status=from_status, to_status=booking.status, actor=actor, at=at, note=note[:NOTE_MAX]
    )


def _when(booking: Booking) -> str:
    start, end = timezone.localtime(booking.starts_at), timezone.localtime(booking.ends_at)
    return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"


def _notify(booking: Booking, kind: str, title: str, body: str) -> None:
    """Tell the requester; ``notify`` queues the message for when the transaction commits."""
    notify(
        recipients=[booking.requester],
        kind=f"booking_{kind}",
        title=title,
        body=body,
        link=reverse("bookings:mine"),
    )


def _notify_approved(booking: Booking) -> None:
    _notify(
        booking,
        "approved",
        _("场地预约已通过"),
        _("您预约的%(venue)s（%(when)s）已通过，请按时到场签到。")
        % {"venue": booking.venue.name, "when": _when(booking)},
    )


def _now(now: dt.datetime | None) -> dt.datetime:
    return now if now is not None else timezone.now()


# --- Requests -------------------------------------------------------------------------------------


def request_booking(
    *,
    actor: User,
    venue: Venue,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    purpose: str,
    attendees: int = 1,
    organization: Organization | None = None,
    now: dt.datetime | None = None,
) -> Booking:
    """A resident or unit liaison asks for a slot: approved at once when the rules need no approval."""
    now = _now(now)
    actor = _signed_in(actor)
    _bookable(actor, venue)
    starts_at, ends_at = clean_times(starts_at, ends_at)
    purpose = _clean_purpose(purpose)
    attendees = _clean_attendees(attendees, venue)
    _for_organization(actor, organization)
    rules = rules_for(venue)
    with transaction.atomic():
        check_rules(venue=venue, rules=rules, starts_at=starts_at, ends_at=ends_at, now=now)
        booking = Booking(
            venue=venue,
            requester=actor,
            organization=organization,
            purpose=purpose,
            attendees=attendees,
            starts_at=starts_at,
            ends_at=ends_at,
            created_at=now,
        )
        if rules.needs_approval:
            # A pending request holds nothing, but one for a slot already held is refused now.
            holder = overlapping_holder(venue.pk, starts_at, ends_at)
            if holder is not None:
                raise taken(holder)
            booking.status = BookingStatus.PENDING
            booking.save()
        else:
            booking.status = BookingStatus.APPROVED
            booking.decided_at = now
            booking.decision_note = _("无需审核，自动通过")

            def insert() -> None:
                booking.pk = None
                booking._state.adding = True
                booking.save()

            _hold(insert, venue_id=venue.pk, starts_at=starts_at, ends_at=ends_at)
            _notify_approved(booking)
        _record(booking, "", actor, at=now)
    return booking


@dataclass(frozen=True)
class SeriesDate:
    """A date of a weekly series that was not booked: the slot asked for, and why (a stable code, the
    message, the field at fault, and the holding booking in the way for ``slot_taken``)."""

    day: dt.date
    starts_at: dt.datetime
    ends_at: dt.datetime
    code: str
    message: str
    field: str | None
    holder: Booking | None


def _refused(
    day: dt.date, starts_at: dt.datetime, ends_at: dt.datetime, exc: DomainError, holder: Booking | None = None
) -> SeriesDate:
    conflict_id = exc.extra.get("conflict_id")
    if holder is None and conflict_id:
        holder = Booking.objects.filter(pk=conflict_id).first()
    return SeriesDate(day, starts_at, ends_at, exc.code, exc.message, exc.extra.get("field"), holder)


def request_recurring(
    *,
    actor: User,
    venue: Venue,
    first_start: dt.datetime,
    first_end: dt.datetime,
    weeks: int,
    purpose: str,
    attendees: int = 1,
    organization: Organization | None = None,
    now: dt.datetime | None = None,
) -> tuple[list[Booking], list[SeriesDate]]:
    """The same slot every week for ``weeks`` weeks, one booking per date, each date checked on its own.

    Dates the rules refuse or a holding booking overlaps are listed in
    ``conflicts`` (``SeriesDate``: the code and message, and the booking in
    the way) and not created; the others are created as ``request_booking`` would.
    """
    now = _now(now)
    actor = _signed_in(actor)
    _bookable(actor, venue)
    if isinstance(weeks, bool) or not isinstance(weeks, int) or not 1 <= weeks <= MAX_RECURRING_WEEKS:
        raise Invalid(_("周期预约可选1至%(n)d周。") % {"n": MAX_RECURRING_WEEKS}, code="invalid_weeks", field="weeks")
    first_start, first_end = clean_times(first_start, first_end)
    purpose = _clean_purpose(purpose)
    attendees = _clean_attendees(attendees, venue)
    _for_organization(actor, organization)
    rules = rules_for(venue)
    local_start, local_end = timezone.localtime(first_start), timezone.localtime(first_end)
    created: list[Booking] = []
    conflicts: list[SeriesDate] = []
    with transaction.atomic():
        # One series at a time per venue, as every holding write takes its turn.
        lock_venue(venue.pk)
        series: BookingSeries | None = None
        for week in range(weeks):
            starts_at = local_start + dt.timedelta(weeks=week)
            ends_at = local_end + dt.timedelta(weeks=week)
            day = starts_at.date()
            try:
                check_rules(venue=venue, rules=rules, starts_at=starts_at, ends_at=ends_at, now=now)
                holder = overlapping_holder(venue.pk, starts_at, ends_at)
                if holder is not None:
                    conflicts.append(_refused(day, starts_at, ends_at, taken(holder), holder))
                    continue
                if series is None:
                    series = BookingSeries.objects.create(venue=venue, requester=actor, created_at=now)
                booking = Booking(
                    venue=venue,
                    requester=actor,
                    organization=organization,
                    series=series,
                    purpose=purpose,
                    attendees=attendees,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    created_at=now,
                    status=BookingStatus.PENDING if rules.needs_approval else BookingStatus.APPROVED,
                )
                if rules.needs_approval:
                    booking.save()
                else:
                    booking.decided_at = now
                    booking.decision_note = _("无需审核，自动通过")

                    def insert(booking: Booking = booking) -> None:
                        booking.pk = None
                        booking._state.adding = True
                        booking.save()

                    _hold(insert, venue_id=venue.pk, starts_at=starts_at, ends_at=ends_at)
                _record(booking, "", actor, at=now)
            except (Conflict, Invalid) as exc:
                conflicts.append(_refused(day, starts_at, ends_at, exc))
                continue
            created.append(booking)
        if created and not rules.needs_approval:
            _notify(
                created[0],
                "approved",
                _("周期预约已通过"),
                _("您在%(venue)s的周期预约已通过，共%(n)d次，首次%(when)s。")
                % {"venue": venue.name, "n": len(created), "when": _when(created[0])},
            )
        if series is not None and not created:
            series.delete()
    return created, conflicts


# --- Decisions ------------------------------------------------------------------------------------


def _decidable(actor: Any, booking: Booking) -> User:
    actor = _signed_in(actor)
    if not policies.can_view_booking(actor, booking):
        raise NotFound(_("未找到该预约。"))
    if not policies.can_decide_booking(actor, booking):
        raise NotAllowed(_("您没有审核该预约的权限。"))
    return actor


def _locked(booking: Booking) -> Booking:
    """The booking's row as it is now, locked until the transaction ends (PostgreSQL)."""
    # Only the booking's own row, and as an UPDATE of non-key columns would: a plain FOR UPDATE
    # (or one over the joined venue and requester) would also block every insert whose foreign
    # key check takes KEY SHARE on those rows, and two racing writes could deadlock on it.
    return _for_update().select_related("venue", "requester").get(pk=booking.pk)


def _refresh(booking: Booking, current: Booking) -> Booking:
    for field in current._meta.concrete_fields:
        setattr(booking, field.attname, getattr(current, field.attname))
    return booking


def _not_pending(current: Booking) -> Conflict:
    return Conflict(
        _("该预约已处理（%(status)s），不能再审核。") % {"status": current.get_status_display()}, code="not_pending"
    )


def approve_booking(*, actor: User, booking: Booking, note: str = "", now: dt.datetime | None = None) -> Booking:
    """Staff approve a pending request; refused with ``slot_taken`` when it now overlaps a holding booking."""
    now = _now(now)
    actor = _decidable(actor, booking)
    note = _clean_note(note)
    with transaction.atomic():
        current = _locked(booking)
        if current.status != BookingStatus.PENDING:
            raise _not_pending(current)
        if current.starts_at <= now:
            raise Invalid(_("预约开始时间已过，不能再通过。"), code="in_past")

        def approve() -> None:
            updated = Booking.objects.filter(pk=current.pk, status=BookingStatus.PENDING).update(
                status=BookingStatus.APPROVED, decided_by=actor, decided_at=now, decision_note=note
            )
            if updated != 1:
                raise _not_pending(current)

        _hold(approve, venue_id=current.venue_id, starts_at=current.starts_at, ends_at=current.ends_at, field=None)
        current.status, current.decided_by, current.decided_at, current.decision_note = (
            BookingStatus.APPROVED,
            actor,
            now,
            note,
        )
        _record(current, BookingStatus.PENDING, actor, note, at=now)
        _notify_approved(current)
    return _refresh(booking, current)


def reject_booking(*, actor: User, booking: Booking, reason: str, now: dt.datetime | None = None) -> Booking:
    """Staff turn down a pending request; the reason is required and told to the requester."""
    now = _now(now)
    actor = _decidable(actor, booking)
    reason = _clean_note(reason, required=True)
    with transaction.atomic():
        current = _locked(booking)
        if current.status != BookingStatus.PENDING:
            raise _not_pending(current)
        Booking.objects.filter(pk=current.pk).update(
            status=BookingStatus.REJECTED, decided_by=actor, decided_at=now, decision_note=reason
        )
        current.status, current.decided_by, current.decided_at, current.decision_note = (
            BookingStatus.REJECTED,
            actor,
            now,
            reason,
        )
        _record(current, BookingStatus.PENDING, actor, reason, at=now)
        _notify(
            current,
            "rejected",
            _("场地预约未通过"),
            _("您预约的%(venue)s（%(when)s）未通过：%(reason)s")
            % {"venue": current.venue.name, "when": _when(current), "reason": reason},
        )
    return _refresh(booking, current)


def cancel_booking(*, actor: User, booking: Booking, reason: str = "", now: dt.datetime | None = None) -> Booking:
    """The requester (before the start) or staff (before the end) cancel a pending or approved booking."""
    now = _now(now)
    actor = _signed_in(actor)
    if not policies.can_view_booking(actor, booking):
        raise NotFound(_("未找到该预约。"))
    if not policies.can_cancel_booking(actor, booking):
        raise NotAllowed(_("您没有取消该预约的权限。"))
    reason = _clean_note(reason)
    staff = policies.can_decide_booking(actor, booking)
    with transaction.atomic():
        current = _locked(booking)
        if current.activity_id is not None:
            raise Conflict(_("这是活动占用的场地，请在活动中修改场地或时间。"), code="activity_hold")
        if current.status not in (BookingStatus.PENDING, BookingStatus.APPROVED):
            raise Conflict(
                _("该预约%(status)s，不能取消。") % {"status": current.get_status_display()}, code="not_cancellable"
            )
        deadline = current.ends_at if staff else current.starts_at
        if now >= deadline:
            raise Conflict(
                _("预约已开始，不能取消；如有需要请联系阵地工作人员。") if not staff else _("预约已结束，不能取消。"),
                code="too_late",
            )
        previous = current.status
        Booking.objects.filter(pk=current.pk).update(status=BookingStatus.CANCELLED)
        current.status = BookingStatus.CANCELLED
        _record(current, previous, actor, reason, at=now)
        if actor.pk != current.requester_id:
            _notify(
                current,
                "cancelled",
                _("场地预约已取消"),
                _("您预约的%(venue)s（%(when)s）已被工作人员取消。%(reason)s")
                % {"venue": current.venue.name, "when": _when(current), "reason": reason},
            )
    return _refresh(booking, current)


def check_in_window(booking: Booking) -> tuple[dt.datetime, dt.datetime]:
    return booking.starts_at - dt.timedelta(minutes=CHECK_IN_EARLY_MINUTES), booking.ends_at


def can_check_in_now(booking: Booking, now: dt.datetime | None = None) -> bool:
    opens, closes = check_in_window(booking)
    return booking.status == BookingStatus.APPROVED and opens <= _now(now) < closes


def check_in_booking(*, actor: User, booking: Booking, now: dt.datetime | None = None) -> Booking:
    """到场签到: the requester or staff, from a little before the start until the end."""
    now = _now(now)
    actor = _signed_in(actor)
    if not policies.can_view_booking(actor, booking):
        raise NotFound(_("未找到该预约。"))
    if not policies.can_check_in_booking(actor, booking):
        raise NotAllowed(_("您没有为该预约签到的权限。"))
    with transaction.atomic():
        current = _locked(booking)
        if current.activity_id is not None:
            raise Conflict(_("这是活动占用的场地，请在活动中签到。"), code="activity_hold")
        if current.status == BookingStatus.CHECKED_IN:
            raise Conflict(_("已经签到过了。"), code="already_checked_in")
        if current.status != BookingStatus.APPROVED:
            raise Conflict(
                _("该预约%(status)s，不能签到。") % {"status": current.get_status_display()}, code="not_approved"
            )
        opens, closes = check_in_window(current)
        if not opens <= now < closes:
            raise Conflict(
                _("签到时间为开始前%(minutes)d分钟至结束，即%(opens)s至%(closes)s。")
                % {
                    "minutes": CHECK_IN_EARLY_MINUTES,
                    "opens": f"{timezone.localtime(opens):%m-%d %H:%M}",
                    "closes": f"{timezone.localtime(closes):%H:%M}",
                },
                code="check_in_closed",
            )
        lock_venue(current.venue_id)  # the row stays in the no-overlap index: a holding write like any other
        Booking.objects.filter(pk=current.pk).update(status=BookingStatus.CHECKED_IN, checked_in_at=now)
        current.status, current.checked_in_at = BookingStatus.CHECKED_IN, now
        _record(current, BookingStatus.APPROVED, actor, at=now)
    return _refresh(booking, current)


def release_no_shows(*, now: dt.datetime | None = None) -> int:
    """Approved bookings nobody checked in to by start + the venue's grace become no-shows; the slot is free.

    Activity holds are left alone: an activity keeps its room. Returns how many were released.
    """
    now = _now(now)
    candidates = (
        Booking.objects.filter(
            status=BookingStatus.APPROVED, activity__isnull=True, checked_in_at__isnull=True, starts_at__lte=now
        )
        .select_related("venue__rules", "requester", "venue")
        .order_by("starts_at", "id")
    )
    released = 0
    for booking in candidates:
        grace = dt.timedelta(minutes=rules_for(booking.venue).no_show_grace_minutes)
        if booking.starts_at + grace > now:
            continue
        with transaction.atomic():
            updated = Booking.objects.filter(pk=booking.pk, status=BookingStatus.APPROVED).update(
                status=BookingStatus.NO_SHOW
            )
            if not updated:
                continue
            booking.status = BookingStatus.NO_SHOW
            _record(booking, BookingStatus.APPROVED, None, _("超时未签到，自动释放"), at=now)
            _notify(
                booking,
                "no_show",
                _("场地预约已释放"),
                _("您预约的%(venue)s（%(when)s）在开始后%(minutes)d分钟内未签到，场地已释放给其他人。")
                % {"venue": booking.venue.name, "when": _when(booking), "minutes": int(grace.total_seconds() // 60)},
            )
        released += 1
    return released


# --- Activities -----------------------------------------------------------------------------------


def hold_venue_for_activity(*, actor: User, activity: Activity) -> Booking:
    """Hold the activity's venue for its time: create, or move, the activity's own approved booking.

    Staff hold their own rooms, so the resident rules (opening hours,
    notice, duration) do not apply; no overlap and the blackout dates do.
    Refused with ``venue_taken`` naming the booking in the way.
    """
    actor = _signed_in(actor)
    venue = activity.venue
    if venue is None:
        raise Invalid(_("活动尚未选择场地。"), code="no_venue", field="venue")
    if not policies.can_hold_venue(actor, venue, activity):
        raise NotAllowed(_("您没有占用该场地的权限。"), field="venue")
    if not venue.is_active:
        raise Invalid(_("该场地已停用。"), code="venue_inactive", field="venue")
    starts_at, ends_at = clean_times(activity.starts_at, activity.ends_at)
    now = timezone.now()
    with transaction.atomic():
        span_first = timezone.localdate(starts_at)
        span_last = timezone.localdate(ends_at - dt.timedelta(minutes=1))
        blackout = Blackout.objects.filter(venue=venue, first_date__lte=span_last, last_date__gte=span_first).first()
        if blackout is not None:
            raise Invalid(
                _("%(first)s至%(last)s场地停用（%(reason)s）。")
                % {
                    "first": blackout.first_date.isoformat(),
                    "last": blackout.last_date.isoformat(),
                    "reason": blackout.reason,
                },
                code="blackout",
                field="venue",
            )
        existing = _for_update().filter(activity=activity).first()
        if existing is not None and existing.status not in (BookingStatus.APPROVED, BookingStatus.CANCELLED):
            raise Conflict(_("该活动的场地预约状态异常，请联系管理员。"), code="venue_taken", field="venue")
        booking = existing or Booking(activity=activity, created_at=now)
        previous = existing.status if existing is not None else ""
        moved = existing is None or (previous, existing.venue_id, existing.starts_at, existing.ends_at) != (
            BookingStatus.APPROVED,
            venue.pk,
            starts_at,
            ends_at,
        )
        booking.venue, booking.starts_at, booking.ends_at = venue, starts_at, ends_at
        booking.purpose = (activity.title or _("活动"))[:PURPOSE_MAX]
        booking.requester = actor
        booking.attendees = max(1, activity.seats or 0)
        booking.status = BookingStatus.APPROVED
        booking.decided_by, booking.decided_at = actor, now
        booking.decision_note = _("活动占用")

        def write() -> None:
            if existing is None:
                booking.pk = None
                booking._state.adding = True
            booking.save()

        _hold(
            write,
            venue_id=venue.pk,
            starts_at=starts_at,
            ends_at=ends_at,
            exclude_pk=existing.pk if existing is not None else None,
            code="venue_taken",
            field="venue",
        )
        if moved:
            _record(booking, previous, actor, _("活动占用"), at=now)
    return booking


def release_activity_hold(*, actor: User, activity: Activity) -> None:
    """Free the activity's venue (the activity is cancelled or moved elsewhere); nothing to do when none is held."""
    actor = _signed_in(actor)
    with transaction.atomic():
        booking = _for_update().select_related("venue__site").filter(activity=activity).first()
        if booking is None or booking.status not in HOLDING_STATUSES:
            return
        if not policies.can_hold_venue(actor, booking.venue, activity):
            raise NotAllowed(_("您没有释放该场地的权限。"))
        previous = booking.status
        Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CANCELLED)
        booking.status = BookingStatus.CANCELLED
        _record(booking, previous, actor, _("活动释放场地"), at=timezone.now())


# --- Rules and blackout dates (the admin writes through these) ------------------------------------

RULE_FIELDS = (
    "opening_hours",
    "min_minutes",
    "max_minutes",
    "max_days_ahead",
    "min_hours_ahead",
    "needs_approval",
    "closed_on_holidays",
    "no_show_grace_minutes",
)


def _validated[M: VenueRules | Blackout](row: M) -> M:
    try:
        row.full_clean(validate_unique=True, validate_constraints=True)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise Invalid(" ".join(messages), field=None if field == "__all__" else field) from exc
    return row


def _check_rule_values(rules: VenueRules) -> None:
    """The rules' check constraints, said in words (the constraint names would reach the form otherwise)."""
    numbers = ("min_minutes", "max_minutes", "max_days_ahead", "min_hours_ahead", "no_show_grace_minutes")
    for name in numbers:
        value = getattr(rules, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise Invalid(_("请填写不小于0的整数。"), code="invalid_rules", field=name)
    if rules.min_minutes < 1:
        raise Invalid(_("最短时长至少1分钟。"), code="invalid_rules", field="min_minutes")
    if rules.max_minutes < rules.min_minutes:
        raise Invalid(_("最长时长不能短于最短时长。"), code="invalid_rules", field="max_minutes")
    if rules.max_days_ahead < 1:
        raise Invalid(_("最多提前天数至少为1天。"), code="invalid_rules", field="max_days_ahead")


def save_venue_rules(*, actor: User, venue: Venue, **fields: Any) -> VenueRules:
    """Set a venue's booking rules (creating its row on the first change)."""
    actor = _signed_in(actor)
    if not policies.can_manage_booking_rules(actor, venue):
        raise NotAllowed(_("您没有管理该场地预约规则的权限。"))
    unknown = sorted(set(fields) - set(RULE_FIELDS))
    if unknown:
        raise Invalid(_("不能修改字段：%(field)s") % {"field": unknown[0]}, code="invalid_field", field=unknown[0])
    if "opening_hours" in fields:
        fields["opening_hours"] = clean_opening_hours(fields["opening_hours"])
    with transaction.atomic():
        rules = VenueRules.objects.select_for_update(no_key=True).filter(venue=venue).first() or VenueRules(venue=venue)
        for name, value in fields.items():
            setattr(rules, name, value)
        _check_rule_values(rules)
        _validated(rules).save()
    return rules


def add_blackout(*, actor: User, venue: Venue, first_date: dt.date, last_date: dt.date, reason: str) -> Blackout:
    """Close a venue to booking for some dates. Bookings already made are left for staff to cancel."""
    actor = _signed_in(actor)
    if not policies.can_manage_booking_rules(actor, venue):
        raise NotAllowed(_("您没有管理该场地预约规则的权限。"))
    reason = _clean_text(
        reason,
        code="invalid_reason",
        field="reason",
        message=_("请填写停用原因，不超过100个字。"),
        limit=100,
        required=True,
    )
    blackout = _validated(Blackout(venue=venue, first_date=first_date, last_date=last_date, reason=reason))
    with transaction.atomic():
        blackout.save()
    return blackout


def update_blackout(*, actor: User, blackout: Blackout, **changes: Any) -> Blackout:
    actor = _signed_in(actor)
    if not policies.can_manage_booking_rules(actor, blackout.venue):
        raise NotAllowed(_("您没有管理该场地预约规则的权限。"))
    unknown = sorted(set(changes) - {"first_date", "last_date", "reason"})
    if unknown:
        raise Invalid(_("不能修改字段：%(field)s") % {"field": unknown[0]}, code="invalid_field", field=unknown[0])
    for name, value in changes.items():
        setattr(blackout, name, value)
    with transaction.atomic():
        _validated(blackout).save(update_fields=list(changes) or None)
    return blackout


def remove_blackout(*, actor: User, blackout: Blackout) -> None:
    actor = _signed_in(actor)
    if not policies.can_manage_booking_rules(actor, blackout.venue):
        raise NotAllowed(_("您没有管理该场地预约规则的权限。"))
    with transaction.atomic():
        blackout.delete()
