"""The sign-in sheet (签到表) of an activity, as a printable xlsx, and the audited service that hands it out.

The sheet lists everyone signed up (confirmed first, then the waitlist),
with phones masked as they are on screen, the check-in and check-out times
the scanner recorded, and an empty 签名 column for handwritten signatures.
It prints on A4 with the column header repeated on every page, and ends
with a few empty rows for people who sign up at the door.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.worksheet import Worksheet

from wenming.accounts import audit
from wenming.accounts.models import AuditAction, User
from wenming.activities import policies
from wenming.activities.models import Activity, Signup, SignupKind, SignupStatus
from wenming.core.errors import NotFound

HEADER_ROW = 5
WALK_IN_ROWS = 5
COLUMN_WIDTHS = (6, 12, 15, 8, 14, 10, 14, 14, 18)
ROW_HEIGHT = 26  # points: room for a handwritten signature
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _safe(value: str) -> str:
    """Keep a spreadsheet from reading a typed value as a formula (CSV/XLSX injection)."""
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


def _when(value: object) -> str:
    if value is None:
        return ""
    return timezone.localtime(value).strftime("%m-%d %H:%M")  # type: ignore[arg-type]


def sheet_rows(activity: Activity) -> QuerySet[Signup]:
    """Who is on the sheet: every live sign-up, confirmed before waitlisted, in the order they signed up."""
    return (
        Signup.objects.filter(activity=activity)
        .exclude(status=SignupStatus.CANCELLED)
        .select_related("user", "post")
        .annotate(
            _waiting=Case(
                When(status=SignupStatus.WAITLISTED, then=Value(1)), default=Value(0), output_field=IntegerField()
            )
        )
        .order_by("_waiting", "kind", "created_at", "id")
    )


def _place(activity: Activity) -> str:
    parts = [activity.venue.name if activity.venue else "", activity.location]
    return " ".join(p for p in parts if p) or activity.site.name


def _time_range(activity: Activity) -> str:
    start, end = timezone.localtime(activity.starts_at), timezone.localtime(activity.ends_at)
    if start.date() == end.date():
        return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"
    return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}"


def signin_workbook(activity: Activity, signups: Iterable[Signup]) -> tuple[bytes, int]:
    """The sheet as xlsx bytes, and how many people it lists."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("签到表")
    headers = [
        _("序号"),
        _("姓名"),
        _("手机号"),
        _("类别"),
        _("岗位"),
        _("报名状态"),
        _("签到时间"),
        _("签退时间"),
        _("签名"),
    ]
    last = len(headers)
    sheet.append([_safe(activity.title)])
    sheet.append([_("时间：%(when)s") % {"when": _time_range(activity)}])
    sheet.append([_("地点：%(place)s") % {"place": _safe(_place(activity))}])
    sheet.append([_("主办：%(site)s") % {"site": _safe(activity.site.name)}])
    for row in range(1, HEADER_ROW):
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last)
    sheet["A1"].font = Font(bold=True, size=16)
    sheet["A1"].alignment = Alignment(horizontal="center", vertical="center")
    sheet.row_dimensions[1].height = 30
    sheet.append(headers)
    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for cell in sheet[HEADER_ROW]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center")
    count = 0
    for count, signup in enumerate(signups, start=1):
        sheet.append(
            [
                count,
                _safe(signup.user.name),
                signup.user.masked_phone,
                str(SignupKind(signup.kind).label),
                _safe(signup.post.name) if signup.post else "",
                str(SignupStatus(signup.status).label),
                _when(signup.checked_in_at),
                _when(signup.checked_out_at),
                "",
            ]
        )
    for _blank in range(WALK_IN_ROWS):
        sheet.append([""] * last)
    _layout(sheet, border, last)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), count


def _layout(sheet: Worksheet, border: Border, columns: int) -> None:
    for row in sheet.iter_rows(min_row=HEADER_ROW, max_row=sheet.max_row, max_col=columns):
        for cell in row:
            cell.border = border
            if cell.alignment.horizontal is None:
                cell.alignment = Alignment(vertical="center")
        sheet.row_dimensions[row[0].row].height = ROW_HEIGHT
    for index, width in enumerate(COLUMN_WIDTHS, start=1):
        sheet.column_dimensions[chr(ord("A") + index - 1)].width = width
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=1)
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.print_options.horizontalCentered = True
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = sheet.ORIENTATION_PORTRAIT
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.5
    sheet.oddFooter.center.text = _("第 &P 页，共 &N 页")


def export_signin_sheet(*, actor: User, activity: Activity, request: HttpRequest | None = None) -> bytes:
    """The sign-in sheet for staff who may see the sign-ups; every export is audited."""
    if not policies.can_view_signups(actor, activity):
        raise NotFound(_("未找到。"))
    with transaction.atomic():
        data, count = signin_workbook(activity, sheet_rows(activity))
        audit.record(
            AuditAction.EXPORT,
            actor=actor,
            target=activity,
            site=activity.site,
            request=request,
            what="signin_sheet",
            rows=count,
        )
    return data


def filename(activity: Activity) -> tuple[str, str]:
    """An ASCII file name and a readable one (for ``filename*``)."""
    day = timezone.localtime(activity.starts_at).strftime("%Y%m%d")
    return f"signin-{activity.pk}-{day}.xlsx", f"{activity.title}-签到表-{day}.xlsx"
