"""network.services and selectors: the tree, validation, the 15-minute circle."""

from __future__ import annotations

from typing import Any

import pytest

from wenming.core.errors import Conflict, Invalid, NotAllowed
from wenming.network import selectors, services
from wenming.network.models import Site, SiteLevel

pytestmark = pytest.mark.django_db


def test_paths_follow_the_tree(street: Any) -> None:
    for site in Site.objects.all():
        if site.parent_id is None:
            assert site.level == SiteLevel.CENTRE
            assert site.path == f"{site.pk:010d}."
        else:
            assert site.parent is not None
            assert site.path == site.parent.path + f"{site.pk:010d}."
            assert site.level == site.parent.level + 1
    subtree = set(Site.objects.subtree(street.subcentre).values_list("code", flat=True))
    assert subtree == {"HP-JH", "HP-JH-A", "HP-JH-B", "HP-JH-A-1"}
    assert street.point_a.is_within(street.station_a)
    assert not street.station_b.is_within(street.station_a)


def test_levels_must_step_down_one(street: Any) -> None:
    with pytest.raises(Invalid):
        services.create_site(actor=None, parent=street.subcentre, level=SiteLevel.POINT, name="跳级", code="X1")
    with pytest.raises(Invalid):
        services.create_site(actor=None, parent=None, level=SiteLevel.STATION, name="孤站", code="X2")
    with pytest.raises(Conflict):
        services.create_site(actor=None, parent=street.subcentre, level=SiteLevel.STATION, name="重码", code="HP-JH-A")


def test_bad_site_fields_are_refused(street: Any, people: Any) -> None:
    with pytest.raises(Invalid):
        services.update_site(actor=people.manager_a, site=street.station_a, latitude="north")
    with pytest.raises(Invalid):
        services.update_site(actor=people.manager_a, site=street.station_a, longitude=500)
    with pytest.raises(Invalid):
        services.update_site(actor=people.manager_a, site=street.station_a, path="0.")
    with pytest.raises(NotAllowed):
        services.update_site(actor=people.manager_a, site=street.station_b, opening_hours="全天")
    site = services.update_site(actor=people.manager_a, site=street.station_a, opening_hours=" 9:00-17:00 ")
    assert site.opening_hours == "9:00-17:00"


def test_station_manager_opens_points_but_not_stations(street: Any, people: Any) -> None:
    point = services.create_site(
        actor=people.manager_a,
        parent=street.station_a,
        level=SiteLevel.POINT,
        name="甲站公园实践点",
        code="HP-JH-A-2",
        latitude=31.2120,
        longitude=121.4920,
    )
    assert point.is_within(street.station_a)
    with pytest.raises(NotAllowed):
        services.create_site(
            actor=people.manager_a, parent=street.subcentre, level=SiteLevel.STATION, name="越权站", code="HP-JH-Z"
        )
    with pytest.raises(NotAllowed):
        services.create_site(
            actor=people.manager_a, parent=street.station_b, level=SiteLevel.POINT, name="越权点", code="HP-JH-B-9"
        )


def test_venue_validation(street: Any, people: Any) -> None:
    venue = services.create_venue(
        actor=people.manager_a,
        site=street.station_a,
        name="多功能厅",
        area_m2="120.5",
        capacity="60",
        facilities=["投影", " ", "音响"],
    )
    assert venue.facilities == ["投影", "音响"]
    for bad in ({"area_m2": "-1"}, {"area_m2": "NaN"}, {"capacity": "many"}, {"capacity": 0}):
        kwargs: dict[str, Any] = {"area_m2": "10", "capacity": 5, **bad}
        with pytest.raises(Invalid):
            services.create_venue(actor=people.manager_a, site=street.station_a, name="坏场地", **kwargs)
    with pytest.raises(Conflict):
        services.create_venue(actor=people.manager_a, site=street.station_a, name="多功能厅", area_m2=1, capacity=1)
    with pytest.raises(NotAllowed):
        services.create_venue(actor=people.manager_a, site=street.station_b, name="越权", area_m2=1, capacity=1)


def test_nearby_sorted_by_distance(street: Any) -> None:
    found = selectors.nearby_sites(31.2110, 121.4910, 1000)
    names = [n.site.name for n in found]
    assert names[0] == "甲居民区实践站"
    assert found[0].distance_m == 0
    assert "甲站一号楼实践点" in names
    assert "乙居民区实践站" not in names  # about 2.8 km away
    assert [n.distance_m for n in found] == sorted(n.distance_m for n in found)
    wider = selectors.nearby_sites(31.2110, 121.4910, 5000, levels=[SiteLevel.STATION])
    assert {n.site.name for n in wider} == {"甲居民区实践站", "乙居民区实践站"}


def test_coverage_lists_stations_without_a_point(street: Any) -> None:
    result = {c.station.code: c for c in selectors.coverage(street.subcentre, 1000)}
    assert result["HP-JH-A"].covered
    assert result["HP-JH-A"].nearest_point == street.point_a
    assert 0 < (result["HP-JH-A"].nearest_distance_m or 0) < 100
    assert not result["HP-JH-B"].covered
    assert "DC-DS-C" not in result


def test_site_manager_gets_the_role_and_only_visible_people_qualify(street: Any, people: Any) -> None:
    from wenming.accounts.models import AuditLog, Role, RoleGrant
    from wenming.core.errors import NotFound

    site = services.set_site_manager(actor=people.subcentre_admin, site=street.station_a, manager=people.volunteer_a)
    assert site.manager == people.volunteer_a
    assert RoleGrant.objects.filter(user=people.volunteer_a, role=Role.STATION_MANAGER, site=street.station_a).exists()
    assert AuditLog.objects.filter(action="role_granted").count() == 1
    # Naming the same person again changes nothing more.
    services.set_site_manager(actor=people.subcentre_admin, site=street.station_a, manager=people.volunteer_a)
    assert AuditLog.objects.filter(action="role_granted").count() == 1
    with pytest.raises(NotFound):  # 钱站长 is in another district
        services.set_site_manager(actor=people.subcentre_admin, site=street.station_a, manager=people.manager_c)
    with pytest.raises(NotAllowed):  # a station manager cannot appoint station managers
        services.set_site_manager(actor=people.manager_a, site=street.station_a, manager=people.volunteer_a)
    sub = services.set_site_manager(actor=people.admin, site=street.subcentre, manager=people.manager_a)
    assert RoleGrant.objects.filter(user=people.manager_a, role=Role.SUBCENTRE_ADMIN, site=sub).exists()
    services.set_site_manager(actor=people.subcentre_admin, site=street.station_a, manager=None)
    street.station_a.refresh_from_db()
    assert street.station_a.manager is None


def test_updates_are_validated_scoped_and_all_or_nothing(street: Any, people: Any) -> None:
    from decimal import Decimal

    hall = services.create_venue(actor=None, site=street.station_a, name="活动室", area_m2=80, capacity=30)
    services.create_venue(actor=None, site=street.station_a, name="议事厅", area_m2=40, capacity=12)
    services.update_venue(actor=people.manager_a, venue=hall, capacity=40, facilities=["投影"])
    hall.refresh_from_db()
    assert (hall.capacity, hall.facilities) == (40, ["投影"])
    with pytest.raises(Conflict):  # a name the station already uses
        services.update_venue(actor=people.manager_a, venue=hall, name="议事厅", capacity=50)
    with pytest.raises(Invalid):
        services.update_venue(actor=people.manager_a, venue=hall, area_m2=Decimal("-1"))
    with pytest.raises(Invalid):
        services.update_venue(actor=people.manager_a, venue=hall, site=street.station_b)
    with pytest.raises(NotAllowed):
        services.update_venue(actor=people.manager_b, venue=hall, capacity=1)
    hall.refresh_from_db()
    assert (hall.name, hall.capacity, hall.area_m2) == ("活动室", 40, Decimal("80.00"))
