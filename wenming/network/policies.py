"""Who may see and change what in the network.

Public: a site's name, level, address, location, opening hours, its brands,
projects and venues. Private: contact phone in full, the manager, the people
registered there, and every change.
"""

from __future__ import annotations

from wenming.accounts.models import Role
from wenming.accounts.policies import AnyUser, admin_scope, is_platform_admin, scope_for, staff_scope
from wenming.network.models import Site, SiteLevel, Venue


def can_view_site(user: AnyUser, site: Site) -> bool:
    """Active sites are public; retired ones only to staff whose scope covers them."""
    return site.is_active or staff_scope(user).covers(site)


def can_view_site_private(user: AnyUser, site: Site) -> bool:
    return staff_scope(user).covers(site)


def can_edit_site(user: AnyUser, site: Site) -> bool:
    """Change a site's details (address, hours, contact). Station managers keep their own."""
    return staff_scope(user).covers(site)


def can_create_site(user: AnyUser, parent: Site | None, level: int) -> bool:
    """Add a site to the tree. Only network admins shape the tree."""
    if parent is None:
        return level == SiteLevel.CENTRE and is_platform_admin(user)
    if level != parent.level + 1:
        return False
    if level == SiteLevel.POINT:
        # Station managers may open points under their own station.
        return staff_scope(user).covers(parent)
    return admin_scope(user).covers(parent)


def can_manage_venue(user: AnyUser, venue: Venue) -> bool:
    return staff_scope(user).covers(venue.site)


def can_manage_brands(user: AnyUser, site: Site) -> bool:
    return staff_scope(user).covers(site)


def can_view_coverage(user: AnyUser, site: Site) -> bool:
    return scope_for(user, {Role.PLATFORM_ADMIN, Role.SUBCENTRE_ADMIN, Role.STATION_MANAGER}).covers(site)
