"""The sign-in sheet (签到表): an xlsx that opens, lists everyone signed up masked as on screen, prints on A4,
and is audited every time it is handed out."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from conftest import People
from wenming.accounts.models import AuditAction, AuditLog
from wenming.activities import exports, services
from wenming.activities.models import Activity
from wenming.core.errors import NotFound

pytestmark = pytest.mark.django_db

HEADERS = ["序号", "姓名", "手机号", "类别", "岗位", "报名状态", "签到时间", "签退时间", "签名"]


@pytest.fixture
def activity(make_activity: Any, when: Any) -> Activity:
    return make_activity(
        title="垃圾分类知识讲座",
        seats=2,
        waitlist_limit=2,
        location="居委会二楼",
        posts=[{"name": "引导员", "headcount": 2, "starts_at": when(5, "09:00"), "ends_at": when(5, "11:00")}],
    )


@pytest.fixture
def signed_up(people: People, activity: Activity, make_resident: Any, chen: Any) -> dict[str, Any]:
    """王阿姨 and 赵阿姨 confirmed (王阿姨 checked in), 钱大爷 waitlisted, 孙大妈 cancelled, 小陈 at a post."""
    wang = services.sign_up(actor=people.resident_a, activity=activity)
    zhao = services.sign_up(actor=make_resident("赵阿姨"), activity=activity)
    qian = services.sign_up(actor=make_resident("钱大爷"), activity=activity)
    sun = services.sign_up(actor=make_resident("孙大妈"), activity=activity)
    services.cancel_signup(actor=sun.user, signup=sun)
    chen_signup = services.sign_up(actor=people.volunteer_a, activity=activity, post=activity.posts.get())
    services.check_in(actor=people.manager_a, activity=activity, code=wang.code, now=activity.starts_at)
    return {"wang": wang, "zhao": zhao, "qian": qian, "sun": sun, "chen": chen_signup}


def sheet_of(data: bytes) -> Worksheet:
    book = load_workbook(io.BytesIO(data))
    sheet = book.active
    assert sheet is not None
    return sheet


def rows(sheet: Worksheet) -> list[list[Any]]:
    """The people rows: after the header, up to the empty rows left for walk-ins."""
    found = []
    for row in sheet.iter_rows(min_row=exports.HEADER_ROW + 1, values_only=True):
        if row[0] in (None, ""):
            break
        found.append(list(row))
    return found


def test_the_sheet_opens_with_header_and_rows(
    client: Client, people: People, activity: Activity, signed_up: dict[str, Any]
) -> None:
    client.force_login(people.manager_a)
    response = client.get(reverse("activities_staff:signups_xlsx", args=[activity.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == exports.XLSX_TYPE
    assert "attachment;" in response["Content-Disposition"]
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    sheet = sheet_of(response.content)
    assert sheet.title == "签到表"
    assert sheet["A1"].value == "垃圾分类知识讲座"
    start = timezone.localtime(activity.starts_at)
    assert sheet["A2"].value == f"时间：{start:%Y-%m-%d %H:%M}–{timezone.localtime(activity.ends_at):%H:%M}"
    assert sheet["A3"].value == "地点：居委会二楼"
    assert [c.value for c in sheet[exports.HEADER_ROW]] == HEADERS

    people_rows = rows(sheet)
    assert [r[0] for r in people_rows] == [1, 2, 3, 4]
    by_name = {r[1]: r for r in people_rows}
    assert set(by_name) == {"王阿姨", "赵阿姨", "小陈", "钱大爷"}  # 孙大妈 cancelled: not on the sheet
    wang = by_name["王阿姨"]
    assert wang[2] == "138****0006"
    assert wang[3:6] == ["居民", None, "报名成功"]
    assert wang[6] == f"{start:%m-%d %H:%M}"
    assert wang[7] is None
    assert wang[8] is None  # room for the handwritten signature
    assert by_name["小陈"][3:6] == ["志愿者", "引导员", "报名成功"]
    assert by_name["钱大爷"][5] == "候补中"
    assert people_rows[-1][1] == "钱大爷"  # the waitlist comes last
    # No full phone number anywhere in the file.
    values = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert not any(people.resident_a.phone in v for v in values)
    # Empty, bordered rows for people who sign up at the door.
    assert sheet.max_row == exports.HEADER_ROW + 4 + exports.WALK_IN_ROWS
    assert sheet.cell(row=sheet.max_row, column=9).border.left.style == "thin"


def test_the_sheet_prints_on_a4_with_the_header_on_every_page(
    people: People, activity: Activity, signed_up: dict[str, Any]
) -> None:
    sheet = sheet_of(exports.export_signin_sheet(actor=people.manager_a, activity=activity))
    assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4 == "9"  # A4
    assert sheet.page_setup.orientation == "portrait"
    assert sheet.print_title_rows == f"${exports.HEADER_ROW}:${exports.HEADER_ROW}"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    assert sheet.page_setup.fitToWidth == 1
    widths = [sheet.column_dimensions[c].width for c in "ABCDEFGHI"]
    assert widths == list(exports.COLUMN_WIDTHS)
    assert sheet.row_dimensions[exports.HEADER_ROW + 1].height == exports.ROW_HEIGHT
    assert "A1:I1" in {str(r) for r in sheet.merged_cells.ranges}


def test_every_export_is_audited(client: Client, people: People, activity: Activity, signed_up: dict[str, Any]) -> None:
    client.force_login(people.manager_a)
    url = reverse("activities_staff:signups_xlsx", args=[activity.pk])
    client.get(url, REMOTE_ADDR="10.1.2.3")
    client.get(url)
    logs = list(AuditLog.objects.filter(action=AuditAction.EXPORT).order_by("id"))
    assert len(logs) == 2
    log = logs[0]
    assert (log.actor_id, log.target_type, log.target_id, log.site_id) == (
        people.manager_a.pk,
        "activities.activity",
        str(activity.pk),
        activity.site_id,
    )
    assert log.detail == {"what": "signin_sheet", "rows": 4}
    assert log.ip == "10.1.2.3"


def test_staff_of_another_station_get_404_and_no_audit_row(
    client: Client, people: People, activity: Activity, signed_up: dict[str, Any]
) -> None:
    client.force_login(people.manager_b)
    assert client.get(reverse("activities_staff:signups_xlsx", args=[activity.pk])).status_code == 404
    with pytest.raises(NotFound):
        exports.export_signin_sheet(actor=people.manager_b, activity=activity)
    with pytest.raises(NotFound):
        exports.export_signin_sheet(actor=people.resident_a, activity=activity)
    assert not AuditLog.objects.filter(action=AuditAction.EXPORT).exists()


def test_typed_values_cannot_become_formulas(people: People, make_activity: Any, make_resident: Any) -> None:
    activity = make_activity(title='=HYPERLINK("http://evil")', seats=5)
    services.sign_up(actor=make_resident("=1+1"), activity=activity)
    sheet = sheet_of(exports.export_signin_sheet(actor=people.manager_a, activity=activity))
    assert sheet["A1"].value == '\'=HYPERLINK("http://evil")'
    assert sheet["A1"].data_type == "s"
    assert rows(sheet)[0][1] == "'=1+1"


def test_an_empty_activity_still_gives_a_sheet(people: People, make_activity: Any) -> None:
    activity = make_activity(title="无人报名", seats=5, venue=None)
    sheet = sheet_of(exports.export_signin_sheet(actor=people.manager_a, activity=activity))
    assert rows(sheet) == []
    assert [c.value for c in sheet[exports.HEADER_ROW]] == HEADERS
    assert AuditLog.objects.get(action=AuditAction.EXPORT).detail["rows"] == 0


def test_a_two_day_activity_shows_both_dates(people: People, make_activity: Any, when: Any) -> None:
    activity = make_activity(title="两日营", starts_at=when(5, "09:00"), ends_at=when(6, "17:00"))
    sheet = sheet_of(exports.export_signin_sheet(actor=people.manager_a, activity=activity))
    end = timezone.localtime(activity.ends_at)
    assert str(sheet["A2"].value).endswith(f"{end:%Y-%m-%d %H:%M}")
    assert activity.ends_at - activity.starts_at > dt.timedelta(days=1)
