"""The public network pages (directory, site page, near-me finder) and the staff coverage view."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from conftest import People, Street
from wenming.network import services
from wenming.network.models import Site, SiteKind, SiteLevel
from wenming.network.views import distance_label, walk_minutes

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


# --- Directory -----------------------------------------------------------------------


def test_directory_lists_the_tree_for_anyone(client: Client, street: Street) -> None:
    response = client.get(reverse("network:site_list"))
    assert response.status_code == 200
    page = html(response)
    assert '<meta name="viewport"' in page
    for site in (street.district, street.subcentre, street.station_a, street.station_b, street.point_a):
        assert site.name in page
        assert reverse("network:site_detail", args=[site.pk]) in page
    # In path order: the centre, then its sub-centre, then stations with their points.
    assert page.index(street.district.name) < page.index(street.subcentre.name) < page.index(street.station_a.name)
    assert page.index(street.station_a.name) < page.index(street.point_a.name) < page.index(street.station_b.name)


def test_directory_filters_by_level(client: Client, street: Street) -> None:
    page = html(client.get(reverse("network:site_list"), {"level": SiteLevel.STATION}))
    assert street.station_a.name in page
    assert street.station_c.name in page
    assert f'href="{reverse("network:site_detail", args=[street.subcentre.pk])}"' not in page
    assert street.point_a.name not in page
    assert f"隶属：{street.subcentre.name}" in page  # filtered rows name their parent


def test_directory_ignores_an_unknown_level(client: Client, street: Street) -> None:
    response = client.get(reverse("network:site_list"), {"level": "9' or 1=1"})
    assert response.status_code == 200
    assert street.point_a.name in html(response)


def test_directory_searches_names_and_addresses(client: Client, street: Street) -> None:
    page = html(client.get(reverse("network:site_list"), {"q": "甲"}))
    assert street.station_a.name in page
    assert street.point_a.name in page
    assert street.station_b.name not in page
    assert "找到 2 个阵地" in page

    page = html(client.get(reverse("network:site_list"), {"q": "嘉禾路216号"}))
    assert street.subcentre.name in page
    assert street.station_a.name not in page


def test_directory_hides_inactive_sites(client: Client, street: Street) -> None:
    Site.objects.filter(pk=street.station_b.pk).update(is_active=False)
    assert street.station_b.name not in html(client.get(reverse("network:site_list")))


def _add_points(parent, count: int) -> None:
    for i in range(count):
        services.create_site(
            actor=None,
            parent=parent,
            level=SiteLevel.POINT,
            name=f"测试楼{i:02d}号实践点",
            code=f"HP-JH-A-T{i:02d}",
            kind=SiteKind.BUILDING,
            latitude=31.2111 + i / 100000,
            longitude=121.4911,
        )


def test_directory_paginates(client: Client, street: Street) -> None:
    _add_points(street.station_a, 35)  # 43 sites in all, 30 a page
    first = html(client.get(reverse("network:site_list")))
    assert "第 1 / 2 页" in first
    assert "?page=2" in first
    second = html(client.get(reverse("network:site_list"), {"page": 2}))
    assert street.station_c.name in second
    assert street.district.name not in second
    # A page beyond the end shows the last page rather than an error.
    assert client.get(reverse("network:site_list"), {"page": 99}).status_code == 200


def test_directory_query_count_does_not_grow_with_rows(
    client: Client, street: Street, django_assert_max_num_queries
) -> None:
    _add_points(street.station_a, 25)
    with django_assert_max_num_queries(3):
        response = client.get(reverse("network:site_list"), {"q": "实践"})
    assert response.status_code == 200


# --- Site page --------------------------------------------------------------------------


@pytest.fixture
def furnished(street: Street):
    brand = services.create_brand(actor=None, site=street.station_a, name="甲站益家", theme="公益服务")
    services.create_project(actor=None, brand=brand, name="长者食堂", is_claimable=True)
    services.create_project(actor=None, brand=brand, name="小微学堂")
    services.create_venue(
        actor=None,
        site=street.station_a,
        name="多功能活动室",
        area_m2=Decimal("120.50"),
        capacity=40,
        facilities=["投影仪", "音响"],
    )
    Site.objects.filter(pk=street.station_a.pk).update(opening_hours="周一至周六 9:00-17:00", contact_name="张站长")
    return street


def test_site_page_shows_details_brands_venues_and_children(client: Client, furnished: Street) -> None:
    street = furnished
    response = client.get(reverse("network:site_detail", args=[street.station_a.pk]))
    assert response.status_code == 200
    page = html(response)
    assert street.station_a.name in page
    assert "新时代文明实践站" in page  # level
    assert "周一至周六 9:00-17:00" in page
    assert "甲站益家" in page
    assert "长者食堂" in page
    assert "小微学堂" in page
    assert "可认领" in page
    assert "多功能活动室" in page
    assert "面积 120.50 平方米 · 可容纳 40 人" in page
    assert "投影仪、音响" in page
    assert street.point_a.name in page  # child site
    assert street.subcentre.name in page  # breadcrumb


@pytest.mark.parametrize("persona", [None, "resident_a", "manager_b", "manager_c"])
def test_site_page_masks_the_contact_phone(client: Client, people: People, street: Street, persona: str) -> None:
    if persona:
        client.force_login(getattr(people, persona))
    page = html(client.get(reverse("network:site_detail", args=[street.station_a.pk])))
    assert "139****5678" in page
    assert "13912345678" not in page


@pytest.mark.parametrize("persona", ["manager_a", "subcentre_admin", "admin"])
def test_site_page_shows_the_phone_to_its_staff(client: Client, people: People, street: Street, persona: str) -> None:
    client.force_login(getattr(people, persona))
    page = html(client.get(reverse("network:site_detail", args=[street.station_a.pk])))
    assert "13912345678" in page


def test_inactive_site_is_404_for_the_public_but_visible_to_its_staff(
    client: Client, people: People, street: Street
) -> None:
    services.update_site(actor=people.manager_b, site=street.station_b, is_active=False)
    url = reverse("network:site_detail", args=[street.station_b.pk])
    assert client.get(url).status_code == 404
    client.force_login(people.manager_a)
    assert client.get(url).status_code == 404
    client.force_login(people.manager_b)
    assert client.get(url).status_code == 200


def test_unknown_site_is_404(client: Client, street: Street) -> None:
    response = client.get(reverse("network:site_detail", args=[999999]))
    assert response.status_code == 404
    assert "页面不存在" in html(response)


# --- Near me -------------------------------------------------------------------------------


def test_near_without_a_point_shows_the_form_and_stations(client: Client, street: Street) -> None:
    response = client.get(reverse("network:near"))
    assert response.status_code == 200
    page = html(response)
    assert 'id="wm-locate"' in page  # the geolocation button, shown by the script
    assert "js/near.js" in page
    assert f'<option value="{street.station_a.pk}">{street.station_a.name}</option>' in page
    assert f'<optgroup label="{street.subcentre.name}">' in page
    assert street.point_a.name not in page  # only stations in the picker, no results yet


def test_near_lists_sites_nearest_first_with_distance_and_walk(client: Client, street: Street) -> None:
    response = client.get(reverse("network:near"), {"lat": "31.2110", "lng": "121.4910", "radius_m": "1000"})
    assert response.status_code == 200
    page = html(response)
    assert page.index(street.station_a.name + "</p>") < page.index(street.point_a.name)
    assert page.index(street.point_a.name) < page.index(street.subcentre.name + "</p>")
    assert "73米" in page  # 甲站一号楼 is 73 m from 甲站
    assert "步行约1分钟" in page
    assert "146米" in page
    assert "步行约2分钟" in page
    assert street.station_b.name + "</p>" not in page  # 2.8 km away


def test_near_shows_kilometres_for_far_sites(client: Client, street: Street) -> None:
    page = html(client.get(reverse("network:near"), {"lat": "31.2110", "lng": "121.4910", "radius_m": "5000"}))
    assert "公里" in page
    assert street.station_b.name in page


def test_near_keeps_an_unlisted_radius_selected(client: Client, street: Street) -> None:
    page = html(client.get(reverse("network:near"), {"lat": "31.2110", "lng": "121.4910", "radius_m": "1500"}))
    assert '<option value="1500" selected>1.5公里</option>' in page
    assert "您周边 1.5公里 内的阵地" in page


def test_near_from_a_chosen_station(client: Client, street: Street) -> None:
    page = html(client.get(reverse("network:near"), {"station": street.station_a.pk, "radius_m": 1000}))
    assert f"{street.station_a.name}周边" in page
    assert "73米" in page


def test_near_htmx_request_gets_only_the_results(client: Client, street: Street) -> None:
    response = client.get(
        reverse("network:near"), {"lat": "31.2110", "lng": "121.4910"}, headers={"HX-Request": "true"}
    )
    page = html(response)
    assert page.lstrip().startswith('<section id="wm-near-results"')
    assert "<html" not in page
    assert street.point_a.name in page
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"lat": "abc", "lng": "121.49"}, "纬度应为 -90 到 90 之间的数字。"),
        ({"lat": "95", "lng": "121.49"}, "纬度应为 -90 到 90 之间的数字。"),
        ({"lat": "nan", "lng": "121.49"}, "纬度应为 -90 到 90 之间的数字。"),
        ({"lat": "31.2", "lng": "inf"}, "经度应为 -180 到 180 之间的数字。"),
        ({"lat": "31.2", "lng": "200"}, "经度应为 -180 到 180 之间的数字。"),
        ({"lat": "31.2"}, "请同时填写纬度和经度。"),
        ({"lat": "", "lng": ""}, "请点击“定位我的位置”、选择所在的实践站，或填写经纬度。"),
        ({"lat": "31.2", "lng": "121.4", "radius_m": "0"}, "搜索范围（米）应为 50 到 50000 之间的数字。"),
        ({"lat": "31.2", "lng": "121.4", "radius_m": "999999"}, "搜索范围（米）应为 50 到 50000 之间的数字。"),
        ({"lat": "31.2", "lng": "121.4", "radius_m": "一千"}, "搜索范围（米）应为 50 到 50000 之间的数字。"),
        ({"station": "999999"}, "所选实践站不存在或尚未登记位置"),
        ({"station": "x"}, "请选择列表中的实践站。"),
    ],
)
def test_near_explains_bad_input_in_chinese(client: Client, street: Street, params, message) -> None:
    response = client.get(reverse("network:near"), params)
    assert response.status_code == 200
    assert message in html(response)


def test_near_does_not_offer_points_or_unlocated_stations_as_origin(client: Client, street: Street) -> None:
    services.create_site(
        actor=None, parent=street.subcentre, level=SiteLevel.STATION, name="丁居民区实践站", code="HP-JH-D"
    )
    page = html(client.get(reverse("network:near")))
    assert "丁居民区实践站" not in page
    assert "所选实践站不存在" in html(client.get(reverse("network:near"), {"station": street.point_a.pk}))


def test_distance_and_walk_helpers() -> None:
    assert distance_label(0) == "0米"
    assert distance_label(999.4) == "999米"
    assert distance_label(1000) == "1公里"
    assert distance_label(1249) == "1.2公里"
    assert walk_minutes(0) == 1
    assert walk_minutes(80) == 1
    assert walk_minutes(81) == 2
    assert walk_minutes(1200) == 15


# --- Coverage (staff) -------------------------------------------------------------------------


def test_coverage_requires_login(client: Client, street: Street) -> None:
    url = reverse("network:coverage", args=[street.subcentre.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_coverage_lists_gaps_and_covered_stations(client: Client, people: People, street: Street) -> None:
    client.force_login(people.subcentre_admin)
    response = client.get(reverse("network:coverage", args=[street.subcentre.pk]), {"distance_m": 1000})
    assert response.status_code == 200
    page = html(response)
    gaps, covered = page.split("已覆盖的实践站", 1)
    assert street.station_b.name in gaps  # no point within 1 km of 乙站
    assert street.station_a.name in covered
    assert street.point_a.name in covered
    assert "73米" in covered
    assert "共 2 个实践站：1 个已覆盖，1 个未覆盖。" in page


def test_coverage_distance_changes_the_answer(client: Client, people: People, street: Street) -> None:
    client.force_login(people.subcentre_admin)
    page = html(client.get(reverse("network:coverage", args=[street.subcentre.pk]), {"distance_m": 50}))
    assert "共 2 个实践站：0 个已覆盖，2 个未覆盖。" in page


def test_coverage_bad_distance_is_explained(client: Client, people: People, street: Street) -> None:
    client.force_login(people.subcentre_admin)
    response = client.get(reverse("network:coverage", args=[street.subcentre.pk]), {"distance_m": "abc"})
    assert response.status_code == 200
    assert "距离（米）应为 50 到 5000 之间的数字。" in html(response)


def test_station_manager_sees_own_coverage_and_404_elsewhere(client: Client, people: People, street: Street) -> None:
    client.force_login(people.manager_a)
    assert client.get(reverse("network:coverage", args=[street.station_a.pk])).status_code == 200
    assert client.get(reverse("network:coverage", args=[street.station_b.pk])).status_code == 404
    assert client.get(reverse("network:coverage", args=[street.subcentre.pk])).status_code == 404


@pytest.mark.parametrize("persona", ["resident_a", "volunteer_a", "leader_a", "liaison_a"])
def test_non_staff_get_404_on_coverage(client: Client, people: People, street: Street, persona: str) -> None:
    client.force_login(getattr(people, persona))
    assert client.get(reverse("network:coverage", args=[street.station_a.pk])).status_code == 404
