"""manage.py synth: consistent synthetic data, on whichever database the suite runs."""

import re
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection

from wenming.accounts.models import Profile, Role, RoleGrant, User
from wenming.demo import names, synth
from wenming.lib import cn_id, crypto, phone
from wenming.network.models import Site, SiteLevel
from wenming.network.services import create_site
from wenming.volunteers.models import ServiceRecord, Team, TeamMembership, Volunteer
from wenming.volunteers.policies import can_record_hours

pytestmark = pytest.mark.django_db

SEED = 7


def model_for(table: str):
    for model in apps.get_models(include_auto_created=True):
        if model._meta.db_table == table:
            return model
    raise LookupError(table)


def table_counts() -> dict[str, int]:
    return {table: model_for(table).objects.count() for table in synth.COLUMNS}


def run(*args: str) -> str:
    out = StringIO()
    call_command("synth", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def generated():
    before = table_counts()
    out = run("--scale", "street", "--seed", str(SEED))
    return before, out


def printed_counts(out: str) -> dict[str, int]:
    found = re.findall(r"^\s+(\w+)\s+([\d,]+)\s+\S+$", out, flags=re.MULTILINE)
    return {table: int(count.replace(",", "")) for table, count in found}


def test_counts_are_as_printed_and_as_planned(generated):
    before, out = generated
    printed = printed_counts(out)
    assert set(printed) == set(synth.COLUMNS)
    after = table_counts()
    assert {t: after[t] - before[t] for t in after} == printed
    total = sum(printed.values())
    assert re.search(rf"inserted {total:,} rows in [\d.]+ s: [\d,]+ rows/s", out)
    plan = synth.SCALES["street"].planned()
    assert printed["network_site"] == plan["sites"] == 72
    assert printed["volunteers_volunteer"] == plan["volunteers"] == 1_000
    assert printed["volunteers_servicerecord"] == plan["ledger"] == 30_000
    stations = Site.objects.filter(code__startswith="SYN7-", level=SiteLevel.STATION).count()
    assert stations == 35


def test_every_foreign_key_and_check_constraint_holds(generated):
    # SQLite: PRAGMA foreign_key_check; PostgreSQL: SET CONSTRAINTS ALL IMMEDIATE.
    connection.check_constraints()


def test_site_paths_follow_the_tree(generated):
    sites = list(Site.objects.filter(code__startswith=synth.code_prefix(SEED)).select_related("parent"))
    assert sites
    for site in sites:
        if site.parent is None:
            assert site.level == SiteLevel.CENTRE
            assert site.path == f"{site.pk:010d}."
        else:
            assert site.level == site.parent.level + 1
            assert site.path == site.parent.path + f"{site.pk:010d}."
        assert site.latitude is not None
        assert site.longitude is not None
    # The next site made by the service gets a fresh id and a sound path.
    parent = next(s for s in sites if s.level == SiteLevel.STATION)
    point = create_site(actor=None, parent=parent, level=SiteLevel.POINT, name="新实践点", code="AFTER-SYNTH")
    assert point.pk > max(s.pk for s in sites)
    assert point.path == parent.path + f"{point.pk:010d}."


def test_ledger_hours_never_exceed_the_clock(generated):
    rows = ServiceRecord.objects.filter(source_ref=f"synth-{SEED}").values_list(
        "started_at", "ended_at", "hours", "recorded_at", "corrects_id"
    )
    assert len(rows) == 30_000
    for started, ended, hours, recorded, corrects in rows:
        elapsed = Decimal((ended - started).total_seconds()) / 3600
        assert Decimal(0) < hours <= min(elapsed, Decimal(24))
        assert started < ended <= recorded
        assert corrects is None


def test_recorders_cover_the_place_of_service(generated):
    entries = ServiceRecord.objects.filter(source_ref=f"synth-{SEED}").select_related("volunteer", "site", "recorder")
    recorders: dict[int, User] = {}
    for entry in entries[:3000]:
        recorder = recorders.setdefault(entry.recorder_id, entry.recorder)
        assert can_record_hours(recorder, entry.volunteer, entry.site)


def test_people_have_roles_valid_ids_and_unique_phones(generated):
    users = User.objects.filter(phone__startswith="199")
    assert users.count() == 1_556
    assert all(phone.is_valid(p) for p in users.values_list("phone", flat=True)[:500])
    assert all(names.is_cjk(n) for n in users.values_list("name", flat=True))
    # Everyone holds a role; volunteers on the site they registered at.
    assert not users.filter(role_grants__isnull=True).exists()
    granted = set(RoleGrant.objects.filter(role=Role.VOLUNTEER).values_list("user_id", "site_id"))
    assert all(pair in granted for pair in Volunteer.objects.values_list("user_id", "site_id"))
    for station in Site.objects.filter(code__startswith="SYN7-", level=SiteLevel.STATION):
        assert RoleGrant.objects.filter(user=station.manager, role=Role.STATION_MANAGER, site=station).exists()
    for team in Team.objects.filter(site__code__startswith="SYN7-"):
        leader = TeamMembership.objects.get(team=team, is_leader=True).volunteer
        assert RoleGrant.objects.filter(user=leader.user, role=Role.TEAM_LEADER, site=team.site).exists()
    hashes = set()
    for profile in Profile.objects.filter(user__in=users)[:400]:
        number = profile.decrypt_id_number()
        ident = cn_id.parse(number)
        assert profile.id_number_hash == crypto.lookup_hash(number)
        assert (ident.gender, ident.birth_date) == (profile.gender, profile.birth_date)
        hashes.add(profile.id_number_hash)
    assert len(hashes) == 400


def test_same_seed_is_refused_other_seeds_and_the_demo_coexist(generated):
    with pytest.raises(CommandError, match="已存在"):
        run("--seed", str(SEED))
    call_command("load_demo", stdout=StringIO())
    out = run("--seed", str(SEED + 1))
    assert "inserted" in out
    assert User.objects.filter(phone__startswith="199").count() == 2 * 1_556
    connection.check_constraints()


def test_ids_and_phones_are_unique_per_user():
    # Around the boundaries of the encoding (500 per day, 20,000 days per region) and spread widely.
    serials = {*range(1_200), *range(9_999_000, 10_001_000), *range(0, 30_000_000, 997)}
    assert len({synth._id_number(n, "MF"[n % 2]) for n in serials}) == len(serials)
    for n in (1, 499, 500, 9_999_999, 10_000_000, 24_999_999):
        ident = cn_id.parse(synth._id_number(n, "F"))
        assert ident.gender == "F"
    assert synth._phone(42) == "19900000042"
