"""Forms of the staff activity pages, the scanner and the residents' small forms.

They only shape input; ``wenming.activities.services`` validates and
decides. A ``DomainError`` from a service lands next to the field it names
in ``extra["field"]`` (``add_domain_error``), or above the form.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import Q
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from wenming.accounts.models import User
from wenming.accounts.policies import staff_scope
from wenming.activities.models import Activity, ActivityStatus, Audience, LectureFormat, Platform, Post
from wenming.core.errors import DomainError
from wenming.lib.holidays import monday_of
from wenming.network.models import Brand, Project, Site, Venue

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
# The activity fields the editor shows, in the order of services.EDITABLE_FIELDS.
ACTIVITY_FIELDS = (
    "title",
    "description",
    "platform",
    "lecture_format",
    "audience",
    "starts_at",
    "ends_at",
    "venue",
    "location",
    "brand",
    "project",
    "seats",
    "waitlist_limit",
    "signup_opens_at",
    "signup_closes_at",
    "cancel_deadline",
    "checkin_opens_at",
    "checkin_closes_at",
    "contact_name",
    "contact_phone",
)
# Left out when blank: the service then computes them from the activity's times.
DEFAULTED_FIELDS = ("checkin_opens_at", "checkin_closes_at")


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    field = error.extra.get("field")
    form.add_error(field if field in form.fields else None, error.message)


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=DATETIME_FORMAT)


def _fill_in(label: Any) -> str:
    return _("请填写%(label)s。") % {"label": label}


fill_in = lazy(_fill_in, str)  # the message in the language of the request, not of the import


def datetime_field(label: Any, *, required: bool = True, help_text: Any = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        help_text=help_text,
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=DateTimeLocalInput(),
        error_messages={
            "required": fill_in(label),
            "invalid": _("请输入正确的日期和时间。"),
        },
    )


def count_field(label: Any, *, minimum: int = 0, maximum: int = 100_000, initial: int | None = 0) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=minimum,
        max_value=maximum,
        initial=initial,
        required=initial is None,
        error_messages={
            "required": fill_in(label),
            "invalid": _("请输入整数。"),
            "min_value": _("不能小于%(limit_value)s。"),
            "max_value": _("不能大于%(limit_value)s。"),
        },
    )


class SiteChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.level_label} · {obj.name}"


class VenueChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.site.name} · {obj.name}"


class ProjectChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.brand.name} · {obj.name}"


def chain_q(roots: list[Site], everything: bool = False, prefix: str = "site__") -> Q:
    """Objects whose site is in one of ``roots``' subtrees or above one of them (the site chain)."""
    if everything:
        return Q()
    cond = Q(pk__in=[])
    for root in roots:
        cond |= Q(**{f"{prefix}path__startswith": root.path}) | Q(**{f"{prefix}id__in": root.ancestor_ids})
    return cond


class ActivityForm(forms.Form):
    """新建 / 编辑活动. For a new activity the site is chosen among those the staff member runs."""

    site = SiteChoiceField(
        label=_("主办阵地"),
        queryset=Site.objects.none(),
        empty_label=_("请选择主办阵地"),
        error_messages={
            "required": _("请选择主办阵地。"),
            "invalid_choice": _("您不能在所选阵地组织活动，请选择您负责的阵地。"),
        },
    )
    title = forms.CharField(label=_("活动标题"), max_length=100, error_messages={"required": _("请输入活动标题。")})
    description = forms.CharField(label=_("内容介绍"), max_length=20_000, required=False, widget=forms.Textarea)
    platform = forms.ChoiceField(
        label=_("服务平台"),
        choices=[("", _("请选择服务平台")), *Platform.choices],
        error_messages={"required": _("请选择活动所属的服务平台。"), "invalid_choice": _("请选择活动所属的服务平台。")},
    )
    lecture_format = forms.ChoiceField(
        label=_("宣讲形式"),
        choices=[("", _("（非宣讲活动）")), *LectureFormat.choices],
        required=False,
        error_messages={"invalid_choice": _("未知的宣讲形式。")},
    )
    audience = forms.ChoiceField(
        label=_("面向对象"),
        choices=Audience.choices,
        initial=Audience.ALL,
        error_messages={"required": _("请选择面向对象。"), "invalid_choice": _("未知的面向对象。")},
    )
    starts_at = datetime_field(_("开始时间"))
    ends_at = datetime_field(_("结束时间"))
    venue = VenueChoiceField(
        label=_("场地"),
        queryset=Venue.objects.none(),
        required=False,
        empty_label=_("（不使用场地）"),
        error_messages={"invalid_choice": _("只能选择本阵地、上级或下级阵地的场地。")},
    )
    location = forms.CharField(label=_("地点说明"), max_length=200, required=False)
    brand = forms.ModelChoiceField(
        label=_("品牌板块"),
        queryset=Brand.objects.none(),
        required=False,
        empty_label=_("（无）"),
        error_messages={"invalid_choice": _("只能选择本阵地、上级或下级阵地的品牌。")},
    )
    project = ProjectChoiceField(
        label=_("项目"),
        queryset=Project.objects.none(),
        required=False,
        empty_label=_("（无）"),
        error_messages={"invalid_choice": _("只能选择本阵地、上级或下级阵地的项目。")},
    )
    seats = count_field(_("居民名额"))
    waitlist_limit = count_field(_("候补名额"))
    signup_opens_at = datetime_field(_("报名开始"), required=False, help_text=_("不填则发布后即可报名"))
    signup_closes_at = datetime_field(_("报名截止"), required=False, help_text=_("不填则截止到活动开始"))
    cancel_deadline = datetime_field(_("取消报名截止"), required=False, help_text=_("不填则截止到活动开始"))
    checkin_opens_at = datetime_field(_("签到开始"), required=False, help_text=_("不填则为活动开始前30分钟"))
    checkin_closes_at = datetime_field(_("签到截止"), required=False, help_text=_("不填则为活动结束时"))
    contact_name = forms.CharField(label=_("联系人"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)

    def __init__(self, *args: Any, actor: User, activity: Activity | None = None, **kwargs: Any) -> None:
        if activity is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(activity, name) for name in ACTIVITY_FIELDS}
        super().__init__(*args, **kwargs)
        self.activity = activity
        if activity is not None:
            del self.fields["site"]
            self._choices([activity.site], everything=False)
        else:
            scope = staff_scope(actor)
            site_field = self.fields["site"]
            assert isinstance(site_field, forms.ModelChoiceField)
            site_field.queryset = (
                Site.objects.filter(scope.site_q(), is_active=True).only("id", "name", "level", "path").order_by("path")
            )
            self._choices(list(scope.roots), everything=scope.everything)

    def _choices(self, roots: list[Site], *, everything: bool) -> None:
        """Venues, brands and projects of the site chain: the sites run here, above and below."""
        venue, brand, project = self.fields["venue"], self.fields["brand"], self.fields["project"]
        assert isinstance(venue, forms.ModelChoiceField)
        assert isinstance(brand, forms.ModelChoiceField)
        assert isinstance(project, forms.ModelChoiceField)
        venue.queryset = (
            Venue.objects.filter(chain_q(roots, everything), is_active=True)
            .select_related("site")
            .order_by("site__path", "name")
        )
        brand.queryset = Brand.objects.filter(chain_q(roots, everything)).order_by("site__path", "id")
        project.queryset = (
            Project.objects.filter(chain_q(roots, everything, prefix="brand__site__"))
            .select_related("brand")
            .order_by("brand_id", "id")
        )

    def service_fields(self) -> dict[str, Any]:
        """The cleaned fields as the service takes them; for an edit, only those that changed."""
        data = {name: self.cleaned_data.get(name) for name in ACTIVITY_FIELDS}
        for name in ("lecture_format", "description", "location", "contact_name", "contact_phone"):
            data[name] = data[name] or ""
        if self.activity is None:
            return {k: v for k, v in data.items() if not (k in DEFAULTED_FIELDS and v is None)}
        changes: dict[str, Any] = {}
        for name, value in data.items():
            if name in DEFAULTED_FIELDS and value is None:
                continue  # left blank: keep the window
            if not same(getattr(self.activity, name), value):
                changes[name] = value
        return changes


def same(old: Any, new: Any) -> bool:
    """Equal as the form shows them: datetimes to the minute."""
    if isinstance(old, dt.datetime) and isinstance(new, dt.datetime):
        return old.replace(second=0, microsecond=0) == new.replace(second=0, microsecond=0)
    return bool(old == new)


class PostForm(forms.Form):
    """岗位: a volunteer post; times default to the activity's."""

    name = forms.CharField(label=_("岗位名称"), max_length=50, error_messages={"required": _("请输入岗位名称。")})
    description = forms.CharField(label=_("岗位职责"), max_length=200, required=False)
    headcount = count_field(_("人数"), minimum=1, maximum=10_000, initial=None)
    starts_at = datetime_field(_("上岗时间"), required=False, help_text=_("不填则与活动相同"))
    ends_at = datetime_field(_("下岗时间"), required=False, help_text=_("不填则与活动相同"))

    def spec(self) -> dict[str, Any]:
        data = self.cleaned_data
        spec = {"name": data["name"], "description": data.get("description") or "", "headcount": data["headcount"]}
        for key in ("starts_at", "ends_at"):
            if data.get(key) is not None:
                spec[key] = data[key]
        return spec


PostFormSet = forms.formset_factory(PostForm, extra=3, max_num=20, absolute_max=20)


class SeriesForm(ActivityForm):
    """每周系列活动: the first occurrence's fields, the last date, dates to leave out and one optional post."""

    last_date = forms.DateField(
        label=_("末次日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("请填写末次日期。"), "invalid": _("请输入正确的日期。")},
    )
    skip_dates = forms.CharField(
        label=_("跳过的日期"),
        required=False,
        max_length=1000,
        help_text=_("节假日等不举办的日期，用逗号或空格分隔，例如：2026-10-01, 2026-10-08"),
    )
    post_name = forms.CharField(
        label=_("志愿岗位"), max_length=50, required=False, help_text=_("选填：每次活动的志愿岗位")
    )
    post_headcount = forms.IntegerField(
        label=_("岗位人数"),
        min_value=1,
        max_value=10_000,
        required=False,
        error_messages={
            "invalid": _("请输入整数。"),
            "min_value": _("不能小于%(limit_value)s。"),
            "max_value": _("不能大于%(limit_value)s。"),
        },
    )

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, **kwargs)
        for name in DEFAULTED_FIELDS:
            del self.fields[name]

    def clean_skip_dates(self) -> list[dt.date]:
        raw = self.cleaned_data.get("skip_dates") or ""
        days: list[dt.date] = []
        for part in raw.replace("，", ",").replace("、", ",").replace(",", " ").split():
            try:
                days.append(dt.date.fromisoformat(part))
            except ValueError as exc:
                raise forms.ValidationError(
                    _("日期“%(value)s”格式不正确，应为：2026-10-01。"), params={"value": part[:20]}
                ) from exc
        return days

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("post_name") and not cleaned.get("post_headcount"):
            self.add_error("post_headcount", _("请填写岗位人数。"))
        return cleaned

    def service_fields(self) -> dict[str, Any]:
        data = super().service_fields()
        for name in DEFAULTED_FIELDS:
            data.pop(name, None)
        return data

    def posts(self) -> list[dict[str, Any]]:
        name = self.cleaned_data.get("post_name")
        return [{"name": name, "headcount": self.cleaned_data["post_headcount"]}] if name else []


class ActivityFilterForm(forms.Form):
    """The staff list's filters: status, the week (any day of it), a title search."""

    status = forms.ChoiceField(label=_("状态"), choices=[("", _("全部状态")), *ActivityStatus.choices], required=False)
    week = forms.DateField(
        label=_("所在周"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    q = forms.CharField(label=_("搜索"), max_length=50, required=False)

    def clean_week(self) -> dt.date | None:
        day = self.cleaned_data.get("week")
        return monday_of(day) if day else None

    def clean_q(self) -> str:
        text = self.cleaned_data.get("q") or ""
        return "".join(ch for ch in text if ch.isprintable()).strip()


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("原因"),
        max_length=200,
        error_messages={"required": _("请填写原因。")},
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class NoteForm(forms.Form):
    note = forms.CharField(label=_("意见"), max_length=200, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class StaffSignupForm(forms.Form):
    """Staff sign a person up by their phone number (电话报名 / 现场报名)."""

    phone = forms.CharField(
        label=_("手机号"),
        max_length=20,
        error_messages={"required": _("请输入报名人的手机号。")},
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off", "placeholder": _("11位手机号")}),
    )
    post = forms.ModelChoiceField(
        label=_("志愿岗位"),
        queryset=Post.objects.none(),
        required=False,
        empty_label=_("（居民报名）"),
        error_messages={"invalid_choice": _("未找到该岗位。")},
    )

    def __init__(self, *args: Any, activity: Activity, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        post = self.fields["post"]
        assert isinstance(post, forms.ModelChoiceField)
        post.queryset = Post.objects.filter(activity=activity).order_by("starts_at", "id")


class ScanForm(forms.Form):
    """What one scan sends: a scanned QR (the whole URL or its token) or a typed short code."""

    MODES = (("in", _("签到")), ("out", _("签退")))

    mode = forms.ChoiceField(choices=MODES, required=False)
    token = forms.CharField(max_length=500, required=False, widget=forms.HiddenInput)
    code = forms.CharField(
        label=_("签到码"),
        max_length=16,
        required=False,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "placeholder": _("6位签到码"),
                "class": "wm-scan-code",
            }
        ),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not (cleaned.get("token") or "").strip() and not (cleaned.get("code") or "").strip():
            raise forms.ValidationError(_("请扫描二维码或输入签到码。"))
        return cleaned


class CorrectionDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=(("approve", _("通过")), ("reject", _("驳回"))), error_messages={"required": _("请选择通过或驳回。")}
    )
    note = forms.CharField(label=_("审核意见"), max_length=200, required=False)


class CorrectionRequestForm(forms.Form):
    hours = forms.DecimalField(
        label=_("实际服务时长（小时）"),
        min_value=0,
        max_value=24,
        max_digits=5,
        decimal_places=2,
        error_messages={
            "required": _("请填写时长。"),
            "invalid": _("时长应为数字。"),
            "min_value": _("时长应在0到24小时之间。"),
            "max_value": _("时长应在0到24小时之间。"),
            "max_digits": _("时长应在0到24小时之间。"),
            "max_decimal_places": _("时长最多保留两位小数。"),
        },
        widget=forms.NumberInput(attrs={"step": "0.25", "inputmode": "decimal", "class": "weui-input"}),
    )
    reason = forms.CharField(
        label=_("理由"),
        max_length=200,
        error_messages={"required": _("请填写更正理由。")},
        widget=forms.Textarea(attrs={"rows": 3, "class": "weui-textarea"}),
    )


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several photos in one input; each is checked by ``recaps.add_recap_photo``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleImageInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        items = list(data) if isinstance(data, list | tuple) else [data] if data else []
        if not items:
            super().clean(None, initial)  # the "required" message, when required
            return []
        cleaned = []
        for item in items:
            cleaned.append(super().clean(item, initial))
        return cleaned


class RecapForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=100, error_messages={"required": _("请输入标题。")})
    body = forms.CharField(
        label=_("正文"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 12}),
        error_messages={"required": _("请填写回顾正文。")},
    )
    photos = MultipleImageField(label=_("照片"), required=False, help_text=_("JPG、PNG或WebP，每张不超过5MB"))


class RecapPhotoForm(forms.Form):
    photos = MultipleImageField(
        label=_("照片"), help_text=_("JPG、PNG或WebP，每张不超过5MB"), error_messages={"required": _("请选择照片。")}
    )
    caption = forms.CharField(label=_("说明"), max_length=100, required=False)
