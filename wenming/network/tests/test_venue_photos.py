"""Venue photos: only real images, shown on the site page and in the API, served publicly."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from wenming.core.errors import Invalid, NotAllowed
from wenming.network import services
from wenming.network.models import VenuePhoto

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def _png(name: str = "hall.png", size: tuple[int, int] = (64, 48)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 22, 29)).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


@pytest.fixture
def hall(street: Any) -> Any:
    return services.create_venue(actor=None, site=street.station_a, name="多功能厅", area_m2=120, capacity=60)


def test_photo_is_shown_and_served(client: Client, people: Any, street: Any, hall: Any) -> None:
    photo = services.add_venue_photo(actor=people.manager_a, venue=hall, image=_png("x.exe"), caption="正门")
    assert str(photo.image.name).endswith(".png")  # the stored name follows the real format
    page = client.get(reverse("network:site_detail", args=[street.station_a.pk])).content.decode()
    url = reverse("network:venue_photo", args=[photo.pk])
    assert f'src="{url}"' in page
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.getvalue().startswith(b"\x89PNG")
    api = client.get(f"/api/sites/{street.station_a.pk}").json()
    assert api["venues"][0]["photos"] == [{"url": url, "caption": "正门"}]


def test_only_real_small_images(people: Any, hall: Any) -> None:
    fake = SimpleUploadedFile("evil.png", b"<script>alert(1)</script>", content_type="image/png")
    with pytest.raises(Invalid):
        services.add_venue_photo(actor=people.manager_a, venue=hall, image=fake)
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, format="GIF")
    with pytest.raises(Invalid):
        services.add_venue_photo(actor=people.manager_a, venue=hall, image=SimpleUploadedFile("a.gif", gif.getvalue()))
    big = SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * (services.PHOTO_MAX_BYTES + 1))
    with pytest.raises(Invalid):
        services.add_venue_photo(actor=people.manager_a, venue=hall, image=big)
    with pytest.raises(NotAllowed):
        services.add_venue_photo(actor=people.manager_b, venue=hall, image=_png())
    assert not VenuePhoto.objects.exists()


def test_photos_of_retired_venues_are_not_served(client: Client, people: Any, hall: Any) -> None:
    photo = services.add_venue_photo(actor=people.manager_a, venue=hall, image=_png())
    services.update_venue(actor=people.manager_a, venue=hall, is_active=False)
    assert client.get(reverse("network:venue_photo", args=[photo.pk])).status_code == 404
    assert client.get("/venues/photos/999999").status_code == 404


def test_admin_upload_goes_through_the_service(client: Client, people: Any, hall: Any) -> None:
    client.force_login(people.subcentre_admin)
    url = reverse("admin:network_venue_change", args=[hall.pk])
    form = {
        "name": hall.name,
        "area_m2": "120",
        "capacity": "60",
        "facilities": "",
        "description": "",
        "is_bookable": "on",
        "is_active": "on",
        "photos-TOTAL_FORMS": "1",
        "photos-INITIAL_FORMS": "0",
        "photos-MIN_NUM_FORMS": "0",
        "photos-MAX_NUM_FORMS": "1000",
        "photos-0-caption": "大厅",
        "photos-0-position": "0",
    }
    fake = SimpleUploadedFile("fake.png", b"not an image", content_type="image/png")
    response = client.post(url, {**form, "photos-0-image": fake})
    assert response.status_code == 200  # refused: Django's ImageField or the service says why
    assert not VenuePhoto.objects.exists()
    response = client.post(url, {**form, "photos-0-image": _png()})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert VenuePhoto.objects.get().caption == "大厅"
