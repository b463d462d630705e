"""The hours ledger: append-only, corrections as new entries, hours never above the clock."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from wenming.core.errors import Invalid, NotAllowed
from wenming.volunteers import services
from wenming.volunteers.models import ServiceRecord, ServiceSource, Volunteer

pytestmark = pytest.mark.django_db


@pytest.fixture
def chen(people: Any, street: Any) -> Volunteer:
    return services.register_volunteer(
        actor=people.manager_a,
        user=people.volunteer_a,
        site=street.station_a,
        availability={"sat": ["morning"]},
        political_status="party_member",
    )


def _window(hours: float = 2.0) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.now().replace(microsecond=0) - dt.timedelta(days=1)
    return start, start + dt.timedelta(hours=hours)


def test_record_defaults_to_elapsed_time(people: Any, street: Any, chen: Volunteer) -> None:
    start, end = _window(2.5)
    entry = services.record_service(
        actor=people.manager_a,
        volunteer=chen,
        site=street.station_a,
        description="爱心理发",
        started_at=start,
        ended_at=end,
    )
    assert entry.hours == Decimal("2.50")
    assert entry.recorder == people.manager_a
    assert entry.organiser_site == street.station_a
    assert services.total_hours(chen) == Decimal("2.50")
    assert chen.is_party_member


def test_hours_cannot_exceed_the_clock(people: Any, street: Any, chen: Volunteer) -> None:
    start, end = _window(2)
    with pytest.raises(Invalid):
        services.record_service(
            actor=people.manager_a,
            volunteer=chen,
            site=street.station_a,
            description="x",
            started_at=start,
            ended_at=end,
            hours="3",
        )
    with pytest.raises(Invalid):
        services.record_service(
            actor=people.manager_a,
            volunteer=chen,
            site=street.station_a,
            description="x",
            started_at=end,
            ended_at=start,
        )
    with pytest.raises(Invalid):
        services.record_service(
            actor=people.manager_a,
            volunteer=chen,
            site=street.station_a,
            description="x",
            started_at=start,
            ended_at=end,
            hours="abc",
        )
    for absurd in ("1e30", "-1e30", "Infinity"):
        with pytest.raises(Invalid):
            services.record_service(
                actor=people.manager_a,
                volunteer=chen,
                site=street.station_a,
                description="x",
                started_at=start,
                ended_at=end,
                hours=absurd,
            )
    assert ServiceRecord.objects.count() == 0


def test_only_staff_of_the_place_record_hours(people: Any, street: Any, chen: Volunteer) -> None:
    start, end = _window()
    for actor in (people.manager_b, people.volunteer_a, people.leader_a):
        with pytest.raises(NotAllowed):
            services.record_service(
                actor=actor, volunteer=chen, site=street.station_a, description="x", started_at=start, ended_at=end
            )


def test_correction_is_a_new_entry(people: Any, street: Any, chen: Volunteer) -> None:
    start, end = _window(3)
    entry = services.record_service(
        actor=people.manager_a,
        volunteer=chen,
        site=street.station_a,
        description="健康义诊",
        started_at=start,
        ended_at=end,
        hours="3",
    )
    fix = services.correct_service(actor=people.manager_a, original=entry, new_hours="2.5", note="提前离开")
    assert fix.source == ServiceSource.CORRECTION
    assert fix.hours == Decimal("-0.50")
    assert fix.corrects == entry
    entry.refresh_from_db()
    assert entry.hours == Decimal("3.00")  # untouched
    assert services.total_hours(chen) == Decimal("2.50")
    # A second correction is computed from the corrected total.
    services.correct_service(actor=people.manager_a, original=entry, new_hours="3", note="核实后恢复")
    assert services.total_hours(chen) == Decimal("3.00")
    with pytest.raises(Invalid):
        services.correct_service(actor=people.manager_a, original=entry, new_hours="3", note="无变化")
    with pytest.raises(Invalid):
        services.correct_service(actor=people.manager_a, original=entry, new_hours="2", note="")
    with pytest.raises(Invalid):
        services.correct_service(actor=people.manager_a, original=entry, new_hours="4", note="超过实际时间")


def test_the_database_refuses_edits_and_deletes(people: Any, street: Any, chen: Volunteer) -> None:
    start, end = _window()
    entry = services.record_service(
        actor=people.manager_a,
        volunteer=chen,
        site=street.station_a,
        description="卫生清洁",
        started_at=start,
        ended_at=end,
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        ServiceRecord.objects.filter(pk=entry.pk).update(hours=10)
    with pytest.raises(DatabaseError), transaction.atomic():
        ServiceRecord.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.hours == Decimal("2.00")


def test_invalid_availability_is_refused(people: Any, street: Any) -> None:
    with pytest.raises(Invalid):
        services.register_volunteer(
            actor=people.manager_a, user=people.resident_a, site=street.station_a, availability={"funday": ["morning"]}
        )
    assert not Volunteer.objects.filter(user=people.resident_a).exists()


def test_team_leader_gets_the_role(people: Any, street: Any, chen: Volunteer) -> None:
    from wenming.accounts.models import Role, RoleGrant

    team = services.create_team(actor=people.manager_a, site=street.station_a, name="甲站小蜜蜂服务队")
    services.add_team_member(actor=people.manager_a, team=team, volunteer=chen, is_leader=True)
    assert RoleGrant.objects.filter(user=chen.user, role=Role.TEAM_LEADER, site=street.station_a).exists()
    from wenming.accounts.models import AuditLog

    granted = AuditLog.objects.filter(action="role_granted", target_id=str(chen.user.pk))
    assert {e.detail["role"] for e in granted} == {Role.TEAM_LEADER}  # 小陈 was a volunteer already
    with pytest.raises(NotAllowed):
        services.create_team(actor=people.manager_b, site=street.station_a, name="越权服务队")
