"""Pages of the network: the public directory, site pages, the near-me finder
(mobile, for WeChat's browser) and the staff coverage view."""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import groupby

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from wenming.lib.geo import FIFTEEN_MINUTE_WALK_M
from wenming.lib.images import photo_response
from wenming.lib.masking import mask_phone
from wenming.network import policies, selectors
from wenming.network.forms import RADIUS_CHOICES, CoverageForm, NearForm
from wenming.network.models import Project, Site, SiteLevel, VenuePhoto

DIRECTORY_PAGE_SIZE = 30
WALK_METRES_PER_MINUTE = 80
SEARCH_MAX_LENGTH = 50


def distance_label(metres: float) -> str:
    """How far, the way people say it: 350米, 1.2公里."""
    if metres < 1000:
        return _("%(n)d米") % {"n": round(metres)}
    return _("%(n)s公里") % {"n": f"{round(metres / 1000, 1):g}"}


def walk_minutes(metres: float) -> int:
    """Minutes on foot at 80 metres a minute, at least one."""
    return max(1, math.ceil(metres / WALK_METRES_PER_MINUTE))


@dataclass(frozen=True)
class Distance:
    metres: float

    @property
    def label(self) -> str:
        return distance_label(self.metres)

    @property
    def minutes(self) -> int:
        return walk_minutes(self.metres)


# --- Public pages ---------------------------------------------------------------


def _printable(text: str) -> str:
    """A search as typed, without control characters (a NUL would reach the database)."""
    return "".join(ch for ch in text if ch.isprintable()).strip()


@require_GET
def site_list(request: HttpRequest) -> HttpResponse:
    """The directory: the tree in path order, filtered by level and a search."""
    q = _printable(request.GET.get("q", ""))[:SEARCH_MAX_LENGTH]
    level_raw = request.GET.get("level", "")
    level = int(level_raw) if level_raw in {str(v) for v in SiteLevel.values} else None
    sites = (
        Site.objects.filter(is_active=True)
        .select_related("parent")
        .only("id", "name", "level", "kind", "address", "path", "parent__id", "parent__name")
        .order_by("path")
    )
    if level is not None:
        sites = sites.filter(level=level)
    if q:
        sites = sites.filter(Q(name__icontains=q) | Q(address__icontains=q) | Q(code__iexact=q))
    page = Paginator(sites, DIRECTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "network/site_list.html",
        {
            "page": page,
            "q": q,
            "level": level,
            "levels": SiteLevel.choices,
            "filtered": bool(q or level),
        },
    )


@require_GET
def site_detail(request: HttpRequest, pk: int) -> HttpResponse:
    site = get_object_or_404(Site.objects.select_related("parent"), pk=pk)
    private = policies.can_view_site_private(request.user, site)
    if not site.is_active and not private:
        raise Http404
    ancestors = list(Site.objects.filter(pk__in=site.ancestor_ids).only("id", "name", "level").order_by("path"))
    brands = site.brands.prefetch_related(Prefetch("projects", queryset=Project.objects.order_by("id")))
    venues = site.venues.filter(is_active=True).prefetch_related("photos").order_by("name")
    children = site.children.filter(is_active=True).only("id", "name", "level", "kind", "address").order_by("path")
    return render(
        request,
        "network/site_detail.html",
        {
            "site": site,
            "ancestors": ancestors,
            "brands": brands,
            "venues": venues,
            "children": children,
            "private": private,
            "contact_phone": site.contact_phone if private else mask_phone(site.contact_phone),
        },
    )


@dataclass(frozen=True)
class StationGroup:
    parent_name: str
    stations: list[Site]


def _station_groups() -> list[StationGroup]:
    """Residential stations with a location, grouped by their sub-centre, for the picker."""
    stations = (
        Site.objects.filter(level=SiteLevel.STATION, is_active=True)
        .exclude(latitude=None)
        .exclude(longitude=None)
        .select_related("parent")
        .only("id", "name", "path", "parent__id", "parent__name")
        .order_by("path")
    )
    groups: list[StationGroup] = []
    for parent_name, members in groupby(stations, key=lambda s: s.parent.name if s.parent else ""):
        groups.append(StationGroup(parent_name, list(members)))
    return groups


@require_GET
def near(request: HttpRequest) -> HttpResponse:
    """Sites near a point, nearest first, with walking time.

    The point comes from the phone (a small script fills in the
    coordinates), from a chosen residential station, or is typed in. The
    results are rendered here; with htmx only the result list is swapped.
    """
    searched = any(key in request.GET for key in ("lat", "lng", "station"))
    form = NearForm(request.GET if searched else None)
    radius_m = FIFTEEN_MINUTE_WALK_M
    origin = None
    results: list[tuple[selectors.Nearby, Distance]] = []
    if searched and form.is_valid():
        origin = form.cleaned_data
        radius_m = origin["radius_m"]
        found = selectors.nearby_sites(origin["lat"], origin["lng"], radius_m)
        results = [(item, Distance(item.distance_m)) for item in found]
    context = {
        "form": form,
        "searched": searched,
        "origin": origin,
        "results": results,
        "radius_m": radius_m,
        "radius_label": distance_label(radius_m),
        "radius_choices": [(r, distance_label(r)) for r in sorted({*RADIUS_CHOICES, radius_m})],
    }
    if request.headers.get("HX-Request"):
        response = render(request, "network/near.html#results", context)
    else:
        context["station_groups"] = _station_groups()
        response = render(request, "network/near.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- Staff ------------------------------------------------------------------------


@login_required
@require_GET
def coverage(request: HttpRequest, pk: int) -> HttpResponse:
    """The 15-minute circle: stations with no point within the chosen distance."""
    site = get_object_or_404(Site, pk=pk)
    if not policies.can_view_coverage(request.user, site):
        raise Http404
    form = CoverageForm(request.GET)
    distance_m = form.cleaned_data["distance_m"] if form.is_valid() else FIFTEEN_MINUTE_WALK_M
    rows = selectors.coverage(site, distance_m)
    gaps = [row for row in rows if not row.covered]
    covered = [
        (row, Distance(row.nearest_distance_m)) for row in rows if row.covered and row.nearest_distance_m is not None
    ]
    return render(
        request,
        "network/coverage.html",
        {
            "site": site,
            "form": form,
            "distance_m": distance_m,
            "distance": Distance(distance_m),
            "gaps": gaps,
            "covered": covered,
            "total": len(rows),
        },
    )


@require_GET
def venue_photo(request: HttpRequest, pk: int) -> FileResponse:
    """A venue's photo, public like the venue; served from the media storage."""
    photo = get_object_or_404(
        VenuePhoto.objects.select_related("venue__site"), pk=pk, venue__is_active=True, venue__site__is_active=True
    )
    return photo_response(photo.image, cache_control="public, max-age=86400")
