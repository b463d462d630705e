"""The admin site: themed, in Chinese, and governed by the policies.

Django's own permission tables play no part. Whether a user may enter the
admin is ``accounts.policies.can_use_admin``; what they see in each list is
what ``accounts.policies.admin_scope`` covers; every write that has a
service goes through it. Sign-in is the site's own page, so the admin gets
the same lock-out, audit log and SMS codes as everything else.

``ScopedAdmin``, ``ReadOnlyAdmin`` and ``ServiceAdmin`` are the building
blocks the apps' ``admin.py`` modules use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.db import models
from django.db.models import Q
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from wenming.accounts import policies
from wenming.accounts.policies import Scope
from wenming.core.errors import DomainError

if TYPE_CHECKING:
    from wenming.network.models import Site

# --- The site ---------------------------------------------------------------------

admin.site.site_header = _("文明实践 管理后台")
admin.site.site_title = _("文明实践管理后台")
admin.site.index_title = _("阵地与基础数据")
admin.site.site_url = "/staff/"


def has_admin_permission(request: HttpRequest) -> bool:
    return policies.can_use_admin(request.user)


def admin_login(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
    """Admin sign-in is the site's sign-in page (lock-out, audit, SMS codes)."""
    index = reverse("admin:index")
    if request.method == "GET" and has_admin_permission(request):
        return HttpResponseRedirect(index)
    next_url = request.GET.get("next") or index
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = index
    return redirect_to_login(next_url, reverse("accounts:login"))


admin.site.has_permission = has_admin_permission  # type: ignore[method-assign]
admin.site.login = admin_login  # type: ignore[method-assign]


# --- Building blocks for the apps' admin modules ----------------------------------------


class ParentInline[M: models.Model, P: models.Model](admin.TabularInline[M, P]):
    """Rows shown inside a parent's page: the parent's admin, already scoped, decides who gets here.

    ``may_add`` and ``may_change`` say what the rows allow; a history shown
    for reading sets both to False.
    """

    may_add = True
    may_change = True

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.may_add

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.may_change


class ScopedAdmin[M: models.Model](admin.ModelAdmin[M]):
    """A model admin whose rows are limited to the user's admin scope.

    ``scope_prefix`` is the lookup from the model to its site ("site__" for
    a model with a ``site`` foreign key, "" for Site itself); ``None`` marks
    reference data that belongs to no site. Lists, object pages, foreign-key
    choices and autocomplete all go through the same filter.
    """

    scope_prefix: str | None = "site__"
    # Foreign keys to Site whose choices are limited to the scope.
    scoped_site_fields: tuple[str, ...] = ("site", "parent", "organiser_site")

    def scope(self, request: HttpRequest) -> Scope:
        return policies.admin_scope(request.user)

    def site_of(self, obj: M) -> Site | None:
        if self.scope_prefix is None:
            return None
        if self.scope_prefix == "":
            return obj  # type: ignore[return-value]
        target: Any = obj
        for part in self.scope_prefix.rstrip("_").split("__"):
            target = getattr(target, part, None)
            if target is None:
                return None
        return target

    def in_scope(self, request: HttpRequest, obj: M | None) -> bool:
        if obj is None or self.scope_prefix is None:
            return True
        return self.scope(request).covers(self.site_of(obj))

    def scope_q(self, request: HttpRequest) -> Q | None:
        """The filter for the rows this user may see; ``None`` for reference data."""
        if self.scope_prefix is None:
            return None
        return self.scope(request).site_q(self.scope_prefix)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[M]:
        qs = super().get_queryset(request)
        cond = self.scope_q(request)
        return qs if cond is None else qs.filter(cond)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        from wenming.network.models import Site

        if db_field.name in self.scoped_site_fields and db_field.related_model is Site:
            kwargs["queryset"] = Site.objects.filter(self.scope(request).site_q()).order_by("path")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # Permissions come from the policies, not from Django's permission tables.
    def has_module_permission(self, request: HttpRequest) -> bool:
        return has_admin_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return has_admin_permission(request) and self.in_scope(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return has_admin_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return has_admin_permission(request) and self.in_scope(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        # Nothing is deleted from the admin unless an admin says how (a service).
        return False


class ReadOnlyAdmin[M: models.Model](ScopedAdmin[M]):
    """Viewable within the scope; no add, change or delete at all."""

    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False


class _Refused(Exception):
    """A service refused a write; the admin form is shown again with its message."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(error.message)
        self.error = error


class ServiceAdmin[M: models.Model](ScopedAdmin[M]):
    """Writes from the admin go through services; their refusals become form errors.

    ``save_model`` and ``save_formset`` call a service and, on a
    ``DomainError``, call ``refuse``. That aborts the admin's transaction;
    the same POST is then processed again with the message attached to the
    field the error names (``extra["field"]``) or to the form, so nothing is
    half-saved and the person sees what to fix.
    """

    REFUSAL_ATTR = "_wenming_admin_refusal"

    def refuse(self, error: DomainError) -> None:
        raise _Refused(error)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _Refused as refused:
            setattr(request, self.REFUSAL_ATTR, refused.error)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request: HttpRequest, obj: M | None = None, change: bool = False, **kwargs: Any) -> Any:
        form_class = super().get_form(request, obj, change, **kwargs)
        error: DomainError | None = getattr(request, self.REFUSAL_ATTR, None)
        if error is None:
            return form_class

        class RefusedForm(form_class):  # type: ignore[valid-type,misc]
            def clean(self) -> dict[str, Any]:
                cleaned: dict[str, Any] = super().clean()
                assert error is not None
                field = error.extra.get("field")
                self.add_error(field if field in self.fields else None, error.message)
                return cleaned

        return RefusedForm

    @staticmethod
    def adopt(obj: models.Model, saved: models.Model) -> None:
        """Make the admin's unsaved ``obj`` the row a service just created."""
        for field in obj._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False
        obj._state.db = saved._state.db

    def save_changes(self, obj: M, form: Any, update: Any) -> None:
        """Save an edited row through ``update(original, changes)``, a domain service."""
        original = type(obj)._default_manager.get(pk=obj.pk)
        changes = {name: getattr(obj, name) for name in form.changed_data if hasattr(original, name)}
        try:
            saved = update(original, changes)
        except DomainError as exc:
            self.refuse(exc)
        else:
            self.adopt(obj, saved)

    def save_inline_rows(
        self,
        request: HttpRequest,
        formset: BaseInlineFormSet[Any, Any, Any],
        create: Any,
    ) -> None:
        """Save an inline formset, creating each new row through ``create(obj)``.

        ``create`` calls the service for one new, unsaved inline object.
        Changed rows are saved as they are; rows are deleted only where the
        inline allows it.
        """
        formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj.delete()
        for obj, _changed in formset.changed_objects:
            obj.save()
        for obj in formset.new_objects:
            try:
                saved = create(obj)
            except DomainError as exc:
                # The field it names belongs to the inline row, not to the
                # main form: show the message above the form instead.
                self.refuse(DomainError(exc.message, code=exc.code))
            else:
                self.adopt(obj, saved)
        formset.save_m2m()
