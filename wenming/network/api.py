"""The network API: the tree of sites, nearby sites and the 15-minute circle.

What anyone may read about a site is public (name, level, address,
location, opening hours, brands, projects, venues; the contact phone only
masked). Staff whose scope covers a site also get its full contact and
manager; ``wenming.network.policies`` decides who that is.
"""

from typing import Annotated, Any

from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from ninja import Field, Router
from ninja.params import functions as params
from pydantic import BaseModel

from wenming.accounts.api import OPTIONAL, SIGNED_IN, PersonRef, SiteRef, current_user, signed_in
from wenming.core.api_errors import Id, PageNumber, PageSize, SafeText, documented, lazy_str
from wenming.lib.geo import FIFTEEN_MINUTE_WALK_M
from wenming.lib.masking import mask_phone
from wenming.network import policies, selectors
from wenming.network.models import SHORT_LEVEL_LABELS, Brand, Project, Site, SiteKind, SiteLevel, Venue

LEVEL_HELP = gettext_lazy("层级：1 中心，2 分中心，3 实践站，4 实践点")
LevelFilter = Annotated[
    int | None, params.Query(None, ge=SiteLevel.CENTRE, le=SiteLevel.POINT, description=lazy_str(LEVEL_HELP))
]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False, description=lazy_str(gettext_lazy("纬度")))]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False, description=lazy_str(gettext_lazy("经度")))]
Distance = Annotated[
    float,
    Field(ge=1, le=selectors.MAX_RADIUS_M, allow_inf_nan=False, description=lazy_str(gettext_lazy("距离（米）"))),
]

# --- Schemas --------------------------------------------------------------------------------------


class SiteSummary(BaseModel):
    id: int
    name: str
    level: int = Field(description=lazy_str(LEVEL_HELP))
    level_label: str
    kind: str
    kind_label: str
    parent_id: int | None
    address: str
    latitude: float | None
    longitude: float | None
    opening_hours: str


class SiteOut(SiteSummary):
    contact_phone: str = Field(description=lazy_str(gettext_lazy("联系电话（打码）")))


class SitePage(BaseModel):
    count: int
    page: int
    page_size: int
    results: list[SiteOut]


class NearbySiteOut(SiteSummary):
    distance_m: float = Field(description=lazy_str(gettext_lazy("与所给位置的直线距离（米）")))


class NearbyOut(BaseModel):
    count: int
    results: list[NearbySiteOut]


class ProjectOut(BaseModel):
    id: int
    name: str
    description: str
    is_claimable: bool


class BrandOut(BaseModel):
    id: int
    name: str
    theme: str
    description: str
    projects: list[ProjectOut]


class PhotoOut(BaseModel):
    url: str
    caption: str


class VenueOut(BaseModel):
    id: int
    name: str
    area_m2: float = Field(description=lazy_str(gettext_lazy("面积（平方米）")))
    capacity: int
    facilities: list[str]
    is_bookable: bool
    photos: list[PhotoOut]


class SiteDetailOut(SiteOut):
    description: str
    contact_name: str | None = Field(description=lazy_str(gettext_lazy("联系人；仅负责该阵地的工作人员可见")))
    manager: PersonRef | None = Field(description=lazy_str(gettext_lazy("负责人；仅负责该阵地的工作人员可见")))
    brands: list[BrandOut]
    venues: list[VenueOut]


class StationCoverageOut(BaseModel):
    id: int
    name: str
    latitude: float | None
    longitude: float | None
    covered: bool = Field(description=lazy_str(gettext_lazy("范围内是否有实践点")))
    nearest_point: SiteRef | None
    distance_m: float | None = Field(description=lazy_str(gettext_lazy("到最近实践点的距离（米）")))


class CoverageOut(BaseModel):
    site: SiteRef
    distance_m: float
    total: int = Field(description=lazy_str(gettext_lazy("实践站数")))
    covered: int = Field(description=lazy_str(gettext_lazy("已覆盖的实践站数")))
    stations: list[StationCoverageOut]


_LABELS: dict[str, tuple[dict[int, str], dict[str, str]]] = {}


def _labels() -> tuple[dict[int, str], dict[str, str]]:
    """Level and kind labels in the active language, translated once per language."""
    language = get_language() or ""
    labels = _LABELS.get(language)
    if labels is None:
        labels = (
            {level: str(SHORT_LEVEL_LABELS[level]) for level in SiteLevel},
            {kind.value: str(kind.label) for kind in SiteKind},
        )
        _LABELS[language] = labels
    return labels


def _summary_fields(site: Site) -> dict[str, Any]:
    """The public fields every view of a site shares."""
    levels, kinds = _labels()
    return {
        "id": site.pk,
        "name": site.name,
        "level": site.level,
        "level_label": levels.get(site.level, str(site.level)),
        "kind": site.kind,
        "kind_label": kinds.get(site.kind, site.kind),
        "parent_id": site.parent_id,
        "address": site.address,
        "latitude": site.latitude,
        "longitude": site.longitude,
        "opening_hours": site.opening_hours,
    }


def site_out(site: Site) -> SiteOut:
    return SiteOut(**_summary_fields(site), contact_phone=mask_phone(site.contact_phone))


# --- Operations -----------------------------------------------------------------------------------

router = Router()

SITES_TAG = gettext_lazy("阵地")


@router.get(
    "/sites",
    auth=None,
    **documented(
        gettext_lazy("列出阵地"),
        gettext_lazy("启用中的阵地，按树的顺序排列；可按层级、上级阵地和关键词（名称或地址）筛选。联系电话已打码。"),
        tag=SITES_TAG,
        success={200: SitePage},
        errors={422: ("invalid",)},
    ),
)
def list_sites(
    request: HttpRequest,
    level: LevelFilter = None,
    parent: Annotated[Id | None, params.Query(None, description=lazy_str(gettext_lazy("上级阵地编号")))] = None,
    q: Annotated[
        SafeText | None, params.Query(None, max_length=100, description=lazy_str(gettext_lazy("名称或地址中的文字")))
    ] = None,
    page: PageNumber = 1,
    page_size: PageSize = 20,
) -> SitePage:
    sites = Site.objects.filter(is_active=True)
    if level is not None:
        sites = sites.filter(level=level)
    if parent is not None:
        sites = sites.filter(parent_id=parent)
    if q:
        sites = sites.filter(Q(name__icontains=q) | Q(address__icontains=q))
    count = sites.count()
    start = (page - 1) * page_size
    fields = ("id", "name", "level", "kind", "parent_id", "address", "latitude", "longitude", "opening_hours")
    page_rows = sites.only(*fields, "contact_phone").order_by("path")[start : start + page_size]
    rows = list(page_rows) if start < count else []
    return SitePage(count=count, page=page, page_size=page_size, results=[site_out(s) for s in rows])


# Registered before /sites/{site_id}, so that "nearby" is never read as an id.
@router.get(
    "/sites/nearby",
    auth=None,
    **documented(
        gettext_lazy("附近的阵地"),
        gettext_lazy("离所给位置在半径内的启用阵地，由近到远，最多50个。半径1到50000米，默认1000米（步行约15分钟）。"),
        tag=SITES_TAG,
        success={200: NearbyOut},
        errors={422: ("invalid",)},
    ),
)
def nearby_sites(
    request: HttpRequest,
    lat: Latitude,
    lng: Longitude,
    radius_m: Distance = FIFTEEN_MINUTE_WALK_M,
    level: LevelFilter = None,
) -> NearbyOut:
    found = selectors.nearby_sites(lat, lng, radius_m, levels=[level] if level is not None else None)
    results = [NearbySiteOut(**_summary_fields(n.site), distance_m=n.distance_m) for n in found]
    return NearbyOut(count=len(results), results=results)


@router.get(
    "/sites/{site_id}",
    auth=OPTIONAL,
    **documented(
        gettext_lazy("查看阵地"),
        gettext_lazy(
            "阵地的公开信息，及其品牌（含项目）和场地。负责该阵地的工作人员还能看到完整联系电话、联系人和负责人；"
            "其他人看到的联系电话已打码。"
        ),
        tag=SITES_TAG,
        success={200: SiteDetailOut},
        errors={401: ("invalid_token",), 404: ("not_found",), 422: ("invalid",)},
        optional_auth=True,
    ),
)
def get_site(request: HttpRequest, site_id: Id) -> SiteDetailOut:
    site = get_object_or_404(Site.objects.select_related("manager"), pk=site_id)
    user = current_user(request)
    if not policies.can_view_site(user, site):
        raise Http404
    private = policies.can_view_site_private(user, site)
    brands = Brand.objects.filter(site=site).prefetch_related(
        Prefetch("projects", queryset=Project.objects.order_by("id"))
    )
    venues = Venue.objects.filter(site=site, is_active=True).prefetch_related("photos").order_by("name")
    return SiteDetailOut(
        **_summary_fields(site),
        contact_phone=site.contact_phone if private else mask_phone(site.contact_phone),
        description=site.description,
        contact_name=site.contact_name if private else None,
        manager=PersonRef(id=site.manager.pk, name=site.manager.name) if private and site.manager else None,
        brands=[
            BrandOut(
                id=b.pk,
                name=b.name,
                theme=b.theme,
                description=b.description,
                projects=[
                    ProjectOut(id=p.pk, name=p.name, description=p.description, is_claimable=p.is_claimable)
                    for p in b.projects.all()
                ],
            )
            for b in brands
        ],
        venues=[
            VenueOut(
                id=v.pk,
                name=v.name,
                area_m2=float(v.area_m2),
                capacity=v.capacity,
                facilities=[str(f) for f in v.facilities or []],
                is_bookable=v.is_bookable,
                photos=[
                    PhotoOut(url=reverse("network:venue_photo", args=[p.pk]), caption=p.caption) for p in v.photos.all()
                ],
            )
            for v in venues
        ],
    )


@router.get(
    "/sites/{site_id}/coverage",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("15分钟服务圈覆盖情况"),
        gettext_lazy(
            "该阵地下每个实践站在给定距离内最近的实践点；没有的就是服务圈的空白。仅负责该阵地的工作人员可查看，"
            "对其他人与不存在的阵地一样回答 404。"
        ),
        tag=SITES_TAG,
        success={200: CoverageOut},
        errors={401: ("unauthorized", "invalid_token"), 404: ("not_found",), 422: ("invalid",)},
    ),
)
def site_coverage(request: HttpRequest, site_id: Id, distance_m: Distance = FIFTEEN_MINUTE_WALK_M) -> CoverageOut:
    user = signed_in(request)
    site = get_object_or_404(Site, pk=site_id)
    if not policies.can_view_coverage(user, site):
        raise Http404
    rows = selectors.coverage(site, distance_m)
    stations = [
        StationCoverageOut(
            id=row.station.pk,
            name=row.station.name,
            latitude=row.station.latitude,
            longitude=row.station.longitude,
            covered=row.covered,
            nearest_point=SiteRef(id=row.nearest_point.pk, name=row.nearest_point.name) if row.nearest_point else None,
            distance_m=row.nearest_distance_m,
        )
        for row in rows
    ]
    return CoverageOut(
        site=SiteRef(id=site.pk, name=site.name),
        distance_m=distance_m,
        total=len(stations),
        covered=sum(1 for s in stations if s.covered),
        stations=stations,
    )
