"""Admin for the network tree, venues, brands and projects.

Sites are created and changed through ``network.services`` (the service
computes the materialised path); venues, brands and projects are created
through it too. A site's place in the tree (level, parent, code) is fixed
once created.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from wenming.accounts import policies as account_policies
from wenming.accounts.models import User
from wenming.core.admin import ParentInline, ServiceAdmin
from wenming.core.errors import DomainError
from wenming.network import services
from wenming.network.models import Brand, Project, Site, Venue, VenuePhoto


def _actor(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


# --- Sites ---------------------------------------------------------------------------


@admin.register(Site)
class SiteAdmin(ServiceAdmin[Site]):
    scope_prefix = ""
    list_display = ("tree_name", "level", "kind", "code", "address", "is_active")
    list_filter = ("level", "kind", "is_active")
    search_fields = ("name", "code", "address")
    ordering = ("path",)
    list_per_page = 50
    add_fields = (
        "level",
        "parent",
        "name",
        "code",
        "kind",
        "address",
        "latitude",
        "longitude",
        "contact_name",
        "contact_phone",
        "opening_hours",
        "description",
        "is_active",
    )
    change_fields = ("level", "parent", "code", "path", "manager", *services.EDITABLE_SITE_FIELDS)
    fixed_on_change = ("level", "parent", "code", "path")

    @admin.display(description=_("名称"), ordering="path")
    def tree_name(self, obj: Site) -> str:
        return format_html('<span style="padding-left:{}em">{}</span>', (obj.level - 1) * 1.5, obj.name)

    def get_fields(self, request: HttpRequest, obj: Site | None = None) -> Any:
        return self.add_fields if obj is None else self.change_fields

    def get_readonly_fields(self, request: HttpRequest, obj: Site | None = None) -> Any:
        return () if obj is None else self.fixed_on_change

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "manager":
            # Only people the admin may see can be named; the service checks again.
            kwargs["queryset"] = User.objects.filter(account_policies.people_visible_to(request.user)).order_by("name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Site, form: Any, change: bool) -> None:
        try:
            if change:
                fields = {
                    name: getattr(obj, name) for name in services.EDITABLE_SITE_FIELDS if name in form.changed_data
                }
                with transaction.atomic():
                    if fields:
                        services.update_site(actor=_actor(request), site=obj, **fields)
                    if "manager" in form.changed_data:
                        services.set_site_manager(actor=_actor(request), site=obj, manager=obj.manager, request=request)
                return
            extra = {name: getattr(obj, name) for name in services.EDITABLE_SITE_FIELDS if name != "name"}
            site = services.create_site(
                actor=_actor(request), parent=obj.parent, level=obj.level, name=obj.name, code=obj.code, **extra
            )
        except DomainError as exc:
            self.refuse(exc)
        else:
            self.adopt(obj, site)


# --- Venues ----------------------------------------------------------------------------

_LIST_SPLIT = re.compile(r"[,，、;；\n]+")


class ListTextField(forms.CharField):
    """A list of short names typed as one line: 投影仪、音响、茶水."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return "、".join(str(v) for v in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value)
        return [part.strip() for part in _LIST_SPLIT.split(text or "") if part.strip()]


class VenueForm(forms.ModelForm[Venue]):
    facilities = ListTextField(
        label=_("设施"), required=False, help_text=_("用顿号或逗号分隔，例如：投影仪、音响、茶水")
    )

    class Meta:
        model = Venue
        fields = ("site", "name", "area_m2", "capacity", "facilities", "description", "is_bookable", "is_active")


class VenuePhotoInline(ParentInline[VenuePhoto, Venue]):
    model = VenuePhoto
    fields = ("image", "caption", "position")
    extra = 0

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True


@admin.register(Venue)
class VenueAdmin(ServiceAdmin[Venue]):
    form = VenueForm
    inlines = (VenuePhotoInline,)
    list_display = ("name", "site", "area_m2", "capacity", "is_bookable", "is_active")
    list_filter = ("is_bookable", "is_active")
    list_select_related = ("site",)
    search_fields = ("name", "site__name")
    ordering = ("site__path", "name")

    def get_exclude(self, request: HttpRequest, obj: Venue | None = None) -> Any:
        # New venues are active; the service decides that.
        return ("is_active",) if obj is None else ()

    def get_readonly_fields(self, request: HttpRequest, obj: Venue | None = None) -> Any:
        return () if obj is None else ("site",)

    def save_model(self, request: HttpRequest, obj: Venue, form: Any, change: bool) -> None:
        if change:
            self.save_changes(
                obj, form, lambda venue, changes: services.update_venue(actor=_actor(request), venue=venue, **changes)
            )
            return
        try:
            venue = services.create_venue(
                actor=_actor(request),
                site=obj.site,
                name=obj.name,
                area_m2=obj.area_m2,
                capacity=obj.capacity,
                facilities=list(obj.facilities or []),
                description=obj.description,
                is_bookable=obj.is_bookable,
            )
        except DomainError as exc:
            self.refuse(exc)
        else:
            self.adopt(obj, venue)

    def save_formset(
        self, request: HttpRequest, form: Any, formset: BaseInlineFormSet[Any, Any, Any], change: bool
    ) -> None:
        venue = form.instance

        def create(photo: VenuePhoto) -> VenuePhoto:
            return services.add_venue_photo(
                actor=_actor(request), venue=venue, image=photo.image, caption=photo.caption, position=photo.position
            )

        self.save_inline_rows(request, formset, create)


# --- Brands and projects --------------------------------------------------------------------


class ProjectInline(ParentInline[Project, Brand]):
    model = Project
    fields = ("name", "description", "is_claimable")
    extra = 0
    can_delete = False


@admin.register(Brand)
class BrandAdmin(ServiceAdmin[Brand]):
    inlines = (ProjectInline,)
    list_display = ("name", "site", "theme", "project_count")
    list_select_related = ("site",)
    search_fields = ("name", "theme", "site__name")
    ordering = ("site__path", "id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Brand]:
        from django.db.models import Count

        return super().get_queryset(request).annotate(_projects=Count("projects"))

    @admin.display(description=_("项目数"), ordering="_projects")
    def project_count(self, obj: Brand) -> int:
        return getattr(obj, "_projects", 0)

    def get_readonly_fields(self, request: HttpRequest, obj: Brand | None = None) -> Any:
        return () if obj is None else ("site",)

    def save_model(self, request: HttpRequest, obj: Brand, form: Any, change: bool) -> None:
        if change:
            self.save_changes(
                obj, form, lambda brand, changes: services.update_brand(actor=_actor(request), brand=brand, **changes)
            )
            return
        try:
            brand = services.create_brand(
                actor=_actor(request), site=obj.site, name=obj.name, theme=obj.theme, description=obj.description
            )
        except DomainError as exc:
            self.refuse(exc)
        else:
            self.adopt(obj, brand)

    def save_formset(
        self, request: HttpRequest, form: Any, formset: BaseInlineFormSet[Any, Any, Any], change: bool
    ) -> None:
        if formset.model is not Project:
            super().save_formset(request, form, formset, change)
            return
        brand = form.instance

        def create(project: Project) -> Project:
            return services.create_project(
                actor=_actor(request),
                brand=brand,
                name=project.name,
                description=project.description,
                is_claimable=project.is_claimable,
            )

        self.save_inline_rows(request, formset, create)
