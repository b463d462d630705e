"""Who may do what with service orders and civility reports.

Staff act on the orders of the subtree they cover; an order escalated to a
parent site is also the parent's (its staff cover the child anyway). A
volunteer acts on what is dispatched to them or their team, or on an open
grab they qualify for; the requester on their own order. Objects outside a
user's reach answer 404 in the services, so their existence is not revealed.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Exists, OuterRef, Q, QuerySet

from wenming.accounts.policies import AnyUser, is_platform_admin, staff_scope
from wenming.network.models import Site
from wenming.orders.models import HELD, Channel, Order, OrderStatus, ServiceType
from wenming.volunteers.models import Volunteer


def volunteer_of(user: AnyUser) -> Volunteer | None:
    if not user.is_authenticated or not user.is_active:
        return None
    if not hasattr(user, "_wenming_volunteer"):
        found = Volunteer.objects.filter(user=user, is_active=True).select_related("site").first()
        setattr(user, "_wenming_volunteer", found)  # noqa: B010 - a per-request memo on the user object
    cached: Volunteer | None = getattr(user, "_wenming_volunteer")  # noqa: B009 - set just above
    return cached


def _team_ids(volunteer: Volunteer) -> set[int]:
    cached = getattr(volunteer, "_wenming_team_ids", None)
    if cached is None:
        cached = set(volunteer.memberships.values_list("team_id", flat=True))
        setattr(volunteer, "_wenming_team_ids", cached)  # noqa: B010 - memo
    return cached


def responsible_site(order: Order) -> Site:
    return order.escalated_to if order.escalated_to is not None else order.site


def is_staff_for(user: AnyUser, order: Order) -> bool:
    """Staff covering the order's station (or the site it was escalated to)."""
    scope = staff_scope(user)
    return scope.covers(order.site) or (order.escalated_to_id is not None and scope.covers(order.escalated_to))


def is_requester(user: AnyUser, order: Order) -> bool:
    return user.is_authenticated and order.requester_id is not None and order.requester_id == user.pk


def is_assignee(user: AnyUser, order: Order) -> bool:
    """The volunteer the order is dispatched to, or a member of the team it is dispatched to."""
    volunteer = volunteer_of(user)
    if volunteer is None:
        return False
    if order.assigned_volunteer_id is not None:
        return order.assigned_volunteer_id == volunteer.pk
    if order.assigned_team_id is not None:
        return order.assigned_team_id in _team_ids(volunteer)
    return False


def is_holder(user: AnyUser, order: Order) -> bool:
    """The volunteer who accepted it."""
    volunteer = volunteer_of(user)
    return volunteer is not None and order.accepted_by_id == volunteer.pk


def qualified_q(service_type: ServiceType) -> Q:
    """Volunteers with one of the type's skills or in one of its teams; anyone when the type names neither."""
    skill_ids = [s.pk for s in service_type.skills.all()]
    team_ids = [t.pk for t in service_type.teams.all()]
    if not skill_ids and not team_ids:
        return Q()
    cond = Q(pk__in=[])
    if skill_ids:
        cond |= Q(skills__in=skill_ids)
    if team_ids:
        cond |= Q(memberships__team_id__in=team_ids)
    return cond


def qualified_volunteers(order: Order) -> QuerySet[Volunteer]:
    """Active volunteers of the responsible site's subtree who qualify for the order's type."""
    site = responsible_site(order)
    return (
        Volunteer.objects.filter(is_active=True, user__is_active=True, site__path__startswith=site.path)
        .filter(qualified_q(order.service_type))
        .distinct()
    )


def open_grabs_for(volunteer: Volunteer, team_ids: Sequence[int] | None = None) -> QuerySet[Order]:
    """Open grabs the volunteer qualifies for, in one query.

    The set form of ``policies.qualified_volunteers``: the order's responsible site is the volunteer's
    site or one of its ancestors, and the type asks for one of the volunteer's skills or teams, or for
    neither.
    """
    if team_ids is None:
        team_ids = sorted(_team_ids(volunteer))
    chain = [*volunteer.site.ancestor_ids, volunteer.site_id]
    skills = ServiceType.skills.through.objects.filter(servicetype_id=OuterRef("service_type_id"))
    teams = ServiceType.teams.through.objects.filter(servicetype_id=OuterRef("service_type_id"))
    my_skills = Volunteer.skills.through.objects.filter(volunteer_id=volunteer.pk).values("skill_id")
    qualified = (
        (~Exists(skills) & ~Exists(teams))
        | Exists(skills.filter(skill_id__in=my_skills))
        | Exists(teams.filter(team_id__in=list(team_ids)))
    )
    return Order.objects.filter(
        Q(escalated_to__isnull=True, site_id__in=chain) | Q(escalated_to_id__in=chain),
        qualified,
        status=OrderStatus.GRABBING,
    )


def qualifies(user: AnyUser, order: Order) -> bool:
    volunteer = volunteer_of(user)
    if volunteer is None:
        return False
    return qualified_volunteers(order).filter(pk=volunteer.pk).exists()


# --- Named predicates -----------------------------------------------------------------


def can_place_order(user: AnyUser) -> bool:
    return user.is_authenticated and user.is_active


def can_order_for_others(user: AnyUser, site: Site) -> bool:
    """代点单: staff take an order by phone or at the desk, for a resident of their subtree."""
    return staff_scope(user).covers(site)


def can_view_order(user: AnyUser, order: Order) -> bool:
    if not user.is_authenticated:
        return False
    if is_requester(user, order) or is_staff_for(user, order) or is_holder(user, order) or is_assignee(user, order):
        return True
    return order.status == OrderStatus.GRABBING and qualifies(user, order)


def can_see_contact(user: AnyUser, order: Order) -> bool:
    """The full phone and name: the requester, staff, and the volunteer who holds the order."""
    if is_requester(user, order) or is_staff_for(user, order):
        return True
    return is_holder(user, order) and (order.status in HELD or order.status == OrderStatus.COMPLETED)


# Steps that are the station's and its volunteers' business, not the requester's: who turned the
# order down and why, and the classifier's or staff's retyping.
INTERNAL_ACTIONS = frozenset({"decline", "release", "retype"})


def can_see_event(user: AnyUser, order: Order, action: str) -> bool:
    """A history step: everyone who may see the order sees it, but the requester (who is not also
    staff) does not see the internal steps."""
    if action not in INTERNAL_ACTIONS:
        return True
    return is_staff_for(user, order) or not is_requester(user, order)


def can_review_order(user: AnyUser, order: Order) -> bool:
    """审单, and the moves of a civility report (劝导, 整改): staff of the station."""
    return is_staff_for(user, order)


def can_dispatch(user: AnyUser, order: Order) -> bool:
    return is_staff_for(user, order)


def can_accept(user: AnyUser, order: Order) -> bool:
    if order.status == OrderStatus.DISPATCHED:
        return is_assignee(user, order)
    if order.status == OrderStatus.GRABBING:
        return qualifies(user, order)
    return False


def can_decline(user: AnyUser, order: Order) -> bool:
    return order.status == OrderStatus.DISPATCHED and is_assignee(user, order)


def can_deliver(user: AnyUser, order: Order) -> bool:
    """Start, complete or give back an accepted order: its volunteer, or staff on their behalf."""
    return is_holder(user, order) or is_staff_for(user, order)


def can_rate(user: AnyUser, order: Order) -> bool:
    """The requester; staff may record a rating taken by phone for an order they placed for someone."""
    if is_requester(user, order):
        return True
    return order.channel == Channel.STAFF and is_staff_for(user, order)


def can_cancel(user: AnyUser, order: Order) -> bool:
    return is_requester(user, order) or is_staff_for(user, order)


def can_review_complaint(user: AnyUser, order: Order) -> bool:
    return is_staff_for(user, order)


def can_manage_catalogue(user: AnyUser) -> bool:
    """The service menu is the platform's: platform admins keep it."""
    return is_platform_admin(user)


def can_manage_open311_clients(user: AnyUser) -> bool:
    return is_platform_admin(user)


def staff_orders_q(user: AnyUser) -> Q:
    """Orders on the user's dispatch board."""
    scope = staff_scope(user)
    if scope.everything:
        return Q()
    if scope.is_empty:
        return Q(pk__in=[])
    return scope.site_q("site__") | scope.site_q("escalated_to__")
