"""Mainland China mobile numbers (中国大陆手机号)."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from django.utils.translation import gettext as _

_SHAPE = re.compile(r"1[3-9][0-9]{9}", re.ASCII)


class InvalidPhone(ValueError):
    """Raised with a message a person can read."""


def normalize(raw: str) -> str:
    """Return the 11-digit number or raise InvalidPhone.

    Accepts spaces, dashes and a +86 / 0086 prefix; requires a number in a
    mainland mobile range (phonenumbers' metadata), not just eleven digits.
    """
    # NFKC turns full-width digits and signs into ASCII.
    value = re.sub(r"[\s\-()]", "", unicodedata.normalize("NFKC", raw or ""))
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    if not value:
        raise InvalidPhone(_("请输入手机号。"))
    if not _SHAPE.fullmatch(value):
        raise InvalidPhone(_("手机号格式不正确，应为11位中国大陆手机号。"))
    parsed = phonenumbers.parse(value, "CN")
    kind = phonenumbers.number_type(parsed)
    if kind not in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise InvalidPhone(_("该号码不是有效的中国大陆手机号。"))
    return value


def is_valid(raw: str) -> bool:
    try:
        normalize(raw)
    except InvalidPhone:
        return False
    return True
