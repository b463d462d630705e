"""Admin for people, role grants and the audit log.

- People: listed with masked phones; the ID number never appears in full
  (only the stored mask); no one is added here (代注册 is a staff page) and
  passwords change only through Django's password form.
- Role grants: read-only rows; a new grant goes through
  ``services.grant_role`` and removing one through ``services.revoke_role``.
- Audit log: read only, no add, change or delete for anyone.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from wenming.accounts import policies, services
from wenming.accounts.models import AuditLog, Profile, RoleGrant, User
from wenming.core.admin import ReadOnlyAdmin, ServiceAdmin, has_admin_permission
from wenming.core.errors import DomainError

# Roles on sites replace Django's groups and permission tables.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


def _actor(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("name", "masked_phone", "home_site", "is_active", "date_joined")
    list_filter = ("is_active",)
    list_select_related = ("home_site",)
    search_fields = ("name", "=phone")
    ordering = ("home_site__path", "name", "id")
    filter_horizontal = ()
    readonly_fields = (
        "masked_phone",
        "id_number_masked",
        "home_site",
        "registered_by",
        "roles",
        "date_joined",
        "last_login",
    )
    fieldsets = (
        (None, {"fields": ("masked_phone", "name", "is_active", "password")}),
        (_("实名信息"), {"fields": ("id_number_masked", "home_site", "registered_by")}),
        (_("角色与记录"), {"fields": ("roles", "date_joined", "last_login")}),
    )

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj: User) -> str:
        return obj.masked_phone

    @admin.display(description=_("身份证号"))
    def id_number_masked(self, obj: User) -> str:
        profile = Profile.objects.filter(user=obj).only("id_number_masked").first()
        return profile.id_number_masked if profile and profile.id_number_masked else "—"

    @admin.display(description=_("角色"))
    def roles(self, obj: User) -> str:
        grants = obj.role_grants.select_related("site").order_by("site__path")
        return (
            format_html_join(
                "",
                "<div>{} · {}</div>",
                ((g.get_role_display(), g.site.name if g.site else _("全平台")) for g in grants),
            )
            or "—"
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        qs = super().get_queryset(request)
        scope = policies.admin_scope(request.user)
        if scope.everything:
            return qs
        return qs.filter(scope.site_q("home_site__") | Q(pk=request.user.pk))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return has_admin_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_admin_permission(request) and (obj is None or policies.can_view_person(request.user, obj))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_admin_permission(request) and (obj is None or policies.can_manage_account(request.user, obj))

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        """Name and active flag change through ``services.update_account`` (audited)."""
        person = User.objects.get(pk=obj.pk)
        try:
            services.update_account(
                actor=_actor(request), person=person, name=obj.name, is_active=obj.is_active, request=request
            )
        except DomainError as exc:
            messages.error(request, exc.message)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        """A valid new password is saved by ``services.set_password`` (audited, tokens revoked)."""
        person = self.get_object(request, unquote(id))
        if person is None or not self.has_change_permission(request, person):
            raise PermissionDenied
        if request.method == "POST":
            form = self.change_password_form(person, request.POST)
            if form.is_valid():
                usable = form.cleaned_data.get("usable_password", "true") != "false"
                try:
                    services.set_password(
                        actor=_actor(request),
                        person=person,
                        password=form.cleaned_data["password1"] if usable else None,
                        request=request,
                    )
                except DomainError as exc:
                    messages.error(request, exc.message)
                else:
                    messages.success(request, _("密码已修改，该账号的接口令牌已全部失效。"))
                    return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[person.pk]))
        return super().user_change_password(request, id, form_url)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # residents are registered on the 代注册 page, through services.register_resident

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RoleGrant)
class RoleGrantAdmin(ServiceAdmin[RoleGrant]):
    list_display = ("user", "role", "site", "granted_by", "granted_at")
    list_filter = ("role",)
    list_select_related = ("user", "site", "granted_by")
    search_fields = ("user__name", "=user__phone", "site__name")
    autocomplete_fields = ("user",)
    fields = ("user", "role", "site")
    ordering = ("site__path", "role", "id")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "user":
            scope = policies.admin_scope(request.user)
            kwargs["queryset"] = User.objects.filter(scope.site_q("home_site__"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: RoleGrant | None = None) -> bool:
        return False  # a grant is made or revoked, never edited

    def has_delete_permission(self, request: HttpRequest, obj: RoleGrant | None = None) -> bool:
        if not has_admin_permission(request):
            return False
        return obj is None or policies.can_revoke_grant(request.user, obj)

    def save_model(self, request: HttpRequest, obj: RoleGrant, form: Any, change: bool) -> None:
        try:
            grant = services.grant_role(
                actor=_actor(request), user=obj.user, role=obj.role, site=obj.site, request=request
            )
        except DomainError as exc:
            self.refuse(exc)
        else:
            self.adopt(obj, grant)

    def delete_model(self, request: HttpRequest, obj: RoleGrant) -> None:
        try:
            services.revoke_role(actor=_actor(request), grant=obj, request=request)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[RoleGrant]) -> None:
        for grant in queryset.select_related("user", "site"):
            self.delete_model(request, grant)


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin[AuditLog]):
    list_display = ("created_at", "action", "actor", "target_type", "target_id", "site", "ip")
    list_filter = ("action",)
    list_select_related = ("actor", "site")
    search_fields = ("=target_id", "actor__name")
    ordering = ("-created_at", "-id")
    list_per_page = 100

    def has_module_permission(self, request: HttpRequest) -> bool:
        return has_admin_permission(request) and policies.can_view_audit_log(request.user)

    def has_view_permission(self, request: HttpRequest, obj: AuditLog | None = None) -> bool:
        return policies.can_view_audit_log(request.user) and super().has_view_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: AuditLog | None = None) -> bool:
        return False
