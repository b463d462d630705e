"""Venue bookings (场地预约) and each venue's booking rules.

No two holding bookings of one venue overlap (holding: approved or checked
in). On PostgreSQL an exclusion constraint over ``tstzrange(starts_at,
ends_at)`` says so in the database itself; on SQLite every write
transaction is IMMEDIATE, so the services' overlap check and their insert
run with the write lock held and cannot interleave. An activity held in a
venue holds it through a booking of its own (``activity`` set).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models import F, Func, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wenming.network.models import Venue
from wenming.units.models import Organization


class PostgresExclusion(ExclusionConstraint):
    """An exclusion constraint on PostgreSQL, and nothing on SQLite (where the services serialise writes)."""

    def constraint_sql(self, model: Any, schema_editor: Any) -> Any:
        return super().constraint_sql(model, schema_editor) if schema_editor.connection.vendor == "postgresql" else None

    def create_sql(self, model: Any, schema_editor: Any) -> Any:
        return super().create_sql(model, schema_editor) if schema_editor.connection.vendor == "postgresql" else None

    def remove_sql(self, model: Any, schema_editor: Any) -> Any:
        return super().remove_sql(model, schema_editor) if schema_editor.connection.vendor == "postgresql" else None

    def validate(self, model: Any, instance: Any, exclude: Any = None, using: str = DEFAULT_DB_ALIAS) -> None:
        if connections[using].vendor == "postgresql":
            super().validate(model, instance, exclude=exclude, using=using)


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = models.DateTimeField()  # only ever used inside the exclusion constraint


class VenueRules(models.Model):
    """How a venue may be booked. A venue without a row takes the defaults below."""

    venue = models.OneToOneField(Venue, verbose_name=_("场地"), on_delete=models.CASCADE, related_name="rules")
    # {"mon": [["09:00", "21:00"]], …}: the bookable hours of each weekday; a day absent is closed.
    opening_hours = models.JSONField(_("开放时间"), default=dict, blank=True)
    min_minutes = models.PositiveIntegerField(_("最短时长（分钟）"), default=30)
    max_minutes = models.PositiveIntegerField(_("最长时长（分钟）"), default=240)
    max_days_ahead = models.PositiveIntegerField(_("最多提前天数"), default=30)
    min_hours_ahead = models.PositiveIntegerField(_("至少提前小时数"), default=2)
    needs_approval = models.BooleanField(_("需要审核"), default=True)
    closed_on_holidays = models.BooleanField(_("法定节假日不开放"), default=True)
    no_show_grace_minutes = models.PositiveIntegerField(_("未到场释放（分钟）"), default=15)

    class Meta:
        verbose_name = _("预约规则")
        verbose_name_plural = _("预约规则")
        constraints = [
            models.CheckConstraint(
                condition=Q(min_minutes__gt=0),
                name="rules_min_positive",
                violation_error_message=_("最短时长至少1分钟。"),
            ),
            models.CheckConstraint(
                condition=Q(max_minutes__gte=F("min_minutes")),
                name="rules_max_at_least_min",
                violation_error_message=_("最长时长不能短于最短时长。"),
            ),
            models.CheckConstraint(
                condition=Q(max_days_ahead__gt=0),
                name="rules_days_ahead_positive",
                violation_error_message=_("最多提前天数至少为1天。"),
            ),
        ]

    def __str__(self) -> str:
        return str(self.venue)


class Blackout(models.Model):
    """Dates a venue cannot be booked (maintenance, a district event)."""

    venue = models.ForeignKey(Venue, verbose_name=_("场地"), on_delete=models.CASCADE, related_name="blackouts")
    first_date = models.DateField(_("开始日期"))
    last_date = models.DateField(_("结束日期"))
    reason = models.CharField(_("原因"), max_length=100)

    class Meta:
        verbose_name = _("停用日期")
        verbose_name_plural = _("停用日期")
        ordering = ["venue_id", "first_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_date__gte=F("first_date")),
                name="blackout_dates_ordered",
                violation_error_message=_("结束日期不能早于开始日期。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.venue} {self.first_date}–{self.last_date}"


class BookingStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("未通过")
    CANCELLED = "cancelled", _("已取消")
    CHECKED_IN = "checked_in", _("已到场")
    NO_SHOW = "no_show", _("未到场已释放")


# Bookings that hold the venue: no two of these may overlap.
HOLDING_STATUSES = (BookingStatus.APPROVED, BookingStatus.CHECKED_IN)


class BookingSeries(models.Model):
    """A weekly recurring request: one booking per date, each decided on its own."""

    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="booking_series")
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("周期预约")
        verbose_name_plural = _("周期预约")

    def __str__(self) -> str:
        return f"{self.venue_id} #{self.pk}"


class Booking(models.Model):
    venue = models.ForeignKey(Venue, verbose_name=_("场地"), on_delete=models.PROTECT, related_name="bookings")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("预约人"), on_delete=models.PROTECT, related_name="bookings"
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("预约单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bookings",
    )
    activity = models.OneToOneField(
        "activities.Activity",
        verbose_name=_("活动"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="venue_booking",
    )
    series = models.ForeignKey(BookingSeries, null=True, blank=True, on_delete=models.SET_NULL, related_name="bookings")
    purpose = models.CharField(_("用途"), max_length=200)
    attendees = models.PositiveIntegerField(_("人数"), default=1)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    status = models.CharField(_("状态"), max_length=20, choices=BookingStatus.choices)
    created_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_note = models.CharField(_("审核意见"), max_length=200, blank=True)
    checked_in_at = models.DateTimeField(_("到场时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("场地预约")
        verbose_name_plural = _("场地预约")
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["venue", "status", "starts_at"]),
            models.Index(fields=["requester", "starts_at"]),
            models.Index(fields=["status", "starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="booking_ends_after_start",
                violation_error_message=_("结束时间必须晚于开始时间。"),
            ),
            models.CheckConstraint(condition=Q(status__in=BookingStatus.values), name="booking_status_known"),
            models.CheckConstraint(
                condition=Q(attendees__gt=0),
                name="booking_attendees_positive",
                violation_error_message=_("人数至少为1人。"),
            ),
            # PostgreSQL only (Django skips it elsewhere): holding bookings of a venue never overlap.
            PostgresExclusion(
                name="booking_no_overlap",
                expressions=[
                    ("venue", RangeOperators.EQUAL),
                    (TsTzRange("starts_at", "ends_at", models.Value("[)")), RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=HOLDING_STATUSES),
                violation_error_message=_("该时段已被预约，请选择其他时间。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.venue} {timezone.localtime(self.starts_at):%Y-%m-%d %H:%M}"

    @property
    def holds_venue(self) -> bool:
        return self.status in HOLDING_STATUSES


class StatusChange(models.Model):
    """History: every move of a booking (who, when, from, to, note). ``actor`` is empty for the system."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=20, choices=BookingStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=BookingStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("预约状态变更")
        verbose_name_plural = _("预约状态变更")
        ordering = ["booking_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.booking_id}: {self.from_status or '-'} → {self.to_status}"
