"""Admin for skills, volunteers, teams and the hours ledger.

Volunteers are registered through ``volunteers.services.register_volunteer``
(not here) and shown read-only. Teams and their new members go through the
services. The ledger is append-only: read-only here, with no change or
delete for anyone.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from wenming.accounts import policies
from wenming.accounts.models import User
from wenming.core.admin import ParentInline, ReadOnlyAdmin, ScopedAdmin, ServiceAdmin, has_admin_permission
from wenming.core.errors import DomainError
from wenming.volunteers import services
from wenming.volunteers.models import ServiceRecord, Skill, Team, TeamMembership, Volunteer


def _actor(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@admin.register(Skill)
class SkillAdmin(ScopedAdmin[Skill]):
    """The skills catalogue is shared by the whole platform: platform admins keep it."""

    scope_prefix = None
    list_display = ("name", "category")
    list_filter = ("category",)
    search_fields = ("name", "category")

    def _platform(self, request: HttpRequest) -> bool:
        return has_admin_permission(request) and policies.is_platform_admin(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._platform(request)

    def has_change_permission(self, request: HttpRequest, obj: Skill | None = None) -> bool:
        return self._platform(request)

    def has_delete_permission(self, request: HttpRequest, obj: Skill | None = None) -> bool:
        return self._platform(request)


@admin.register(Volunteer)
class VolunteerAdmin(ReadOnlyAdmin[Volunteer]):
    list_display = ("name", "masked_phone", "site", "political_status", "joined_at", "is_active")
    list_filter = ("political_status", "is_active")
    list_select_related = ("user", "site")
    search_fields = ("user__name", "=user__phone")
    ordering = ("site__path", "user__name")
    fields = (
        "name",
        "masked_phone",
        "site",
        "skills",
        "availability",
        "political_status",
        "work_unit",
        "work_unit_name",
        "joined_at",
        "is_active",
    )
    readonly_fields = fields

    @admin.display(description=_("姓名"), ordering="user__name")
    def name(self, obj: Volunteer) -> str:
        return obj.user.name

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj: Volunteer) -> str:
        return obj.user.masked_phone


class TeamMembershipInline(ParentInline[TeamMembership, Team]):
    """New members join through ``add_team_member``; existing rows are shown, not edited."""

    model = TeamMembership
    fields = ("volunteer", "is_leader", "joined_at")
    readonly_fields = ("joined_at",)
    autocomplete_fields = ("volunteer",)
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[TeamMembership]:
        return super().get_queryset(request).select_related("volunteer__user")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "volunteer":
            kwargs["queryset"] = Volunteer.objects.filter(policies.admin_scope(request.user).site_q("site__"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    may_change = False


@admin.register(Team)
class TeamAdmin(ServiceAdmin[Team]):
    inlines = (TeamMembershipInline,)
    list_display = ("name", "site", "member_count", "created_at")
    list_select_related = ("site",)
    search_fields = ("name", "site__name")
    ordering = ("site__path", "name")
    fields = ("site", "name", "description")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return super().get_queryset(request).annotate(_members=Count("memberships"))

    @admin.display(description=_("队员人数"), ordering="_members")
    def member_count(self, obj: Team) -> int:
        return getattr(obj, "_members", 0)

    def get_readonly_fields(self, request: HttpRequest, obj: Team | None = None) -> Any:
        return () if obj is None else ("site",)

    def save_model(self, request: HttpRequest, obj: Team, form: Any, change: bool) -> None:
        if change:
            self.save_changes(
                obj, form, lambda team, changes: services.update_team(actor=_actor(request), team=team, **changes)
            )
            return
        try:
            team = services.create_team(
                actor=_actor(request), site=obj.site, name=obj.name, description=obj.description
            )
        except DomainError as exc:
            self.refuse(exc)
        else:
            self.adopt(obj, team)

    def save_formset(
        self, request: HttpRequest, form: Any, formset: BaseInlineFormSet[Any, Any, Any], change: bool
    ) -> None:
        team = form.instance

        def create(membership: TeamMembership) -> TeamMembership:
            return services.add_team_member(
                actor=_actor(request), team=team, volunteer=membership.volunteer, is_leader=membership.is_leader
            )

        self.save_inline_rows(request, formset, create)


@admin.register(ServiceRecord)
class ServiceRecordAdmin(ReadOnlyAdmin[ServiceRecord]):
    """The hours ledger (服务时长台账): append-only, so nothing here changes it."""

    list_display = ("started_at", "volunteer", "description", "site", "hours", "source", "recorder")
    list_filter = ("source",)
    list_select_related = ("volunteer__user", "site", "recorder")
    search_fields = ("volunteer__user__name", "description")
    ordering = ("-started_at", "-id")

    def scope_q(self, request: HttpRequest) -> Q | None:
        # Entries given at, or organised by, a site in the scope.
        scope = self.scope(request)
        return scope.site_q("site__") | scope.site_q("organiser_site__")

    def in_scope(self, request: HttpRequest, obj: ServiceRecord | None) -> bool:
        if obj is None:
            return True
        scope = self.scope(request)
        return scope.covers(obj.site) or scope.covers(obj.organiser_site)

    def has_delete_permission(self, request: HttpRequest, obj: ServiceRecord | None = None) -> bool:
        return False
