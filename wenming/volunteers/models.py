"""Volunteers, their teams and skills, and the service-hours ledger."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wenming.network.models import Site
from wenming.units.models import Organization


class Skill(models.Model):
    name = models.CharField(_("技能"), max_length=50, unique=True)
    category = models.CharField(_("类别"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("技能")
        verbose_name_plural = _("技能目录")
        ordering = ["category", "name"]

    def __str__(self) -> str:
        return self.name


class PoliticalStatus(models.TextChoices):
    PARTY_MEMBER = "party_member", _("中共党员")
    PROBATIONARY = "probationary", _("中共预备党员")
    LEAGUE_MEMBER = "league_member", _("共青团员")
    MASSES = "masses", _("群众")
    OTHER = "other", _("其他")


WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAY_PARTS = ["morning", "afternoon", "evening"]


class Volunteer(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="volunteer")
    site = models.ForeignKey(Site, verbose_name=_("注册阵地"), on_delete=models.PROTECT, related_name="volunteers")
    skills = models.ManyToManyField(Skill, verbose_name=_("技能"), blank=True, related_name="volunteers")
    # {"mon": ["morning", "evening"], "sat": ["afternoon"]}
    availability = models.JSONField(_("可服务时间"), default=dict, blank=True)
    political_status = models.CharField(
        _("政治面貌"), max_length=20, choices=PoliticalStatus.choices, default=PoliticalStatus.MASSES
    )
    work_unit = models.ForeignKey(
        Organization, verbose_name=_("工作单位"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    work_unit_name = models.CharField(_("工作单位（其他）"), max_length=100, blank=True)
    joined_at = models.DateField(_("注册日期"), default=timezone.localdate)
    is_active = models.BooleanField(_("在册"), default=True)

    class Meta:
        verbose_name = _("志愿者")
        verbose_name_plural = _("志愿者")
        indexes = [models.Index(fields=["site", "is_active"])]

    def __str__(self) -> str:
        return self.user.name

    @property
    def is_party_member(self) -> bool:
        return self.political_status in {PoliticalStatus.PARTY_MEMBER, PoliticalStatus.PROBATIONARY}


class Team(models.Model):
    site = models.ForeignKey(Site, verbose_name=_("所属阵地"), on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(_("队名"), max_length=100)
    description = models.TextField(_("简介"), blank=True)
    members = models.ManyToManyField(Volunteer, through="TeamMembership", related_name="teams")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("志愿服务队")
        verbose_name_plural = _("志愿服务队")
        ordering = ["site_id", "name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="team_name_unique_per_site")]

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="memberships")
    is_leader = models.BooleanField(_("队长"), default=False)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("队员")
        verbose_name_plural = _("队员")
        constraints = [models.UniqueConstraint(fields=["team", "volunteer"], name="team_membership_unique")]

    def __str__(self) -> str:
        return f"{self.team} · {self.volunteer}"


class ServiceSource(models.TextChoices):
    ACTIVITY = "activity", _("活动签退")
    ORDER = "order", _("服务订单")
    MANUAL = "manual", _("人工登记")
    CORRECTION = "correction", _("更正")
    IMPORT = "import", _("历史导入")


class ServiceRecord(models.Model):
    """One line of the hours ledger (服务时长台账). Append-only.

    The database refuses UPDATE and DELETE on this table; a correction is a
    new entry with ``corrects`` pointing at the entry it offsets, and hours
    that may be negative. A volunteer's total is the sum of their entries.
    """

    volunteer = models.ForeignKey(Volunteer, verbose_name=_("志愿者"), on_delete=models.PROTECT, related_name="records")
    description = models.CharField(_("服务内容"), max_length=200)
    site = models.ForeignKey(Site, verbose_name=_("服务地点"), on_delete=models.PROTECT, related_name="service_records")
    started_at = models.DateTimeField(_("开始时间"))
    ended_at = models.DateTimeField(_("结束时间"))
    hours = models.DecimalField(_("时长（小时）"), max_digits=6, decimal_places=2)
    source = models.CharField(_("来源"), max_length=20, choices=ServiceSource.choices)
    source_ref = models.CharField(_("来源编号"), max_length=50, blank=True)
    organiser_site = models.ForeignKey(
        Site, verbose_name=_("组织阵地"), on_delete=models.PROTECT, related_name="organised_records"
    )
    organiser_unit = models.ForeignKey(
        Organization, verbose_name=_("组织单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorder = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("更正的记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)
    recorded_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("服务时长记录")
        verbose_name_plural = _("服务时长台账")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["volunteer", "started_at"]),
            models.Index(fields=["site", "started_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ended_at__gte=models.F("started_at")), name="record_ends_after_start"),
            models.CheckConstraint(
                condition=Q(hours__gt=0, hours__lte=24) | Q(source="correction", hours__gte=-24, hours__lte=24),
                name="record_hours_range",
            ),
            models.CheckConstraint(
                condition=Q(source="correction", corrects__isnull=False)
                | (~Q(source="correction") & Q(corrects__isnull=True)),
                name="record_correction_points_back",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} {self.started_at:%Y-%m-%d} {self.hours}h"
