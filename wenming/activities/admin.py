"""Admin for the yearly plans (with their monthly themes) and the publishing rules.

Network admins (platform and sub-centre admins) keep these, each within
their subtree, as for the rest of the admin (docs/decisions/0007). Saving
goes through the services: ``create_plan`` for a new plan,
``set_monthly_theme`` for each theme row, ``set_publishing_rule`` for a
rule. A plan's site and year are fixed once created; its title and
description have no update service yet and are shown read-only.
Activities themselves are run on the staff pages, not here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from wenming.accounts.models import User
from wenming.activities import services
from wenming.activities.models import MonthlyTheme, Plan, PublishingRule
from wenming.core.admin import ParentInline, ServiceAdmin
from wenming.core.errors import DomainError, Invalid


def _actor(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


class MonthlyThemeInline(ParentInline[MonthlyTheme, Plan]):
    model = MonthlyTheme
    fields = ("month", "theme", "description")
    extra = 0
    max_num = 12
    can_delete = False


@admin.register(Plan)
class PlanAdmin(ServiceAdmin[Plan]):
    inlines = (MonthlyThemeInline,)
    list_display = ("title", "site", "year", "theme_count")
    list_filter = ("year",)
    list_select_related = ("site",)
    search_fields = ("title", "site__name")
    ordering = ("site__path", "-year")
    fields = ("site", "year", "title", "description")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Plan]:
        return super().get_queryset(request).annotate(_themes=Count("themes"))

    @admin.display(description=_("月度主题数"), ordering="_themes")
    def theme_count(self, obj: Plan) -> int:
        return getattr(obj, "_themes", 0)

    def get_readonly_fields(self, request: HttpRequest, obj: Plan | None = None) -> Any:
        return () if obj is None else ("site", "year", "title", "description")

    def save_model(self, request: HttpRequest, obj: Plan, form: Any, change: bool) -> None:
        if change:
            return  # nothing on the plan itself is editable; the themes are saved with the formset
        try:
            plan = services.create_plan(
                actor=_actor(request), site=obj.site, year=obj.year, title=obj.title, description=obj.description
            )
        except DomainError as exc:
            self.refuse(exc)
        else:
            self.adopt(obj, plan)

    def save_formset(
        self, request: HttpRequest, form: Any, formset: BaseInlineFormSet[Any, Any, Any], change: bool
    ) -> None:
        """Every new or changed theme row through ``set_monthly_theme`` (which also refuses a bad month)."""
        plan = form.instance
        actor = _actor(request)
        # What the admin's change message (history) reads.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row in formset.forms:
            if not row.has_changed() or not getattr(row, "cleaned_data", None):
                continue
            data = row.cleaned_data
            original: MonthlyTheme | None = row.instance if row.instance.pk else None
            try:
                if original is not None and "month" in row.changed_data:
                    raise Invalid(gettext("已有主题的月份不能修改；请修改该月的主题内容。"), code="invalid_month")
                saved = services.set_monthly_theme(
                    actor=actor,
                    plan=plan,
                    month=data["month"] if original is None else original.month,
                    theme=data["theme"],
                    description=data.get("description") or "",
                )
            except DomainError as exc:
                # The field it names belongs to an inline row: show the message above the form.
                self.refuse(DomainError(exc.message, code=exc.code))
            else:
                if original is None:
                    formset.new_objects.append(saved)
                else:
                    formset.changed_objects.append((saved, row.changed_data))


@admin.register(PublishingRule)
class PublishingRuleAdmin(ServiceAdmin[PublishingRule]):
    list_display = ("site", "publish_directly")
    list_filter = ("publish_directly",)
    list_select_related = ("site",)
    search_fields = ("site__name",)
    ordering = ("site__path",)
    fields = ("site", "publish_directly")

    def get_readonly_fields(self, request: HttpRequest, obj: PublishingRule | None = None) -> Any:
        return () if obj is None else ("site",)

    def save_model(self, request: HttpRequest, obj: PublishingRule, form: Any, change: bool) -> None:
        try:
            rule = services.set_publishing_rule(
                actor=_actor(request), site=obj.site, publish_directly=obj.publish_directly
            )
        except DomainError as exc:
            self.refuse(exc)
        else:
            self.adopt(obj, rule)
