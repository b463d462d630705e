"""Reminders before an activity or a venue booking starts (活动提醒, 预约提醒).

The clock (``wenming.core.schedule``) runs both every ten minutes. Each run
reminds everyone whose activity or booking starts within the window and
who has not been reminded yet: the reminder's dedupe key is per sign-up or
booking, and a run skips those already delivered (one query), so a person
hears once however many runs see them. Texts are composed here, in
Chinese through gettext, with the time, the place and a link.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wenming.activities.models import Activity, ActivityStatus, Signup, SignupStatus
from wenming.bookings.models import Booking, BookingStatus
from wenming.network.models import Site, Venue
from wenming.notices.models import Delivery
from wenming.notices.services import notify

ACTIVITY_KIND = "activity_reminder"
BOOKING_KIND = "booking_reminder"
WEEKDAYS = [
    gettext_lazy("周一"),
    gettext_lazy("周二"),
    gettext_lazy("周三"),
    gettext_lazy("周四"),
    gettext_lazy("周五"),
    gettext_lazy("周六"),
    gettext_lazy("周日"),
]


def when_label(moment: dt.datetime) -> str:
    """12月3日（周三）14:30, in local time."""
    local = timezone.localtime(moment)
    return _("%(month)d月%(day)d日（%(weekday)s）%(time)s") % {
        "month": local.month,
        "day": local.day,
        "weekday": WEEKDAYS[local.weekday()],
        "time": local.strftime("%H:%M"),
    }


def _place(site: Site, venue: Venue | None = None) -> str:
    name = f"{site.name}{venue.name}" if venue is not None else site.name
    return _("%(name)s（%(address)s）") % {"name": name, "address": site.address} if site.address else name


def activity_place(activity: Activity) -> str:
    if activity.location:
        return activity.location
    if activity.venue is not None:
        return _place(activity.venue.site, activity.venue)
    return _place(activity.site)


def _not_yet_delivered(queryset: QuerySet, prefix: str, recipient: str) -> QuerySet:
    """Leave out the rows whose reminder ``prefix<pk>`` has already gone to ``recipient``."""
    key = Concat(Value(prefix), Cast("pk", output_field=CharField()), output_field=CharField())
    delivered = Delivery.objects.filter(recipient_id=OuterRef(recipient), dedupe_key=OuterRef("reminder_key"))
    return queryset.annotate(reminder_key=key).exclude(Exists(delivered))


def _hours(name: str, default: int) -> dt.timedelta:
    return dt.timedelta(hours=int(getattr(settings, name, default)))


def send_activity_reminders(*, now: dt.datetime | None = None) -> int:
    """Remind every confirmed sign-up of a published activity starting within ``ACTIVITY_REMINDER_HOURS``.

    Returns how many reminders were queued.
    """
    now = now or timezone.now()
    until = now + _hours("ACTIVITY_REMINDER_HOURS", 24)
    signups = _not_yet_delivered(
        Signup.objects.filter(
            status=SignupStatus.CONFIRMED,
            activity__status=ActivityStatus.PUBLISHED,
            activity__starts_at__gt=now,
            activity__starts_at__lte=until,
        ),
        "activity-reminder:",
        "user_id",
    )
    signups = signups.select_related("activity__site", "activity__venue__site").only(
        "id",
        "user_id",
        "activity__id",
        "activity__title",
        "activity__starts_at",
        "activity__location",
        "activity__site__name",
        "activity__site__address",
        "activity__venue__name",
        "activity__venue__site__name",
        "activity__venue__site__address",
    )
    count = 0
    with transaction.atomic():
        for signup in signups.order_by("activity__starts_at", "id"):
            activity = signup.activity
            notify(
                recipients=[signup.user_id],
                kind=ACTIVITY_KIND,
                title=_("活动提醒：%(title)s") % {"title": activity.title},
                body=_("您报名的活动“%(title)s”将于%(when)s开始，地点：%(place)s。请准时参加。")
                % {"title": activity.title, "when": when_label(activity.starts_at), "place": activity_place(activity)},
                link=f"/activities/{activity.pk}/",
                dedupe_key=f"activity-reminder:{signup.pk}",
            )
            count += 1
    return count


def send_booking_reminders(*, now: dt.datetime | None = None) -> int:
    """Remind the requester of every approved booking starting within ``BOOKING_REMINDER_HOURS``.

    A booking an activity holds its venue with is left out: the activity's
    own reminders reach the people who come. Returns how many were queued.
    """
    now = now or timezone.now()
    until = now + _hours("BOOKING_REMINDER_HOURS", 2)
    bookings = _not_yet_delivered(
        Booking.objects.filter(
            status=BookingStatus.APPROVED, activity__isnull=True, starts_at__gt=now, starts_at__lte=until
        ),
        "booking-reminder:",
        "requester_id",
    )
    bookings = bookings.select_related("venue__site").only(
        "id",
        "requester_id",
        "starts_at",
        "ends_at",
        "purpose",
        "venue__name",
        "venue__site__name",
        "venue__site__address",
    )
    count = 0
    with transaction.atomic():
        for booking in bookings.order_by("starts_at", "id"):
            notify(
                recipients=[booking.requester_id],
                kind=BOOKING_KIND,
                title=_("场地预约提醒：%(venue)s") % {"venue": booking.venue.name},
                body=_(
                    "您预约的%(place)s将于%(when)s开始使用（至%(end)s），用途：%(purpose)s。如不能按时到场，请及时取消预约。"
                )
                % {
                    "place": _place(booking.venue.site, booking.venue),
                    "when": when_label(booking.starts_at),
                    "end": timezone.localtime(booking.ends_at).strftime("%H:%M"),
                    "purpose": booking.purpose,
                },
                link="/bookings/mine/",
                dedupe_key=f"booking-reminder:{booking.pk}",
            )
            count += 1
    return count
