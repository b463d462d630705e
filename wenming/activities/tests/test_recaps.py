"""Recaps (活动回顾): staff publish one after the activity, with real photos only; each site's public news
lists the recaps of its subtree, newest first, and every recap has its own mobile page."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from conftest import People, Street
from wenming.activities import recaps, services
from wenming.activities.models import Activity, ActivityStatus, Recap, RecapPhoto
from wenming.core.errors import Invalid, NotFound

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def png(name: str = "photo.png", size: tuple[int, int] = (64, 48)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 22, 29)).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def jpeg(name: str = "photo.jpg") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (20, 120, 20)).save(out, format="JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def page(response: Any) -> str:
    return response.content.decode()


@pytest.fixture
def activity(make_activity: Any) -> Activity:
    return make_activity(title="重阳节包饺子", seats=20)


def after(activity: Activity, hours: float = 3) -> dt.datetime:
    return activity.starts_at + dt.timedelta(hours=hours)


def publish(people: People, activity: Activity, title: str = "", at: dt.datetime | None = None) -> Recap:
    with time_machine.travel(at or after(activity), tick=False):
        return services.publish_recap(
            actor=people.manager_a if activity.site.code.startswith("HP-JH-A") else people.admin,
            activity=activity,
            title=title or f"【回顾】{activity.title}",
            body="居民们一起包饺子，其乐融融。",
        )


# --- Publishing (staff) ---------------------------------------------------------------------------------


def test_staff_publish_a_recap_with_photos(client: Client, people: People, activity: Activity) -> None:
    url = reverse("activities_staff:recap", args=[activity.pk])
    with time_machine.travel(after(activity), tick=False):
        client.force_login(people.manager_a)
        text = page(client.get(url))
        assert "【活动回顾】重阳节包饺子" in text  # a suggested title
        response = client.post(
            url, {"title": "重阳节包饺子活动圆满结束", "body": "三十位居民参加。", "photos": [png("a.png"), jpeg()]}
        )
    assert response.status_code == 302
    recap = Recap.objects.get(activity=activity)
    assert (recap.title, recap.body, recap.author_id) == (
        "重阳节包饺子活动圆满结束",
        "三十位居民参加。",
        people.manager_a.pk,
    )
    names = [str(p.image.name) for p in recap.photos.order_by("position")]
    assert len(names) == 2
    assert names[0].endswith(".png")
    assert names[1].endswith(".jpg")
    text = page(client.get(url))
    assert "重阳节包饺子活动圆满结束" in text
    assert reverse("activities_staff:recap_photo", args=[recap.photos.first().pk]) in text  # type: ignore[union-attr]


def test_a_fake_photo_leaves_no_recap(client: Client, people: People, activity: Activity) -> None:
    fake = SimpleUploadedFile("evil.png", b"<script>alert(1)</script>", content_type="image/png")
    with time_machine.travel(after(activity), tick=False):
        client.force_login(people.manager_a)
        response = client.post(
            reverse("activities_staff:recap", args=[activity.pk]),
            {"title": "回顾", "body": "正文", "photos": [png(), fake]},
        )
    assert response.status_code == 400
    assert "请上传JPG、PNG或WebP格式的照片。" in response.context["form"].errors["photos"]
    assert not Recap.objects.exists()
    assert not RecapPhoto.objects.exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"title": "", "body": "正文"}, "title", "请输入标题。"),
        ({"title": "回顾", "body": ""}, "body", "请填写回顾正文。"),
        ({"title": "很" * 101, "body": "正文"}, "title", None),
    ],
)
def test_recap_form_refuses_bad_input(
    client: Client, people: People, activity: Activity, data: dict[str, str], field: str, message: str | None
) -> None:
    with time_machine.travel(after(activity), tick=False):
        client.force_login(people.manager_a)
        response = client.post(reverse("activities_staff:recap", args=[activity.pk]), data)
    assert response.status_code == 400
    errors = response.context["form"].errors[field]
    assert errors
    if message:
        assert message in errors
    assert not Recap.objects.exists()


def test_no_recap_before_the_start(client: Client, people: People, activity: Activity) -> None:
    with time_machine.travel(activity.starts_at - dt.timedelta(hours=1), tick=False):
        client.force_login(people.manager_a)
        url = reverse("activities_staff:recap", args=[activity.pk])
        assert "活动开始后才能发布回顾。" in page(client.get(url))
        response = client.post(url, {"title": "提前写的回顾", "body": "正文"})
    assert response.status_code == 400
    assert "活动开始后才能发布回顾。" in page(response)
    assert not Recap.objects.exists()


def test_another_station_cannot_publish(client: Client, people: People, activity: Activity) -> None:
    with time_machine.travel(after(activity), tick=False):
        client.force_login(people.manager_b)
        response = client.post(reverse("activities_staff:recap", args=[activity.pk]), {"title": "乙站写", "body": "x"})
    assert response.status_code == 404
    assert not Recap.objects.exists()


def test_add_photos_to_a_published_recap(client: Client, people: People, activity: Activity) -> None:
    recap = publish(people, activity)
    url = reverse("activities_staff:recap_photos", args=[activity.pk])
    client.force_login(people.manager_a)
    response = client.post(url, {"photos": [png("1.png"), png("2.png")], "caption": "包饺子"})
    assert response.status_code == 302
    assert list(recap.photos.values_list("caption", "position")) == [("包饺子", 0), ("包饺子", 1)]
    response = client.post(url, {"photos": [png("3.png"), SimpleUploadedFile("x.png", b"GIF89a")]})
    assert response.status_code == 400
    assert "请上传JPG、PNG或WebP格式的照片。" in page(response)
    assert recap.photos.count() == 2  # all or nothing
    response = client.post(url, {})
    assert response.status_code == 400
    assert "请选择照片。" in page(response)
    client.force_login(people.manager_b)
    assert client.post(url, {"photos": [png()]}).status_code == 404
    assert recap.photos.count() == 2


# --- add_recap_photo (the service) ---------------------------------------------------------------------


def test_add_recap_photo_checks_the_image(people: People, activity: Activity) -> None:
    recap = publish(people, activity)
    photo = recaps.add_recap_photo(actor=people.manager_a, recap=recap, image=png("picture.exe"), caption="合影")
    assert str(photo.image.name).endswith(".png")  # our name, the real format
    assert (photo.caption, photo.position) == ("合影", 0)

    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, format="GIF")
    for bad in (
        SimpleUploadedFile("a.gif", gif.getvalue()),
        SimpleUploadedFile("evil.jpg", b"\xff\xd8\xff not really"),
        SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * (recaps.PHOTO_MAX_BYTES + 1)),
    ):
        with pytest.raises(Invalid) as refused:
            recaps.add_recap_photo(actor=people.manager_a, recap=recap, image=bad)
        assert refused.value.extra["field"] == "photos"
    assert refused.value.code == "photo_too_large"
    assert refused.value.message == "照片不能超过5MB。"
    with pytest.raises(NotFound):
        recaps.add_recap_photo(actor=people.manager_b, recap=recap, image=png())
    assert recap.photos.count() == 1


def test_a_recap_holds_at_most_twenty_photos(people: People, activity: Activity) -> None:
    recap = publish(people, activity)
    for i in range(recaps.MAX_PHOTOS):
        recaps.add_recap_photo(actor=people.manager_a, recap=recap, image=png(f"{i}.png", size=(4, 4)))
    with pytest.raises(Invalid) as refused:
        recaps.add_recap_photo(actor=people.manager_a, recap=recap, image=png())
    assert refused.value.message == "每篇回顾最多20张照片。"
    assert recap.photos.count() == recaps.MAX_PHOTOS


# --- The public news ------------------------------------------------------------------------------------


@pytest.fixture
def news(people: People, street: Street, make_activity: Any, when: Any) -> dict[str, Recap]:
    """Recaps of 甲站 (two), 乙站 and 丙站 (another district), published a day apart, oldest first."""
    a1 = make_activity(title="甲站读书会")
    a2 = make_activity(title="甲站太极拳", starts_at=when(5, "14:00"), ends_at=when(5, "15:00"))
    b = make_activity(title="乙站观影", site=street.station_b)
    c = make_activity(title="丙站义诊", site=street.station_c)
    day = dt.timedelta(days=1)
    start = after(a1)
    return {
        "a1": publish(people, a1, "甲站读书会回顾", start),
        "b": publish(people, b, "乙站观影回顾", start + day),
        "a2": publish(people, a2, "甲站太极拳回顾", start + 2 * day),
        "c": publish(people, c, "丙站义诊回顾", start + 3 * day),
    }


def test_site_news_is_the_subtree_newest_first(client: Client, street: Street, news: dict[str, Recap]) -> None:
    text = page(client.get(reverse("activities_staff:site_news", args=[street.subcentre.pk])))
    assert text.index("甲站太极拳回顾") < text.index("乙站观影回顾") < text.index("甲站读书会回顾")
    assert "丙站义诊回顾" not in text
    assert '<meta name="viewport"' in text

    text = page(client.get(reverse("activities_staff:site_news", args=[street.station_a.pk])))
    assert "甲站太极拳回顾" in text
    assert "甲站读书会回顾" in text
    assert "乙站观影回顾" not in text


def test_site_news_pages(client: Client, people: People, street: Street, make_activity: Any, when: Any) -> None:
    activity = make_activity(title="系列讲座", seats=5)
    for i in range(12):
        other = make_activity(title=f"第{i}讲", seats=5)
        publish(people, other, f"第{i}讲回顾", after(activity) + dt.timedelta(hours=i))
    url = reverse("activities_staff:site_news", args=[street.station_a.pk])
    first = page(client.get(url))
    assert "第11讲回顾" in first
    assert "第2讲回顾" in first
    assert "第1讲回顾" not in first
    second = page(client.get(url, {"page": 2}))
    assert "第1讲回顾" in second
    assert "第0讲回顾" in second
    assert "第11讲回顾" not in second
    assert client.get(url, {"page": "abc"}).status_code == 200


def test_a_cancelled_activitys_recap_is_not_news(
    client: Client, people: People, street: Street, news: dict[str, Recap]
) -> None:
    activity = news["a1"].activity
    Activity.objects.filter(pk=activity.pk).update(status=ActivityStatus.CANCELLED)
    assert "甲站读书会回顾" not in page(client.get(reverse("activities_staff:site_news", args=[street.station_a.pk])))
    assert client.get(reverse("activities_staff:recap_page", args=[news["a1"].pk])).status_code == 404


def test_news_list_takes_a_fixed_number_of_queries(
    client: Client, people: People, street: Street, news: dict[str, Recap], make_activity: Any
) -> None:
    for recap in news.values():
        recaps.add_recap_photo(actor=people.admin, recap=recap, image=png(size=(4, 4)))
    url = reverse("activities_staff:site_news", args=[street.district.pk])

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for i in range(4):
        extra = make_activity(title=f"加场{i}")
        recap = publish(people, extra, f"加场{i}回顾", after(extra) + dt.timedelta(minutes=i))
        recaps.add_recap_photo(actor=people.manager_a, recap=recap, image=png(size=(4, 4)))
    assert count() == before


def test_recap_page_and_photo_are_public(client: Client, people: People, news: dict[str, Recap]) -> None:
    recap = news["a2"]
    photo = recaps.add_recap_photo(actor=people.manager_a, recap=recap, image=png(), caption="太极拳合影")
    text = page(client.get(reverse("activities_staff:recap_page", args=[recap.pk])))
    assert "甲站太极拳回顾" in text
    assert "居民们一起包饺子，其乐融融。" in text
    assert "太极拳合影" in text
    photo_url = reverse("activities_staff:recap_photo", args=[photo.pk])
    assert f'src="{photo_url}"' in text
    response = client.get(photo_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")  # type: ignore[attr-defined]


def test_unknown_or_inactive_site_news_is_404(client: Client, street: Street) -> None:
    from wenming.network.models import Site

    assert client.get(reverse("activities_staff:site_news", args=[999_999])).status_code == 404
    Site.objects.filter(pk=street.station_b.pk).update(is_active=False)
    assert client.get(reverse("activities_staff:site_news", args=[street.station_b.pk])).status_code == 404
    assert client.get(reverse("activities_staff:recap_page", args=[999_999])).status_code == 404
    assert client.get(reverse("activities_staff:recap_photo", args=[999_999])).status_code == 404
