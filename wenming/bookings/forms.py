"""Forms of the booking pages. They shape input; ``bookings.services`` validates and decides."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from wenming.accounts.forms import WeuiForm
from wenming.accounts.models import User
from wenming.bookings.services import EARLIEST_YEAR, LATEST_YEAR, MAX_RECURRING_WEEKS
from wenming.core.errors import DomainError
from wenming.units.models import Organization

# Service fields → form fields, for errors that name a field.
SERVICE_FIELDS = {"starts_at": "start", "ends_at": "end", "reason": "reason"}


def add_booking_error(form: forms.Form, error: DomainError) -> None:
    name = error.extra.get("field")
    name = SERVICE_FIELDS.get(name, name) if isinstance(name, str) else None
    form.add_error(name if name in form.fields else None, error.message)


class BookingForm(WeuiForm):
    date = forms.DateField(
        label=_("日期"),
        widget=forms.DateInput(attrs={"type": "date", "class": "weui-input"}),
        error_messages={"required": _("请选择日期。"), "invalid": _("日期格式不正确。")},
    )
    start = forms.TimeField(
        label=_("开始时间"),
        widget=forms.TimeInput(attrs={"type": "time", "class": "weui-input", "step": 60}, format="%H:%M"),
        error_messages={"required": _("请选择开始时间。"), "invalid": _("时间格式不正确。")},
    )
    end = forms.TimeField(
        label=_("结束时间"),
        widget=forms.TimeInput(attrs={"type": "time", "class": "weui-input", "step": 60}, format="%H:%M"),
        error_messages={"required": _("请选择结束时间。"), "invalid": _("时间格式不正确。")},
    )
    weeks = forms.TypedChoiceField(
        label=_("每周重复"),
        coerce=int,
        choices=[(1, _("不重复"))],
        initial=1,
        required=False,
        empty_value=None,
        help_text=_("每周同一时间连续预约，每个日期分别检查；不能预约的日期会列出原因。"),
        error_messages={"invalid_choice": _("请选择重复的周数。")},
    )
    attendees = forms.IntegerField(
        label=_("人数"),
        min_value=1,
        max_value=100_000,
        initial=1,
        widget=forms.NumberInput(attrs={"class": "weui-input", "inputmode": "numeric"}),
        error_messages={"required": _("请填写人数。"), "invalid": _("人数应为整数。")},
    )
    purpose = forms.CharField(
        label=_("用途"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("例如：楼组议事、合唱排练")}),
        error_messages={"required": _("请填写用途。")},
    )
    organization = forms.ModelChoiceField(
        label=_("预约单位"),
        queryset=Organization.objects.none(),
        required=False,
        empty_label=_("以个人名义"),
    )

    def __init__(self, *args: Any, actor: User | None = None, max_weeks: int = 1, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        weeks = self.fields["weeks"]
        assert isinstance(weeks, forms.TypedChoiceField)
        if max_weeks < 2:
            del self.fields["weeks"]
        else:
            weeks.choices = [
                (1, _("不重复")),
                *((n, ngettext("连续%(n)d周", "连续%(n)d周", n) % {"n": n}) for n in range(2, max_weeks + 1)),
            ]
        field = self.fields["organization"]
        assert isinstance(field, forms.ModelChoiceField)
        if actor is not None and actor.is_authenticated:
            field.queryset = Organization.objects.filter(liaisons__user=actor).order_by("name").distinct()
        if field.queryset is None or not field.queryset.exists():
            del self.fields["organization"]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        cleaned["weeks"] = cleaned.get("weeks") or 1  # not asked, or "不重复"
        day, start, end = cleaned.get("date"), cleaned.get("start"), cleaned.get("end")
        if isinstance(day, dt.date) and not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
            self.add_error("date", _("请选择近期的日期。"))
            return cleaned
        if isinstance(day, dt.date) and isinstance(start, dt.time) and isinstance(end, dt.time):
            cleaned["starts_at"] = timezone.make_aware(dt.datetime.combine(day, start))
            # An end of 00:00 is midnight at the end of the day.
            end_day = day + dt.timedelta(days=1) if end == dt.time(0, 0) else day
            cleaned["ends_at"] = timezone.make_aware(dt.datetime.combine(end_day, end))
        return cleaned


def weeks_offered(max_days_ahead: int) -> int:
    """How many weeks the form offers: every date of the longest series within the venue's booking horizon."""
    return max(1, min(MAX_RECURRING_WEEKS, max_days_ahead // 7 + 1))


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("不通过的原因"),
        max_length=200,
        error_messages={"required": _("请填写不通过的原因。")},
    )
