"""The landing page, the staff home (工作台), error pages and the language switcher."""

from __future__ import annotations

from types import ModuleType

import pytest
from django.test import Client
from django.urls import URLResolver, include, path, reverse

from conftest import People, Street
from wenming.network import services
from wenming.network.models import SiteLevel
from wenming.urls import urlpatterns as site_urlpatterns

pytestmark = pytest.mark.django_db

# The site's URLs with and without Django's set_language view, whichever
# wenming/urls.py does today.
urlpatterns = [*site_urlpatterns, path("i18n/", include("django.conf.urls.i18n"))]
WITHOUT_I18N = ModuleType("wenming_urls_without_i18n")
WITHOUT_I18N.urlpatterns = [  # type: ignore[attr-defined]
    p
    for p in site_urlpatterns
    if not (isinstance(p, URLResolver) and getattr(p.urlconf_module, "__name__", "") == "django.conf.urls.i18n")
]


def html(response) -> str:
    return response.content.decode()


def test_home(client: Client) -> None:
    response = client.get(reverse("core:home"))
    assert response.status_code == 200
    page = html(response)
    assert "新时代文明实践" in page
    assert reverse("network:near") in page
    assert reverse("accounts:login") in page


def test_staff_home_needs_login(client: Client) -> None:
    response = client.get(reverse("core:staff_home"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={reverse('core:staff_home')}"


@pytest.mark.parametrize("persona", ["resident_a", "volunteer_a", "leader_a", "liaison_a"])
def test_staff_home_is_403_in_chinese_for_non_staff(client: Client, people: People, persona: str) -> None:
    client.force_login(getattr(people, persona))
    response = client.get(reverse("core:staff_home"))
    assert response.status_code == 403
    page = html(response)
    assert "无权访问" in page
    assert "工作台仅供阵地工作人员使用" in page


def test_staff_home_for_a_station_manager(client: Client, people: People, street: Street) -> None:
    services.create_venue(actor=None, site=street.point_a, name="一号楼活动室", area_m2=60, capacity=20)
    client.force_login(people.manager_a)
    response = client.get(reverse("core:staff_home"))
    assert response.status_code == 200
    page = html(response)
    assert street.station_a.name in page
    assert street.station_b.name not in page
    assert "站长 · 甲居民区实践站" in page
    # child sites 1 (the point), venues 1, people with 甲站 or its point as home 5, volunteers 0
    assert "<b>1</b><span>下级阵地</span>" in page
    assert "<b>1</b><span>场地</span>" in page
    assert "<b>5</b><span>登记人员</span>" in page
    assert "<b>0</b><span>志愿者</span>" in page
    assert reverse("accounts:people_list") in page
    assert reverse("accounts:register") in page
    assert reverse("network:coverage", args=[street.station_a.pk]) in page
    assert reverse("admin:index") not in page  # station managers do not use the admin


def test_staff_home_for_the_subcentre_admin_links_the_admin(client: Client, people: People, street: Street) -> None:
    client.force_login(people.subcentre_admin)
    page = html(client.get(reverse("core:staff_home")))
    assert street.subcentre.name in page
    assert "<b>3</b><span>下级阵地</span>" in page  # two stations and a point
    assert reverse("network:coverage", args=[street.subcentre.pk]) in page
    assert reverse("admin:index") in page


def test_staff_home_for_the_platform_admin_lists_every_centre(client: Client, people: People, street: Street) -> None:
    client.force_login(people.admin)
    page = html(client.get(reverse("core:staff_home")))
    assert street.district.name in page
    assert street.other_district.name in page


def test_staff_home_does_not_count_inactive_sites(client: Client, people: People, street: Street) -> None:
    services.create_site(
        actor=people.subcentre_admin,
        parent=street.subcentre,
        level=SiteLevel.STATION,
        name="丁站",
        code="HP-JH-D",
        is_active=False,
    )
    client.force_login(people.subcentre_admin)
    assert "<b>3</b><span>下级阵地</span>" in html(client.get(reverse("core:staff_home")))


def test_404_page_is_in_chinese(client: Client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in html(response)


def test_header_shows_sign_in_or_sign_out(client: Client, people: People) -> None:
    page = html(client.get(reverse("core:home")))
    assert reverse("accounts:logout") not in page
    client.force_login(people.resident_a)
    page = html(client.get(reverse("core:home")))
    assert reverse("accounts:logout") in page
    assert reverse("core:staff_home") not in page  # residents have no 工作台
    client.force_login(people.manager_a)
    assert reverse("core:staff_home") in html(client.get(reverse("core:home")))


def test_no_language_switcher_until_set_language_is_routed(client: Client, settings) -> None:
    settings.ROOT_URLCONF = WITHOUT_I18N
    page = html(client.get(reverse("core:home")))
    assert "新时代文明实践" in page
    assert 'name="language"' not in page


@pytest.mark.urls(__name__)
def test_language_switcher_appears_once_set_language_is_routed(client: Client) -> None:
    page = html(client.get(reverse("core:home")))
    assert 'action="/i18n/setlang/"' in page
    assert 'name="language"' in page
    assert "简体中文" in page
    assert "English" in page
