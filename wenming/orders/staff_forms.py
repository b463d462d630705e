"""Forms of the staff order pages (派单台, one order's actions, 代点单).

They only shape input: ``wenming.orders.services`` validates and decides, and a
``DomainError`` lands next to the field it names (``add_domain_error``). That is
why most text fields are optional here: the service's message is the one shown.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from wenming.accounts.policies import Scope
from wenming.activities.forms import DateTimeLocalInput, MultipleImageField, SiteChoiceField, datetime_field
from wenming.network.models import Site, SiteLevel
from wenming.orders.models import Datatype, Order, OrderKind, OrderStatus, Question, ServiceType
from wenming.volunteers.models import Team, Volunteer

PHOTO_HELP = _("JPG、PNG或WebP，每张不超过5MB")
DUE = "due"  # the status filter's "follow-up date reached"


def _text(label: Any, *, rows: int = 2, max_length: int = 500) -> forms.CharField:
    return forms.CharField(
        label=label, max_length=max_length, required=False, widget=forms.Textarea(attrs={"rows": rows})
    )


class TypeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.name if obj.is_active else f"{obj.name}（{_('已停用')}）"


# --- The board's filters ---------------------------------------------------------------------------


class BoardFilterForm(forms.Form):
    station = SiteChoiceField(
        label=_("阵地"),
        queryset=Site.objects.none(),
        required=False,
        empty_label=_("全部阵地"),
        error_messages={"invalid_choice": _("请选择您负责的阵地。")},
    )
    service_type = TypeChoiceField(
        label=_("服务类型"),
        queryset=ServiceType.objects.order_by("kind", "position", "id"),
        required=False,
        empty_label=_("全部类型"),
        error_messages={"invalid_choice": _("未找到该服务类型。")},
    )
    status = forms.ChoiceField(label=_("状态"), required=False)
    escalated = forms.BooleanField(label=_("只看已上报"), required=False)
    q = forms.CharField(label=_("搜索"), max_length=50, required=False)

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        station: Any = self.fields["station"]
        station.queryset = Site.objects.filter(scope.site_q(), level__lte=SiteLevel.STATION).order_by("path")
        status: Any = self.fields["status"]
        status.choices = [("", _("全部状态")), (DUE, _("复查已到期")), *OrderStatus.choices]


# --- One order's actions -------------------------------------------------------------------------------


class NoteForm(forms.Form):
    note = _text(_("意见"))


class ReasonForm(forms.Form):
    reason = _text(_("原因"))


class RetypeForm(forms.Form):
    service_type = TypeChoiceField(
        label=_("改为"),
        queryset=ServiceType.objects.none(),
        empty_label=_("请选择服务类型"),
        error_messages={"required": _("请选择服务类型。"), "invalid_choice": _("请选择同类的、在受理中的服务类型。")},
    )
    note = forms.CharField(label=_("说明（选填）"), max_length=200, required=False)

    def __init__(self, *args: Any, order: Order, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["service_type"]
        field.queryset = ServiceType.objects.filter(kind=order.kind, is_active=True).exclude(pk=order.service_type_id)


class TeamChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.site.name}）"


class DispatchForm(forms.Form):
    """派单 / 改派: a candidate's button (``volunteer``), another volunteer by phone, or a team."""

    volunteer = forms.ModelChoiceField(
        queryset=Volunteer.objects.all(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("未找到该志愿者。")},
    )
    phone = forms.CharField(
        label=_("其他志愿者的手机号"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off", "placeholder": _("11位手机号")}),
    )
    team = TeamChoiceField(
        label=_("派给志愿服务队"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=_("请选择队伍"),
        error_messages={"invalid_choice": _("只能派给本辖区的志愿服务队。")},
    )
    note = forms.CharField(label=_("给志愿者的话（选填）"), max_length=200, required=False)

    def __init__(self, *args: Any, root: Site, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team: Any = self.fields["team"]
        team.queryset = Team.objects.filter(site__path__startswith=root.path).select_related("site").order_by("name")


class CompleteForm(forms.Form):
    """完成服务 on the volunteer's behalf (they phoned it in)."""

    hours = forms.DecimalField(
        label=_("服务时长（小时）"),
        max_digits=5,
        decimal_places=2,
        error_messages={"required": _("请填写服务时长。"), "invalid": _("时长应为数字。")},
        widget=forms.NumberInput(attrs={"step": "0.25", "inputmode": "decimal"}),
    )
    beneficiaries = forms.IntegerField(
        label=_("服务人数"), initial=1, error_messages={"required": _("请填写服务人数。"), "invalid": _("请输入整数。")}
    )
    started_at = datetime_field(
        _("开始时间（选填）"), required=False, help_text=_("不填则按志愿者点击“开始服务”的时间")
    )
    note = _text(_("服务记录"), rows=3, max_length=2000)


class RateForm(forms.Form):
    """A rating taken by phone, for an order staff placed on a resident's behalf."""

    rating = forms.TypedChoiceField(
        label=_("评分"),
        coerce=int,
        choices=[(n, str(n)) for n in range(5, 0, -1)],
        error_messages={"required": _("请打1到5分。"), "invalid_choice": _("请打1到5分。")},
    )
    comment = forms.CharField(label=_("评价"), max_length=500, required=False)


class RectifiedForm(forms.Form):
    note = _text(_("整改情况（选填）"))
    photos = MultipleImageField(label=_("整改照片（选填）"), required=False, help_text=PHOTO_HELP)


class NotRectifiedForm(forms.Form):
    follow_up_on = forms.DateField(
        label=_("复查日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        error_messages={"required": _("请选择复查日期。"), "invalid": _("请输入正确的日期。")},
    )
    note = _text(_("情况说明（选填）"))


# --- 代点单 ------------------------------------------------------------------------------------------------


def answer_name(service_type_id: int, code: str) -> str:
    return f"q-{service_type_id}-{code}"


def _question_field(question: Question) -> forms.Field:
    label = question.prompt
    options: dict[str, Any] = {"label": label, "required": False, "help_text": question.help_text}
    choices = [(str(c.get("key")), str(c.get("name") or c.get("key"))) for c in question.choices]
    if question.datatype == Datatype.SINGLE:
        return forms.ChoiceField(choices=[("", _("请选择")), *choices], **options)
    if question.datatype == Datatype.MULTI:
        return forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple, **options)
    if question.datatype == Datatype.DATETIME:
        return forms.DateTimeField(
            widget=DateTimeLocalInput(), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"], **options
        )
    if question.datatype == Datatype.TEXT:
        return forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), **options)
    if question.datatype == Datatype.NUMBER:
        return forms.CharField(max_length=30, widget=forms.TextInput(attrs={"inputmode": "decimal"}), **options)
    return forms.CharField(max_length=200, **options)


class StaffOrderForm(forms.Form):
    """代点单: staff take an order by phone or at the desk, for a resident of their scope.

    The extra questions of every service type are fields named ``q-<type>-<code>``; only the chosen
    type's answers are sent to the service (a small script shows only those).
    """

    phone = forms.CharField(
        label=_("居民手机号"),
        max_length=20,
        error_messages={"required": _("请输入居民的手机号。")},
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off", "placeholder": _("11位手机号")}),
    )
    service_type = TypeChoiceField(
        label=_("服务类型"),
        queryset=ServiceType.objects.none(),
        required=False,
        empty_label=_("按需求描述自动判断"),
        error_messages={"invalid_choice": _("该服务暂不受理。")},
    )
    description = forms.CharField(
        label=_("需求描述"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    address = forms.CharField(label=_("服务地址"), max_length=200, required=False)
    site = SiteChoiceField(
        label=_("责任实践站"),
        queryset=Site.objects.none(),
        required=False,
        empty_label=_("按居民所在阵地"),
        error_messages={"invalid_choice": _("请选择您负责的阵地。")},
    )
    preferred_at = datetime_field(_("期望服务时间（选填）"), required=False)
    contact_name = forms.CharField(label=_("联系人（选填）"), max_length=50, required=False)
    contact_phone = forms.CharField(
        label=_("联系电话（选填）"), max_length=20, required=False, help_text=_("不填则用居民本人的手机号")
    )
    photos = MultipleImageField(label=_("照片（选填）"), required=False, help_text=PHOTO_HELP)

    def __init__(self, *args: Any, scope: Scope, types: list[ServiceType], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        service_type: Any = self.fields["service_type"]
        service_type.queryset = ServiceType.objects.filter(kind=OrderKind.SERVICE, is_active=True)
        site: Any = self.fields["site"]
        site.queryset = Site.objects.filter(scope.site_q(), level__in=[SiteLevel.STATION, SiteLevel.POINT]).order_by(
            "path"
        )
        self.question_groups: list[tuple[ServiceType, list[str]]] = []
        for t in types:
            names = []
            for question in t.questions.all():
                name = answer_name(t.pk, question.code)
                self.fields[name] = _question_field(question)
                names.append(name)
            if names:
                self.question_groups.append((t, names))

    def groups(self) -> list[tuple[ServiceType, list[forms.BoundField]]]:
        return [(t, [self[name] for name in names]) for t, names in self.question_groups]

    def answers(self, service_type: ServiceType | None) -> dict[str, Any]:
        """The chosen type's answers, keyed by question code, as the service takes them."""
        if service_type is None:
            return {}
        out: dict[str, Any] = {}
        for question in service_type.questions.all():
            value = self.cleaned_data.get(answer_name(service_type.pk, question.code))
            if value in (None, "", []):
                continue
            out[question.code] = value.isoformat() if hasattr(value, "isoformat") else value
        return out
