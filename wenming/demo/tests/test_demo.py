"""manage.py load_demo: the demo street 嘉禾路街道, loaded once."""

from collections.abc import Iterator
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, Sum

from wenming.accounts import policies
from wenming.accounts.models import AuditAction, AuditLog, Profile, Role, RoleGrant, User
from wenming.accounts.services import login_with_password
from wenming.demo import names, street
from wenming.lib import cn_id, crypto, phone
from wenming.lib.geo import haversine_m
from wenming.network.models import Brand, Project, Site, SiteKind, SiteLevel, Venue
from wenming.units.models import Liaison, Organization
from wenming.volunteers.models import PoliticalStatus, ServiceRecord, Team, TeamMembership, Volunteer
from wenming.volunteers.policies import can_record_hours

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Sign-in lock-outs live in the cache, which other modules' tests fill
    # (several fail logins on 13800000000 on purpose).
    cache.clear()


MODELS = (
    Site,
    Venue,
    Brand,
    Project,
    User,
    Profile,
    RoleGrant,
    Organization,
    Liaison,
    Volunteer,
    Team,
    TeamMembership,
    ServiceRecord,
    AuditLog,
)


def load() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    """The demo street, loaded once for the module (it takes seconds) and rolled back after it.

    Each test still runs in a transaction of its own inside this one, so what a test writes is
    undone before the next. Tests that need an empty database live in test_demo_fresh.py.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        out = load()
        yield out
        transaction.set_rollback(True)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def subcentre() -> Site:
    return Site.objects.get(code=street.SUBCENTRE_CODE)


def test_the_tree_is_one_plus_seven_plus_twenty_seven(demo):
    sub = subcentre()
    district = Site.objects.get(code=street.DISTRICT_CODE)
    assert sub.parent == district
    assert Site.objects.subtree(district).filter(level=SiteLevel.SUBCENTRE).count() == 1
    stations = Site.objects.filter(parent=sub, level=SiteLevel.STATION)
    area = stations.exclude(kind=SiteKind.RESIDENTIAL)
    assert area.count() == 7
    assert area.filter(kind=SiteKind.AREA, name__endswith="市民驿站").count() == 5
    assert area.filter(kind=SiteKind.PARTY_MASS).count() == 1
    assert area.filter(name__contains="金融街").count() == 1
    assert stations.filter(kind=SiteKind.RESIDENTIAL).count() == 27
    points = Site.objects.subtree(sub).filter(level=SiteLevel.POINT)
    assert {SiteKind.BUILDING, SiteKind.PARK, SiteKind.COMPANY, SiteKind.SCHOOL} <= set(
        points.values_list("kind", flat=True)
    )
    assert points.count() >= 8


def test_sites_have_addresses_hours_and_places_within_a_few_km(demo):
    for site in Site.objects.subtree(subcentre()):
        assert site.address, site.code
        assert site.opening_hours, site.code
        assert site.contact_phone, site.code
        assert site.parent is not None
        assert site.path == site.parent.path + f"{site.pk:010d}."
        assert site.latitude is not None
        assert site.longitude is not None
        assert haversine_m(street.CENTRE_LAT, street.CENTRE_LNG, site.latitude, site.longitude) < 2_000, site.code


def test_rooms_match_the_report(demo):
    sub = subcentre()
    at_sub = Venue.objects.filter(site=sub)
    assert {"多媒体教室", "报告厅", "展厅"} <= set(at_sub.values_list("name", flat=True))
    # The street's rooms total about 4,900 m² (4,905 m² in the 嘉兴路 report).
    total = Venue.objects.filter(site__path__startswith=sub.path).aggregate(a=Sum("area_m2"))["a"]
    assert abs(total - Decimal(4900)) <= Decimal(4900) * Decimal("0.05")
    assert total == Decimal("4905.00")
    rooms = Venue.objects.filter(site__kind=SiteKind.RESIDENTIAL, site__parent=sub)
    assert rooms.count() == 33
    assert rooms.values("site").distinct().count() == 27
    assert "3624.28" in sub.description
    assert all(v.facilities for v in Venue.objects.all())


def test_six_brands_at_the_subcentre_each_with_projects_and_one_per_station(demo):
    sub = subcentre()
    brands = Brand.objects.filter(site=sub).annotate(n=Count("projects"))
    expected = ["嘉禾研习", "嘉禾治慧", "嘉禾益家", "嘉禾圆梦", "嘉禾乐荟", "嘉禾故事"]
    assert sorted(b.name for b in brands) == sorted(expected)
    assert all(2 <= b.n <= 4 for b in brands)
    assert Project.objects.filter(brand__site=sub, name__in=["小微学堂", "长者食堂"]).count() == 2
    # 一站一品牌
    for station in Site.objects.filter(parent=sub, level=SiteLevel.STATION):
        assert station.brands.filter(projects__isnull=False).exists(), station.name


def test_seven_teams_each_led_by_a_team_leader(demo):
    teams = Team.objects.filter(site__path__startswith=subcentre().path)
    assert teams.count() == 7
    for team in teams:
        leaders = team.memberships.filter(is_leader=True)
        assert leaders.count() == 1
        leader = leaders.get().volunteer
        assert RoleGrant.objects.filter(user=leader.user, role=Role.TEAM_LEADER, site=team.site).exists()
        assert team.memberships.count() >= 15


def test_volunteers_are_registered_with_roles_skills_and_a_share_of_party_members(demo):
    volunteers = Volunteer.objects.select_related("user")
    assert volunteers.count() >= 300
    granted = set(RoleGrant.objects.filter(role=Role.VOLUNTEER).values_list("user_id", "site_id"))
    assert all((v.user_id, v.site_id) in granted for v in volunteers)
    assert not volunteers.filter(skills__isnull=True).exists()
    party = volunteers.filter(political_status=PoliticalStatus.PARTY_MEMBER).count() / volunteers.count()
    assert 0.25 < party < 0.55
    assert volunteers.filter(work_unit__isnull=False).exists()
    assert all(v.availability for v in volunteers)


def test_people_have_valid_decryptable_unique_ids_and_phones(demo):
    profiles = list(Profile.objects.select_related("user"))
    assert len(profiles) >= 600
    numbers = set()
    for profile in profiles:
        number = profile.decrypt_id_number()
        ident = cn_id.parse(number)
        assert profile.id_number_hash == crypto.lookup_hash(number)
        assert (ident.gender, ident.birth_date) == (profile.gender, profile.birth_date)
        assert profile.id_number_masked == ident.masked
        numbers.add(number)
        assert names.is_cjk(profile.user.name)
    assert len(numbers) == len(profiles)
    phones = list(User.objects.values_list("phone", flat=True))
    assert len(phones) == len(set(phones))
    assert all(phone.is_valid(p) for p in phones)
    residents = RoleGrant.objects.filter(role=Role.RESIDENT, site__kind=SiteKind.RESIDENTIAL)
    assert residents.count() >= 300
    assert AuditLog.objects.filter(action=AuditAction.USER_REGISTERED).count() >= 300


def test_partner_units_of_every_kind_have_liaisons(demo):
    kinds = set(Organization.objects.values_list("kind", flat=True))
    assert {"company", "hospital", "school", "party_org", "bank"} <= kinds
    for unit in Organization.objects.all():
        liaison = unit.liaisons.get()
        assert RoleGrant.objects.filter(user=liaison.user, role=Role.UNIT_LIAISON, site=unit.site).exists()


def test_past_ledger_entries_are_sound_and_audited(demo):
    entries = list(ServiceRecord.objects.select_related("volunteer", "site", "recorder"))
    assert len(entries) >= 1000
    recorders: dict[int, User] = {}
    for entry in entries:
        elapsed = Decimal((entry.ended_at - entry.started_at).total_seconds()) / 3600
        assert Decimal(0) < entry.hours <= elapsed
        recorder = recorders.setdefault(entry.recorder_id, entry.recorder)
        assert can_record_hours(recorder, entry.volunteer, entry.site)
    assert AuditLog.objects.filter(action=AuditAction.LEDGER_ENTRY).count() == len(entries)


def test_staff_log_in_with_the_demo_password_and_hold_their_roles(demo, settings):
    admin = login_with_password(phone="13800000000", password=settings.DEMO_PASSWORD)
    assert policies.is_platform_admin(admin)
    sub_admin = login_with_password(phone="13800000001", password=settings.DEMO_PASSWORD)
    assert policies.admin_scope(sub_admin).covers(subcentre())
    manager = User.objects.get(phone="13800000002")
    assert policies.staff_scope(manager).roots == (Site.objects.get(code="HP-JH-R01"),)
    assert Site.objects.get(code="HP-JH-R01").manager == manager
    for spec in street.STAFF:
        assert login_with_password(phone=spec.phone, password=settings.DEMO_PASSWORD).phone == spec.phone
        assert spec.phone in demo
    assert settings.DEMO_PASSWORD in demo
    # Generated people share the demo password too.
    someone = Volunteer.objects.exclude(user__phone__startswith="138").select_related("user").first()
    assert someone is not None
    assert login_with_password(phone=someone.user.phone, password=settings.DEMO_PASSWORD) == someone.user


def test_a_second_run_changes_nothing(demo):
    before = counts()
    out = load()
    assert "已存在" in out
    assert counts() == before


def test_the_database_constraints_hold(demo):
    connection.check_constraints()
