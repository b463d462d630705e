"""Admin for the service menu, the dispatch rules, Open311 clients and (read-only) orders.

The menu is the platform's: platform admins keep it, through
``services.save_service_type`` and ``services.save_question``. Dispatch rules
are per site, scoped like the rest of the admin. An Open311 client's
api_key is issued when it is created (or reissued by a list action) and
shown once. Orders are read here, with their history; they move on the
dispatch board, the pages and the API, never by editing a row.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wenming.accounts import policies as account_policies
from wenming.accounts.models import User
from wenming.core.admin import ParentInline, ReadOnlyAdmin, ServiceAdmin, has_admin_permission
from wenming.core.errors import DomainError
from wenming.lib.masking import mask_phone
from wenming.orders import services
from wenming.orders.models import DispatchRule, Open311Client, Order, OrderEvent, Question, ServiceType


def _actor(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _platform(request: HttpRequest) -> bool:
    return has_admin_permission(request) and account_policies.is_platform_admin(request.user)


class QuestionInline(ParentInline[Question, ServiceType]):
    model = Question
    extra = 0
    fields = ("position", "code", "prompt", "datatype", "required", "choices", "help_text")
    may_add = True
    may_change = True


@admin.register(ServiceType)
class ServiceTypeAdmin(ServiceAdmin[ServiceType]):
    scope_prefix = None
    list_display = (
        "name",
        "code",
        "kind",
        "group",
        "accept_within_hours",
        "finish_within_days",
        "needs_review",
        "is_active",
    )
    list_filter = ("kind", "group", "needs_review", "is_active")
    search_fields = ("name", "code", "description")
    filter_horizontal = ("skills", "teams")
    inlines = (QuestionInline,)
    fields = (*services.SERVICE_TYPE_FIELDS, "skills", "teams")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _platform(request)

    def has_change_permission(self, request: HttpRequest, obj: ServiceType | None = None) -> bool:
        return _platform(request)

    def save_model(self, request: HttpRequest, obj: ServiceType, form: Any, change: bool) -> None:
        if change:
            self.save_changes(
                obj,
                form,
                lambda original, changes: services.save_service_type(
                    actor=_actor(request),
                    service_type=original,
                    changes={k: v for k, v in changes.items() if k not in {"skills", "teams"}},
                ),
            )
            return
        try:
            services.save_service_type(actor=_actor(request), service_type=obj, changes={})
        except DomainError as exc:
            self.refuse(exc)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Question:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj.delete()
        for obj in [*(o for o, _c in formset.changed_objects), *formset.new_objects]:
            try:
                services.save_question(actor=_actor(request), question=obj)
            except DomainError as exc:
                self.refuse(DomainError(f"{obj.prompt}：{exc.message}", code=exc.code))


@admin.register(DispatchRule)
class DispatchRuleAdmin(ServiceAdmin[DispatchRule]):
    list_display = ("site", "mode", "rate_within_days")
    list_filter = ("mode",)
    list_select_related = ("site",)
    search_fields = ("site__name",)
    fields = ("site", "mode", "rate_within_days")

    def get_readonly_fields(self, request: HttpRequest, obj: DispatchRule | None = None) -> Any:
        return () if obj is None else ("site",)

    def save_model(self, request: HttpRequest, obj: DispatchRule, form: Any, change: bool) -> None:
        try:
            saved = services.set_dispatch_rule(
                actor=_actor(request), site=obj.site, mode=obj.mode, rate_within_days=obj.rate_within_days
            )
        except DomainError as exc:
            self.refuse(exc)
        else:
            self.adopt(obj, saved)


@admin.register(Open311Client)
class Open311ClientAdmin(ServiceAdmin[Open311Client]):
    """Third-party apps: the key is shown once, when issued."""

    scope_prefix = None
    list_display = ("name", "site", "key_hint", "is_active", "created_at", "last_used_at")
    list_filter = ("is_active",)
    search_fields = ("name", "contact")
    fields = ("name", "site", "contact", "is_active", "key_hint", "created_at", "last_used_at")
    readonly_fields = ("key_hint", "created_at", "last_used_at")
    actions = ("reissue_key",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _platform(request)

    def has_view_permission(self, request: HttpRequest, obj: Open311Client | None = None) -> bool:
        return _platform(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _platform(request)

    def has_change_permission(self, request: HttpRequest, obj: Open311Client | None = None) -> bool:
        return _platform(request)

    def save_model(self, request: HttpRequest, obj: Open311Client, form: Any, change: bool) -> None:
        if change:
            self.save_changes(
                obj,
                form,
                lambda original, changes: services.update_open311_client(
                    actor=_actor(request), client=original, changes=changes
                ),
            )
            return
        try:
            key = services.issue_open311_key(actor=_actor(request), client=obj)
        except DomainError as exc:
            self.refuse(exc)
        else:
            self.message_user(
                request, _("接入密钥（只显示这一次，请妥善转交）：%(key)s") % {"key": key}, messages.WARNING
            )

    @admin.action(description=gettext_lazy("重新签发接入密钥（旧密钥立即失效）"))
    def reissue_key(self, request: HttpRequest, queryset: QuerySet[Open311Client]) -> None:
        for client in queryset:
            key = services.issue_open311_key(actor=_actor(request), client=client)
            self.message_user(
                request,
                _("%(name)s 的新密钥（只显示这一次）：%(key)s") % {"name": client.name, "key": key},
                messages.WARNING,
            )


class EventInline(ParentInline[OrderEvent, Order]):
    model = OrderEvent
    extra = 0
    fields = ("at", "action", "from_status", "to_status", "actor", "actor_label", "volunteer", "note")
    readonly_fields = fields
    may_add = False
    may_change = False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin[Order]):
    list_display = ("id", "service_type", "kind", "status", "site", "masked_phone", "created_at")
    list_filter = ("kind", "status", "channel", "service_type")
    list_select_related = ("service_type", "site")
    search_fields = ("description", "address")
    date_hierarchy = "created_at"
    inlines = (EventInline,)
    exclude = ("contact_phone", "contact_email", "token")

    def scope(self, request: HttpRequest) -> account_policies.Scope:
        return account_policies.staff_scope(request.user)

    @admin.display(description=gettext_lazy("联系电话"))
    def masked_phone(self, obj: Order) -> str:
        return mask_phone(obj.contact_phone) if obj.contact_phone else ""
