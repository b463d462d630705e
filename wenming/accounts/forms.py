"""Forms of the sign-in and staff people pages.

They only shape input; the services validate it (phone, name, ID number)
and decide. A ``DomainError`` from a service lands next to the field it
names in ``extra["field"]``, through ``add_domain_error``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from wenming.accounts import policies
from wenming.accounts.models import User
from wenming.core.errors import DomainError
from wenming.network.models import Site, SiteLevel


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    field = error.extra.get("field")
    form.add_error(field if field in form.fields else None, error.message)


class PhoneField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("手机号"))
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("error_messages", {"required": _("请输入手机号。")})
        super().__init__(**kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.update({"inputmode": "tel", "autocomplete": "tel", "placeholder": _("11位手机号")})
        return attrs


class WeuiForm(forms.Form):
    """Text inputs get WeUI's input class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.TextInput | forms.PasswordInput):
                field.widget.attrs.setdefault("class", "weui-input")
            elif isinstance(field.widget, forms.Select):
                field.widget.attrs.setdefault("class", "weui-select")


class PasswordLoginForm(WeuiForm):
    phone = PhoneField()
    password = forms.CharField(
        label=_("密码"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "placeholder": _("请输入密码")}),
        error_messages={"required": _("请输入密码。")},
    )


class SmsLoginForm(WeuiForm):
    phone = PhoneField()
    code = forms.CharField(
        label=_("验证码"),
        max_length=6,
        required=False,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "placeholder": _("6位数字")}
        ),
    )


class PeopleSearchForm(forms.Form):
    q = forms.CharField(label=_("搜索"), max_length=50, required=False, strip=True)


class SiteChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.level_label} · {obj.name}"


class RegisterResidentForm(WeuiForm):
    """代注册: a resident registered by staff at a station or point they cover."""

    phone = PhoneField()
    name = forms.CharField(label=_("姓名"), max_length=50, error_messages={"required": _("请输入姓名。")})
    id_number = forms.CharField(
        label=_("身份证号"),
        max_length=18,
        required=False,
        help_text=_("选填。保存后只显示前6位和后4位。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": _("选填")}),
    )
    address = forms.CharField(label=_("居住地址"), max_length=200, required=False)
    site = SiteChoiceField(
        label=_("所属阵地"),
        queryset=Site.objects.none(),
        empty_label=_("请选择实践站或实践点"),
        error_messages={
            "required": _("请选择所属阵地。"),
            "invalid_choice": _("您不能在所选阵地代注册居民，请选择您负责的实践站或实践点。"),
        },
    )

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scope = policies.staff_scope(actor)
        field = self.fields["site"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            Site.objects.filter(scope.site_q(), level__in=[SiteLevel.STATION, SiteLevel.POINT], is_active=True)
            .only("id", "name", "level", "path")
            .order_by("path")
        )


class SignupForm(WeuiForm):
    """A resident registers themselves: phone, SMS code, name, and their station."""

    phone = PhoneField()
    code = forms.CharField(
        label=_("验证码"),
        max_length=6,
        required=False,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "placeholder": _("6位数字")}
        ),
    )
    name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    site = SiteChoiceField(
        label=_("所在实践站"),
        queryset=Site.objects.none(),
        required=False,
        empty_label=_("请选择您所在的居民区实践站或实践点"),
        error_messages={"invalid_choice": _("请选择您所在的居民区实践站或实践点。")},
    )

    def __init__(self, *args: Any, near: Site | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = Site.objects.filter(level__in=[SiteLevel.STATION, SiteLevel.POINT], is_active=True)
        if near is not None and near.parent_id is not None:
            # The stations and points of the street the resident came from.
            street = near if near.level <= SiteLevel.SUBCENTRE else Site.objects.get(pk=near.ancestor_ids[1])
            choices = choices.filter(path__startswith=street.path)
        field = self.fields["site"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = choices.only("id", "name", "level", "path").order_by("path")
