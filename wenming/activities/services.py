"""Every write about plans, activities, sign-ups, attendance, hours corrections and recaps.

Contested moves are settled by the database, never by a check in Python
alone:

- a seat: ``UPDATE activity SET confirmed_count = confirmed_count + 1
  WHERE id = … AND confirmed_count < seats``; the row count decides, and a
  check constraint would refuse an oversell anyway. On PostgreSQL the
  UPDATE locks the row, so a rush queues on it; on SQLite every transaction
  is IMMEDIATE and takes the write lock at BEGIN.
- a second sign-up by the same person: a partial unique constraint;
- a check-in: ``UPDATE … WHERE checked_in_at IS NULL``;
- a workflow move: ``UPDATE … WHERE status = <from>``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from wenming.accounts.models import Role, RoleGrant, User
from wenming.accounts.policies import admin_scope
from wenming.activities import policies
from wenming.activities.models import (
    TRANSITIONS,
    Activity,
    ActivityStatus,
    Audience,
    CorrectionStatus,
    HoursCorrection,
    LectureFormat,
    MonthlyTheme,
    Plan,
    Platform,
    Post,
    PublishingRule,
    Recap,
    Series,
    Signup,
    SignupKind,
    SignupStatus,
    StatusChange,
)
from wenming.bookings import services as booking_services
from wenming.core.errors import Conflict, Invalid, NotAllowed, NotFound
from wenming.core.services import apply_changes
from wenming.lib.holidays import monday_of
from wenming.network.models import Brand, Project, Site, Venue
from wenming.notices.services import notify
from wenming.volunteers import services as volunteer_services
from wenming.volunteers.models import ServiceRecord, ServiceSource, Volunteer

SIGNUP_SALT = "wenming.activities.signup"
ONSITE_SALT = "wenming.activities.onsite"
# Short codes people read aloud or type: no 0/O, 1/I/L.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6
CHECKIN_EARLY = dt.timedelta(minutes=30)
MAX_DURATION = dt.timedelta(days=7)
MAX_SERIES_WEEKS = 53
HOURS_PLACES = Decimal("0.01")
# Where the QR codes lead (the pages in staff.py answer at these paths; a test checks they resolve).
SCAN_PATH = "/staff/scan/"
SELF_CHECKIN_PATH = "/activities/{id}/checkin/"


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _aware(value: Any, field: str) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise Invalid(_("时间格式不正确，须包含时区。"), code="invalid_time", field=field)
    return value


# --- Plans and themes -------------------------------------------------------------------------------


def create_plan(*, actor: User, site: Site, year: int, title: str, description: str = "") -> Plan:
    if not policies.can_run_activities_at(actor, site):
        raise NotAllowed(_("您没有为该阵地制定计划的权限。"))
    title = (title or "").strip()
    if not title or len(title) > 100:
        raise Invalid(_("请输入不超过100个字的计划标题。"), code="invalid_title", field="title")
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise Invalid(_("年度不正确。"), code="invalid_year", field="year")
    try:
        with transaction.atomic():
            return Plan.objects.create(site=site, year=year, title=title, description=description.strip())
    except IntegrityError as exc:
        raise Conflict(_("该阵地这一年度已有计划。"), code="plan_exists", field="year") from exc


def set_monthly_theme(*, actor: User, plan: Plan, month: int, theme: str, description: str = "") -> MonthlyTheme:
    if not policies.can_run_activities_at(actor, plan.site):
        raise NotAllowed(_("您没有修改该计划的权限。"))
    theme = (theme or "").strip()
    if not theme or len(theme) > 100:
        raise Invalid(_("请输入不超过100个字的月度主题。"), code="invalid_theme", field="theme")
    if not isinstance(month, int) or not 1 <= month <= 12:
        raise Invalid(_("月份应在1到12之间。"), code="invalid_month", field="month")
    with transaction.atomic():
        row, _created = MonthlyTheme.objects.update_or_create(
            plan=plan, month=month, defaults={"theme": theme, "description": description.strip()}
        )
    return row


def update_plan(*, actor: User, plan: Plan, title: str | None = None, description: str | None = None) -> Plan:
    if not policies.can_run_activities_at(actor, plan.site):
        raise NotAllowed(_("您没有修改该计划的权限。"))
    changes: dict[str, Any] = {}
    if title is not None:
        title = title.strip()
        if not title or len(title) > 100:
            raise Invalid(_("请输入不超过100个字的计划标题。"), code="invalid_title", field="title")
        changes["title"] = title
    if description is not None:
        changes["description"] = description.strip()
    return apply_changes(plan, changes, allowed=("title", "description"))


def plan_for(site: Site, day: dt.date) -> Plan | None:
    """The plan an activity of ``site`` on ``day`` belongs to: the site's own, else the nearest ancestor's."""
    ids = [*site.ancestor_ids, site.pk]
    plans = {p.site_id: p for p in Plan.objects.filter(site_id__in=ids, year=day.year)}
    for site_id in reversed(ids):
        if site_id in plans:
            return plans[site_id]
    return None


def theme_of(activity: Activity) -> MonthlyTheme | None:
    if activity.plan_id is None:
        return None
    month = timezone.localtime(activity.starts_at).month
    return MonthlyTheme.objects.filter(plan_id=activity.plan_id, month=month).first()


# --- Activities ----------------------------------------------------------------------------------------

EDITABLE_FIELDS = (
    "title",
    "description",
    "venue",
    "location",
    "brand",
    "project",
    "platform",
    "lecture_format",
    "audience",
    "starts_at",
    "ends_at",
    "seats",
    "waitlist_limit",
    "signup_opens_at",
    "signup_closes_at",
    "cancel_deadline",
    "checkin_opens_at",
    "checkin_closes_at",
    "contact_name",
    "contact_phone",
)


def _in_chain(site: Site, other: Site) -> bool:
    """``other`` is ``site``, above it or below it."""
    return site.path.startswith(other.path) or other.path.startswith(site.path)


def _clean(site: Site, fields: dict[str, Any], current: Activity | None = None) -> dict[str, Any]:
    """Validate activity fields (all of them for a new activity, the changed ones merged for an edit)."""
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        raise Invalid(_("不能修改字段：%(field)s") % {"field": unknown[0]}, code="invalid_field", field=unknown[0])
    merged: dict[str, Any] = {name: getattr(current, name) for name in EDITABLE_FIELDS} if current else {}
    merged.update({k: v.strip() if isinstance(v, str) else v for k, v in fields.items()})
    get = merged.get
    title = get("title") or ""
    if not title or len(title) > 100:
        raise Invalid(_("请输入不超过100个字的活动标题。"), code="invalid_title", field="title")
    if get("platform") not in Platform.values:
        raise Invalid(_("请选择活动所属的服务平台。"), code="invalid_platform", field="platform")
    if (get("lecture_format") or "") not in ("", *LectureFormat.values):
        raise Invalid(_("未知的宣讲形式。"), code="invalid_format", field="lecture_format")
    merged["lecture_format"] = get("lecture_format") or ""
    merged["audience"] = get("audience") or Audience.ALL
    if merged["audience"] not in Audience.values:
        raise Invalid(_("未知的面向对象。"), code="invalid_audience", field="audience")
    starts = _aware(get("starts_at"), "starts_at")
    ends = _aware(get("ends_at"), "ends_at")
    if ends <= starts:
        raise Invalid(_("结束时间必须晚于开始时间。"), code="invalid_time", field="ends_at")
    if ends - starts > MAX_DURATION:
        raise Invalid(_("一场活动不能超过7天；长期活动请建系列活动。"), code="invalid_time", field="ends_at")
    for name in ("seats", "waitlist_limit"):
        value = get(name) or 0
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100_000:
            raise Invalid(_("名额应为0到100000之间的整数。"), code="invalid_seats", field=name)
        merged[name] = value
    if current is not None and merged["seats"] < current.confirmed_count:
        raise Invalid(
            _("已有%(count)d人报名成功，名额不能少于这个数。") % {"count": current.confirmed_count},
            code="invalid_seats",
            field="seats",
        )
    if current is not None and merged["waitlist_limit"] < current.waitlist_count:
        raise Invalid(
            _("已有%(count)d人候补，候补名额不能少于这个数。") % {"count": current.waitlist_count},
            code="invalid_seats",
            field="waitlist_limit",
        )
    venue: Venue | None = get("venue")
    if venue is not None and (not venue.is_active or not _in_chain(site, venue.site)):
        raise Invalid(_("只能选择本阵地、上级或下级阵地的场地。"), code="invalid_venue", field="venue")
    brand: Brand | None = get("brand")
    if brand is not None and not _in_chain(site, brand.site):
        raise Invalid(_("只能选择本阵地、上级或下级阵地的品牌。"), code="invalid_brand", field="brand")
    project: Project | None = get("project")
    if project is not None:
        if brand is None:
            merged["brand"] = brand = project.brand
        if project.brand_id != brand.pk:
            raise Invalid(_("项目不属于所选品牌。"), code="invalid_project", field="project")
        if not _in_chain(site, project.brand.site):
            raise Invalid(_("只能选择本阵地、上级或下级阵地的项目。"), code="invalid_project", field="project")
    opens, closes = get("signup_opens_at"), get("signup_closes_at")
    if opens is not None:
        _aware(opens, "signup_opens_at")
    if closes is not None:
        _aware(closes, "signup_closes_at")
        if closes > ends:
            raise Invalid(_("报名截止不能晚于活动结束。"), code="invalid_time", field="signup_closes_at")
    if opens is not None and closes is not None and closes <= opens:
        raise Invalid(_("报名截止必须晚于报名开始。"), code="invalid_time", field="signup_closes_at")
    deadline = get("cancel_deadline")
    if deadline is not None and _aware(deadline, "cancel_deadline") > ends:
        raise Invalid(_("取消报名截止不能晚于活动结束。"), code="invalid_time", field="cancel_deadline")
    if current is None or "starts_at" in fields or "ends_at" in fields:
        # Check-in windows follow the times unless given.
        merged.setdefault("checkin_opens_at", None)
        if "checkin_opens_at" not in fields:
            merged["checkin_opens_at"] = starts - CHECKIN_EARLY
        if "checkin_closes_at" not in fields:
            merged["checkin_closes_at"] = ends
    copens = _aware(merged["checkin_opens_at"], "checkin_opens_at")
    ccloses = _aware(merged["checkin_closes_at"], "checkin_closes_at")
    if ccloses <= copens:
        raise Invalid(_("签到截止必须晚于签到开始。"), code="invalid_time", field="checkin_closes_at")
    for name, limit in (("contact_name", 50), ("contact_phone", 20), ("location", 200)):
        if len(get(name) or "") > limit:
            raise Invalid(_("内容过长。"), code="too_long", field=name)
        merged[name] = get(name) or ""
    merged["description"] = get("description") or ""
    return merged


def create_activity(
    *,
    actor: User,
    site: Site,
    posts: Sequence[dict[str, Any]] = (),
    series: Series | None = None,
    series_date: dt.date | None = None,
    **fields: Any,
) -> Activity:
    """A new activity, as a draft. ``posts``: [{"name", "headcount", "starts_at"?, "ends_at"?, "description"?}]."""
    if not policies.can_run_activities_at(actor, site):
        raise NotAllowed(_("您没有在该阵地组织活动的权限。"))
    if not site.is_active:
        raise Invalid(_("该阵地已停用。"), code="invalid_site", field="site")
    clean = _clean(site, fields)
    local_start = timezone.localtime(clean["starts_at"]).date()
    with transaction.atomic():
        activity = Activity.objects.create(
            site=site,
            plan=plan_for(site, local_start),
            week_start=monday_of(local_start),
            created_by=actor,
            series=series,
            series_date=series_date,
            **clean,
        )
        for spec in posts:
            _add_post(activity, **spec)
        StatusChange.objects.create(activity=activity, to_status=ActivityStatus.DRAFT, actor=actor)
    return activity


def _add_post(activity: Activity, **spec: Any) -> Post:
    name = str(spec.get("name") or "").strip()
    if not name or len(name) > 50:
        raise Invalid(_("请输入不超过50个字的岗位名称。"), code="invalid_post", field="posts")
    headcount = spec.get("headcount")
    if not isinstance(headcount, int) or isinstance(headcount, bool) or not 1 <= headcount <= 10_000:
        raise Invalid(_("岗位人数应为1到10000之间的整数。"), code="invalid_post", field="posts")
    starts = spec.get("starts_at") or activity.starts_at
    ends = spec.get("ends_at") or activity.ends_at
    _aware(starts, "posts")
    _aware(ends, "posts")
    if ends <= starts:
        raise Invalid(_("岗位的下岗时间必须晚于上岗时间。"), code="invalid_post", field="posts")
    try:
        with transaction.atomic():
            return Post.objects.create(
                activity=activity,
                name=name,
                description=str(spec.get("description") or "")[:200],
                headcount=headcount,
                starts_at=starts,
                ends_at=ends,
            )
    except IntegrityError as exc:
        raise Conflict(_("同一活动的岗位名称不能重复。"), code="post_exists", field="posts") from exc


def add_post(*, actor: User, activity: Activity, **spec: Any) -> Post:
    if not policies.can_edit_activity(actor, activity):
        raise NotFound(_("未找到。"))
    if activity.status in (ActivityStatus.COMPLETED, ActivityStatus.CANCELLED):
        raise Invalid(_("活动已结束或已取消，不能再修改。"), code="activity_closed")
    return _add_post(activity, **spec)


def update_post(*, actor: User, post: Post, **changes: Any) -> Post:
    """Rename a post, change its duties, headcount or times; never below the people already on it."""
    activity = post.activity
    if not policies.can_edit_activity(actor, activity):
        raise NotFound(_("未找到。"))
    if activity.status in (ActivityStatus.COMPLETED, ActivityStatus.CANCELLED):
        raise Invalid(_("活动已结束或已取消，不能再修改。"), code="activity_closed")
    spec = {
        "name": post.name,
        "description": post.description,
        "headcount": post.headcount,
        "starts_at": post.starts_at,
        "ends_at": post.ends_at,
    }
    unknown = sorted(set(changes) - set(spec))
    if unknown:
        raise Invalid(_("不能修改字段：%(field)s") % {"field": unknown[0]}, code="invalid_field", field=unknown[0])
    spec.update(changes)
    name = str(spec["name"] or "").strip()
    if not name or len(name) > 50:
        raise Invalid(_("请输入不超过50个字的岗位名称。"), code="invalid_post", field="name")
    headcount = spec["headcount"]
    if not isinstance(headcount, int) or isinstance(headcount, bool) or not 1 <= headcount <= 10_000:
        raise Invalid(_("岗位人数应为1到10000之间的整数。"), code="invalid_post", field="headcount")
    starts, ends = _aware(spec["starts_at"], "starts_at"), _aware(spec["ends_at"], "ends_at")
    if ends <= starts:
        raise Invalid(_("岗位的下岗时间必须晚于上岗时间。"), code="invalid_post", field="ends_at")
    with transaction.atomic():
        locked = Post.objects.select_for_update().get(pk=post.pk)
        if headcount < locked.filled_count:
            raise Invalid(
                _("已有%(count)d人报名该岗位，人数不能少于这个数。") % {"count": locked.filled_count},
                code="invalid_post",
                field="headcount",
            )
        try:
            Post.objects.filter(pk=post.pk).update(
                name=name,
                description=str(spec["description"] or "")[:200],
                headcount=headcount,
                starts_at=starts,
                ends_at=ends,
            )
        except IntegrityError as exc:
            raise Conflict(_("同一活动的岗位名称不能重复。"), code="post_exists", field="name") from exc
    post.refresh_from_db()
    return post


def update_activity(*, actor: User, activity: Activity, **changes: Any) -> Activity:
    if not policies.can_edit_activity(actor, activity):
        raise NotFound(_("未找到。"))
    if activity.status in (ActivityStatus.COMPLETED, ActivityStatus.CANCELLED):
        raise Invalid(_("活动已结束或已取消，不能再修改。"), code="activity_closed")
    clean = _clean(activity.site, changes, current=activity)
    changed = [name for name in EDITABLE_FIELDS if getattr(activity, name) != clean[name]]
    if not changed:
        return activity
    for name in changed:
        setattr(activity, name, clean[name])
    local_start = timezone.localtime(activity.starts_at).date()
    activity.week_start = monday_of(local_start)
    activity.plan = plan_for(activity.site, local_start)
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(pk=activity.pk)
        if locked.status != activity.status:
            raise Conflict(_("活动状态已变化，请刷新后重试。"), code="stale")
        if activity.seats < locked.confirmed_count:
            raise Invalid(_("名额不能少于已报名人数。"), code="invalid_seats", field="seats")
        activity.revision = locked.revision + 1
        activity.save(update_fields=[*changed, "week_start", "plan", "revision"])
        promoted = _promote_into_free_seats(activity) if "seats" in changed else []
        if activity.status == ActivityStatus.PUBLISHED and {"venue", "starts_at", "ends_at"} & set(changed):
            _hold_venue(actor, activity)
    for signup in promoted:
        _tell_signup(signup)
    activity.refresh_from_db(fields=["confirmed_count", "waitlist_count"])
    return activity


def _promote_into_free_seats(activity: Activity) -> list[Signup]:
    """More seats: the people waiting get them first, in the order they joined (the row is locked)."""
    locked = Activity.objects.get(pk=activity.pk)
    free = locked.seats - locked.confirmed_count
    if free <= 0 or locked.status != ActivityStatus.PUBLISHED or timezone.now() >= locked.starts_at:
        return []
    waiting = list(
        Signup.objects.filter(activity=activity, status=SignupStatus.WAITLISTED).order_by("created_at", "id")[:free]
    )
    if not waiting:
        return []
    now = timezone.now()
    Signup.objects.filter(pk__in=[s.pk for s in waiting]).update(status=SignupStatus.CONFIRMED, promoted_at=now)
    Activity.objects.filter(pk=activity.pk).update(
        confirmed_count=F("confirmed_count") + len(waiting), waitlist_count=F("waitlist_count") - len(waiting)
    )
    for signup in waiting:
        signup.status, signup.promoted_at, signup.activity = SignupStatus.CONFIRMED, now, activity
    return waiting


# --- The workflow ---------------------------------------------------------------------------------------


def _move(activity: Activity, to: str, *, action: str, actor: User | None, note: str = "", **extra: Any) -> Activity:
    """Make ``action``'s move, if the table allows it from the current status; else refuse.

    The UPDATE's row count settles a race between two moves.
    """
    from_status = activity.status
    if TRANSITIONS.get((from_status, to)) != action:
        raise Conflict(
            _("“%(from)s”的活动不能改为“%(to)s”。")
            % {"from": ActivityStatus(from_status).label, "to": ActivityStatus(to).label},
            code="invalid_transition",
        )
    moved = Activity.objects.filter(pk=activity.pk, status=from_status).update(
        status=to, revision=F("revision") + 1, **extra
    )
    if not moved:
        raise Conflict(_("活动状态已变化，请刷新后重试。"), code="stale")
    activity.revision += 1
    activity.status = to
    for key, value in extra.items():
        setattr(activity, key, value)
    StatusChange.objects.create(activity=activity, from_status=from_status, to_status=to, actor=actor, note=note[:200])
    return activity


def _hold_venue(actor: User, activity: Activity) -> None:
    if activity.venue_id is None:
        booking_services.release_activity_hold(actor=actor, activity=activity)
    else:
        booking_services.hold_venue_for_activity(actor=actor, activity=activity)


def _publish(activity: Activity, *, action: str, actor: User, note: str = "") -> Activity:
    _move(activity, ActivityStatus.PUBLISHED, action=action, actor=actor, note=note, published_at=timezone.now())
    if activity.venue_id is not None:
        _hold_venue(actor, activity)
    return activity


def publishes_directly(activity: Activity) -> bool:
    """The nearest publishing rule up the tree decides: a station's rule covers its points."""
    chain = [*activity.site.ancestor_ids, activity.site_id]
    rules = dict(PublishingRule.objects.filter(site_id__in=chain).values_list("site_id", "publish_directly"))
    for site_id in reversed(chain):
        if site_id in rules:
            return bool(rules[site_id])
    return False


def submit_activity(*, actor: User, activity: Activity) -> Activity:
    """A station submits; the activity is published at once when the site may publish directly or the
    submitter may approve it themselves (a sub-centre admin)."""
    if not policies.can_edit_activity(actor, activity):
        raise NotFound(_("未找到。"))
    with transaction.atomic():
        if policies.can_approve_activity(actor, activity) or publishes_directly(activity):
            return _publish(activity, action="publish", actor=actor)
        _move(activity, ActivityStatus.SUBMITTED, action="submit", actor=actor)
        approvers = _approvers_of(activity)
    notify(
        recipients=approvers,
        kind="activity_submitted",
        title=_("有活动待审核"),
        body=_("%(site)s提交了活动“%(title)s”，请审核。") % {"site": activity.site.name, "title": activity.title},
        link=f"/staff/activities/{activity.pk}/",
    )
    return activity


def _approvers_of(activity: Activity) -> list[int]:
    ids = activity.site.ancestor_ids
    return list(RoleGrant.objects.filter(role=Role.SUBCENTRE_ADMIN, site_id__in=ids).values_list("user_id", flat=True))


def approve_activity(*, actor: User, activity: Activity, note: str = "") -> Activity:
    if not policies.can_approve_activity(actor, activity):
        if policies.can_edit_activity(actor, activity):
            raise NotAllowed(_("活动须由上级分中心审核。"), code="approval_required")
        raise NotFound(_("未找到。"))
    with transaction.atomic():
        _publish(activity, action="approve", actor=actor, note=note)
    _tell_creator(activity, _("活动已通过审核并发布"), _("您提交的活动“%(title)s”已发布。"))
    return activity


def return_activity(*, actor: User, activity: Activity, note: str) -> Activity:
    """Send a submitted activity back to its draft, with the reason."""
    if not policies.can_approve_activity(actor, activity):
        if policies.can_edit_activity(actor, activity):
            raise NotAllowed(_("活动须由上级分中心审核。"), code="approval_required")
        raise NotFound(_("未找到。"))
    note = (note or "").strip()
    if not note:
        raise Invalid(_("退回时请说明原因。"), code="note_required", field="note")
    with transaction.atomic():
        _move(activity, ActivityStatus.DRAFT, action="return", actor=actor, note=note)
    _tell_creator(activity, _("活动被退回修改"), _("您提交的活动“%(title)s”被退回：") + note)
    return activity


def _tell_creator(activity: Activity, title: str, body: str) -> None:
    creator_id = activity.created_by_id
    text = body % {"title": activity.title} if "%(title)s" in body else body
    notify(
        recipients=[creator_id],
        kind="activity_reviewed",
        title=title,
        body=text,
        link=f"/staff/activities/{activity.pk}/",
    )


def cancel_activity(*, actor: User, activity: Activity, reason: str) -> Activity:
    """Cancel, release the venue, and tell everyone signed up."""
    if not policies.can_edit_activity(actor, activity):
        raise NotFound(_("未找到。"))
    reason = (reason or "").strip()
    if not reason or len(reason) > 200:
        raise Invalid(_("请填写不超过200字的取消原因。"), code="reason_required", field="reason")
    with transaction.atomic():
        _move(activity, ActivityStatus.CANCELLED, action="cancel", actor=actor, note=reason, cancel_reason=reason)
        booking_services.release_activity_hold(actor=actor, activity=activity)
        people = list(
            Signup.objects.filter(activity=activity)
            .exclude(status=SignupStatus.CANCELLED)
            .values_list("user_id", flat=True)
        )
    when = timezone.localtime(activity.starts_at)
    notify(
        recipients=people,
        kind="activity_cancelled",
        title=_("活动取消通知"),
        body=_("您报名的“%(title)s”（%(when)s）已取消。原因：%(reason)s")
        % {"title": activity.title, "when": f"{when:%m-%d %H:%M}", "reason": reason},
        link=f"/activities/{activity.pk}/",
        dedupe_key=f"activity-cancelled:{activity.pk}",
    )
    return activity


def complete_activity(*, actor: User | None, activity: Activity, now: dt.datetime | None = None) -> Activity:
    if actor is not None and not policies.can_edit_activity(actor, activity):
        raise NotFound(_("未找到。"))
    if _now(now) < activity.ends_at:
        raise Invalid(_("活动尚未结束。"), code="not_ended")
    with transaction.atomic():
        return _move(activity, ActivityStatus.COMPLETED, action="complete", actor=actor)


def complete_ended(*, now: dt.datetime | None = None) -> int:
    """Mark published activities that have ended as completed (a background task calls this)."""
    done = 0
    for activity in Activity.objects.filter(status=ActivityStatus.PUBLISHED, ends_at__lte=_now(now)):
        try:
            complete_activity(actor=None, activity=activity, now=now)
        except Conflict:
            continue  # someone else moved it meanwhile
        done += 1
    return done


def set_publishing_rule(*, actor: User, site: Site, publish_directly: bool) -> PublishingRule:
    if not admin_scope(actor).covers(site):
        raise NotAllowed(_("只有上级管理员可以设置是否免审核发布。"))
    with transaction.atomic():
        rule, _created = PublishingRule.objects.update_or_create(
            site=site, defaults={"publish_directly": bool(publish_directly)}
        )
    return rule


# --- Weekly series --------------------------------------------------------------------------------------


def create_series(
    *,
    actor: User,
    site: Site,
    last_date: dt.date,
    posts: Sequence[dict[str, Any]] = (),
    skip_dates: Iterable[dt.date] = (),
    **fields: Any,
) -> Series:
    """A weekly series: one draft activity per week from the first start to ``last_date``.

    ``fields`` describe the first occurrence; later ones keep its weekday and
    times. Each occurrence is an activity of its own: change or cancel (skip)
    a single date with ``update_activity`` / ``skip_occurrence``.
    """
    if not policies.can_run_activities_at(actor, site):
        raise NotAllowed(_("您没有在该阵地组织活动的权限。"))
    clean = _clean(site, fields)
    first_start = timezone.localtime(clean["starts_at"])
    first_end = timezone.localtime(clean["ends_at"])
    if not isinstance(last_date, dt.date) or last_date < first_start.date():
        raise Invalid(_("末次日期不能早于首次日期。"), code="invalid_date", field="last_date")
    weeks = (last_date - first_start.date()).days // 7 + 1
    if weeks > MAX_SERIES_WEEKS:
        raise Invalid(_("系列活动最长一年。"), code="invalid_date", field="last_date")
    skip = set(skip_dates)
    with transaction.atomic():
        series = Series.objects.create(
            site=site,
            title=clean["title"],
            weekday=first_start.weekday(),
            starts=first_start.time(),
            ends=first_end.time() if first_end.date() == first_start.date() else dt.time(23, 59),
            first_date=first_start.date(),
            last_date=last_date,
            created_by=actor,
        )
        for week in range(weeks):
            shift = dt.timedelta(weeks=week)
            day = first_start.date() + shift
            if day in skip:
                continue
            occurrence = {**clean}
            for name in ("starts_at", "ends_at", "signup_opens_at", "signup_closes_at", "cancel_deadline"):
                if occurrence.get(name) is not None:
                    occurrence[name] = _shift_local(occurrence[name], shift)
            occurrence.pop("checkin_opens_at", None)
            occurrence.pop("checkin_closes_at", None)
            occurrence_posts = [
                {**p, **{k: _shift_local(p[k], shift) for k in ("starts_at", "ends_at") if p.get(k)}} for p in posts
            ]
            create_activity(
                actor=actor, site=site, posts=occurrence_posts, series=series, series_date=day, **occurrence
            )
    return series


def _shift_local(value: dt.datetime, shift: dt.timedelta) -> dt.datetime:
    """The same wall-clock time ``shift`` later (China has no DST, but stay honest)."""
    local = timezone.localtime(value)
    naive = local.replace(tzinfo=None) + shift
    return timezone.make_aware(naive)


def skip_occurrence(*, actor: User, activity: Activity, reason: str) -> Activity:
    """Skip one date of a series: that occurrence is cancelled (its sign-ups are told); the rest stand."""
    if activity.series_id is None:
        raise Invalid(_("这不是系列活动中的一次。"), code="not_in_series")
    return cancel_activity(actor=actor, activity=activity, reason=reason)


def submit_series(*, actor: User, series: Series) -> int:
    """Submit every draft occurrence of a series; returns how many moved."""
    moved = 0
    with transaction.atomic():
        for activity in series.occurrences.filter(status=ActivityStatus.DRAFT).select_related("site"):
            submit_activity(actor=actor, activity=activity)
            moved += 1
    return moved


# --- Sign-up -----------------------------------------------------------------------------------------------


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _refuse_if_closed(activity: Activity, now: dt.datetime, *, staff: bool) -> None:
    if activity.status != ActivityStatus.PUBLISHED:
        if activity.status == ActivityStatus.CANCELLED:
            raise Conflict(_("活动已取消。"), code="activity_cancelled")
        raise Conflict(_("活动未开放报名。"), code="not_open")
    opens, closes = activity.signup_window()
    if staff:
        if now >= activity.ends_at:
            raise Conflict(_("活动已结束。"), code="closed")
        return
    if opens is not None and now < opens:
        when = timezone.localtime(opens)
        raise Conflict(_("报名将于%(when)s开始。") % {"when": f"{when:%m-%d %H:%M}"}, code="not_open")
    if now >= closes:
        raise Conflict(_("报名已截止。"), code="closed")


def sign_up(
    *,
    actor: User,
    activity: Activity,
    user: User | None = None,
    post: Post | None = None,
    now: dt.datetime | None = None,
) -> Signup:
    """Sign a resident up for a seat (or the waitlist), or a volunteer up for a post.

    Residents sign themselves up; staff may sign anyone up, also outside the
    sign-up window (but not after the end). The seat, the waitlist place and
    the post place are each taken by one conditional UPDATE.
    """
    now = _now(now)
    person = user or actor
    if not actor.is_authenticated or not actor.is_active:
        raise NotAllowed(_("请先登录。"), status=401, code="unauthorized")
    staff = person.pk != actor.pk
    if staff and not policies.can_sign_up_others(actor, activity):
        raise NotAllowed(_("您没有为他人报名该活动的权限。"))
    if not policies.can_view_activity(actor, activity):
        raise NotFound(_("未找到。"))
    if not person.is_active:
        raise Invalid(_("该账号已停用。"), code="inactive_user")
    _refuse_if_closed(activity, now, staff=staff)
    kind = SignupKind.VOLUNTEER if post is not None else SignupKind.RESIDENT
    if post is not None:
        if post.activity_id != activity.pk:
            raise NotFound(_("未找到该岗位。"), code="not_found")
        if not Volunteer.objects.filter(user=person, is_active=True).exists():
            raise NotAllowed(_("只有注册志愿者才能报名志愿岗位。"), code="not_a_volunteer")
    elif activity.seats == 0:
        raise Conflict(_("该活动不接受居民报名。"), code="no_seats")
    if Signup.objects.filter(activity=activity, user=person).exclude(status=SignupStatus.CANCELLED).exists():
        raise Conflict(_("已经报过名了。"), code="already_signed_up")
    with transaction.atomic():
        if post is not None:
            taken = Post.objects.filter(
                pk=post.pk, filled_count__lt=F("headcount"), activity__status=ActivityStatus.PUBLISHED
            ).update(filled_count=F("filled_count") + 1)
            if not taken:
                raise Conflict(_("该岗位已满。"), code="post_full")
            status = SignupStatus.CONFIRMED
        else:
            live = Activity.objects.filter(pk=activity.pk, status=ActivityStatus.PUBLISHED)
            if live.filter(confirmed_count__lt=F("seats")).update(confirmed_count=F("confirmed_count") + 1):
                status = SignupStatus.CONFIRMED
            elif live.filter(waitlist_count__lt=F("waitlist_limit")).update(waitlist_count=F("waitlist_count") + 1):
                status = SignupStatus.WAITLISTED
            elif not live.exists():
                raise Conflict(_("活动未开放报名。"), code="not_open")
            else:
                raise Conflict(_("名额已满。"), code="full")
        signup = _insert_signup(activity, person, actor, kind, post, status, now)
    _tell_signup(signup)
    return signup


def _insert_signup(
    activity: Activity, person: User, actor: User, kind: str, post: Post | None, status: str, now: dt.datetime
) -> Signup:
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Signup.objects.create(
                    activity=activity,
                    user=person,
                    kind=kind,
                    post=post,
                    status=status,
                    code=_new_code(),
                    created_at=now,
                    created_by=actor,
                )
        except IntegrityError as exc:
            if Signup.objects.filter(activity=activity, user=person).exclude(status=SignupStatus.CANCELLED).exists():
                # The outer transaction rolls back the seat this call took.
                raise Conflict(_("已经报过名了。"), code="already_signed_up") from exc
            # Otherwise the short code collided: draw another.
    raise Conflict(_("系统繁忙，请重试。"), code="busy")


def _tell_signup(signup: Signup) -> None:
    activity = signup.activity
    when = timezone.localtime(activity.starts_at)
    if signup.status == SignupStatus.CONFIRMED:
        title, body = _("报名成功"), _("您已报名“%(title)s”，%(when)s，签到码 %(code)s。")
    else:
        title, body = _("已进入候补"), _("“%(title)s”名额已满，您已进入候补；有人取消时将按顺序自动递补并通知您。")
    text = body % {"title": activity.title, "when": f"{when:%m-%d %H:%M}", "code": signup.code}
    user_id = signup.user_id
    notify(
        recipients=[user_id],
        kind="signup",
        title=title,
        body=text,
        link="/activities/mine/",
        dedupe_key=f"signup:{signup.pk}:{signup.status}",
    )


def cancel_signup(*, actor: User, signup: Signup, now: dt.datetime | None = None) -> Signup:
    """Cancel a sign-up. A confirmed resident's seat goes to the first on the waitlist, at once."""
    now = _now(now)
    if not policies.can_cancel_signup(actor, signup):
        raise NotFound(_("未找到。"))
    activity = signup.activity
    staff = signup.user_id != actor.pk
    if not staff and now >= activity.cancel_until():
        raise Conflict(_("已过取消报名的截止时间，请联系活动负责人。"), code="cancel_closed")
    if staff and now >= activity.ends_at:
        raise Conflict(_("活动已结束。"), code="closed")
    promoted: Signup | None = None
    with transaction.atomic():
        # Lock the activity row: cancellations and promotions of one activity take turns.
        Activity.objects.select_for_update().filter(pk=activity.pk).exists()
        previous = Signup.objects.filter(pk=signup.pk).values_list("status", flat=True).first()
        if previous is None or previous == SignupStatus.CANCELLED:
            raise Conflict(_("该报名已取消。"), code="already_cancelled")
        if signup.checked_in_at is not None:
            raise Conflict(_("已签到，不能取消报名。"), code="checked_in")
        Signup.objects.filter(pk=signup.pk).update(status=SignupStatus.CANCELLED, cancelled_at=now)
        if signup.post_id is not None:
            Post.objects.filter(pk=signup.post_id).update(filled_count=F("filled_count") - 1)
        elif previous == SignupStatus.WAITLISTED:
            Activity.objects.filter(pk=activity.pk).update(waitlist_count=F("waitlist_count") - 1)
        else:
            promoted = (
                Signup.objects.filter(activity=activity, status=SignupStatus.WAITLISTED)
                .order_by("created_at", "id")
                .first()
                if activity.status == ActivityStatus.PUBLISHED and now < activity.starts_at
                else None
            )
            if promoted is not None:
                Signup.objects.filter(pk=promoted.pk).update(status=SignupStatus.CONFIRMED, promoted_at=now)
                Activity.objects.filter(pk=activity.pk).update(waitlist_count=F("waitlist_count") - 1)
                promoted.status = SignupStatus.CONFIRMED
                promoted.promoted_at = now
            else:
                Activity.objects.filter(pk=activity.pk).update(confirmed_count=F("confirmed_count") - 1)
        signup.status = SignupStatus.CANCELLED
        signup.cancelled_at = now
    if promoted is not None:
        _tell_signup(promoted)
    return signup


# --- Check-in and check-out -------------------------------------------------------------------------


class Outcome(StrEnum):
    OK = "ok"
    ALREADY = "already"
    NOT_OPEN = "not_open"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    WAITLISTED = "waitlisted"
    NOT_CHECKED_IN = "not_checked_in"
    INVALID = "invalid"


OUTCOME_MESSAGES = {
    Outcome.OK: _("签到成功"),
    Outcome.ALREADY: _("已经签到过了"),
    Outcome.NOT_OPEN: _("签到尚未开始"),
    Outcome.CLOSED: _("签到已截止"),
    Outcome.CANCELLED: _("报名或活动已取消"),
    Outcome.WAITLISTED: _("仍在候补，未获得名额"),
    Outcome.NOT_CHECKED_IN: _("尚未签到，不能签退"),
    Outcome.INVALID: _("无效的签到码"),
}


@dataclass(frozen=True)
class Scan:
    """The answer to one scan or typed code: an outcome, and the sign-up when one was found."""

    outcome: Outcome
    signup: Signup | None = None
    checking_out: bool = False
    hours: Decimal | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == Outcome.OK

    @property
    def message(self) -> str:
        if self.checking_out:
            if self.outcome == Outcome.OK:
                return str(_("签退成功，记录服务时长%(hours)s小时") % {"hours": self.hours})
            if self.outcome == Outcome.ALREADY:
                return str(_("已经签退过了"))
        return str(OUTCOME_MESSAGES[self.outcome])


def signup_token(signup: Signup) -> str:
    """What a sign-up's QR code carries: its id, signed with the secret key (not guessable)."""
    return signing.Signer(salt=SIGNUP_SALT).sign(str(signup.pk))


def signup_qr_url(signup: Signup) -> str:
    """The absolute URL in a person's QR: a staff phone's camera opens the scanner on it."""
    return f"{settings.SITE_URL}{SCAN_PATH}?t={signup_token(signup)}"


def onsite_token(activity: Activity) -> str:
    return signing.Signer(salt=ONSITE_SALT).sign(str(activity.pk))


def onsite_qr_url(activity: Activity) -> str:
    """The activity's on-site QR (posted at the door): residents scan it to check themselves in."""
    return f"{settings.SITE_URL}{SELF_CHECKIN_PATH.format(id=activity.pk)}?t={onsite_token(activity)}"


def _unsign(token: str, salt: str) -> int | None:
    try:
        value = signing.Signer(salt=salt).unsign((token or "").strip())
        return int(value)
    except (signing.BadSignature, ValueError):
        return None


def find_signup(*, activity: Activity | None, token: str = "", code: str = "") -> Signup | None:
    """The sign-up a scanned token or a typed short code names (codes are per activity)."""
    if token:
        pk = _unsign(token, SIGNUP_SALT)
        if pk is None:
            return None
        found = Signup.objects.select_related("activity", "activity__site", "user", "post").filter(pk=pk).first()
        if found is None or (activity is not None and found.activity_id != activity.pk):
            return None
        return found
    code = (code or "").strip().upper().replace(" ", "")
    if activity is None or not code or len(code) > 8:
        return None
    return (
        Signup.objects.select_related("activity", "activity__site", "user", "post")
        .filter(activity=activity, code=code)
        .order_by("-id")
        .first()
    )


def _window(signup: Signup, now: dt.datetime) -> Outcome | None:
    activity = signup.activity
    if signup.status == SignupStatus.CANCELLED or activity.status == ActivityStatus.CANCELLED:
        return Outcome.CANCELLED
    if signup.status == SignupStatus.WAITLISTED:
        return Outcome.WAITLISTED
    if activity.status not in (ActivityStatus.PUBLISHED, ActivityStatus.COMPLETED):
        return Outcome.INVALID
    if now < activity.checkin_opens_at:
        return Outcome.NOT_OPEN
    if now > activity.checkin_closes_at:
        return Outcome.CLOSED
    return None


def _check_in(signup: Signup, actor: User, now: dt.datetime) -> Scan:
    refused = _window(signup, now)
    if refused is not None:
        return Scan(refused, signup)
    done = Signup.objects.filter(pk=signup.pk, status=SignupStatus.CONFIRMED, checked_in_at__isnull=True).update(
        checked_in_at=now, checked_in_by=actor
    )
    if not done:
        signup.refresh_from_db()
        if signup.status != SignupStatus.CONFIRMED:
            return Scan(Outcome.CANCELLED, signup)
        return Scan(Outcome.ALREADY, signup)
    signup.checked_in_at, signup.checked_in_by = now, actor
    return Scan(Outcome.OK, signup)


def check_in(
    *,
    actor: User,
    activity: Activity | None = None,
    token: str = "",
    code: str = "",
    now: dt.datetime | None = None,
) -> Scan:
    """Staff at the door: a scanned QR (``token``) or a typed short ``code`` for ``activity``."""
    now = _now(now)
    if activity is not None and not policies.can_scan(actor, activity):
        raise NotFound(_("未找到。"))
    signup = find_signup(activity=activity, token=token, code=code)
    if signup is None:
        return Scan(Outcome.INVALID)
    if not policies.can_scan(actor, signup.activity):
        return Scan(Outcome.INVALID)
    with transaction.atomic():
        return _check_in(signup, actor, now)


def self_check_in(*, actor: User, activity: Activity, token: str, now: dt.datetime | None = None) -> Scan:
    """A resident scans the activity's on-site QR during the check-in window."""
    now = _now(now)
    if _unsign(token, ONSITE_SALT) != activity.pk:
        return Scan(Outcome.INVALID)
    signup = (
        Signup.objects.select_related("activity", "post")
        .filter(activity=activity, user=actor)
        .exclude(status=SignupStatus.CANCELLED)
        .first()
    ) or Signup.objects.select_related("activity", "post").filter(activity=activity, user=actor).order_by("-id").first()
    if signup is None:
        return Scan(Outcome.INVALID)
    with transaction.atomic():
        return _check_in(signup, actor, now)


def _post_hours(post: Post) -> Decimal:
    seconds = Decimal((post.ends_at - post.starts_at).total_seconds())
    return min(Decimal(24), (seconds / Decimal(3600)).quantize(HOURS_PLACES, rounding=ROUND_HALF_UP))


def hours_served(signup: Signup) -> Decimal:
    """Time between check-in and check-out that falls within the post's scheduled time.

    Anything before the post starts or after it ends (travel, waiting,
    staying late) does not count; nor can the total exceed the post's time.
    """
    if signup.post is None or signup.checked_in_at is None or signup.checked_out_at is None:
        return Decimal("0.00")
    start = max(signup.checked_in_at, signup.post.starts_at)
    end = min(signup.checked_out_at, signup.post.ends_at)
    if end <= start:
        return Decimal("0.00")
    hours = Decimal((end - start).total_seconds()) / Decimal(3600)
    # Rounded down: the ledger never holds more than the clock showed.
    return hours.quantize(HOURS_PLACES, rounding=ROUND_DOWN)


def check_out(
    *,
    actor: User,
    activity: Activity | None = None,
    token: str = "",
    code: str = "",
    signup: Signup | None = None,
    now: dt.datetime | None = None,
) -> Scan:
    """A volunteer checks out (staff scan, or the volunteer themselves); the hours go into the ledger."""
    now = _now(now)
    if signup is None:
        if activity is not None and not policies.can_scan(actor, activity):
            raise NotFound(_("未找到。"))
        signup = find_signup(activity=activity, token=token, code=code)
        if signup is None or not policies.can_scan(actor, signup.activity):
            return Scan(Outcome.INVALID, checking_out=True)
    elif signup.user_id != actor.pk and not policies.can_scan(actor, signup.activity):
        raise NotFound(_("未找到。"))
    post = signup.post
    if post is None:
        return Scan(Outcome.INVALID, signup, checking_out=True)
    if signup.status == SignupStatus.CANCELLED or signup.activity.status == ActivityStatus.CANCELLED:
        return Scan(Outcome.CANCELLED, signup, checking_out=True)
    if signup.checked_in_at is None:
        return Scan(Outcome.NOT_CHECKED_IN, signup, checking_out=True)
    with transaction.atomic():
        done = Signup.objects.filter(pk=signup.pk, checked_out_at__isnull=True).update(checked_out_at=now)
        if not done:
            return Scan(Outcome.ALREADY, signup, checking_out=True)
        signup.checked_out_at = now
        hours = hours_served(signup)
        if hours > 0:
            volunteer_services.record_activity_hours(
                recorder=actor,
                volunteer=Volunteer.objects.get(user_id=signup.user_id),
                site=signup.activity.site,
                description=f"{signup.activity.title} · {post.name}"[:200],
                started_at=max(signup.checked_in_at, post.starts_at),
                ended_at=min(now, post.ends_at),
                hours=hours,
                source_ref=f"signup:{signup.pk}",
            )
    return Scan(Outcome.OK, signup, checking_out=True, hours=hours)


def attendance(activity: Activity) -> dict[str, int]:
    """Head counts of one activity, in one query: 报名, 候补, 签到 (person-times), 志愿者签退."""
    live = Signup.objects.filter(activity=activity).exclude(status=SignupStatus.CANCELLED)
    return live.aggregate(
        confirmed=Count("pk", filter=Q(status=SignupStatus.CONFIRMED)),
        waitlisted=Count("pk", filter=Q(status=SignupStatus.WAITLISTED)),
        checked_in=Count("pk", filter=Q(checked_in_at__isnull=False)),
        checked_out=Count("pk", filter=Q(checked_out_at__isnull=False)),
    )


# --- Hours corrections ------------------------------------------------------------------------------------


def ledger_entry_for(signup: Signup) -> ServiceRecord | None:
    return (
        ServiceRecord.objects.filter(source=ServiceSource.ACTIVITY, source_ref=f"signup:{signup.pk}")
        .order_by("id")
        .first()
    )


def request_hours_correction(*, actor: User, signup: Signup, hours: Any, reason: str) -> HoursCorrection:
    """A volunteer asks for a correction of the hours recorded at check-out."""
    if not policies.can_request_correction(actor, signup):
        raise NotFound(_("未找到。"))
    reason = (reason or "").strip()
    if not reason or len(reason) > 200:
        raise Invalid(_("请填写不超过200字的更正理由。"), code="reason_required", field="reason")
    try:
        requested = Decimal(str(hours)).quantize(HOURS_PLACES, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError) as exc:
        raise Invalid(_("时长应为数字。"), code="invalid_hours", field="hours") from exc
    if not requested.is_finite() or not Decimal(0) <= requested <= Decimal(24):
        raise Invalid(_("时长应在0到24小时之间。"), code="invalid_hours", field="hours")
    if signup.post is None or signup.checked_out_at is None:
        raise Invalid(_("签退后才能申请更正时长。"), code="not_checked_out")
    scheduled = _post_hours(signup.post)
    if requested > scheduled:
        raise Invalid(_("不能超过岗位时长%(hours)s小时。") % {"hours": scheduled}, code="invalid_hours", field="hours")
    try:
        with transaction.atomic():
            correction = HoursCorrection.objects.create(signup=signup, requested_hours=requested, reason=reason)
    except IntegrityError as exc:
        raise Conflict(_("已有一条待审核的更正申请。"), code="correction_pending") from exc
    managers = _managers_of(signup.activity.site)
    notify(
        recipients=managers,
        kind="hours_correction",
        title=_("有志愿时长更正申请"),
        body=_("%(name)s申请更正“%(title)s”的服务时长为%(hours)s小时：%(reason)s")
        % {"name": actor.name, "title": signup.activity.title, "hours": requested, "reason": reason},
        link="/staff/corrections/",
    )
    return correction


def _managers_of(site: Site) -> list[int]:
    return list(
        RoleGrant.objects.filter(role=Role.STATION_MANAGER, site_id__in=[*site.ancestor_ids, site.pk]).values_list(
            "user_id", flat=True
        )
    )


def decide_hours_correction(
    *, actor: User, correction: HoursCorrection, approve: bool, note: str = ""
) -> HoursCorrection:
    """The station manager approves (a new ledger entry with the difference) or rejects."""
    if not policies.can_decide_correction(actor, correction):
        raise NotFound(_("未找到。"))
    note = (note or "").strip()[:200]
    if not approve and not note:
        raise Invalid(_("驳回时请说明原因。"), code="note_required", field="note")
    signup = correction.signup
    now = timezone.now()
    with transaction.atomic():
        claimed = HoursCorrection.objects.filter(pk=correction.pk, status=CorrectionStatus.PENDING).update(
            status=CorrectionStatus.APPROVED if approve else CorrectionStatus.REJECTED,
            decided_by=actor,
            decided_at=now,
            decision_note=note,
        )
        if not claimed:
            raise Conflict(_("该申请已处理。"), code="already_decided")
        entry = None
        if approve:
            entry = _apply_correction(actor, signup, correction, note)
            HoursCorrection.objects.filter(pk=correction.pk).update(ledger_entry=entry)
    correction.refresh_from_db()
    verdict = _("已通过") if approve else _("未通过")
    user_id = signup.user_id
    notify(
        recipients=[user_id],
        kind="hours_correction_decided",
        title=_("时长更正申请%(verdict)s") % {"verdict": verdict},
        body=_("“%(title)s”的时长更正申请%(verdict)s。%(note)s")
        % {"title": signup.activity.title, "verdict": verdict, "note": note},
        link="/activities/mine/",
    )
    return correction


def _apply_correction(actor: User, signup: Signup, correction: HoursCorrection, note: str) -> ServiceRecord:
    original = ledger_entry_for(signup)
    reason = f"{correction.reason}{'；' + note if note else ''}"[:200]
    if original is not None:
        assert signup.post is not None
        return volunteer_services.correct_service(
            actor=actor,
            original=original,
            new_hours=correction.requested_hours,
            note=reason,
            max_hours=_post_hours(signup.post),
        )
    # Nothing was recorded at check-out (no overlap with the post): record the approved hours now.
    assert signup.post is not None
    return volunteer_services.record_service(
        actor=actor,
        volunteer=Volunteer.objects.get(user_id=signup.user_id),
        site=signup.activity.site,
        description=f"{signup.activity.title} · {signup.post.name}"[:200],
        started_at=signup.post.starts_at,
        ended_at=signup.post.ends_at,
        hours=correction.requested_hours,
        source=ServiceSource.ACTIVITY,
        source_ref=f"signup:{signup.pk}",
        note=reason,
    )


# --- Recaps ---------------------------------------------------------------------------------------------


def publish_recap(*, actor: User, activity: Activity, title: str, body: str, now: dt.datetime | None = None) -> Recap:
    if not policies.can_publish_recap(actor, activity):
        raise NotFound(_("未找到。"))
    if activity.status not in (ActivityStatus.PUBLISHED, ActivityStatus.COMPLETED) or _now(now) < activity.starts_at:
        raise Invalid(_("活动开始后才能发布回顾。"), code="not_started")
    title = (title or "").strip()
    body = (body or "").strip()
    if not title or len(title) > 100:
        raise Invalid(_("请输入不超过100个字的标题。"), code="invalid_title", field="title")
    if not body or len(body) > 20_000:
        raise Invalid(_("请填写回顾正文（不超过两万字）。"), code="invalid_body", field="body")
    try:
        with transaction.atomic():
            return Recap.objects.create(activity=activity, title=title, body=body, author=actor)
    except IntegrityError as exc:
        raise Conflict(_("该活动已有回顾。"), code="recap_exists") from exc


def update_recap(*, actor: User, recap: Recap, title: str | None = None, body: str | None = None) -> Recap:
    if not policies.can_publish_recap(actor, recap.activity):
        raise NotFound(_("未找到。"))
    changes: dict[str, Any] = {}
    if title is not None:
        title = title.strip()
        if not title or len(title) > 100:
            raise Invalid(_("请输入不超过100个字的标题。"), code="invalid_title", field="title")
        changes["title"] = title
    if body is not None:
        body = body.strip()
        if not body or len(body) > 20_000:
            raise Invalid(_("请填写回顾正文（不超过两万字）。"), code="invalid_body", field="body")
        changes["body"] = body
    return apply_changes(recap, changes, allowed=("title", "body"))
