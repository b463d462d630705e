"""Resident identity numbers (居民身份证号码), GB 11643-1999.

Eighteen characters: a six-digit region code, the birth date as YYYYMMDD, a
three-digit sequence (odd for men, even for women) and a check character
computed with ISO 7064 MOD 11-2, where 10 is written X.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import unicodedata
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
_CHECK = "10X98765432"
_SHAPE = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)


class InvalidIdNumber(ValueError):
    """Raised with a message a person can read."""


def check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


@dataclass(frozen=True)
class IdNumber:
    value: str
    birth_date: dt.date
    gender: str  # "M" or "F"

    @property
    def masked(self) -> str:
        from wenming.lib.masking import mask_id_number

        return mask_id_number(self.value)


def parse(raw: str, *, today: dt.date | None = None) -> IdNumber:
    """Normalise and validate, or raise InvalidIdNumber with a Chinese message."""
    # NFKC turns full-width digits (as typed by Chinese input methods) into
    # ASCII; anything still not ASCII is refused, so one number has one form.
    value = unicodedata.normalize("NFKC", raw or "").strip().replace(" ", "").upper()
    if len(value) != 18:
        raise InvalidIdNumber(_("身份证号应为18位。"))
    if not _SHAPE.fullmatch(value):
        raise InvalidIdNumber(_("身份证号前17位应为数字，最后一位为数字或X。"))
    if value[:2] in {"00"} or value[0] == "0":
        raise InvalidIdNumber(_("身份证号的地区码无效。"))
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise InvalidIdNumber(_("身份证号中的出生日期无效。")) from exc
    today = today or timezone.localdate()
    if birth > today or birth.year < 1900:
        raise InvalidIdNumber(_("身份证号中的出生日期无效。"))
    if check_char(value[:17]) != value[17]:
        raise InvalidIdNumber(_("身份证号校验位不正确，请核对后重新输入。"))
    gender = "M" if int(value[16]) % 2 == 1 else "F"
    return IdNumber(value=value, birth_date=birth, gender=gender)


def is_valid(raw: str) -> bool:
    try:
        parse(raw)
    except InvalidIdNumber:
        return False
    return True


def generate(
    rng: random.Random,
    *,
    region: str = "310109",
    birth_date: dt.date | None = None,
    gender: str | None = None,
) -> str:
    """A synthetic number with a valid check character (for demo data only)."""
    if birth_date is None:
        birth_date = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 65))
    seq = rng.randrange(0, 1000)
    if gender is not None:
        want_odd = gender == "M"
        if (seq % 2 == 1) != want_odd:
            seq = (seq + 1) % 1000
    first17 = f"{region}{birth_date:%Y%m%d}{seq:03d}"
    return first17 + check_char(first17)
