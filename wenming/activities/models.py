"""Plans, activities, volunteer posts, sign-ups and attendance, recaps.

The rhythm is "年有计划、月有主题、周有活动": a site's yearly ``Plan`` has
``MonthlyTheme`` rows, and every ``Activity`` belongs to the plan of its year
and the week (Monday) it starts in.

Seats are counted in the database. ``Activity.confirmed_count`` and
``Activity.waitlist_count`` move only by conditional UPDATEs in
``services`` and check constraints keep them within ``seats`` and
``waitlist_limit``; ``Post.filled_count`` does the same for volunteer
posts. A person holds at most one live sign-up per activity (a partial
unique constraint), so a rush can neither oversell nor double-book anyone.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wenming.network.models import Brand, Project, Site, Venue


class Platform(models.TextChoices):
    """五大平台: the five service platforms an activity belongs to."""

    THEORY = "theory", _("理论宣讲")
    EDUCATION = "education", _("教育服务")
    CULTURE = "culture", _("文化服务")
    SCIENCE = "science", _("科技与科普服务")
    FITNESS = "fitness", _("健身体育服务")


class LectureFormat(models.TextChoices):
    """宣讲形式, for theory lectures."""

    HALL = "hall", _("讲堂")
    BENCH = "bench", _("板凳")
    CORRIDOR = "corridor", _("长廊")
    CORNER = "corner", _("墙角")
    ONLINE = "online", _("线上")
    FILM = "film", _("观影")


class Audience(models.TextChoices):
    ALL = "all", _("全体居民")
    ELDERLY = "elderly", _("老年人")
    CHILDREN = "children", _("少年儿童")
    FAMILIES = "families", _("亲子家庭")
    YOUTH = "youth", _("青年")
    WOMEN = "women", _("妇女")
    DISABLED = "disabled", _("残障人士")
    PARTY_MEMBERS = "party_members", _("党员")
    VOLUNTEERS = "volunteers", _("志愿者")


class Plan(models.Model):
    """A site's yearly plan (年度计划)."""

    site = models.ForeignKey(Site, verbose_name=_("阵地"), on_delete=models.PROTECT, related_name="plans")
    year = models.PositiveSmallIntegerField(_("年度"))
    title = models.CharField(_("标题"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("年度计划")
        verbose_name_plural = _("年度计划")
        ordering = ["site_id", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["site", "year"], name="plan_one_per_site_year"),
            models.CheckConstraint(condition=Q(year__gte=2000, year__lte=2100), name="plan_year_range"),
        ]

    def __str__(self) -> str:
        return self.title


class MonthlyTheme(models.Model):
    """月有主题: the theme of one month of a plan."""

    plan = models.ForeignKey(Plan, verbose_name=_("年度计划"), on_delete=models.CASCADE, related_name="themes")
    month = models.PositiveSmallIntegerField(_("月份"))
    theme = models.CharField(_("主题"), max_length=100)
    description = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("月度主题")
        verbose_name_plural = _("月度主题")
        ordering = ["plan_id", "month"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "month"], name="theme_one_per_month"),
            models.CheckConstraint(condition=Q(month__gte=1, month__lte=12), name="theme_month_range"),
        ]

    def __str__(self) -> str:
        return f"{self.month}月 · {self.theme}"


class PublishingRule(models.Model):
    """Whether a station may publish its activities without the sub-centre's approval."""

    site = models.OneToOneField(Site, verbose_name=_("阵地"), on_delete=models.CASCADE, related_name="publishing_rule")
    publish_directly = models.BooleanField(_("无需审核直接发布"), default=False)

    class Meta:
        verbose_name = _("发布规则")
        verbose_name_plural = _("发布规则")

    def __str__(self) -> str:
        return str(self.site)


class Series(models.Model):
    """A weekly recurring series; each date is an ``Activity`` of its own, changed or skipped one by one."""

    site = models.ForeignKey(Site, verbose_name=_("阵地"), on_delete=models.PROTECT, related_name="activity_series")
    title = models.CharField(_("标题"), max_length=100)
    weekday = models.PositiveSmallIntegerField(_("星期"))  # 0 Monday … 6 Sunday
    starts = models.TimeField(_("开始时间"))
    ends = models.TimeField(_("结束时间"))
    first_date = models.DateField(_("首次日期"))
    last_date = models.DateField(_("末次日期"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("系列活动")
        verbose_name_plural = _("系列活动")
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="series_weekday_range"),
            models.CheckConstraint(condition=Q(ends__gt=F("starts")), name="series_ends_after_start"),
            models.CheckConstraint(condition=Q(last_date__gte=F("first_date")), name="series_dates_ordered"),
        ]

    def __str__(self) -> str:
        return self.title


class ActivityStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("待审核")
    PUBLISHED = "published", _("已发布")
    COMPLETED = "completed", _("已结束")
    CANCELLED = "cancelled", _("已取消")


# The workflow as data: (from, to) → the service that makes the move.
TRANSITIONS: dict[tuple[str, str], str] = {
    (ActivityStatus.DRAFT, ActivityStatus.SUBMITTED): "submit",
    (ActivityStatus.DRAFT, ActivityStatus.PUBLISHED): "publish",
    (ActivityStatus.SUBMITTED, ActivityStatus.PUBLISHED): "approve",
    (ActivityStatus.SUBMITTED, ActivityStatus.DRAFT): "return",
    (ActivityStatus.DRAFT, ActivityStatus.CANCELLED): "cancel",
    (ActivityStatus.SUBMITTED, ActivityStatus.CANCELLED): "cancel",
    (ActivityStatus.PUBLISHED, ActivityStatus.CANCELLED): "cancel",
    (ActivityStatus.PUBLISHED, ActivityStatus.COMPLETED): "complete",
}

# Statuses in which an activity is public: listed, previewed, open to sign-up.
PUBLIC_STATUSES = (ActivityStatus.PUBLISHED, ActivityStatus.COMPLETED)


class Activity(models.Model):
    site = models.ForeignKey(Site, verbose_name=_("主办阵地"), on_delete=models.PROTECT, related_name="activities")
    venue = models.ForeignKey(
        Venue, verbose_name=_("场地"), null=True, blank=True, on_delete=models.PROTECT, related_name="activities"
    )
    location = models.CharField(_("地点说明"), max_length=200, blank=True)
    plan = models.ForeignKey(
        Plan, verbose_name=_("年度计划"), null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    week_start = models.DateField(_("所在周（周一）"))
    brand = models.ForeignKey(
        Brand, verbose_name=_("品牌板块"), null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    project = models.ForeignKey(
        Project, verbose_name=_("项目"), null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    series = models.ForeignKey(
        Series, verbose_name=_("系列"), null=True, blank=True, on_delete=models.SET_NULL, related_name="occurrences"
    )
    series_date = models.DateField(_("系列日期"), null=True, blank=True)
    title = models.CharField(_("标题"), max_length=100)
    description = models.TextField(_("内容介绍"), blank=True)
    platform = models.CharField(_("服务平台"), max_length=20, choices=Platform.choices)
    lecture_format = models.CharField(_("宣讲形式"), max_length=20, choices=LectureFormat.choices, blank=True)
    audience = models.CharField(_("面向对象"), max_length=20, choices=Audience.choices, default=Audience.ALL)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    seats = models.PositiveIntegerField(_("居民名额"), default=0)
    waitlist_limit = models.PositiveIntegerField(_("候补名额"), default=0)
    confirmed_count = models.PositiveIntegerField(_("已报名"), default=0, editable=False)
    waitlist_count = models.PositiveIntegerField(_("候补人数"), default=0, editable=False)
    signup_opens_at = models.DateTimeField(_("报名开始"), null=True, blank=True)
    signup_closes_at = models.DateTimeField(_("报名截止"), null=True, blank=True)
    cancel_deadline = models.DateTimeField(_("取消报名截止"), null=True, blank=True)
    checkin_opens_at = models.DateTimeField(_("签到开始"))
    checkin_closes_at = models.DateTimeField(_("签到截止"))
    status = models.CharField(_("状态"), max_length=20, choices=ActivityStatus.choices, default=ActivityStatus.DRAFT)
    cancel_reason = models.CharField(_("取消原因"), max_length=200, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    # Bumped by every edit and workflow move: the iCalendar SEQUENCE, and a guard against stale edits.
    revision = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("活动")
        verbose_name_plural = _("活动")
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["status", "starts_at"]),
            models.Index(fields=["site", "starts_at"]),
            models.Index(fields=["week_start", "status"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="activity_ends_after_start"),
            models.CheckConstraint(condition=Q(confirmed_count__lte=F("seats")), name="activity_seats_not_oversold"),
            models.CheckConstraint(
                condition=Q(waitlist_count__lte=F("waitlist_limit")), name="activity_waitlist_within_limit"
            ),
            models.CheckConstraint(
                condition=Q(checkin_closes_at__gt=F("checkin_opens_at")), name="activity_checkin_window_ordered"
            ),
            models.CheckConstraint(
                condition=Q(signup_opens_at__isnull=True)
                | Q(signup_closes_at__isnull=True)
                | Q(signup_closes_at__gt=F("signup_opens_at")),
                name="activity_signup_window_ordered",
            ),
            models.CheckConstraint(condition=Q(status__in=ActivityStatus.values), name="activity_status_known"),
            models.CheckConstraint(condition=Q(platform__in=Platform.values), name="activity_platform_known"),
            models.UniqueConstraint(
                fields=["series", "series_date"], condition=Q(series__isnull=False), name="activity_one_per_series_date"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES

    @property
    def seats_left(self) -> int:
        return max(0, self.seats - self.confirmed_count)

    def signup_window(self) -> tuple[dt.datetime | None, dt.datetime]:
        return self.signup_opens_at, self.signup_closes_at or self.starts_at

    def cancel_until(self) -> dt.datetime:
        return self.cancel_deadline or self.starts_at


class StatusChange(models.Model):
    """History: every move of an activity through its workflow."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=20, choices=ActivityStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ActivityStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("状态变更")
        verbose_name_plural = _("状态变更")
        ordering = ["activity_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class Post(models.Model):
    """岗位: a volunteer post at an activity, with its own headcount and scheduled time."""

    activity = models.ForeignKey(Activity, verbose_name=_("活动"), on_delete=models.CASCADE, related_name="posts")
    name = models.CharField(_("岗位"), max_length=50)
    description = models.CharField(_("岗位职责"), max_length=200, blank=True)
    headcount = models.PositiveIntegerField(_("人数"))
    filled_count = models.PositiveIntegerField(_("已报名"), default=0, editable=False)
    starts_at = models.DateTimeField(_("上岗时间"))
    ends_at = models.DateTimeField(_("下岗时间"))

    class Meta:
        verbose_name = _("志愿岗位")
        verbose_name_plural = _("志愿岗位")
        ordering = ["activity_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "name"], name="post_name_unique_per_activity"),
            models.CheckConstraint(condition=Q(headcount__gt=0), name="post_headcount_positive"),
            models.CheckConstraint(condition=Q(filled_count__lte=F("headcount")), name="post_not_overfilled"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="post_ends_after_start"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def scheduled_hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


class SignupKind(models.TextChoices):
    RESIDENT = "resident", _("居民")
    VOLUNTEER = "volunteer", _("志愿者")


class SignupStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("报名成功")
    WAITLISTED = "waitlisted", _("候补中")
    CANCELLED = "cancelled", _("已取消")


class Signup(models.Model):
    activity = models.ForeignKey(Activity, verbose_name=_("活动"), on_delete=models.PROTECT, related_name="signups")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("报名人"), on_delete=models.PROTECT, related_name="signups"
    )
    kind = models.CharField(_("类别"), max_length=20, choices=SignupKind.choices)
    post = models.ForeignKey(
        Post, verbose_name=_("岗位"), null=True, blank=True, on_delete=models.PROTECT, related_name="signups"
    )
    status = models.CharField(_("状态"), max_length=20, choices=SignupStatus.choices)
    code = models.CharField(_("签到码"), max_length=8)
    created_at = models.DateTimeField(_("报名时间"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    promoted_at = models.DateTimeField(_("候补转正时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    checked_out_at = models.DateTimeField(_("签退时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("报名")
        verbose_name_plural = _("报名")
        ordering = ["activity_id", "created_at", "id"]
        indexes = [
            models.Index(fields=["activity", "status", "created_at"]),
            models.Index(fields=["user", "created_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "user"], condition=~Q(status="cancelled"), name="signup_once_per_activity"
            ),
            models.UniqueConstraint(fields=["activity", "code"], name="signup_code_unique_per_activity"),
            models.CheckConstraint(
                condition=Q(kind="resident", post__isnull=True) | Q(kind="volunteer", post__isnull=False),
                name="signup_volunteers_hold_a_post",
            ),
            models.CheckConstraint(
                condition=Q(kind="resident") | ~Q(status="waitlisted"), name="signup_only_residents_wait"
            ),
            models.CheckConstraint(
                condition=Q(checked_out_at__isnull=True)
                | Q(checked_in_at__isnull=False, checked_out_at__gte=F("checked_in_at")),
                name="signup_checkout_after_checkin",
            ),
            models.CheckConstraint(condition=Q(status__in=SignupStatus.values), name="signup_status_known"),
        ]

    def __str__(self) -> str:
        return f"{self.activity} · {self.user}"


class CorrectionStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("未通过")


class HoursCorrection(models.Model):
    """A volunteer asks for their hours at an activity to be corrected; the station manager decides."""

    signup = models.ForeignKey(Signup, verbose_name=_("报名"), on_delete=models.PROTECT, related_name="corrections")
    requested_hours = models.DecimalField(_("申请时长"), max_digits=5, decimal_places=2)
    reason = models.CharField(_("理由"), max_length=200)
    status = models.CharField(
        _("状态"), max_length=20, choices=CorrectionStatus.choices, default=CorrectionStatus.PENDING
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("审核意见"), max_length=200, blank=True)
    ledger_entry = models.ForeignKey(
        "volunteers.ServiceRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("时长更正申请")
        verbose_name_plural = _("时长更正申请")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["signup"], condition=Q(status="pending"), name="correction_one_pending_per_signup"
            ),
            models.CheckConstraint(
                condition=Q(requested_hours__gte=0, requested_hours__lte=24), name="correction_hours_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.signup} {self.requested_hours}h"


class ActivityPhoto(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("照片"), upload_to="activities/%Y/%m/")
    caption = models.CharField(_("说明"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("活动照片")
        verbose_name_plural = _("活动照片")
        ordering = ["activity_id", "position", "id"]

    def __str__(self) -> str:
        return self.caption or str(self.image.name)


class Recap(models.Model):
    """活动回顾: published by staff after the activity; a site's news list is its recaps."""

    activity = models.OneToOneField(Activity, verbose_name=_("活动"), on_delete=models.PROTECT, related_name="recap")
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("正文"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(_("发布时间"), default=timezone.now)

    class Meta:
        verbose_name = _("活动回顾")
        verbose_name_plural = _("活动回顾")
        ordering = ["-published_at"]
        indexes = [models.Index(fields=["published_at"])]

    def __str__(self) -> str:
        return self.title


class RecapPhoto(models.Model):
    recap = models.ForeignKey(Recap, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("照片"), upload_to="recaps/%Y/%m/")
    caption = models.CharField(_("说明"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("回顾照片")
        verbose_name_plural = _("回顾照片")
        ordering = ["recap_id", "position", "id"]

    def __str__(self) -> str:
        return self.caption or str(self.image.name)


class WeeklyPreview(models.Model):
    """每周活动预告: the week's poster of a site and its subtree, made each week by a background task."""

    site = models.ForeignKey(Site, verbose_name=_("阵地"), on_delete=models.CASCADE, related_name="weekly_previews")
    week_start = models.DateField(_("周一日期"))
    activity_count = models.PositiveIntegerField(_("活动场次"), default=0)
    poster = models.FileField(_("海报"), upload_to="previews/%Y/", blank=True)
    generated_at = models.DateTimeField(_("生成时间"), default=timezone.now)

    class Meta:
        verbose_name = _("每周活动预告")
        verbose_name_plural = _("每周活动预告")
        ordering = ["-week_start", "site_id"]
        constraints = [models.UniqueConstraint(fields=["site", "week_start"], name="preview_one_per_site_week")]

    def __str__(self) -> str:
        return f"{self.site} {self.week_start}"
