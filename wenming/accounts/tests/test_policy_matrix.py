"""The permission matrix: every role × (own subtree / other subtree) × action.

Each role acts from 甲站 (station A) or, for the sub-centre admin, from the
sub-centre above it. "own" targets live at station A; "other" targets live
at station B (another station of the same street) for station-level roles,
and at station C (another district) for the sub-centre admin, so that
"other" is always outside the actor's subtree. Only the platform admin
reaches "other".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from wenming.accounts import policies as ap
from wenming.accounts.models import Role, User
from wenming.network import policies as npol
from wenming.network.models import Site, SiteLevel, Venue
from wenming.units import policies as upol
from wenming.units.models import Liaison, Organization
from wenming.volunteers import policies as vpol
from wenming.volunteers.models import Team, TeamMembership, Volunteer


@dataclass
class Place:
    site: Site
    person: User
    venue: Venue
    team: Team
    volunteer: Volunteer
    organization: Organization


def _place(site: Site, tag: str, leader: User | None = None, liaison: User | None = None) -> Place:
    person = User.objects.create_user(f"139000{tag}0001", None, name=f"居民{tag}", home_site=site)
    venue = Venue.objects.create(site=site, name=f"活动室{tag}", area_m2=50, capacity=20)
    team = Team.objects.create(site=site, name=f"服务队{tag}")
    vol_user = User.objects.create_user(f"139000{tag}0002", None, name=f"志愿者{tag}", home_site=site)
    volunteer = Volunteer.objects.create(user=vol_user, site=site)
    TeamMembership.objects.create(team=team, volunteer=volunteer)
    if leader is not None:
        lead_vol, _ = Volunteer.objects.get_or_create(user=leader, defaults={"site": site})
        TeamMembership.objects.create(team=team, volunteer=lead_vol, is_leader=True)
    organization = Organization.objects.create(site=site, name=f"单位{tag}", kind="company")
    if liaison is not None:
        Liaison.objects.create(organization=organization, user=liaison)
    return Place(site, person, venue, team, volunteer, organization)


@pytest.fixture
def world(street, people):
    return {
        "A": _place(street.station_a, "1", leader=people.leader_a, liaison=people.liaison_a),
        "B": _place(street.station_b, "2"),
        "C": _place(street.station_c, "3"),
    }


ACTORS: dict[str, tuple[str, str]] = {
    Role.PLATFORM_ADMIN: ("admin", "C"),
    Role.SUBCENTRE_ADMIN: ("subcentre_admin", "C"),
    Role.STATION_MANAGER: ("manager_a", "B"),
    Role.TEAM_LEADER: ("leader_a", "B"),
    Role.VOLUNTEER: ("volunteer_a", "B"),
    Role.RESIDENT: ("resident_a", "B"),
    Role.UNIT_LIAISON: ("liaison_a", "B"),
}

STAFF: set[str] = {Role.PLATFORM_ADMIN, Role.SUBCENTRE_ADMIN, Role.STATION_MANAGER}
ADMINS: set[str] = {Role.PLATFORM_ADMIN, Role.SUBCENTRE_ADMIN}

Action = Callable[[User, Place], bool]

# action name → (predicate, roles allowed on their own subtree)
ACTIONS: dict[str, tuple[Action, set[str]]] = {
    "view_person": (lambda u, p: ap.can_view_person(u, p.person), STAFF),
    "reveal_id_number": (lambda u, p: ap.can_reveal_id_number(u, p.person), STAFF),
    "edit_person": (lambda u, p: ap.can_edit_person(u, p.person), STAFF),
    "register_resident": (lambda u, p: ap.can_register_resident(u, p.site), STAFF),
    "grant_resident": (lambda u, p: ap.can_grant_role(u, Role.RESIDENT, p.site), STAFF),
    "grant_station_manager": (lambda u, p: ap.can_grant_role(u, Role.STATION_MANAGER, p.site), ADMINS),
    "view_site_private": (lambda u, p: npol.can_view_site_private(u, p.site), STAFF),
    "edit_site": (lambda u, p: npol.can_edit_site(u, p.site), STAFF),
    "create_point": (lambda u, p: npol.can_create_site(u, p.site, SiteLevel.POINT), STAFF),
    "create_station": (lambda u, p: npol.can_create_site(u, p.site.parent, SiteLevel.STATION), ADMINS),
    "manage_venue": (lambda u, p: npol.can_manage_venue(u, p.venue), STAFF),
    "manage_brands": (lambda u, p: npol.can_manage_brands(u, p.site), STAFF),
    "view_coverage": (lambda u, p: npol.can_view_coverage(u, p.site), STAFF),
    "view_volunteer": (lambda u, p: vpol.can_view_volunteer(u, p.volunteer), STAFF | {str(Role.TEAM_LEADER)}),
    "edit_volunteer": (lambda u, p: vpol.can_edit_volunteer(u, p.volunteer), STAFF),
    "manage_team": (lambda u, p: vpol.can_manage_team(u, p.team), STAFF | {str(Role.TEAM_LEADER)}),
    "record_hours": (lambda u, p: vpol.can_record_hours(u, p.volunteer, p.site), STAFF),
    "view_unit_private": (
        lambda u, p: upol.can_view_organization_private(u, p.organization),
        STAFF | {str(Role.UNIT_LIAISON)},
    ),
    "edit_unit": (lambda u, p: upol.can_edit_organization(u, p.organization), STAFF | {str(Role.UNIT_LIAISON)}),
    "manage_liaisons": (lambda u, p: upol.can_manage_liaisons(u, p.organization), STAFF),
}


@pytest.mark.django_db
@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("where", ["own", "other"])
@pytest.mark.parametrize("role", list(ACTORS))
def test_matrix(role: str, where: str, action: str, people: Any, world: dict[str, Place]) -> None:
    persona, other_key = ACTORS[role]
    actor = getattr(people, persona)
    place = world["A"] if where == "own" else world[other_key]
    predicate, allowed_own = ACTIONS[action]
    expected = role == Role.PLATFORM_ADMIN or (where == "own" and role in allowed_own)
    assert predicate(actor, place) is expected, f"{role} {action} on {where}"


@pytest.mark.django_db
@pytest.mark.parametrize("action", list(ACTIONS))
def test_anonymous_may_do_nothing(action: str, world: dict[str, Place]) -> None:
    from django.contrib.auth.models import AnonymousUser

    predicate, _ = ACTIONS[action]
    assert predicate(AnonymousUser(), world["A"]) is False  # type: ignore[arg-type]


@pytest.mark.django_db
def test_inactive_user_loses_every_role(people: Any, world: dict[str, Place]) -> None:
    manager = people.manager_a
    manager.is_active = False
    manager.save()
    fresh = User.objects.get(pk=manager.pk)
    assert ap.staff_scope(fresh).is_empty
    assert not ap.can_view_person(fresh, world["A"].person)


@pytest.mark.django_db
def test_everyone_sees_themselves(people: Any) -> None:
    for persona in ("resident_a", "volunteer_a", "leader_a", "liaison_a"):
        user = getattr(people, persona)
        assert ap.can_view_person(user, user)
        assert ap.can_reveal_id_number(user, user)


@pytest.mark.django_db
def test_subcentre_admin_adds_admins_only_below_own_site(people: Any, street: Any) -> None:
    sub_admin = people.subcentre_admin
    assert not ap.can_grant_role(sub_admin, Role.SUBCENTRE_ADMIN, street.subcentre)
    assert not ap.can_grant_role(sub_admin, Role.PLATFORM_ADMIN, None)
    assert ap.can_grant_role(people.admin, Role.SUBCENTRE_ADMIN, street.subcentre)
    # Roles only go on sites of the right level.
    assert not ap.can_grant_role(people.admin, Role.STATION_MANAGER, street.subcentre)
    assert not ap.can_grant_role(people.admin, Role.RESIDENT, None)


@pytest.mark.django_db
def test_platform_admin_cannot_revoke_own_platform_role(people: Any) -> None:
    grant = people.admin.role_grants.get(role=Role.PLATFORM_ADMIN)
    assert not ap.can_revoke_grant(people.admin, grant)


@pytest.mark.django_db
def test_people_visible_to_matches_can_view_person(people: Any, world: dict[str, Place]) -> None:
    everyone = list(User.objects.all())
    for persona in ("admin", "subcentre_admin", "manager_a", "manager_b", "leader_a", "resident_a", "manager_c"):
        actor = getattr(people, persona)
        listed = set(User.objects.filter(ap.people_visible_to(actor)).values_list("pk", flat=True))
        allowed = {p.pk for p in everyone if ap.can_view_person(actor, p)}
        assert listed == allowed, persona


@pytest.mark.django_db
def test_superuser_is_a_platform_admin(world: dict[str, Place]) -> None:
    root = User.objects.create_superuser("13700000000", "a-long-passphrase")
    assert ap.is_platform_admin(root)
    assert ap.staff_scope(root).everything
    assert ap.can_use_admin(root)
    assert ap.can_view_person(root, world["C"].person)
