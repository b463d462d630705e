"""Every page loads its scripts, styles and images from this server only.

Pages are rendered for the personas who can see them; every <script src>,
<link href> and <img src> must be a local path (no scheme, no host), and
every /static/ path must exist, so a CDN link or a broken vendored path
fails here rather than in a resident's phone.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from conftest import People, Street
from wenming.network import services

pytestmark = pytest.mark.django_db

WEUI = "vendor/weui-2.6.26/weui.min.css"
HTMX = "vendor/htmx-2.0.11/htmx.min.js"
VENDOR_DIR = Path(settings.BASE_DIR) / "wenming" / "static" / "vendor"


class AssetCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.assets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.assets.append(value)


def find_static(path: str) -> Path:
    """The file behind a static path, as collectstatic and WhiteNoise will find it."""
    found = finders.find(path)
    assert found, (
        f"static file {path!r} is not found by the static-files finders; "
        "wenming/static/ must be listed in settings.STATICFILES_DIRS"
    )
    return Path(str(found))


def assets_of(page: str) -> list[str]:
    collector = AssetCollector()
    collector.feed(page)
    return collector.assets


def assert_local_assets(url: str, page: str) -> list[str]:
    assets = assets_of(page)
    for asset in assets:
        parts = urlsplit(asset)
        assert not parts.scheme, f"{url} loads {asset} from outside"
        assert not parts.netloc, f"{url} loads {asset} from another host"
        assert not asset.startswith("//"), f"{url} loads {asset} protocol-relative"
        if asset.startswith(settings.STATIC_URL):
            find_static(parts.path.removeprefix(settings.STATIC_URL))
    return assets


def test_vendored_files_exist_with_their_licences() -> None:
    for path in (WEUI, HTMX):
        find_static(path)
    assert (VENDOR_DIR / "weui-2.6.26" / "LICENSE.txt").exists()
    assert (VENDOR_DIR / "htmx-2.0.11" / "LICENSE").exists()
    assert "WeUI v2.6.26" in (VENDOR_DIR / "weui-2.6.26" / "weui.min.css").read_text()[:200]
    assert '"2.0.11"' in (VENDOR_DIR / "htmx-2.0.11" / "htmx.min.js").read_text()
    versions = (VENDOR_DIR / "VERSIONS.md").read_text()
    for text in ("WeUI", "2.6.26", "MIT", "weui@2.6.26", "htmx", "2.0.11", "0BSD", "htmx.org@2.0.11"):
        assert text in versions
    assert not (Path(settings.BASE_DIR) / "node_modules").exists()
    assert not list(VENDOR_DIR.rglob("node_modules"))


def test_assets_are_not_sourced_from_cdns() -> None:
    for path in (WEUI, HTMX, "js/near.js", "css/wenming.css", "css/admin.css"):
        text = find_static(path).read_text()
        assert "//cdn" not in text
        assert "@import" not in text
        assert "sourceMappingURL" not in text


@pytest.fixture
def pages(people: People, street: Street) -> dict[str, list[str]]:
    """URLs to render, by persona ("" for anonymous)."""
    brand = services.create_brand(actor=None, site=street.station_a, name="甲站益家")
    services.create_project(actor=None, brand=brand, name="长者食堂")
    services.create_venue(actor=None, site=street.station_a, name="活动室", area_m2=30, capacity=10)
    public = [
        reverse("core:home"),
        reverse("network:site_list"),
        reverse("network:site_list") + "?level=3&q=甲",
        reverse("network:site_detail", args=[street.station_a.pk]),
        reverse("network:near"),
        reverse("network:near") + "?lat=31.211&lng=121.491&radius_m=2000",
        reverse("network:near") + "?lat=abc&lng=1",
        reverse("network:near") + f"?station={street.station_a.pk}",
        reverse("accounts:login"),
        reverse("accounts:login") + "?tab=sms",
        "/no-such-page/",
    ]
    staff = [
        reverse("core:staff_home"),
        reverse("accounts:people_list"),
        reverse("accounts:people_list") + "?q=王",
        reverse("accounts:person_detail", args=[people.resident_a.pk]),
        reverse("accounts:register"),
        reverse("network:coverage", args=[street.station_a.pk]) + "?distance_m=1000",
    ]
    admin_pages = [reverse("admin:index")]
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        if info[0] in ("network", "accounts", "volunteers", "units"):
            admin_pages.append(reverse("admin:{}_{}_changelist".format(*info)))
    admin_pages += [
        reverse("admin:network_site_add"),
        reverse("admin:network_site_change", args=[street.station_a.pk]),
        reverse("admin:accounts_user_change", args=[people.resident_a.pk]),
    ]
    return {"": public, "resident_a": [reverse("core:staff_home"), *public], "manager_a": staff, "admin": admin_pages}


def test_every_page_uses_local_assets_only(client: Client, people: People, pages) -> None:
    seen: set[str] = set()
    rendered = 0
    for persona, urls in pages.items():
        client.logout()
        if persona:
            client.force_login(getattr(people, persona))
        for url in urls:
            response = client.get(url)
            assert response.status_code in (200, 403, 404), (persona, url, response.status_code)
            assert "text/html" in response["Content-Type"]
            seen.update(assert_local_assets(url, response.content.decode()))
            rendered += 1
    assert rendered > 30
    # The pages really use the vendored files (so the check above checked something).
    assert f"{settings.STATIC_URL}{WEUI}" in seen
    assert f"{settings.STATIC_URL}{HTMX}" in seen
    assert f"{settings.STATIC_URL}css/admin.css" in seen


def test_the_checker_catches_an_external_asset() -> None:
    with pytest.raises(AssertionError):
        assert_local_assets("/x/", '<script src="https://cdn.example.com/htmx.min.js"></script>')
    with pytest.raises(AssertionError):
        assert_local_assets("/x/", '<link rel="stylesheet" href="//res.wx.qq.com/weui.css">')
    with pytest.raises(AssertionError):
        assert_local_assets("/x/", '<img src="/static/vendor/missing.png">')
    assert assert_local_assets("/x/", '<img src="/static/admin/img/icon-yes.svg"><a href="https://example.com/">x</a>')
