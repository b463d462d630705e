"""Who may do what with venue bookings.

- Anyone signed in and active may ask for a slot of a venue that is open to
  booking; a unit liaison may ask in the name of their unit.
- Staff whose scope covers the venue's site decide (approve, reject), see
  the requests and their details, cancel and check in.
- The requester sees, cancels and checks in their own booking.
- Everyone, signed in or not, sees which slots of an active venue are busy,
  but not who booked them or why (``can_view_booking`` decides that).
"""

from __future__ import annotations

from django.db.models import Q

from wenming.accounts.policies import AnyUser, staff_scope
from wenming.activities.models import Activity
from wenming.bookings.models import Booking
from wenming.network.models import Venue
from wenming.units.models import Organization
from wenming.units.policies import is_liaison_of


def _active(user: AnyUser) -> bool:
    return bool(user.is_authenticated and user.is_active)


def is_venue_open(venue: Venue) -> bool:
    """The venue (and its site) exists for the public: active."""
    return venue.is_active and venue.site.is_active


def can_view_venue_calendar(user: AnyUser, venue: Venue) -> bool:
    """Busy slots are public for an active venue; staff of the venue's site also see a retired one's."""
    return is_venue_open(venue) or staff_scope(user).covers(venue.site)


def can_request_booking(user: AnyUser, venue: Venue) -> bool:
    return _active(user) and is_venue_open(venue) and venue.is_bookable


def can_book_for_organization(user: AnyUser, organization: Organization) -> bool:
    """Book in a unit's name: its liaison, or staff whose scope covers the unit's site."""
    return _active(user) and (is_liaison_of(user, organization) or staff_scope(user).covers(organization.site))


def can_decide_booking(user: AnyUser, booking: Booking) -> bool:
    """Approve or reject: staff whose scope covers the venue's site."""
    return _active(user) and staff_scope(user).covers(booking.venue.site)


def is_requester(user: AnyUser, booking: Booking) -> bool:
    return _active(user) and booking.requester_id == user.pk


def can_view_booking(user: AnyUser, booking: Booking) -> bool:
    """The booking's details (who, why, how many): the requester and the deciding staff."""
    return is_requester(user, booking) or can_decide_booking(user, booking)


def can_cancel_booking(user: AnyUser, booking: Booking) -> bool:
    return is_requester(user, booking) or can_decide_booking(user, booking)


def can_check_in_booking(user: AnyUser, booking: Booking) -> bool:
    return is_requester(user, booking) or can_decide_booking(user, booking)


def can_view_venue_bookings(user: AnyUser, venue: Venue) -> bool:
    """The staff calendar of a venue: every booking with its details."""
    return _active(user) and staff_scope(user).covers(venue.site)


def can_manage_booking_rules(user: AnyUser, venue: Venue) -> bool:
    """A venue's booking rules and blackout dates: staff whose scope covers its site."""
    return _active(user) and staff_scope(user).covers(venue.site)


def can_hold_venue(user: AnyUser, venue: Venue, activity: Activity) -> bool:
    """Hold a venue for an activity without the resident rules.

    Staff of the venue's site, or staff of the activity's site when the
    venue belongs to that site or a site above it (a station uses its
    sub-centre's hall).
    """
    if not _active(user):
        return False
    scope = staff_scope(user)
    if scope.covers(venue.site):
        return True
    return scope.covers(activity.site) and activity.site.path.startswith(venue.site.path)


def bookings_visible_to(user: AnyUser) -> Q:
    """Filter on Booking for the bookings whose details ``user`` may see."""
    if not _active(user):
        return Q(pk__in=[])
    scope = staff_scope(user)
    if scope.everything:
        return Q()
    own = Q(requester_id=user.pk)
    return own if scope.is_empty else own | scope.site_q("venue__site__")


def bookings_decidable_by(user: AnyUser) -> Q:
    """Filter on Booking for the bookings ``user`` may approve or reject."""
    if not _active(user):
        return Q(pk__in=[])
    scope = staff_scope(user)
    return Q(pk__in=[]) if scope.is_empty else scope.site_q("venue__site__")
