"""Who may see and change partner units."""

from __future__ import annotations

from wenming.accounts.policies import AnyUser, staff_scope
from wenming.units.models import Liaison, Organization


def is_liaison_of(user: AnyUser, organization: Organization) -> bool:
    if not user.is_authenticated:
        return False
    return Liaison.objects.filter(organization=organization, user=user).exists()


def can_view_organization_private(user: AnyUser, organization: Organization) -> bool:
    return staff_scope(user).covers(organization.site) or is_liaison_of(user, organization)


def can_edit_organization(user: AnyUser, organization: Organization) -> bool:
    return staff_scope(user).covers(organization.site) or is_liaison_of(user, organization)


def can_manage_liaisons(user: AnyUser, organization: Organization) -> bool:
    return staff_scope(user).covers(organization.site)
