"""The printable poster (A4 PDF), its QR codes, and the weekly previews the background task stores.

The poster is read back with pypdf: its Chinese text is extracted, and the
QR codes are rebuilt module by module from the vector squares in the page's
content stream and compared with the QR code of the activity's address.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pypdf
import pytest
import segno
import time_machine
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from pypdf.generic import ContentStream

from wenming.activities import preview, services, tasks
from wenming.activities.models import WeeklyPreview
from wenming.activities.tests.test_preview import NATIONAL_DAY_WEEK, SHANGHAI, SPRING_FESTIVAL_WEEK, at, publish
from wenming.core.errors import Invalid
from wenming.lib import qr

if TYPE_CHECKING:
    from conftest import People, Street

pytestmark = pytest.mark.django_db

SITE_URL = "https://wenming.example.org"


@pytest.fixture(autouse=True)
def _site_url_and_media(settings: Any, tmp_path: Path) -> None:
    settings.SITE_URL = SITE_URL
    settings.MEDIA_ROOT = tmp_path / "media"


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    """Text without the line breaks and spaces the layout put in."""
    return re.sub(r"\s+", "", text)


def qr_codes(data: bytes) -> list[list[list[bool]]]:
    """Every QR code drawn on the pages, in drawing order, as module matrices (no quiet zone).

    A code is a saveState/restoreState group of filled rectangles of one
    height (a module); rows and columns come back from their positions.
    """
    reader = pypdf.PdfReader(io.BytesIO(data))
    found: list[list[list[bool]]] = []
    for page in reader.pages:
        stack: list[list[tuple[float, float, float, float]]] = [[]]
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"q":
                stack.append([])
            elif operator == b"Q":
                group = stack.pop()
                heights = {round(h, 4) for _, _, _, h in group}
                if len(group) > 20 and len(heights) == 1 and next(iter(heights)) > 0:
                    found.append(_modules(group))
            elif operator == b"re":
                x, y, w, h = (float(v) for v in operands)
                stack[-1].append((x, y, w, h))
    return found


def _modules(rects: list[tuple[float, float, float, float]]) -> list[list[bool]]:
    unit = rects[0][3]
    left = min(x for x, _, _, _ in rects)
    top = max(y + h for _, y, _, h in rects)
    size = round((max(x + w for x, _, w, _ in rects) - left) / unit)
    grid = [[False] * size for _ in range(size)]
    for x, y, w, _h in rects:
        row = round((top - y) / unit) - 1
        first = round((x - left) / unit)
        for col in range(first, first + round(w / unit)):
            grid[row][col] = True
    return grid


def poster(client: Client, site: Any, week: str) -> Any:
    return client.get(f"{reverse('activities:poster', args=[site.pk])}?week={week}")


# --- lib.qr ---------------------------------------------------------------------------------


def test_qr_matrix_is_segnos_code_of_the_data() -> None:
    url = f"{SITE_URL}/activities/12/"
    modules = qr.matrix(url)
    reference = segno.make(url, error="m", micro=False)
    assert modules == [[bool(c) for c in row] for row in reference.matrix]
    assert len(modules) == len(modules[0]) == 21 + 4 * (int(reference.version) - 1)
    assert modules != qr.matrix(f"{SITE_URL}/activities/13/")


def test_dark_runs_cover_exactly_the_dark_modules() -> None:
    modules = qr.matrix("https://wenming.example.org/activities/mine/")
    rebuilt = [[False] * len(modules) for _ in modules]
    for row, first, length in qr.dark_runs(modules):
        assert length > 0
        for col in range(first, first + length):
            assert not rebuilt[row][col]
            rebuilt[row][col] = True
    assert rebuilt == modules


class RecordingCanvas:
    """Keeps the rectangles drawn on it (the drawing only calls ``rect``)."""

    def __init__(self) -> None:
        self.rects: list[tuple[float, float, float, float]] = []

    def rect(self, x: float, y: float, width: float, height: float, stroke: int = 1, fill: int = 0) -> None:
        assert (stroke, fill) == (0, 1)
        self.rects.append((x, y, width, height))


def test_drawn_squares_stay_inside_the_box_with_a_quiet_zone() -> None:
    canvas = RecordingCanvas()
    qr.draw(canvas, "https://wenming.example.org/activities/7/", 100, 200, 58)
    modules = qr.matrix("https://wenming.example.org/activities/7/")
    unit = 58 / (len(modules) + 2 * qr.QUIET_ZONE)
    assert min(x for x, *_ in canvas.rects) == pytest.approx(100 + qr.QUIET_ZONE * unit)
    assert max(x + w for x, _, w, _ in canvas.rects) == pytest.approx(100 + 58 - qr.QUIET_ZONE * unit)
    assert min(y for _, y, _, _ in canvas.rects) == pytest.approx(200 + qr.QUIET_ZONE * unit)
    assert max(y + h for _, y, _, h in canvas.rects) == pytest.approx(200 + 58 - qr.QUIET_ZONE * unit)
    assert _modules(canvas.rects) == modules


def test_inline_svg_is_self_contained_and_scales() -> None:
    svg = qr.svg("https://wenming.example.org/staff/scan/?t=1:abc", title="签到二维码 <王阿姨>")
    assert svg.startswith("<svg")
    assert svg.endswith("</svg>")
    assert 'viewBox="0 0 ' in svg
    assert "width=" not in svg.split(">")[0]  # sized by CSS, not fixed pixels
    assert "<title>签到二维码 &lt;王阿姨&gt;</title>" in svg
    for external in ("href", "<image", "<?xml"):
        assert external not in svg


# --- The poster -------------------------------------------------------------------------------


@time_machine.travel(dt.datetime(2026, 9, 25, 10, 0, tzinfo=SHANGHAI))
def test_poster_has_the_weeks_chinese_text(client: Client, people: People, street: Street) -> None:
    publish(people, street.point_a, "国庆读书会", at(dt.date(2026, 10, 2), 9, 30), seats=30, location="一楼大厅")
    publish(people, street.station_a, "书法写春联", at(NATIONAL_DAY_WEEK, 14), seats=20, platform="theory")
    response = poster(client, street.station_a, "2026-09-30")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    text = pdf_text(response.content)
    for expected in (
        street.station_a.name,
        "每周活动预告",
        "2026年9月28日—10月4日",
        "国庆读书会",
        "书法写春联",
        "9月28日",
        "周一",
        "国庆节假期",
        "一楼大厅",
        street.point_a.name,
        "理论宣讲",
        "扫码报名",
        "名额30个",
        "名额20个",
    ):
        assert flat(expected) in flat(text), expected
    assert text.index("书法写春联") < text.index("国庆读书会")
    info = pypdf.PdfReader(io.BytesIO(response.content)).metadata
    assert info is not None
    assert info.title == f"{street.station_a.name} 每周活动预告 2026年9月28日—10月4日"


def test_poster_uses_the_builtin_cid_font(client: Client, street: Street) -> None:
    reader = pypdf.PdfReader(io.BytesIO(poster(client, street.station_a, "2026-09-28").content))
    resources: Any = reader.pages[0]["/Resources"]
    fonts = resources["/Font"]
    chinese: list[Any] = [f for f in (fonts[key].get_object() for key in fonts) if f["/BaseFont"] == "/STSong-Light"]
    assert len(chinese) == 1
    assert chinese[0]["/Subtype"] == "/Type0"
    assert chinese[0]["/Encoding"] == "/UniGB-UCS2-H"  # Unicode in, so the text reads back
    descriptor = chinese[0]["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    assert not {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor)  # nothing embedded or vendored


def test_each_qr_code_leads_to_its_activitys_sign_up_page(client: Client, people: People, street: Street) -> None:
    first = publish(people, street.station_a, "书法写春联", at(NATIONAL_DAY_WEEK, 14))
    cancelled = publish(people, street.station_a, "露天电影", at(dt.date(2026, 9, 29), 19))
    services.cancel_activity(actor=people.manager_a, activity=cancelled, reason="天气原因")
    second = publish(people, street.point_a, "国庆读书会", at(dt.date(2026, 10, 2), 9))
    data = poster(client, street.station_a, "2026-09-28").content
    codes = qr_codes(data)
    expected = [f"{SITE_URL}/activities/{first.pk}/", f"{SITE_URL}/activities/{second.pk}/"]
    assert expected == [f"{SITE_URL}{reverse('activities:detail', args=[a.pk])}" for a in (first, second)]
    assert codes == [qr.matrix(url) for url in expected]  # a cancelled activity gets no code
    text = pdf_text(data)
    assert "【已取消】" in text
    assert "取消原因：天气原因" in flat(text)


def test_a_long_week_runs_onto_more_pages(client: Client, people: People, street: Street) -> None:
    made = [
        publish(people, street.station_a, f"健身操第{i:02d}期", at(NATIONAL_DAY_WEEK + dt.timedelta(days=i % 3), 7 + i))
        for i in range(16)
    ]
    data = poster(client, street.station_a, "2026-09-28").content
    assert len(pypdf.PdfReader(io.BytesIO(data)).pages) >= 2
    text = pdf_text(data)
    for activity in made:
        assert activity.title in text
    assert len(qr_codes(data)) == 16


def test_poster_of_an_empty_week_says_so(client: Client, street: Street) -> None:
    text = pdf_text(poster(client, street.station_b, "2026-02-14").content)
    assert "本周暂无公开活动" in text
    assert "调休上班" in text
    assert "春节假期" in text


def test_poster_with_a_bad_week_is_a_page_with_a_message(client: Client, street: Street) -> None:
    response = poster(client, street.station_a, "2026-02-31")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "日期格式不对" in response.content.decode()


def test_poster_of_an_unknown_site_is_404(client: Client) -> None:
    assert client.get(reverse("activities:poster", args=[999_999])).status_code == 404


def test_titles_with_markup_and_emoji_do_not_break_the_poster(client: Client, people: People, street: Street) -> None:
    publish(people, street.station_a, "<b>亲子</b> & 手工 🎨", at(NATIONAL_DAY_WEEK, 9))
    text = pdf_text(poster(client, street.station_a, "2026-09-28").content)
    assert "<b>亲子</b> & 手工" in text


# --- Stored weekly previews: the service and the task ------------------------------------------


@pytest.fixture
def week_with_activities(people: People, street: Street) -> None:
    publish(people, street.point_a, "一号楼读书会", at(NATIONAL_DAY_WEEK, 9))
    publish(people, street.point_a, "一号楼观影", at(NATIONAL_DAY_WEEK, 19))
    draft_only = services.create_activity(
        actor=people.manager_b,
        site=street.station_b,
        title="乙站草稿",
        platform="culture",
        starts_at=at(NATIONAL_DAY_WEEK, 9),
        ends_at=at(NATIONAL_DAY_WEEK, 11),
    )
    assert draft_only.status == "draft"


def test_store_weekly_preview_keeps_one_poster_per_site_and_week(
    people: People, street: Street, week_with_activities: None, django_capture_on_commit_callbacks: Any
) -> None:
    stamp = dt.datetime(2026, 9, 28, 0, 5, tzinfo=SHANGHAI)
    stored = preview.store_weekly_preview(actor=None, site=street.station_a, week_start=NATIONAL_DAY_WEEK, now=stamp)
    assert stored.activity_count == 2
    assert stored.generated_at == stamp
    first_name = str(stored.poster.name)
    assert first_name.endswith(".pdf")
    with stored.poster.open("rb") as handle:
        content = handle.read()
    assert "一号楼读书会" in pdf_text(content)

    later = stamp + dt.timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        again = preview.store_weekly_preview(actor=None, site=street.station_a, week_start=NATIONAL_DAY_WEEK, now=later)
    assert again.pk == stored.pk
    assert WeeklyPreview.objects.filter(site=street.station_a, week_start=NATIONAL_DAY_WEEK).count() == 1
    assert again.generated_at == later
    assert str(again.poster.name) != first_name
    assert default_storage.exists(str(again.poster.name))
    assert not default_storage.exists(first_name)  # the replaced file is removed once the row points elsewhere


def test_a_failed_write_leaves_no_file_behind(
    people: People, street: Street, week_with_activities: None, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(WeeklyPreview.objects, "update_or_create", refuse)
    with pytest.raises(RuntimeError):
        preview.store_weekly_preview(actor=None, site=street.station_a, week_start=NATIONAL_DAY_WEEK)
    media = Path(settings.MEDIA_ROOT)
    assert not list(media.rglob("*.pdf"))
    assert not WeeklyPreview.objects.exists()


def test_store_weekly_preview_refuses_a_day_that_is_not_monday(street: Street) -> None:
    with pytest.raises(Invalid) as caught:
        preview.store_weekly_preview(actor=None, site=street.station_a, week_start=dt.date(2026, 9, 30))
    assert caught.value.code == "not_a_monday"
    with pytest.raises(Invalid) as caught:
        preview.store_weekly_preview(actor=None, site=street.point_a, week_start=NATIONAL_DAY_WEEK)
    assert caught.value.code == "preview_level"
    assert not WeeklyPreview.objects.exists()


def test_task_makes_previews_for_subcentres_and_stations_with_activities(
    people: People, street: Street, week_with_activities: None
) -> None:
    result = tasks.generate_weekly_previews.enqueue("2026-10-01")
    assert result.return_value == {
        "week_start": "2026-09-28",
        "sites": [street.subcentre.pk, street.station_a.pk],
    }
    previews = {p.site_id: p for p in WeeklyPreview.objects.filter(week_start=NATIONAL_DAY_WEEK)}
    # The point's activities count for its station and sub-centre; 乙站 has only a draft; 丙站's district has none.
    assert set(previews) == {street.subcentre.pk, street.station_a.pk}
    assert previews[street.station_a.pk].activity_count == 2
    assert previews[street.subcentre.pk].activity_count == 2
    with previews[street.subcentre.pk].poster.open("rb") as handle:
        text = pdf_text(handle.read())
    assert street.subcentre.name in text
    assert "一号楼观影" in text


def test_task_brings_a_preview_up_to_date_when_its_activities_are_cancelled(people: People, street: Street) -> None:
    only = publish(people, street.station_b, "乙站太极拳", at(SPRING_FESTIVAL_WEEK, 8), manager=people.manager_b)
    tasks.generate_weekly_previews.call("2026-02-09")
    assert WeeklyPreview.objects.get(site=street.station_b, week_start=SPRING_FESTIVAL_WEEK).activity_count == 1
    services.cancel_activity(actor=people.manager_b, activity=only, reason="下雨")
    outcome = tasks.generate_weekly_previews.call("2026-02-09")
    assert set(outcome["sites"]) == {street.subcentre.pk, street.station_b.pk}
    assert WeeklyPreview.objects.get(site=street.station_b, week_start=SPRING_FESTIVAL_WEEK).activity_count == 0


@time_machine.travel(dt.datetime(2026, 9, 28, 0, 5, tzinfo=SHANGHAI))
def test_task_without_a_week_does_this_week(people: People, street: Street, week_with_activities: None) -> None:
    outcome = tasks.generate_weekly_previews.call()
    assert outcome["week_start"] == "2026-09-28"
    assert street.station_a.pk in outcome["sites"]


def test_task_with_a_bad_week_fails_and_stores_nothing(street: Street) -> None:
    with pytest.raises(Invalid):
        tasks.generate_weekly_previews.call("next monday")
    assert not WeeklyPreview.objects.exists()


def test_sites_to_preview_is_two_queries(
    people: People, street: Street, week_with_activities: None, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(2):
        sites = preview.sites_to_preview(NATIONAL_DAY_WEEK)
    assert [s.pk for s in sites] == [street.subcentre.pk, street.station_a.pk]
