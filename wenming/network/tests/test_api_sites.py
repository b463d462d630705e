"""GET /api/sites, /api/sites/nearby, /api/sites/{id}, /api/sites/{id}/coverage.

Anyone reads the public face of a site (its contact phone masked). Staff
whose scope covers a site see its full contact and manager; for everyone
else the answer is the public one. Coverage is for staff of the site only,
and to everyone else a site they may not see does not exist.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from conftest import CJK, PERSONAS
from wenming.accounts import services as account_services
from wenming.network.models import Site, SiteKind, SiteLevel
from wenming.network.services import create_brand, create_project, create_site, create_venue

pytestmark = pytest.mark.django_db

# Who sees the private face (full phone, contact, manager) of station A and B.
PRIVATE_VIEW = {
    "admin": {"station_a", "station_b"},
    "subcentre_admin": {"station_a", "station_b"},
    "manager_a": {"station_a"},
    "manager_b": {"station_b"},
}
# Who may read the coverage of station B (everyone else gets 404).
COVERAGE_OF_B = {"admin", "subcentre_admin", "manager_b"}


def headers(user: Any) -> dict[str, str]:
    raw, _ = account_services.issue_api_token(user=user)
    return {"Authorization": f"Bearer {raw}"}


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert CJK.search(body["message"]), body
    return body


@pytest.fixture
def furnished(street: Any, people: Any) -> Any:
    """Station B with a manager, two brands with projects, and venues (one retired)."""
    Site.objects.filter(pk=street.station_b.pk).update(manager=people.manager_b, contact_name="李站长")
    study = create_brand(actor=None, site=street.station_b, name="乙站研习", theme="理论学习")
    create_project(actor=None, brand=study, name="小微学堂", is_claimable=True)
    create_project(actor=None, brand=study, name="红动辛西")
    care = create_brand(actor=None, site=street.station_b, name="乙站益家")
    create_project(actor=None, brand=care, name="长者食堂")
    create_venue(
        actor=None, site=street.station_b, name="多功能厅", area_m2="120.50", capacity=60, facilities=["投影仪", "音响"]
    )
    old = create_venue(actor=None, site=street.station_b, name="旧活动室", area_m2=30, capacity=10)
    old.is_active = False
    old.save()
    return street


def _more_sites(parent: Site, count: int, start: int) -> None:
    for i in range(start, start + count):
        create_site(
            actor=None,
            parent=parent,
            level=SiteLevel.POINT,
            name=f"测试点{i:03d}",
            code=f"T-{i:03d}",
            kind=SiteKind.BUILDING,
            latitude=31.2110 + i * 1e-5,
            longitude=121.4910,
            contact_phone="13600000000",
            address=f"测试路{i}号",
        )


# --- GET /api/sites -------------------------------------------------------------------------------


def test_list_is_public_paginated_and_masks_phones(client: Client, street: Any) -> None:
    response = client.get("/api/sites", {"page_size": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 8
    assert (body["page"], body["page_size"]) == (1, 3)
    assert [s["name"] for s in body["results"]] == [
        "和平区新时代文明实践中心",
        "嘉禾路街道新时代文明实践分中心",
        "甲居民区实践站",
    ]
    station = body["results"][2]
    assert station == {
        "id": street.station_a.pk,
        "name": "甲居民区实践站",
        "level": 3,
        "level_label": "实践站",
        "kind": "residential",
        "kind_label": "居民区站",
        "parent_id": street.subcentre.pk,
        "address": "",
        "latitude": 31.211,
        "longitude": 121.491,
        "opening_hours": "",
        "contact_phone": "139****5678",
    }
    assert "13912345678" not in response.content.decode()
    last = client.get("/api/sites", {"page_size": 3, "page": 3}).json()
    assert len(last["results"]) == 2
    beyond = client.get("/api/sites", {"page_size": 3, "page": 99}).json()
    assert beyond["count"] == 8
    assert beyond["results"] == []


def test_list_filters_by_level_parent_and_text(client: Client, street: Any) -> None:
    def names(**params: Any) -> list[str]:
        return [s["name"] for s in client.get("/api/sites", params).json()["results"]]

    assert names(level=3) == ["甲居民区实践站", "乙居民区实践站", "丙居民区实践站"]
    assert names(parent=street.subcentre.pk) == ["甲居民区实践站", "乙居民区实践站"]
    assert names(q="甲") == ["甲居民区实践站", "甲站一号楼实践点"]
    assert names(q="嘉禾路216") == ["嘉禾路街道新时代文明实践分中心"]  # address
    assert names(q="100%_") == []  # wildcards are literal
    assert names(parent=999_999) == []
    Site.objects.filter(pk=street.station_b.pk).update(is_active=False)
    assert "乙居民区实践站" not in names(level=3)


def test_list_query_count_does_not_grow_with_the_page(
    client: Client, street: Any, django_assert_num_queries: Any
) -> None:
    _more_sites(street.station_a, 20, 0)
    with django_assert_num_queries(2):  # count + page
        first = client.get("/api/sites", {"q": "测试点", "page_size": "100"}).json()
    assert len(first["results"]) == 20
    _more_sites(street.station_a, 20, 20)
    with django_assert_num_queries(2):
        second = client.get("/api/sites", {"q": "测试点", "page_size": "100"}).json()
    assert len(second["results"]) == 40
    assert all(s["contact_phone"] == "136****0000" for s in second["results"])


# --- GET /api/sites/nearby ------------------------------------------------------------------------


def test_nearby_is_sorted_by_distance_with_distances(client: Client, street: Any) -> None:
    response = client.get("/api/sites/nearby", {"lat": "31.2110", "lng": "121.4910", "radius_m": "1000"})
    assert response.status_code == 200
    body = response.json()
    names = [s["name"] for s in body["results"]]
    assert names == ["甲居民区实践站", "甲站一号楼实践点", "嘉禾路街道新时代文明实践分中心"]
    distances = [s["distance_m"] for s in body["results"]]
    assert distances == sorted(distances)
    assert distances[0] == 0.0
    assert 60 < distances[1] < 80  # 0.0005° north and east of 甲站
    assert body["count"] == 3
    assert body["results"][0]["id"] == street.station_a.pk


def test_nearby_defaults_to_a_fifteen_minute_walk_and_filters_by_level(client: Client, street: Any) -> None:
    default = client.get("/api/sites/nearby", {"lat": "31.2110", "lng": "121.4910"}).json()
    assert default["count"] == 3
    points = client.get("/api/sites/nearby", {"lat": "31.2110", "lng": "121.4910", "level": "4"}).json()
    assert [s["name"] for s in points["results"]] == ["甲站一号楼实践点"]
    wide = client.get("/api/sites/nearby", {"lat": "31.2110", "lng": "121.4910", "radius_m": "50000"}).json()
    assert "丙居民区实践站" not in [s["name"] for s in wide["results"]]  # Beijing is far away
    assert wide["count"] == 5


def test_nearby_is_not_read_as_a_site_id(client: Client, street: Any) -> None:
    # Without lat/lng the nearby operation answers (422 about lat), not the detail one (about site_id).
    body = assert_error(client.get("/api/sites/nearby"), 422, "invalid")
    assert {e["field"] for e in body["errors"]} == {"lat", "lng"}


def test_nearby_query_count_is_constant(client: Client, street: Any, django_assert_num_queries: Any) -> None:
    _more_sites(street.station_a, 20, 0)
    with django_assert_num_queries(1):
        assert client.get("/api/sites/nearby", {"lat": "31.2110", "lng": "121.4910"}).json()["count"] == 23


# --- GET /api/sites/{id} --------------------------------------------------------------------------


def test_detail_shows_brands_projects_and_active_venues(client: Client, furnished: Any) -> None:
    body = client.get(f"/api/sites/{furnished.station_b.pk}").json()
    assert body["name"] == "乙居民区实践站"
    assert [(b["name"], [p["name"] for p in b["projects"]]) for b in body["brands"]] == [
        ("乙站研习", ["小微学堂", "红动辛西"]),
        ("乙站益家", ["长者食堂"]),
    ]
    assert body["brands"][0]["projects"][0]["is_claimable"] is True
    assert body["venues"] == [
        {
            "id": body["venues"][0]["id"],
            "name": "多功能厅",
            "area_m2": 120.5,
            "capacity": 60,
            "facilities": ["投影仪", "音响"],
            "is_bookable": True,
            "photos": [],
        }
    ]


def test_anonymous_detail_is_public(client: Client, furnished: Any) -> None:
    body = client.get(f"/api/sites/{furnished.station_b.pk}").json()
    assert body["contact_phone"] == "139****4321"
    assert body["manager"] is None
    assert body["contact_name"] is None


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("station", ["station_a", "station_b"])
def test_detail_private_fields_follow_the_policy(
    client: Client, furnished: Any, people: Any, persona: str, station: str
) -> None:
    Site.objects.filter(pk=furnished.station_a.pk).update(manager=people.manager_a)
    site = getattr(furnished, station)
    response = client.get(f"/api/sites/{site.pk}", headers=headers(getattr(people, persona)))
    assert response.status_code == 200
    body = response.json()
    full = {"station_a": "13912345678", "station_b": "13987654321"}[station]
    if station in PRIVATE_VIEW.get(persona, set()):
        assert body["contact_phone"] == full
        assert body["manager"]["name"] == {"station_a": "张站长", "station_b": "李站长"}[station]
    else:
        assert body["contact_phone"] == full[:3] + "****" + full[-4:]
        assert body["manager"] is None
        assert body["contact_name"] is None
        assert full not in response.content.decode()


def test_manager_of_a_sees_b_only_as_the_public_does(client: Client, furnished: Any, people: Any) -> None:
    mine = client.get(f"/api/sites/{furnished.station_b.pk}", headers=headers(people.manager_b)).json()
    theirs = client.get(f"/api/sites/{furnished.station_b.pk}", headers=headers(people.manager_a)).json()
    public = client.get(f"/api/sites/{furnished.station_b.pk}").json()
    assert theirs == public
    assert mine["contact_phone"] == "13987654321"
    assert mine["contact_name"] == "李站长"
    assert mine["manager"] == {"id": people.manager_b.pk, "name": "李站长"}


def test_session_sign_in_also_shows_private_fields(client: Client, furnished: Any, people: Any) -> None:
    client.force_login(people.manager_b)
    assert client.get(f"/api/sites/{furnished.station_b.pk}").json()["contact_phone"] == "13987654321"


def test_a_bad_token_is_refused_even_where_anonymous_is_welcome(client: Client, street: Any) -> None:
    response = client.get(f"/api/sites/{street.station_a.pk}", headers={"Authorization": "Bearer not-a-token"})
    assert_error(response, 401, "invalid_token")


def test_missing_and_retired_sites_are_404(client: Client, street: Any) -> None:
    assert_error(client.get("/api/sites/999999"), 404, "not_found")
    Site.objects.filter(pk=street.point_a.pk).update(is_active=False)
    assert_error(client.get(f"/api/sites/{street.point_a.pk}"), 404, "not_found")


def test_detail_query_count_is_constant(
    client: Client, furnished: Any, people: Any, django_assert_num_queries: Any
) -> None:
    auth = headers(people.manager_b)
    # token, site (+manager), grants, brands, projects, venues, venue photos
    with django_assert_num_queries(7):
        client.get(f"/api/sites/{furnished.station_b.pk}", headers=auth)
    for i in range(5):
        brand = create_brand(actor=None, site=furnished.station_b, name=f"品牌{i}")
        create_project(actor=None, brand=brand, name=f"项目{i}")
        create_venue(actor=None, site=furnished.station_b, name=f"活动室{i}", area_m2=20, capacity=10)
    with django_assert_num_queries(7):
        body = client.get(f"/api/sites/{furnished.station_b.pk}", headers=auth).json()
    assert len(body["brands"]) == 7


# --- GET /api/sites/{id}/coverage -----------------------------------------------------------------


def test_coverage_reports_each_station(client: Client, street: Any, people: Any) -> None:
    response = client.get(f"/api/sites/{street.subcentre.pk}/coverage", headers=headers(people.subcentre_admin))
    assert response.status_code == 200
    body = response.json()
    assert body["site"] == {"id": street.subcentre.pk, "name": "嘉禾路街道新时代文明实践分中心"}
    assert body["distance_m"] == 1000
    assert (body["total"], body["covered"]) == (2, 1)
    a, b = body["stations"]
    assert (a["name"], a["covered"], a["nearest_point"]["name"]) == ("甲居民区实践站", True, "甲站一号楼实践点")
    assert 60 < a["distance_m"] < 80
    assert (b["name"], b["covered"], b["nearest_point"], b["distance_m"]) == ("乙居民区实践站", False, None, None)
    wider = client.get(
        f"/api/sites/{street.subcentre.pk}/coverage", {"distance_m": 5000}, headers=headers(people.subcentre_admin)
    ).json()
    assert wider["covered"] == 2


@pytest.mark.parametrize("persona", PERSONAS)
def test_coverage_of_b_is_for_its_staff_only(client: Client, street: Any, people: Any, persona: str) -> None:
    response = client.get(f"/api/sites/{street.station_b.pk}/coverage", headers=headers(getattr(people, persona)))
    if persona in COVERAGE_OF_B:
        assert response.status_code == 200
        assert response.json()["stations"][0]["name"] == "乙居民区实践站"
    else:
        # Indistinguishable from a site that does not exist.
        assert response.json() == client.get("/api/sites/999999/coverage", headers=headers(people.admin)).json()
        assert_error(response, 404, "not_found")


def test_coverage_needs_signing_in(client: Client, street: Any) -> None:
    assert_error(client.get(f"/api/sites/{street.station_b.pk}/coverage"), 401, "unauthorized")


# --- Garbage in, 4xx out --------------------------------------------------------------------------

GARBAGE = [
    ("/api/sites/abc", 422, "site_id"),
    ("/api/sites/-1", 422, "site_id"),
    ("/api/sites/0", 422, "site_id"),
    ("/api/sites/1.5", 422, "site_id"),
    ("/api/sites/99999999999999999999999999", 422, "site_id"),
    ("/api/sites/9223372036854775808", 422, "site_id"),
    ("/api/sites/%E4%B8%80", 422, "site_id"),
    ("/api/sites?level=0", 422, "level"),
    ("/api/sites?level=5", 422, "level"),
    ("/api/sites?level=abc", 422, "level"),
    ("/api/sites?parent=x", 422, "parent"),
    ("/api/sites?parent=99999999999999999999", 422, "parent"),
    ("/api/sites?page=0", 422, "page"),
    ("/api/sites?page=99999999999", 422, "page"),
    ("/api/sites?page_size=101", 422, "page_size"),
    ("/api/sites?page_size=-5", 422, "page_size"),
    ("/api/sites?q=%00", 422, "q"),
    ("/api/sites?q=" + "长" * 10_000, 422, "q"),
    ("/api/sites/nearby?lat=abc&lng=121.4", 422, "lat"),
    ("/api/sites/nearby?lat=91&lng=121.4", 422, "lat"),
    ("/api/sites/nearby?lat=nan&lng=121.4", 422, "lat"),
    ("/api/sites/nearby?lat=31.2&lng=inf", 422, "lng"),
    ("/api/sites/nearby?lat=31.2&lng=-181", 422, "lng"),
    ("/api/sites/nearby?lat=1e999&lng=1", 422, "lat"),
    ("/api/sites/nearby?lat=31.2&lng=121.4&radius_m=-1", 422, "radius_m"),
    ("/api/sites/nearby?lat=31.2&lng=121.4&radius_m=0", 422, "radius_m"),
    ("/api/sites/nearby?lat=31.2&lng=121.4&radius_m=50001", 422, "radius_m"),
    ("/api/sites/nearby?lat=31.2&lng=121.4&radius_m=1e308", 422, "radius_m"),
    ("/api/sites/nearby?lat=31.2&lng=121.4&level=9", 422, "level"),
]


@pytest.mark.parametrize(("url", "status", "field"), GARBAGE)
def test_garbage_is_a_4xx_with_a_code(client: Client, street: Any, url: str, status: int, field: str) -> None:
    body = assert_error(client.get(url), status, "invalid")
    assert field in {e["field"] for e in body["errors"]}


@pytest.mark.parametrize(
    "query",
    ["distance_m=0", "distance_m=-3", "distance_m=abc", "distance_m=50001", "distance_m=nan"],
)
def test_coverage_garbage_is_a_4xx(client: Client, street: Any, people: Any, query: str) -> None:
    url = f"/api/sites/{street.subcentre.pk}/coverage?{query}"
    body = assert_error(client.get(url, headers=headers(people.admin)), 422, "invalid")
    assert body["field"] == "distance_m"
