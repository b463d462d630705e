"""Every write about volunteers, teams and the hours ledger."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from wenming.accounts import audit
from wenming.accounts import policies as account_policies
from wenming.accounts import services as account_services
from wenming.accounts.models import AuditAction, Role, User
from wenming.core.errors import Conflict, Invalid, NotAllowed, NotFound
from wenming.core.services import apply_changes
from wenming.network.models import Site
from wenming.units.models import Organization
from wenming.volunteers import policies
from wenming.volunteers.models import (
    DAY_PARTS,
    WEEKDAYS,
    PoliticalStatus,
    ServiceRecord,
    ServiceSource,
    Skill,
    Team,
    TeamMembership,
    Volunteer,
)

HOURS_PLACES = Decimal("0.01")


def clean_availability(raw: Any) -> dict[str, list[str]]:
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise Invalid(_("可服务时间格式不正确。"), code="invalid_availability", field="availability")
    clean: dict[str, list[str]] = {}
    for day, parts in raw.items():
        if day not in WEEKDAYS or not isinstance(parts, list) or any(p not in DAY_PARTS for p in parts):
            raise Invalid(_("可服务时间格式不正确。"), code="invalid_availability", field="availability")
        if parts:
            clean[day] = sorted(set(parts), key=DAY_PARTS.index)
    return clean


def register_volunteer(
    *,
    actor: User | None,
    user: User,
    site: Site,
    skills: list[Skill] | None = None,
    availability: Any = None,
    political_status: str = PoliticalStatus.MASSES,
    work_unit: Organization | None = None,
    work_unit_name: str = "",
) -> Volunteer:
    """Enrol a person as a volunteer of a site and grant them the volunteer role there."""
    if political_status not in PoliticalStatus.values:
        raise Invalid(_("未知的政治面貌。"), code="invalid_political_status", field="political_status")
    slots = clean_availability(availability)
    if actor is not None and actor.pk != user.pk and not account_policies.staff_scope(actor).covers(site):
        raise NotAllowed(_("您没有在该阵地登记志愿者的权限。"))
    try:
        with transaction.atomic():
            volunteer = Volunteer.objects.create(
                user=user,
                site=site,
                availability=slots,
                political_status=political_status,
                work_unit=work_unit,
                work_unit_name=work_unit_name.strip()[:100],
            )
            if skills:
                volunteer.skills.set(skills)
            account_services.ensure_role(actor=actor, user=user, role=Role.VOLUNTEER, site=site)
    except IntegrityError as exc:
        raise Conflict(_("此人已登记为志愿者。"), code="volunteer_exists") from exc
    account_policies.forget_grants(user)
    return volunteer


def create_team(*, actor: User | None, site: Site, name: str, description: str = "") -> Team:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise Invalid(_("请输入不超过100个字的队名。"), code="invalid_name", field="name")
    if actor is not None and not account_policies.staff_scope(actor).covers(site):
        raise NotAllowed(_("您没有在该阵地建立服务队的权限。"))
    try:
        with transaction.atomic():
            return Team.objects.create(site=site, name=name, description=description)
    except IntegrityError as exc:
        raise Conflict(_("该阵地已有同名服务队。"), code="team_exists", field="name") from exc


def add_team_member(*, actor: User | None, team: Team, volunteer: Volunteer, is_leader: bool = False) -> TeamMembership:
    if actor is not None and not policies.can_manage_team(actor, team):
        raise NotAllowed(_("您没有管理该服务队的权限。"))
    if actor is not None and not policies.can_view_volunteer(actor, volunteer):
        raise NotFound(_("未找到。"))
    if is_leader and actor is not None and not account_policies.staff_scope(actor).covers(team.site):
        raise NotAllowed(_("只有阵地工作人员可以任命队长。"))
    try:
        with transaction.atomic():
            membership = TeamMembership.objects.create(team=team, volunteer=volunteer, is_leader=is_leader)
            if is_leader:
                account_services.ensure_role(actor=actor, user=volunteer.user, role=Role.TEAM_LEADER, site=team.site)
    except IntegrityError as exc:
        raise Conflict(_("该志愿者已在队中。"), code="member_exists") from exc
    account_policies.forget_grants(volunteer.user)
    return membership


def _hours(value: Any) -> Decimal:
    try:
        hours = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise Invalid(_("时长应为数字。"), code="invalid_hours", field="hours") from exc
    if not hours.is_finite():
        raise Invalid(_("时长应为数字。"), code="invalid_hours", field="hours")
    if not Decimal(-24) <= hours <= Decimal(24):
        raise Invalid(_("一条记录的时长应在24小时以内。"), code="invalid_hours", field="hours")
    return hours.quantize(HOURS_PLACES, rounding=ROUND_HALF_UP)


def record_service(
    *,
    actor: User,
    volunteer: Volunteer,
    site: Site,
    description: str,
    started_at: dt.datetime,
    ended_at: dt.datetime,
    hours: Any = None,
    source: str = ServiceSource.MANUAL,
    source_ref: str = "",
    organiser_site: Site | None = None,
    organiser_unit: Organization | None = None,
    note: str = "",
) -> ServiceRecord:
    """Append one entry to the hours ledger.

    Hours default to the time between start and end, and may never exceed
    it: nobody serves more hours than the clock shows.
    """
    if source == ServiceSource.CORRECTION:
        raise Invalid(_("更正请使用更正功能。"), code="invalid_source", field="source")
    if source not in ServiceSource.values:
        raise Invalid(_("未知的时长来源。"), code="invalid_source", field="source")
    description = (description or "").strip()
    if not description or len(description) > 200:
        raise Invalid(_("请填写不超过200字的服务内容。"), code="invalid_description", field="description")
    if started_at.tzinfo is None or ended_at.tzinfo is None:
        raise Invalid(_("时间必须包含时区。"), code="invalid_time")
    if ended_at <= started_at:
        raise Invalid(_("结束时间必须晚于开始时间。"), code="invalid_time", field="ended_at")
    elapsed = Decimal((ended_at - started_at).total_seconds()) / Decimal(3600)
    amount = _hours(hours) if hours is not None else elapsed.quantize(HOURS_PLACES, rounding=ROUND_HALF_UP)
    if amount <= 0:
        raise Invalid(_("时长必须大于0。"), code="invalid_hours", field="hours")
    if amount > elapsed.quantize(HOURS_PLACES, rounding=ROUND_HALF_UP) or amount > 24:
        raise Invalid(_("时长不能超过实际服务时间。"), code="invalid_hours", field="hours")
    if not policies.can_record_hours(actor, volunteer, site):
        raise NotAllowed(_("您没有为该阵地登记服务时长的权限。"))
    with transaction.atomic():
        entry = ServiceRecord.objects.create(
            volunteer=volunteer,
            description=description,
            site=site,
            started_at=started_at,
            ended_at=ended_at,
            hours=amount,
            source=source,
            source_ref=source_ref[:50],
            organiser_site=organiser_site or site,
            organiser_unit=organiser_unit,
            recorder=actor,
            note=note[:200],
        )
        audit.record(AuditAction.LEDGER_ENTRY, actor=actor, target=entry, site=site, hours=str(amount))
    return entry


def record_activity_hours(
    *,
    recorder: User,
    volunteer: Volunteer,
    site: Site,
    description: str,
    started_at: dt.datetime,
    ended_at: dt.datetime,
    hours: Decimal,
    source_ref: str,
    source: str = ServiceSource.ACTIVITY,
) -> ServiceRecord:
    """The ledger entry a check-out (or a completed service order, ``source=order``) writes. The
    calling service has already decided who may do it and computed the hours (capped by the post's
    scheduled time, or the time served), so no policy is asked here."""
    if source not in {ServiceSource.ACTIVITY, ServiceSource.ORDER}:
        raise ValueError(f"record_activity_hours: not a decided source: {source!r}")
    amount = _hours(hours)
    if amount <= 0:
        raise Invalid(_("时长必须大于0。"), code="invalid_hours", field="hours")
    with transaction.atomic():
        entry = ServiceRecord.objects.create(
            volunteer=volunteer,
            description=description[:200],
            site=site,
            started_at=started_at,
            ended_at=max(ended_at, started_at),
            hours=amount,
            source=source,
            source_ref=source_ref[:50],
            organiser_site=site,
            recorder=recorder,
        )
        audit.record(AuditAction.LEDGER_ENTRY, actor=recorder, target=entry, site=site, hours=str(amount))
    return entry


def correct_service(
    *, actor: User, original: ServiceRecord, new_hours: Any, note: str, max_hours: Decimal | None = None
) -> ServiceRecord:
    """Correct an entry by appending the difference; the original stays as it was.

    The corrected total may not exceed the entry's own span, or ``max_hours``
    when the caller knows a longer scheduled time (a volunteer post whose
    check-in scan came late).
    """
    note = (note or "").strip()
    if not note:
        raise Invalid(_("更正必须说明原因。"), code="note_required", field="note")
    target = _hours(new_hours)
    if target < 0:
        raise Invalid(_("时长不能为负数。"), code="invalid_hours", field="hours")
    if not policies.can_record_hours(actor, original.volunteer, original.site):
        raise NotAllowed(_("您没有更正该记录的权限。"))
    with transaction.atomic():
        # Lock the original so that two corrections cannot both compute the
        # difference from the same stale total.
        ServiceRecord.objects.select_for_update().filter(pk=original.pk).exists()
        current = original.hours + (
            ServiceRecord.objects.filter(corrects=original).aggregate(s=Sum("hours"))["s"] or Decimal(0)
        )
        delta = target - current
        if delta == 0:
            raise Invalid(_("更正后的时长与现有时长相同。"), code="no_change", field="hours")
        elapsed = Decimal((original.ended_at - original.started_at).total_seconds()) / Decimal(3600)
        limit = elapsed.quantize(HOURS_PLACES, rounding=ROUND_HALF_UP)
        if max_hours is not None:
            limit = max(limit, max_hours)
        if target > limit or target > 24:
            raise Invalid(_("时长不能超过实际服务时间。"), code="invalid_hours", field="hours")
        entry = ServiceRecord.objects.create(
            volunteer=original.volunteer,
            description=original.description,
            site=original.site,
            started_at=original.started_at,
            ended_at=original.ended_at,
            hours=delta,
            source=ServiceSource.CORRECTION,
            source_ref=str(original.pk),
            organiser_site=original.organiser_site,
            organiser_unit=original.organiser_unit,
            recorder=actor,
            corrects=original,
            note=note[:200],
        )
        audit.record(
            AuditAction.LEDGER_ENTRY,
            actor=actor,
            target=entry,
            site=original.site,
            hours=str(delta),
            corrects=original.pk,
        )
    return entry


def total_hours(volunteer: Volunteer) -> Decimal:
    total = ServiceRecord.objects.filter(volunteer=volunteer).aggregate(s=Sum("hours"))["s"]
    return total or Decimal("0.00")


TEAM_FIELDS = ("name", "description")


def update_team(*, actor: User, team: Team, **changes: Any) -> Team:
    if not policies.can_manage_team(actor, team):
        raise NotAllowed(_("您没有管理该服务队的权限。"))
    return apply_changes(team, changes, allowed=TEAM_FIELDS)
