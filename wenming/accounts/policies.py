"""Who may do what with accounts, roles and personal data.

Every decision is a small named predicate over (user, object). Pages, the
API and the admin all ask these; none decides on its own. A role granted on
a site covers that site's whole subtree.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from wenming.accounts.models import ROLE_SITE_LEVELS, STAFF_ROLES, Role, RoleGrant, User
from wenming.network.models import Site, SiteLevel

AnyUser = User | AnonymousUser


@dataclass(frozen=True)
class Scope:
    """The part of the tree a user holds some roles on."""

    everything: bool = False
    roots: tuple[Site, ...] = field(default_factory=tuple)

    def covers(self, site: Site | None) -> bool:
        if self.everything:
            return True
        if site is None:
            return False
        return any(site.path.startswith(root.path) for root in self.roots)

    def site_q(self, prefix: str = "") -> Q:
        """A filter for querysets of objects with a site at ``prefix`` ("" for Site)."""
        if self.everything:
            return Q()
        if not self.roots:
            return Q(pk__in=[])
        key = f"{prefix}path__startswith" if prefix else "path__startswith"
        cond = Q()
        for root in self.roots:
            cond |= Q(**{key: root.path})
        return cond

    @property
    def is_empty(self) -> bool:
        return not self.everything and not self.roots


EMPTY = Scope()


def _grants(user: AnyUser) -> list[RoleGrant]:
    if not user.is_authenticated or not user.is_active:
        return []
    cached = getattr(user, "_wenming_grants", None)
    if cached is None:
        cached = list(RoleGrant.objects.filter(user=user).select_related("site"))
        setattr(user, "_wenming_grants", cached)  # noqa: B010 - a per-request memo on the user object
    return cached


def forget_grants(user: AnyUser) -> None:
    if hasattr(user, "_wenming_grants"):
        delattr(user, "_wenming_grants")


def is_platform_admin(user: AnyUser) -> bool:
    """A platform-admin grant, or a Django superuser (made by ``createsuperuser``)."""
    if user.is_authenticated and user.is_active and user.is_superuser:
        return True
    return any(g.role == Role.PLATFORM_ADMIN for g in _grants(user))


def scope_for(user: AnyUser, roles: Collection[str]) -> Scope:
    """The subtrees on which ``user`` holds any of ``roles``."""
    grants = _grants(user)
    if Role.PLATFORM_ADMIN in roles and is_platform_admin(user):
        return Scope(everything=True)
    roots = [g.site for g in grants if g.role in roles and g.site is not None]
    # Drop roots already inside another root.
    roots.sort(key=lambda s: len(s.path))
    kept: list[Site] = []
    for root in roots:
        if not any(root.path.startswith(k.path) for k in kept):
            kept.append(root)
    return Scope(roots=tuple(kept))


def staff_scope(user: AnyUser) -> Scope:
    """Where the user is staff: platform admin, sub-centre admin, station manager."""
    return scope_for(user, STAFF_ROLES)


def admin_scope(user: AnyUser) -> Scope:
    """Where the user administers the network: platform or sub-centre admin."""
    return scope_for(user, {Role.PLATFORM_ADMIN, Role.SUBCENTRE_ADMIN})


def is_staff_anywhere(user: AnyUser) -> bool:
    return not staff_scope(user).is_empty


def roles_of(user: AnyUser) -> set[str]:
    return {g.role for g in _grants(user)}


# --- People and personal data ---------------------------------------------------


def can_view_person(user: AnyUser, person: User) -> bool:
    """Read a person's record (masked personal data)."""
    if not user.is_authenticated:
        return False
    if user.pk == person.pk:
        return True
    if person.home_site_id is None:
        return is_platform_admin(user)
    return staff_scope(user).covers(person.home_site)


def can_reveal_id_number(user: AnyUser, person: User) -> bool:
    """See the whole ID number, which is audited. Staff of the person's site, or themselves."""
    return can_view_person(user, person)


def can_edit_person(user: AnyUser, person: User) -> bool:
    if not user.is_authenticated:
        return False
    if user.pk == person.pk:
        return True
    if person.home_site_id is None:
        return is_platform_admin(user)
    return staff_scope(user).covers(person.home_site)


def can_manage_account(user: AnyUser, person: User) -> bool:
    """Change someone's sign-in: password, name, active or not.

    Only over people whose every role the user could have granted, so that
    nobody takes over an account that holds more than they may hand out; a
    platform admin's or superuser's account only by a platform admin.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    if is_platform_admin(user):
        return True
    if person.pk == user.pk or not can_edit_person(user, person):
        return False
    if person.is_superuser:
        return False
    grants = RoleGrant.objects.filter(user=person).select_related("site")
    return all(can_grant_role(user, g.role, g.site) for g in grants)


def can_register_resident(user: AnyUser, site: Site) -> bool:
    """代注册: staff register a resident at a station or point they cover."""
    if site.level not in (SiteLevel.STATION, SiteLevel.POINT):
        return False
    return staff_scope(user).covers(site)


def people_visible_to(user: AnyUser) -> Q:
    """Filter on User for the people ``user`` may list."""
    scope = staff_scope(user)
    if scope.everything:
        return Q()
    if not user.is_authenticated:
        return Q(pk__in=[])
    return Q(pk=user.pk) | (scope.site_q("home_site__") if not scope.is_empty else Q(pk__in=[]))


# --- Roles --------------------------------------------------------------------------

# Which roles each granting role may hand out, inside its own subtree.
GRANTABLE: dict[str, set[str]] = {
    Role.PLATFORM_ADMIN: {r.value for r in Role},
    Role.SUBCENTRE_ADMIN: {
        Role.SUBCENTRE_ADMIN,
        Role.STATION_MANAGER,
        Role.TEAM_LEADER,
        Role.VOLUNTEER,
        Role.RESIDENT,
        Role.UNIT_LIAISON,
    },
    Role.STATION_MANAGER: {Role.TEAM_LEADER, Role.VOLUNTEER, Role.RESIDENT, Role.UNIT_LIAISON},
}


def can_grant_role(user: AnyUser, role: str, site: Site | None) -> bool:
    if role == Role.PLATFORM_ADMIN:
        return is_platform_admin(user) and site is None
    if site is None or site.level not in ROLE_SITE_LEVELS.get(role, set()):
        return False
    for grant in _grants(user):
        if role not in GRANTABLE.get(grant.role, set()):
            continue
        if grant.role == Role.PLATFORM_ADMIN:
            return True
        if grant.site is None:
            continue
        if grant.role == Role.SUBCENTRE_ADMIN and role == Role.SUBCENTRE_ADMIN:
            # A sub-centre admin may add admins only strictly below their own site.
            if site.path.startswith(grant.site.path) and site.pk != grant.site.pk:
                return True
            continue
        if site.path.startswith(grant.site.path):
            return True
    return False


def can_grant_role_to(user: AnyUser, person: User, role: str, site: Site | None) -> bool:
    """Grant ``role`` on ``site`` to ``person``: a role the user may hand out, to someone they may see."""
    return can_grant_role(user, role, site) and can_view_person(user, person)


def can_revoke_grant(user: AnyUser, grant: RoleGrant) -> bool:
    if grant.user_id == getattr(user, "pk", None) and grant.role == Role.PLATFORM_ADMIN:
        return False  # nobody locks themselves out of the platform
    return can_grant_role(user, grant.role, grant.site)


def can_view_audit_log(user: AnyUser) -> bool:
    return not admin_scope(user).is_empty


def can_use_admin(user: AnyUser) -> bool:
    """The Django admin is for reference data, kept by network admins."""
    return user.is_authenticated and user.is_active and not admin_scope(user).is_empty
