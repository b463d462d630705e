"""Spreadsheets of people, with personal data masked as it is on screen."""

from __future__ import annotations

import io
from collections.abc import Iterable

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from wenming.accounts.models import Profile, User

MAX_ROWS = 50_000


def _safe(value: str) -> str:
    """Keep a spreadsheet from reading a typed value as a formula (CSV/XLSX injection)."""
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


def people_workbook(people: Iterable[User]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("居民名册")
    headers = [_("姓名"), _("手机号"), _("身份证号"), _("所属阵地"), _("注册时间")]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for person in people:
        try:
            masked_id = person.profile.id_number_masked
        except Profile.DoesNotExist:
            masked_id = ""
        sheet.append(
            [
                _safe(person.name),
                person.masked_phone,
                masked_id,
                _safe(person.home_site.name if person.home_site else ""),
                timezone.localtime(person.date_joined).strftime("%Y-%m-%d %H:%M"),
            ]
        )
    for column, width in zip("ABCDE", (12, 16, 22, 30, 18), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
