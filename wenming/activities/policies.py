"""Who may do what with plans, activities, sign-ups and attendance.

Staff of a site (its station manager, the sub-centre admin above it, a
platform admin) run its activities. The sub-centre approves what a station
submits: approving needs an admin role covering the activity's site, so a
station manager cannot approve their own station's work. Public activities
are readable by everyone; drafts only by the staff who run them.
"""

from __future__ import annotations

from django.db.models import Q

from wenming.accounts.policies import AnyUser, admin_scope, staff_scope
from wenming.activities.models import PUBLIC_STATUSES, Activity, HoursCorrection, Signup
from wenming.network.models import Site


def can_run_activities_at(user: AnyUser, site: Site) -> bool:
    """Create and edit activities, plans and themes of ``site``."""
    return staff_scope(user).covers(site)


def can_edit_activity(user: AnyUser, activity: Activity) -> bool:
    return staff_scope(user).covers(activity.site)


def can_approve_activity(user: AnyUser, activity: Activity) -> bool:
    return admin_scope(user).covers(activity.site)


def can_view_activity(user: AnyUser, activity: Activity) -> bool:
    """Public once published (a cancelled one too, so its sign-ups learn why); drafts only to their staff."""
    if activity.published_at is not None and (activity.status in PUBLIC_STATUSES or activity.status == "cancelled"):
        return True
    return can_edit_activity(user, activity)


def activities_visible_to(user: AnyUser) -> Q:
    """Filter on Activity: public ones, plus everything in the user's staff scope."""
    public = Q(status__in=[*PUBLIC_STATUSES, "cancelled"]) & Q(published_at__isnull=False)
    scope = staff_scope(user)
    if scope.everything:
        return Q()
    if scope.is_empty:
        return public
    return public | scope.site_q("site__")


def can_sign_up_others(user: AnyUser, activity: Activity) -> bool:
    """Staff sign residents up (电话报名, 现场报名)."""
    return can_edit_activity(user, activity)


def can_view_signups(user: AnyUser, activity: Activity) -> bool:
    return can_edit_activity(user, activity)


def can_view_signup(user: AnyUser, signup: Signup) -> bool:
    return user.is_authenticated and (signup.user_id == user.pk or can_edit_activity(user, signup.activity))


def can_cancel_signup(user: AnyUser, signup: Signup) -> bool:
    return can_view_signup(user, signup)


def can_scan(user: AnyUser, activity: Activity) -> bool:
    """Check people in and out at the door."""
    return can_edit_activity(user, activity)


def can_request_correction(user: AnyUser, signup: Signup) -> bool:
    return user.is_authenticated and signup.user_id == user.pk


def can_decide_correction(user: AnyUser, correction: HoursCorrection) -> bool:
    return staff_scope(user).covers(correction.signup.activity.site)


def can_manage_photos(user: AnyUser, activity: Activity) -> bool:
    return can_edit_activity(user, activity)


def can_publish_recap(user: AnyUser, activity: Activity) -> bool:
    return can_edit_activity(user, activity)
