"""Admin for partner units (共建单位) and their liaisons, written through ``units.services``."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from wenming.accounts import policies
from wenming.accounts.models import User
from wenming.core.admin import ParentInline, ServiceAdmin
from wenming.core.errors import DomainError
from wenming.units import services
from wenming.units.models import Liaison, Organization


def _actor(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


class LiaisonInline(ParentInline[Liaison, Organization]):
    """New liaisons are added through ``add_liaison``; existing rows are shown, not edited."""

    model = Liaison
    fields = ("user", "title", "since")
    readonly_fields = ("since",)
    autocomplete_fields = ("user",)
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Liaison]:
        return super().get_queryset(request).select_related("user")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "user":
            scope = policies.admin_scope(request.user)
            kwargs["queryset"] = User.objects.filter(scope.site_q("home_site__"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    may_change = False


@admin.register(Organization)
class OrganizationAdmin(ServiceAdmin[Organization]):
    inlines = (LiaisonInline,)
    list_display = ("name", "kind", "site", "is_council_member", "joined_at")
    list_filter = ("kind", "is_council_member")
    list_select_related = ("site",)
    search_fields = ("name", "address", "site__name")
    ordering = ("site__path", "name")

    def get_fields(self, request: HttpRequest, obj: Organization | None = None) -> Any:
        if obj is None:
            return ("site", "name", "kind", "address", "is_council_member")
        return ("site", "name", "kind", "address", "is_council_member", "joined_at", "description")

    def get_readonly_fields(self, request: HttpRequest, obj: Organization | None = None) -> Any:
        return () if obj is None else ("site",)

    def save_model(self, request: HttpRequest, obj: Organization, form: Any, change: bool) -> None:
        if change:
            self.save_changes(
                obj,
                form,
                lambda organization, changes: services.update_organization(
                    actor=_actor(request), organization=organization, **changes
                ),
            )
            return
        try:
            organization = services.create_organization(
                actor=_actor(request),
                site=obj.site,
                name=obj.name,
                kind=obj.kind,
                address=obj.address,
                is_council_member=obj.is_council_member,
            )
        except DomainError as exc:
            self.refuse(exc)
        else:
            self.adopt(obj, organization)

    def save_formset(
        self, request: HttpRequest, form: Any, formset: BaseInlineFormSet[Any, Any, Any], change: bool
    ) -> None:
        organization = form.instance

        def create(liaison: Liaison) -> Liaison:
            return services.add_liaison(
                actor=_actor(request), organization=organization, user=liaison.user, title=liaison.title
            )

        self.save_inline_rows(request, formset, create)
