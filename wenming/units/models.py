"""Partner units (共建单位 / 区域单位) and their liaisons."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wenming.network.models import Site


class OrganizationKind(models.TextChoices):
    COMPANY = "company", _("企业")
    HOSPITAL = "hospital", _("医院")
    SCHOOL = "school", _("学校")
    PARTY_ORG = "party_org", _("党组织")
    GOVERNMENT = "government", _("机关事业单位")
    BANK = "bank", _("金融机构")
    SOCIAL_ORG = "social_org", _("社会组织")
    OTHER = "other", _("其他")


class Organization(models.Model):
    site = models.ForeignKey(Site, verbose_name=_("所在阵地"), on_delete=models.PROTECT, related_name="organizations")
    name = models.CharField(_("单位名称"), max_length=100)
    kind = models.CharField(_("单位类型"), max_length=20, choices=OrganizationKind.choices)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    is_council_member = models.BooleanField(_("区域化党建联席会议成员单位"), default=False)
    joined_at = models.DateField(_("共建起始日期"), null=True, blank=True)
    description = models.TextField(_("简介"), blank=True)

    class Meta:
        verbose_name = _("共建单位")
        verbose_name_plural = _("共建单位")
        ordering = ["site_id", "name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="organization_name_unique_per_site")]

    def __str__(self) -> str:
        return self.name


class Liaison(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="liaisons")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="liaison_for")
    title = models.CharField(_("职务"), max_length=50, blank=True)
    since = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("单位联络员")
        verbose_name_plural = _("单位联络员")
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="liaison_unique")]

    def __str__(self) -> str:
        return f"{self.organization.name} · {self.user.name}"
