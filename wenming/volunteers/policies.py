"""Who may see and change volunteer records, teams and the hours ledger."""

from __future__ import annotations

from wenming.accounts.policies import AnyUser, staff_scope
from wenming.network.models import Site
from wenming.volunteers.models import Team, TeamMembership, Volunteer


def leads_team_of(user: AnyUser, volunteer: Volunteer) -> bool:
    if not user.is_authenticated:
        return False
    return TeamMembership.objects.filter(
        volunteer__user=user, is_leader=True, team__memberships__volunteer=volunteer
    ).exists()


def can_view_volunteer(user: AnyUser, volunteer: Volunteer) -> bool:
    if not user.is_authenticated:
        return False
    if volunteer.user_id == user.pk:
        return True
    return staff_scope(user).covers(volunteer.site) or leads_team_of(user, volunteer)


def can_edit_volunteer(user: AnyUser, volunteer: Volunteer) -> bool:
    if not user.is_authenticated:
        return False
    return volunteer.user_id == user.pk or staff_scope(user).covers(volunteer.site)


def can_manage_team(user: AnyUser, team: Team) -> bool:
    if not user.is_authenticated:
        return False
    if staff_scope(user).covers(team.site):
        return True
    return TeamMembership.objects.filter(team=team, volunteer__user=user, is_leader=True).exists()


def can_record_hours(user: AnyUser, volunteer: Volunteer, site: Site) -> bool:
    """Write to the ledger: staff covering the place where the service was given."""
    return staff_scope(user).covers(site)


def can_view_hours(user: AnyUser, volunteer: Volunteer) -> bool:
    return can_view_volunteer(user, volunteer)
