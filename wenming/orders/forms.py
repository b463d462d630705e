"""Forms of the residents' and volunteers' order pages. They shape input; ``orders.services`` validates
and decides (a required extra question, a low rating without a comment, the hours served …), and its
``DomainError`` lands on the field it names through ``add_service_error``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wenming.accounts.forms import WeuiForm
from wenming.core.errors import DomainError
from wenming.orders.models import Datatype, OrderKind, Question, ServiceType

DATETIME_INPUT = "%Y-%m-%dT%H:%M"
RATING_CHOICES = [
    (5, _("非常满意")),
    (4, _("满意")),
    (3, _("一般")),
    (2, _("不满意")),
    (1, _("很不满意")),
]


class MultiplePhotoInput(forms.FileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos from one ``<input type=file multiple>``; each is checked by the service."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", MultiplePhotoInput(attrs={"accept": "image/*", "multiple": True}))
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        one = super().clean
        return [one(f, initial) for f in files]


def add_service_error(form: forms.Form, error: DomainError, fields: dict[str, str] | None = None) -> None:
    """Put the service's message on the field it names (renamed by ``fields``), else on the form."""
    name = error.extra.get("field")
    if isinstance(name, str):
        name = (fields or {}).get(name, name)
    form.add_error(name if isinstance(name, str) and name in form.fields else None, error.message)


def _datetime_widget() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local", "class": "weui-input"}, format=DATETIME_INPUT)


def question_field(question: Question) -> forms.Field:
    """The form field for one extra question, by its Open311 datatype; never required here (the service says)."""
    common: dict[str, Any] = {"label": question.prompt, "required": False, "help_text": question.help_text}
    choices = [(str(c.get("key")), str(c.get("name") or c.get("key"))) for c in question.choices]
    if question.datatype == Datatype.SINGLE:
        return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)
    if question.datatype == Datatype.MULTI:
        return forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple, **common)
    if question.datatype == Datatype.DATETIME:
        return forms.DateTimeField(
            input_formats=[DATETIME_INPUT, "%Y-%m-%d %H:%M"],
            widget=_datetime_widget(),
            error_messages={"invalid": _("时间格式不正确。")},
            **common,
        )
    if question.datatype == Datatype.NUMBER:
        return forms.CharField(
            max_length=40, widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "weui-input"}), **common
        )
    if question.datatype == Datatype.TEXT:
        return forms.CharField(
            max_length=2000, widget=forms.Textarea(attrs={"class": "weui-textarea", "rows": 3}), **common
        )
    return forms.CharField(max_length=200, widget=forms.TextInput(attrs={"class": "weui-input"}), **common)


class PlaceForm(WeuiForm):
    """What 点单 and 随手拍 share: the type, its extra questions, the place and the photos.

    Every type's questions are fields of the form (``q<type id>_<code>``), so the page can show the
    chosen type's questions under it without a round trip; only the chosen type's answers are sent.
    """

    kind = OrderKind.SERVICE
    service_type = forms.ModelChoiceField(
        queryset=ServiceType.objects.none(),
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("该服务暂不受理，请重新选择。")},
    )
    description = forms.CharField(
        label=_("需求描述"),
        max_length=2000,
        widget=forms.Textarea(attrs={"class": "weui-textarea", "rows": 4, "maxlength": 2000}),
        error_messages={"required": _("请描述您的需求。")},
    )
    address = forms.CharField(
        label=_("地址"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("小区、楼号、门牌号"), "autocomplete": "street-address"}),
    )
    latitude = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)
    longitude = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)
    photos = PhotosField(label=_("照片"), help_text=_("最多6张。"))

    def __init__(self, *args: Any, service_types: Sequence[ServiceType], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.service_types = list(service_types)
        field = self.fields["service_type"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = ServiceType.objects.filter(kind=self.kind, is_active=True)
        self.question_names: dict[int, list[tuple[Question, str]]] = {}
        for service_type in self.service_types:
            for question in service_type.questions.all():
                name = f"q{service_type.pk}_{question.code}"
                self.fields[name] = question_field(question)
                self.question_names.setdefault(service_type.pk, []).append((question, name))

    def questions_of(self, service_type: ServiceType) -> list[forms.BoundField]:
        return [self[name] for _q, name in self.question_names.get(service_type.pk, [])]

    def answer_fields(self, service_type: ServiceType | None) -> dict[str, str]:
        """Question code → form field name, for the service's errors about answers."""
        if service_type is None:
            return {}
        return {q.code: name for q, name in self.question_names.get(service_type.pk, [])}

    def answers_for(self, service_type: ServiceType | None) -> dict[str, Any]:
        """The answers to the type's questions, as the service takes them (empty answers left out)."""
        if service_type is None:
            return {}
        answers: dict[str, Any] = {}
        for question, name in self.question_names.get(service_type.pk, []):
            value = self.cleaned_data.get(name)
            if value in (None, "", []):
                continue
            if question.datatype == Datatype.DATETIME:
                value = timezone.localtime(value).isoformat()
            answers[question.code] = value
        return answers

    def selected_type_id(self) -> str:
        value = self["service_type"].value()
        return "" if value is None else str(value)


class OrderForm(PlaceForm):
    """我要点单."""

    preferred_at = forms.DateTimeField(
        label=_("期望时间"),
        required=False,
        input_formats=[DATETIME_INPUT, "%Y-%m-%d %H:%M"],
        widget=_datetime_widget(),
        error_messages={"invalid": _("时间格式不正确。")},
    )
    contact_name = forms.CharField(
        label=_("联系人"), max_length=50, required=False, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    contact_phone = forms.CharField(
        label=_("联系电话"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )


class ReportForm(PlaceForm):
    """随手拍: a category, at least one photo, where, and what was seen."""

    kind = OrderKind.REPORT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service_type"].required = True
        self.fields["service_type"].error_messages["required"] = _("请选择问题类别。")
        self.fields["description"].label = _("情况描述")
        self.fields["description"].error_messages["required"] = _("请说说您看到的情况。")
        photos = self.fields["photos"]
        photos.required = True
        photos.error_messages["required"] = _("请至少拍一张照片。")
        photos.help_text = _("至少1张，最多6张。")


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("评分"),
        choices=RATING_CHOICES,
        coerce=int,
        widget=forms.RadioSelect(attrs={"class": "wm-choice-input"}),
        error_messages={"required": _("请选择评分。"), "invalid_choice": _("请打1到5分。")},
    )
    comment = forms.CharField(
        label=_("评价"),
        max_length=500,
        required=False,
        widget=forms.Textarea(
            attrs={"class": "weui-textarea", "rows": 3, "maxlength": 500, "placeholder": _("说说您的感受（选填）")}
        ),
        help_text=_("打2分及以下时，请写明不满意的地方。"),
    )


class ReasonForm(forms.Form):
    """A reason for cancelling, declining or giving an order back; whether it is required is the service's call."""

    reason = forms.CharField(
        label=_("原因"),
        max_length=500,
        required=False,
        widget=forms.TextInput(attrs={"class": "weui-input"}),
    )


class CompleteForm(forms.Form):
    hours = forms.DecimalField(
        label=_("我的服务时长（小时）"),
        max_digits=5,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"class": "weui-input", "inputmode": "decimal", "step": "0.1", "min": "0.1"}),
        error_messages={"required": _("请填写服务时长。"), "invalid": _("时长应为数字。")},
    )
    beneficiaries = forms.IntegerField(
        label=_("服务人数"),
        initial=1,
        widget=forms.NumberInput(attrs={"class": "weui-input", "inputmode": "numeric", "min": "1"}),
        error_messages={"required": _("请填写服务人数。"), "invalid": _("服务人数应为整数。")},
    )
    note = forms.CharField(
        label=_("服务记录"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(
            attrs={
                "class": "weui-textarea",
                "rows": 3,
                "maxlength": 2000,
                "placeholder": _("做了什么、情况如何（选填）"),
            }
        ),
    )
    photos = PhotosField(label=_("服务照片"), help_text=_("选填，最多6张。"))
