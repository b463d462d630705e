"""The practice network: one tree of sites, their venues, brands and projects.

The tree is stored with a materialised path (``path``: the ids of the
ancestors and the site itself, zero-padded and dot-separated), so "this site
and everything under it" is one indexed prefix scan on any database.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

PATH_STEP = 10  # digits per level in Site.path


class SiteLevel(models.IntegerChoices):
    CENTRE = 1, _("新时代文明实践中心")
    SUBCENTRE = 2, _("新时代文明实践分中心")
    STATION = 3, _("新时代文明实践站")
    POINT = 4, _("新时代文明实践点")

    @property
    def short_label(self) -> str:
        return str(SHORT_LEVEL_LABELS[self])


SHORT_LEVEL_LABELS = {
    SiteLevel.CENTRE: _("中心"),
    SiteLevel.SUBCENTRE: _("分中心"),
    SiteLevel.STATION: _("实践站"),
    SiteLevel.POINT: _("实践点"),
}


class SiteKind(models.TextChoices):
    DISTRICT = "district", _("区级中心")
    STREET = "street", _("街道分中心")
    AREA = "area", _("片区站（市民驿站等）")
    PARTY_MASS = "party_mass", _("党群服务中心")
    RESIDENTIAL = "residential", _("居民区站")
    BUILDING = "building", _("楼宇点")
    PARK = "park", _("公园点")
    COMPANY = "company", _("企业点")
    SCHOOL = "school", _("学校点")
    OTHER = "other", _("其他")


class SiteQuerySet(models.QuerySet["Site"]):
    def subtree(self, site: Site) -> SiteQuerySet:
        return self.filter(path__startswith=site.path)

    def within_any(self, roots: list[Site]) -> SiteQuerySet:
        if not roots:
            return self.none()
        cond = Q()
        for root in roots:
            cond |= Q(path__startswith=root.path)
        return self.filter(cond)


class Site(models.Model):
    level = models.PositiveSmallIntegerField(_("层级"), choices=SiteLevel.choices)
    kind = models.CharField(_("类型"), max_length=20, choices=SiteKind.choices, default=SiteKind.OTHER)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级阵地"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, unique=True, editable=False)
    name = models.CharField(_("名称"), max_length=100)
    code = models.CharField(_("编码"), max_length=40, unique=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    latitude = models.FloatField(_("纬度"), null=True, blank=True)
    longitude = models.FloatField(_("经度"), null=True, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    opening_hours = models.CharField(_("开放时间"), max_length=200, blank=True)
    description = models.TextField(_("简介"), blank=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_sites",
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SiteQuerySet.as_manager()

    class Meta:
        verbose_name = _("阵地")
        verbose_name_plural = _("阵地")
        ordering = ["path"]
        indexes = [
            models.Index(fields=["level", "path"]),
            models.Index(fields=["latitude", "longitude"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=4), name="site_level_range"),
            models.CheckConstraint(
                condition=Q(level=1, parent__isnull=True) | Q(level__gt=1, parent__isnull=False),
                name="site_root_is_centre",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="site_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="site_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def level_label(self) -> str:
        return str(SHORT_LEVEL_LABELS[SiteLevel(self.level)])

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to the parent."""
        parts = [p for p in self.path.split(".") if p]
        return [int(p) for p in parts[:-1]]

    def is_within(self, other: Site) -> bool:
        """True when self is other or lies in other's subtree."""
        return self.path.startswith(other.path)

    def descendants(self) -> SiteQuerySet:
        return Site.objects.subtree(self)

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None


class Venue(models.Model):
    site = models.ForeignKey(Site, verbose_name=_("所属阵地"), on_delete=models.PROTECT, related_name="venues")
    name = models.CharField(_("名称"), max_length=100)
    area_m2 = models.DecimalField(_("面积（平方米）"), max_digits=9, decimal_places=2)
    capacity = models.PositiveIntegerField(_("容纳人数"))
    facilities = models.JSONField(_("设施"), default=list, blank=True)
    description = models.TextField(_("简介"), blank=True)
    is_bookable = models.BooleanField(_("开放预约"), default=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("场地")
        verbose_name_plural = _("场地")
        ordering = ["site_id", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(area_m2__gt=0), name="venue_area_positive"),
            models.CheckConstraint(condition=Q(capacity__gt=0), name="venue_capacity_positive"),
            models.UniqueConstraint(fields=["site", "name"], name="venue_name_unique_per_site"),
        ]

    def __str__(self) -> str:
        return f"{self.site.name} · {self.name}"


class VenuePhoto(models.Model):
    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("照片"), upload_to="venues/%Y/%m/")
    caption = models.CharField(_("说明"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("场地照片")
        verbose_name_plural = _("场地照片")
        ordering = ["venue_id", "position", "id"]

    def __str__(self) -> str:
        return self.caption or str(self.image.name)


class Brand(models.Model):
    site = models.ForeignKey(Site, verbose_name=_("所属阵地"), on_delete=models.PROTECT, related_name="brands")
    name = models.CharField(_("名称"), max_length=50)
    theme = models.CharField(_("主题"), max_length=100, blank=True)
    description = models.TextField(_("简介"), blank=True)

    class Meta:
        verbose_name = _("品牌板块")
        verbose_name_plural = _("品牌板块")
        ordering = ["site_id", "id"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="brand_name_unique_per_site")]

    def __str__(self) -> str:
        return self.name


class Project(models.Model):
    brand = models.ForeignKey(Brand, verbose_name=_("所属品牌"), on_delete=models.PROTECT, related_name="projects")
    name = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("简介"), blank=True)
    is_claimable = models.BooleanField(_("可认领"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("项目")
        verbose_name_plural = _("项目")
        ordering = ["brand_id", "id"]
        constraints = [models.UniqueConstraint(fields=["brand", "name"], name="project_name_unique_per_brand")]

    def __str__(self) -> str:
        return self.name
