"""Activity photos: 张站长 adds real photos to 甲站's activities from the staff page; residents see them on
the activity's page and in the API, served at /activities/photos/<id> to whoever may see the activity.

Only real JPEG, PNG or WebP images of at most 5 MB (and 50 megapixels) are stored, at most twenty per
activity; anything refused leaves nothing behind, neither a row nor a file. 李站长 (乙站) cannot touch
甲站's photos: for him they do not exist. A draft's photos are its staff's alone.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from conftest import People
from wenming.activities import photos, recaps
from wenming.activities.models import Activity, ActivityPhoto, ActivityStatus
from wenming.core.errors import DomainError, Invalid, NotFound
from wenming.lib import images

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media: Path) -> list[Path]:
    return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []


def png(name: str = "photo.png", size: tuple[int, int] = (64, 48)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 22, 29)).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def jpeg(name: str = "photo.jpg") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 120, 20)).save(out, format="JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def text_as_jpeg() -> SimpleUploadedFile:
    return SimpleUploadedFile("合影.jpg", "这不是照片，只是一段文字。".encode(), content_type="image/jpeg")


def photo_url(photo: ActivityPhoto) -> str:
    return reverse("activities:photo", args=[photo.pk])


def page(response: Any) -> str:
    return response.content.decode()


@pytest.fixture
def activity(make_activity: Any) -> Activity:
    return make_activity(title="重阳节包饺子", seats=20)


def add(people: People, activity: Activity, n: int = 1, caption: str = "") -> list[ActivityPhoto]:
    return photos.add_activity_photos(
        actor=people.manager_a,
        activity=activity,
        images=[png(f"{i}.png", size=(4, 3)) for i in range(n)],
        caption=caption,
    )


# --- Stored and shown ----------------------------------------------------------------------------------


def test_staff_upload_real_photos_and_residents_see_them(
    client: Client, people: People, activity: Activity, media: Path
) -> None:
    client.force_login(people.manager_a)
    upload = reverse("activities_staff:photos", args=[activity.pk])
    response = client.post(upload, {"photo-photos": [png("a.png"), jpeg("b.jpg")], "photo-caption": "包饺子现场"})
    assert response.status_code == 302
    assert response["Location"] == reverse("activities_staff:detail", args=[activity.pk]) + "#photos"
    first, second = activity.photos.order_by("position")
    assert (first.position, second.position) == (0, 1)
    assert str(first.image.name).endswith(".png")
    assert str(second.image.name).endswith(".jpg")
    assert first.caption == second.caption == "包饺子现场"
    assert len(stored_files(media)) == 2
    assert "已添加2张照片。" in page(client.get(response["Location"]))
    staff_page = page(client.get(reverse("activities_staff:detail", args=[activity.pk])))
    assert f'src="{photo_url(first)}"' in staff_page
    assert "2/20" in staff_page

    resident = Client()
    resident.force_login(people.resident_a)
    text = page(resident.get(reverse("activities:detail", args=[activity.pk])))
    assert text.index(photo_url(first)) < text.index(photo_url(second))
    assert 'loading="lazy"' in text
    assert "包饺子现场" in text

    anonymous = Client()
    served = anonymous.get(photo_url(first))
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served["Cache-Control"] == "public, max-age=3600"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served.getvalue().startswith(b"\x89PNG")
    served = anonymous.get(photo_url(second))
    assert served["Content-Type"] == "image/jpeg"
    assert served.getvalue().startswith(b"\xff\xd8")


def test_the_stored_name_follows_the_real_format(people: People, activity: Activity) -> None:
    photo = photos.add_activity_photo(actor=people.manager_a, activity=activity, image=png("合影.exe"), caption="合影")
    assert str(photo.image.name).startswith("activities/")
    assert str(photo.image.name).endswith(".png")
    webp = io.BytesIO()
    Image.new("RGB", (8, 8)).save(webp, format="WEBP")
    photo = photos.add_activity_photo(
        actor=people.manager_a, activity=activity, image=SimpleUploadedFile("x.jpg", webp.getvalue())
    )
    assert str(photo.image.name).endswith(".webp")


def test_an_activity_without_photos_shows_none(client: Client, activity: Activity) -> None:
    text = page(client.get(reverse("activities:detail", args=[activity.pk])))
    assert "活动照片" not in text
    assert client.get(f"/api/activities/{activity.pk}").json()["photos"] == []


# --- Refused: nothing stored ---------------------------------------------------------------------------


def test_a_text_file_renamed_jpg_is_refused_and_nothing_is_stored(
    client: Client, people: People, activity: Activity, media: Path
) -> None:
    with pytest.raises(Invalid) as refused:
        photos.add_activity_photo(actor=people.manager_a, activity=activity, image=text_as_jpeg())
    assert refused.value.code == "invalid_photo"
    assert refused.value.message == "请上传JPG、PNG或WebP格式的照片。"
    assert refused.value.extra["field"] == "photos"
    # One bad photo among good ones: none of them is stored.
    with pytest.raises(Invalid):
        photos.add_activity_photos(actor=people.manager_a, activity=activity, images=[png(), text_as_jpeg(), jpeg()])

    client.force_login(people.manager_a)
    response = client.post(
        reverse("activities_staff:photos", args=[activity.pk]), {"photo-photos": [png(), text_as_jpeg()]}
    )
    assert response.status_code == 400
    assert "请上传JPG、PNG或WebP格式的照片。" in page(response)
    assert not ActivityPhoto.objects.exists()
    assert stored_files(media) == []


def test_other_formats_are_refused(people: People, activity: Activity) -> None:
    for kind in ("GIF", "BMP", "TIFF"):
        out = io.BytesIO()
        Image.new("RGB", (8, 8)).save(out, format=kind)
        with pytest.raises(Invalid) as refused:
            photos.add_activity_photo(
                actor=people.manager_a, activity=activity, image=SimpleUploadedFile("a.png", out.getvalue())
            )
        assert refused.value.code == "invalid_photo"
    truncated = png().read()[:40]
    with pytest.raises(Invalid):
        photos.add_activity_photo(
            actor=people.manager_a, activity=activity, image=SimpleUploadedFile("t.png", truncated)
        )
    assert not ActivityPhoto.objects.exists()


def test_too_large_is_refused(client: Client, people: People, activity: Activity, media: Path) -> None:
    big = SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * images.MAX_BYTES)
    with pytest.raises(Invalid) as refused:
        photos.add_activity_photo(actor=people.manager_a, activity=activity, image=big)
    assert (refused.value.code, refused.value.message) == ("photo_too_large", "照片不能超过5MB。")

    # Small in bytes, huge in pixels (a 1-bit PNG of 56 megapixels): refused before it is ever decoded.
    out = io.BytesIO()
    Image.new("1", (8000, 7000)).save(out, format="PNG")
    assert len(out.getvalue()) < images.MAX_BYTES
    with pytest.raises(Invalid) as refused:
        photos.add_activity_photo(
            actor=people.manager_a, activity=activity, image=SimpleUploadedFile("wide.png", out.getvalue())
        )
    assert (refused.value.code, refused.value.message) == ("photo_too_large", "照片尺寸过大，请缩小后再上传。")

    client.force_login(people.manager_a)
    big.seek(0)
    response = client.post(reverse("activities_staff:photos", args=[activity.pk]), {"photo-photos": [big]})
    assert response.status_code == 400
    assert "照片不能超过5MB。" in page(response)
    assert not ActivityPhoto.objects.exists()
    assert stored_files(media) == []


def test_at_most_twenty_photos(client: Client, people: People, activity: Activity, media: Path) -> None:
    add(people, activity, photos.MAX_PHOTOS - 2)
    # Three more would make twenty-one: refused as a whole, nothing written.
    with pytest.raises(Invalid) as refused:
        add(people, activity, 3)
    assert refused.value.code == "too_many_photos"
    assert refused.value.message == "每场活动最多20张照片。"
    assert activity.photos.count() == photos.MAX_PHOTOS - 2
    assert len(stored_files(media)) == photos.MAX_PHOTOS - 2

    add(people, activity, 2)
    with pytest.raises(Invalid, match="每场活动最多20张照片。"):
        photos.add_activity_photo(actor=people.manager_a, activity=activity, image=png())
    with pytest.raises(Invalid, match="每场活动最多20张照片。"):
        add(people, Activity.objects.get(pk=activity.pk), photos.MAX_PHOTOS + 1)
    assert list(activity.photos.values_list("position", flat=True)) == list(range(photos.MAX_PHOTOS))
    assert len(stored_files(media)) == photos.MAX_PHOTOS

    client.force_login(people.manager_a)
    detail = page(client.get(reverse("activities_staff:detail", args=[activity.pk])))
    assert "20/20" in detail
    upload = reverse("activities_staff:photos", args=[activity.pk])
    assert f'action="{upload}"' not in detail  # no upload form when full
    response = client.post(reverse("activities_staff:photos", args=[activity.pk]), {"photo-photos": [png()]})
    assert response.status_code == 400
    assert "每场活动最多20张照片。" in page(response)


def test_no_photo_chosen(client: Client, people: People, activity: Activity) -> None:
    with pytest.raises(Invalid) as refused:
        photos.add_activity_photos(actor=people.manager_a, activity=activity, images=[])
    assert refused.value.code == "no_photos"
    client.force_login(people.manager_a)
    response = client.post(reverse("activities_staff:photos", args=[activity.pk]), {"photo-caption": "合影"})
    assert response.status_code == 400
    assert "请选择照片。" in page(response)


def test_captions_are_clean_and_short(people: People, activity: Activity) -> None:
    photo = photos.add_activity_photo(
        actor=people.manager_a, activity=activity, image=png(), caption=" 合影\x00留念\n "
    )
    assert photo.caption == "合影留念"
    with pytest.raises(Invalid) as refused:
        photos.add_activity_photo(actor=people.manager_a, activity=activity, image=png(), caption="长" * 101)
    assert (refused.value.code, refused.value.extra["field"]) == ("caption_too_long", "caption")
    assert activity.photos.count() == 1


# --- Who may ----------------------------------------------------------------------------------------------


def test_another_stations_manager_gets_404(client: Client, people: People, activity: Activity, media: Path) -> None:
    photo = add(people, activity)[0]
    with pytest.raises(NotFound):
        photos.add_activity_photo(actor=people.manager_b, activity=activity, image=png())
    with pytest.raises(NotFound):
        photos.remove_activity_photo(actor=people.manager_b, photo=photo)
    with pytest.raises(NotFound):
        photos.move_activity_photo(actor=people.manager_b, photo=photo, by=1)

    client.force_login(people.manager_b)
    assert (
        client.post(reverse("activities_staff:photos", args=[activity.pk]), {"photo-photos": [png()]}).status_code
        == 404
    )
    for name in ("photo_remove", "photo_earlier", "photo_later"):
        assert client.post(reverse(f"activities_staff:{name}", args=[activity.pk, photo.pk])).status_code == 404
    assert client.get(photo_url(photo)).status_code == 200  # a published activity's photo is public, to him too
    assert list(activity.photos.all()) == [photo]
    assert len(stored_files(media)) == 1


def test_a_photo_is_only_touched_through_its_own_activity(
    client: Client, people: People, activity: Activity, make_activity: Any
) -> None:
    other = make_activity(title="读书会")
    photo = add(people, other)[0]
    client.force_login(people.manager_a)
    for name in ("photo_remove", "photo_earlier", "photo_later"):
        response = client.post(reverse(f"activities_staff:{name}", args=[activity.pk, photo.pk]), follow=True)
        assert "该照片已删除。" in page(response)
    assert ActivityPhoto.objects.filter(pk=photo.pk, activity=other).exists()


def test_a_drafts_photos_are_its_staffs_alone(client: Client, people: People, make_activity: Any) -> None:
    draft = make_activity(status=ActivityStatus.DRAFT, title="筹备中的活动")
    photo = add(people, draft)[0]
    url = photo_url(photo)
    assert client.get(url).status_code == 404
    for someone in (people.resident_a, people.manager_b):
        client.force_login(someone)
        assert client.get(url).status_code == 404
        assert client.get(f"/api/activities/{draft.pk}").status_code == 404
    client.force_login(people.manager_a)
    served = client.get(url)
    assert served.status_code == 200
    assert served["Cache-Control"] == "private, max-age=3600"  # no shared cache keeps a draft's photo
    assert f'src="{url}"' in page(client.get(reverse("activities_staff:detail", args=[draft.pk])))
    assert client.get("/activities/photos/999999").status_code == 404
    assert client.post(url).status_code == 405


# --- Remove and reorder ------------------------------------------------------------------------------------


def test_remove_a_photo(
    client: Client,
    people: People,
    activity: Activity,
    media: Path,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    first, second, third = add(people, activity, 3)
    client.force_login(people.manager_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("activities_staff:photo_remove", args=[activity.pk, second.pk]))
    assert response.status_code == 302
    assert "已删除照片。" in page(client.get(response["Location"]))
    assert list(activity.photos.values_list("pk", "position")) == [(first.pk, 0), (third.pk, 1)]
    assert len(stored_files(media)) == 2  # the file went once the removal committed
    assert not (media / str(second.image.name)).exists()
    assert Client().get(photo_url(second)).status_code == 404
    # Removed meanwhile (a second click, another tab): a clear answer, not an error page.
    with pytest.raises(NotFound) as gone:
        photos.remove_activity_photo(actor=people.manager_a, photo=second)
    assert gone.value.message == "该照片已删除。"
    again = client.post(reverse("activities_staff:photo_remove", args=[activity.pk, second.pk]), follow=True)
    assert again.status_code == 200
    assert "该照片已删除。" in page(again)


def test_move_a_photo(client: Client, people: People, activity: Activity) -> None:
    a, b, c = add(people, activity, 3)

    def order() -> list[int]:
        return list(activity.photos.order_by("position").values_list("pk", flat=True))

    client.force_login(people.manager_a)
    assert client.post(reverse("activities_staff:photo_earlier", args=[activity.pk, c.pk])).status_code == 302
    assert order() == [a.pk, c.pk, b.pk]
    client.post(reverse("activities_staff:photo_later", args=[activity.pk, a.pk]))
    assert order() == [c.pk, a.pk, b.pk]
    client.post(reverse("activities_staff:photo_earlier", args=[activity.pk, c.pk]))  # already first: stays
    assert order() == [c.pk, a.pk, b.pk]
    assert list(activity.photos.order_by("position").values_list("position", flat=True)) == [0, 1, 2]
    api = client.get(f"/api/activities/{activity.pk}").json()
    assert [p["url"] for p in api["photos"]] == [reverse("activities:photo", args=[pk]) for pk in order()]
    assert client.get(reverse("activities_staff:photo_earlier", args=[activity.pk, a.pk])).status_code == 405


# --- API and query counts ------------------------------------------------------------------------------------


def test_the_api_lists_the_photos(client: Client, people: People, activity: Activity) -> None:
    first = add(people, activity, caption="合影")[0]
    second = photos.add_activity_photo(actor=people.manager_a, activity=activity, image=jpeg())
    body = client.get(f"/api/activities/{activity.pk}").json()
    assert body["photos"] == [{"url": photo_url(first), "caption": "合影"}, {"url": photo_url(second), "caption": ""}]
    assert client.get(body["photos"][0]["url"]).status_code == 200


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("who", ["anonymous", "resident_a"])
def test_query_counts_do_not_grow_with_the_photos(
    client: Client, people: People, activity: Activity, make_activity: Any, who: str
) -> None:
    if who != "anonymous":
        client.force_login(getattr(people, who))
    few, many = activity, make_activity(title="另一场")
    add(people, few, 1)
    add(people, many, 8)
    for url in ("/activities/%d/", "/api/activities/%d"):
        _queries(client, url % few.pk)  # warm up: sessions, content types, the monthly theme cache
        assert _queries(client, url % few.pk) == _queries(client, url % many.pk), url


def test_staff_detail_query_count_does_not_grow_with_the_photos(
    client: Client, people: People, activity: Activity, make_activity: Any
) -> None:
    client.force_login(people.manager_a)
    few, many = activity, make_activity(title="另一场")
    add(people, few, 1)
    add(people, many, 8)
    url = "/staff/activities/%d/"
    _queries(client, url % few.pk)
    assert _queries(client, url % few.pk) == _queries(client, url % many.pk)


# --- The check is shared --------------------------------------------------------------------------------------


def test_recap_and_venue_photos_use_the_same_check() -> None:
    """One check for every photo: the limits are the library's, under the names callers already used."""
    from wenming.network import services as network_services

    assert recaps.PHOTO_MAX_BYTES == network_services.PHOTO_MAX_BYTES == images.MAX_BYTES
    with pytest.raises(images.InvalidImage) as refused:
        images.check_photo(text_as_jpeg())
    assert refused.value.code == "invalid_photo"
    image = png()
    assert images.check_photo(image) == "png"
    assert image.tell() == 0  # left at its start, ready to be stored


# --- The last place, contested --------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_uploads_at_once_cannot_both_take_the_last_place(people: People, make_activity: Any) -> None:
    activity = make_activity(title="最后一张")
    add(people, activity, photos.MAX_PHOTOS - 1)
    threads = 6
    barrier = threading.Barrier(threads)
    results: list[str] = ["did not run"] * threads

    def upload(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            photos.add_activity_photo(
                actor=people.manager_a, activity=Activity.objects.get(pk=activity.pk), image=png(f"{index}.png")
            )
            results[index] = "ok"
        except DomainError as exc:
            results[index] = exc.code
        except Exception as exc:  # reported, never a lost thread
            results[index] = repr(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=upload, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(results) == ["ok", *["too_many_photos"] * (threads - 1)], results
    positions = list(ActivityPhoto.objects.filter(activity=activity).values_list("position", flat=True))
    assert sorted(positions) == list(range(photos.MAX_PHOTOS))
