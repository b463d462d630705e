"""Admin for venue booking rules, blackout dates and (read-only) bookings.

Network admins keep each venue's rules and blackout dates, scoped to their
subtree like ``network.admin``; every save goes through ``bookings.services``.
Bookings are shown read-only; the decisions the admin offers (approve,
cancel, as list actions) call the same services as the pages and the API.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wenming.accounts.models import User
from wenming.bookings import services
from wenming.bookings.models import Blackout, Booking, StatusChange, VenueRules
from wenming.core.admin import ParentInline, ScopedAdmin, ServiceAdmin
from wenming.core.errors import DomainError
from wenming.network.models import Venue


def _actor(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


class VenueScoped:
    """Venue choices limited to the admin's scope, as Site choices are in ``ScopedAdmin``."""

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "venue":
            scope = self.scope(request)  # type: ignore[attr-defined]
            kwargs["queryset"] = (
                Venue.objects.filter(scope.site_q("site__")).select_related("site").order_by("site__path", "name")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]


@admin.register(VenueRules)
class VenueRulesAdmin(VenueScoped, ServiceAdmin[VenueRules]):
    scope_prefix = "venue__site__"
    list_display = (
        "venue",
        "site",
        "needs_approval",
        "min_minutes",
        "max_minutes",
        "max_days_ahead",
        "closed_on_holidays",
    )
    list_filter = ("needs_approval", "closed_on_holidays")
    list_select_related = ("venue__site",)
    search_fields = ("venue__name", "venue__site__name")
    ordering = ("venue__site__path", "venue__name")
    fields = ("venue", *services.RULE_FIELDS)

    @admin.display(description=gettext_lazy("所属阵地"), ordering="venue__site__path")
    def site(self, obj: VenueRules) -> str:
        return obj.venue.site.name

    def get_readonly_fields(self, request: HttpRequest, obj: VenueRules | None = None) -> Any:
        return () if obj is None else ("venue",)

    def save_model(self, request: HttpRequest, obj: VenueRules, form: Any, change: bool) -> None:
        if change:
            self.save_changes(
                obj,
                form,
                lambda rules, changes: services.save_venue_rules(actor=_actor(request), venue=rules.venue, **changes),
            )
            return
        try:
            rules = services.save_venue_rules(
                actor=_actor(request), venue=obj.venue, **{name: getattr(obj, name) for name in services.RULE_FIELDS}
            )
        except DomainError as exc:
            self.refuse(exc)
        else:
            self.adopt(obj, rules)


@admin.register(Blackout)
class BlackoutAdmin(VenueScoped, ServiceAdmin[Blackout]):
    scope_prefix = "venue__site__"
    list_display = ("venue", "first_date", "last_date", "reason")
    list_select_related = ("venue__site",)
    search_fields = ("venue__name", "reason")
    date_hierarchy = "first_date"
    ordering = ("-first_date",)
    fields = ("venue", "first_date", "last_date", "reason")

    def get_readonly_fields(self, request: HttpRequest, obj: Blackout | None = None) -> Any:
        return () if obj is None else ("venue",)

    def has_delete_permission(self, request: HttpRequest, obj: Blackout | None = None) -> bool:
        return self.has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Blackout, form: Any, change: bool) -> None:
        if change:
            self.save_changes(
                obj,
                form,
                lambda blackout, changes: services.update_blackout(actor=_actor(request), blackout=blackout, **changes),
            )
            return
        try:
            blackout = services.add_blackout(
                actor=_actor(request),
                venue=obj.venue,
                first_date=obj.first_date,
                last_date=obj.last_date,
                reason=obj.reason,
            )
        except DomainError as exc:
            self.refuse(exc)
        else:
            self.adopt(obj, blackout)

    def delete_model(self, request: HttpRequest, obj: Blackout) -> None:
        services.remove_blackout(actor=_actor(request), blackout=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Blackout]) -> None:
        for blackout in queryset.select_related("venue__site"):
            services.remove_blackout(actor=_actor(request), blackout=blackout)


class StatusChangeInline(ParentInline[StatusChange, Booking]):
    model = StatusChange
    fields = ("at", "from_status", "to_status", "actor", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False
    may_add = False
    may_change = False


@admin.register(Booking)
class BookingAdmin(ScopedAdmin[Booking]):
    """Bookings, read-only; approving and cancelling go through the services."""

    scope_prefix = "venue__site__"
    inlines = (StatusChangeInline,)
    list_display = ("venue", "starts_at", "ends_at", "status", "requester", "purpose")
    list_filter = ("status",)
    list_select_related = ("venue__site", "requester")
    search_fields = ("venue__name", "requester__name", "purpose")
    date_hierarchy = "starts_at"
    ordering = ("-starts_at",)
    actions = ("approve_selected", "cancel_selected")
    fields = (
        "venue",
        "requester",
        "organization",
        "activity",
        "series",
        "purpose",
        "attendees",
        "starts_at",
        "ends_at",
        "status",
        "created_at",
        "decided_by",
        "decided_at",
        "decision_note",
        "checked_in_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Booking | None = None) -> bool:
        return False

    def _decide(self, request: HttpRequest, queryset: QuerySet[Booking], decide: Any, done: str) -> None:
        succeeded = 0
        for booking in queryset.select_related("venue__site", "requester").order_by("starts_at", "id"):
            try:
                decide(booking)
            except DomainError as exc:
                self.message_user(request, f"{booking}: {exc.message}", messages.ERROR)
            else:
                succeeded += 1
        if succeeded:
            self.message_user(request, done % {"n": succeeded}, messages.SUCCESS)

    @admin.action(description=gettext_lazy("通过所选预约"), permissions=["view"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        self._decide(
            request,
            queryset,
            lambda booking: services.approve_booking(actor=_actor(request), booking=booking),
            _("已通过 %(n)d 条预约。"),
        )

    @admin.action(description=gettext_lazy("取消所选预约"), permissions=["view"])
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        self._decide(
            request,
            queryset,
            lambda booking: services.cancel_booking(actor=_actor(request), booking=booking),
            _("已取消 %(n)d 条预约。"),
        )
