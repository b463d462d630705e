"""Read-side queries for the network: nearby sites and the 15-minute circle."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from wenming.lib.geo import bounding_box, haversine_m
from wenming.network.models import Site, SiteLevel

MAX_RADIUS_M = 50_000


@dataclass(frozen=True)
class Nearby:
    site: Site
    distance_m: float


def nearby_sites(
    lat: float,
    lng: float,
    radius_m: float,
    *,
    levels: list[int] | None = None,
    within: Site | None = None,
    limit: int = 50,
) -> list[Nearby]:
    """Active sites within ``radius_m`` of a point, nearest first.

    A bounding box on the (latitude, longitude) index narrows the rows; the
    exact great-circle distance then filters and sorts them.
    """
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, radius_m)
    qs: QuerySet[Site] = Site.objects.filter(
        is_active=True,
        latitude__gte=min_lat,
        latitude__lte=max_lat,
        longitude__gte=min_lng,
        longitude__lte=max_lng,
    )
    if levels:
        qs = qs.filter(level__in=levels)
    if within is not None:
        qs = qs.filter(path__startswith=within.path)
    found = []
    for site in qs.only(
        "id",
        "name",
        "level",
        "kind",
        "address",
        "latitude",
        "longitude",
        "opening_hours",
        "parent_id",
        "path",
        "contact_phone",
    ):
        assert site.latitude is not None
        assert site.longitude is not None
        d = haversine_m(lat, lng, site.latitude, site.longitude)
        if d <= radius_m:
            found.append(Nearby(site, round(d, 1)))
    found.sort(key=lambda n: (n.distance_m, n.site.pk))
    return found[:limit]


@dataclass(frozen=True)
class StationCoverage:
    station: Site
    nearest_point: Site | None
    nearest_distance_m: float | None

    @property
    def covered(self) -> bool:
        return self.nearest_point is not None


def coverage(root: Site, distance_m: float) -> list[StationCoverage]:
    """For each station under ``root``: its nearest point within ``distance_m``.

    A station with none is a gap in the 15-minute circle. Points anywhere in
    the tree count, since residents cross administrative lines on foot.
    """
    stations = list(Site.objects.subtree(root).filter(level=SiteLevel.STATION, is_active=True).order_by("path"))
    located = [s for s in stations if s.has_location]
    result: list[StationCoverage] = []
    if located:
        lats = [s.latitude for s in located if s.latitude is not None]
        lngs = [s.longitude for s in located if s.longitude is not None]
        lo_lat, _, lo_lng, _ = bounding_box(min(lats), min(lngs), distance_m)
        _, hi_lat, _, hi_lng = bounding_box(max(lats), max(lngs), distance_m)
        points = list(
            Site.objects.filter(
                level=SiteLevel.POINT,
                is_active=True,
                latitude__gte=lo_lat,
                latitude__lte=hi_lat,
                longitude__gte=lo_lng,
                longitude__lte=hi_lng,
            ).only("id", "name", "latitude", "longitude", "path", "level")
        )
    else:
        points = []
    for station in stations:
        best: tuple[float, Site] | None = None
        if station.has_location:
            assert station.latitude is not None
            assert station.longitude is not None
            for point in points:
                assert point.latitude is not None
                assert point.longitude is not None
                d = haversine_m(station.latitude, station.longitude, point.latitude, point.longitude)
                if d <= distance_m and (best is None or d < best[0]):
                    best = (d, point)
        result.append(StationCoverage(station, best[1] if best else None, round(best[0], 1) if best else None))
    return result
