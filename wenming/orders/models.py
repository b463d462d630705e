"""Service orders (点单 → 派单 → 接单 → 评单) and civility reports (随手拍).

Both are an ``Order``: one id space, one history table and one set of
workflow moves, so the dispatch board, the requester's page and Open311
treat them alike. ``Order.kind`` says which; each kind has its own table of
allowed moves (``TRANSITIONS``). A move is a conditional UPDATE on the
status (the row count settles races, such as a hundred volunteers grabbing
one order) plus an ``OrderEvent`` row.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wenming.activities.models import Audience
from wenming.network.models import Site
from wenming.volunteers.models import ServiceRecord, Skill, Team, Volunteer


class OrderKind(models.TextChoices):
    SERVICE = "service", _("服务点单")
    REPORT = "report", _("随手拍")


class Datatype(models.TextChoices):
    """The Open311 attribute datatypes, which the extra questions use as they are."""

    STRING = "string", _("短文本")
    TEXT = "text", _("长文本")
    NUMBER = "number", _("数字")
    DATETIME = "datetime", _("日期时间")
    SINGLE = "singlevaluelist", _("单选")
    MULTI = "multivaluelist", _("多选")


class ServiceType(models.Model):
    """One entry of the service catalogue (服务菜单), or a civility-report category."""

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    kind = models.CharField(_("类别"), max_length=10, choices=OrderKind.choices, default=OrderKind.SERVICE)
    name = models.CharField(_("名称"), max_length=50, unique=True)
    description = models.TextField(_("说明"), blank=True)
    group = models.CharField(_("分组"), max_length=50, blank=True)
    keywords = models.JSONField(_("关键词"), default=list, blank=True)
    audience = models.CharField(_("服务对象"), max_length=20, choices=Audience.choices, default=Audience.ALL)
    skills = models.ManyToManyField(Skill, verbose_name=_("所需技能"), blank=True, related_name="service_types")
    teams = models.ManyToManyField(Team, verbose_name=_("服务队伍"), blank=True, related_name="service_types")
    accept_within_hours = models.PositiveSmallIntegerField(_("接单时限（小时）"), default=24)
    finish_within_days = models.PositiveSmallIntegerField(_("办结时限（天）"), default=3)
    needs_review = models.BooleanField(_("派单前需审核"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)
    # When the entry or its questions last changed (Open311's changeset follows it).
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("服务类型")
        verbose_name_plural = _("服务菜单")
        ordering = ["kind", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(accept_within_hours__gte=1), name="servicetype_accept_hours_positive"),
            models.CheckConstraint(condition=Q(finish_within_days__gte=1), name="servicetype_finish_days_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.updated_at = timezone.now()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "updated_at"}
        super().save(*args, **kwargs)


class Question(models.Model):
    """An extra question asked when ordering a type (an Open311 attribute)."""

    service_type = models.ForeignKey(ServiceType, on_delete=models.CASCADE, related_name="questions")
    code = models.SlugField(_("编码"), max_length=40)
    prompt = models.CharField(_("问题"), max_length=100)
    datatype = models.CharField(_("类型"), max_length=20, choices=Datatype.choices, default=Datatype.STRING)
    required = models.BooleanField(_("必答"), default=False)
    # [{"key": "1", "name": "一楼"}, …] for the list types.
    choices = models.JSONField(_("选项"), default=list, blank=True)
    help_text = models.CharField(_("填写说明"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("附加问题")
        verbose_name_plural = _("附加问题")
        ordering = ["service_type_id", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["service_type", "code"], name="question_code_unique_per_type")]

    def __str__(self) -> str:
        return self.prompt


class DispatchMode(models.TextChoices):
    MANUAL = "manual", _("站长派单")
    AUTO = "auto", _("自动派给首选志愿者")
    GRAB = "grab", _("志愿者抢单")


class DispatchRule(models.Model):
    """How a site's orders are dispatched; the nearest rule up the tree applies (else manual)."""

    site = models.OneToOneField(Site, verbose_name=_("阵地"), on_delete=models.CASCADE, related_name="dispatch_rule")
    mode = models.CharField(_("派单方式"), max_length=10, choices=DispatchMode.choices, default=DispatchMode.MANUAL)
    rate_within_days = models.PositiveSmallIntegerField(_("评价期限（天）"), default=7)

    class Meta:
        verbose_name = _("派单规则")
        verbose_name_plural = _("派单规则")
        constraints = [models.CheckConstraint(condition=Q(rate_within_days__gte=1), name="dispatchrule_rate_days")]

    def __str__(self) -> str:
        return f"{self.site} · {self.get_mode_display()}"


class OrderStatus(models.TextChoices):
    # Service orders.
    REVIEWING = "reviewing", _("待审核")
    PENDING = "pending", _("待派单")
    DISPATCHED = "dispatched", _("待接单")
    GRABBING = "grabbing", _("抢单中")
    ACCEPTED = "accepted", _("已接单")
    IN_SERVICE = "in_service", _("服务中")
    COMPLETED = "completed", _("待评价")
    COMPLAINT = "complaint", _("差评复核中")
    CLOSED = "closed", _("已办结")
    CANCELLED = "cancelled", _("已撤销")
    REJECTED = "rejected", _("未受理")
    # Civility reports.
    REPORTED = "reported", _("待处理")
    PERSUADED = "persuaded", _("已劝导")
    UNRECTIFIED = "unrectified", _("未整改待复查")
    RECTIFIED = "rectified", _("已整改")


FINAL_STATUSES = frozenset({OrderStatus.CLOSED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.RECTIFIED})
# A rating this low or lower opens a review by the station (差评复核).
LOW_RATING = 2
# Waiting for someone to take it: the accept deadline (and escalation) applies.
AWAITING_ACCEPT = frozenset({OrderStatus.PENDING, OrderStatus.DISPATCHED, OrderStatus.GRABBING})
# A volunteer holds it: counts toward their open load.
HELD = frozenset({OrderStatus.ACCEPTED, OrderStatus.IN_SERVICE})

# (kind, from, to) -> action. The only moves there are; services.move refuses any other.
TRANSITIONS: dict[tuple[str, str, str], str] = {
    (OrderKind.SERVICE, OrderStatus.REVIEWING, OrderStatus.PENDING): "approve",
    (OrderKind.SERVICE, OrderStatus.REVIEWING, OrderStatus.REJECTED): "reject",
    (OrderKind.SERVICE, OrderStatus.REVIEWING, OrderStatus.CANCELLED): "cancel",
    (OrderKind.SERVICE, OrderStatus.PENDING, OrderStatus.DISPATCHED): "dispatch",
    (OrderKind.SERVICE, OrderStatus.PENDING, OrderStatus.GRABBING): "open_grab",
    (OrderKind.SERVICE, OrderStatus.PENDING, OrderStatus.CANCELLED): "cancel",
    (OrderKind.SERVICE, OrderStatus.PENDING, OrderStatus.REJECTED): "reject",
    (OrderKind.SERVICE, OrderStatus.DISPATCHED, OrderStatus.ACCEPTED): "accept",
    (OrderKind.SERVICE, OrderStatus.DISPATCHED, OrderStatus.PENDING): "decline",
    (OrderKind.SERVICE, OrderStatus.DISPATCHED, OrderStatus.DISPATCHED): "redispatch",
    (OrderKind.SERVICE, OrderStatus.DISPATCHED, OrderStatus.GRABBING): "open_grab",
    (OrderKind.SERVICE, OrderStatus.DISPATCHED, OrderStatus.CANCELLED): "cancel",
    (OrderKind.SERVICE, OrderStatus.GRABBING, OrderStatus.ACCEPTED): "grab",
    (OrderKind.SERVICE, OrderStatus.GRABBING, OrderStatus.DISPATCHED): "dispatch",
    (OrderKind.SERVICE, OrderStatus.GRABBING, OrderStatus.CANCELLED): "cancel",
    (OrderKind.SERVICE, OrderStatus.ACCEPTED, OrderStatus.IN_SERVICE): "start",
    (OrderKind.SERVICE, OrderStatus.ACCEPTED, OrderStatus.DISPATCHED): "redispatch",
    (OrderKind.SERVICE, OrderStatus.ACCEPTED, OrderStatus.PENDING): "release",
    (OrderKind.SERVICE, OrderStatus.IN_SERVICE, OrderStatus.COMPLETED): "complete",
    (OrderKind.SERVICE, OrderStatus.COMPLETED, OrderStatus.CLOSED): "rate",
    (OrderKind.SERVICE, OrderStatus.COMPLETED, OrderStatus.COMPLAINT): "rate",
    (OrderKind.SERVICE, OrderStatus.COMPLAINT, OrderStatus.CLOSED): "review",
    (OrderKind.REPORT, OrderStatus.REPORTED, OrderStatus.PERSUADED): "persuade",
    (OrderKind.REPORT, OrderStatus.REPORTED, OrderStatus.RECTIFIED): "rectify",
    (OrderKind.REPORT, OrderStatus.REPORTED, OrderStatus.REJECTED): "reject",
    (OrderKind.REPORT, OrderStatus.PERSUADED, OrderStatus.RECTIFIED): "rectify",
    (OrderKind.REPORT, OrderStatus.PERSUADED, OrderStatus.UNRECTIFIED): "not_rectified",
    (OrderKind.REPORT, OrderStatus.UNRECTIFIED, OrderStatus.PERSUADED): "persuade",
    (OrderKind.REPORT, OrderStatus.UNRECTIFIED, OrderStatus.RECTIFIED): "rectify",
}


# What each action is called where people read the history (and in refusals: "不能派单").
ACTION_LABELS: dict[str, Any] = {
    "create": _("提交"),
    "approve": _("通过审核"),
    "reject": _("不予受理"),
    "cancel": _("撤销"),
    "dispatch": _("派单"),
    "redispatch": _("改派"),
    "open_grab": _("开放抢单"),
    "accept": _("接单"),
    "grab": _("抢单"),
    "decline": _("拒单"),
    "release": _("退回"),
    "start": _("开始服务"),
    "complete": _("完成服务"),
    "rate": _("评价"),
    "review": _("复核"),
    "persuade": _("记录劝导"),
    "rectify": _("确认整改"),
    "not_rectified": _("记录未整改"),
    "escalate": _("超时上报"),
    "retype": _("更改服务类型"),
}


def _statuses_of(kind: str) -> list[str]:
    found = {s for (k, f, t) in TRANSITIONS if k == kind for s in (f, t)}
    return sorted(str(s) for s in found)


SERVICE_STATUSES = _statuses_of(OrderKind.SERVICE)
REPORT_STATUSES = _statuses_of(OrderKind.REPORT)
# Where a new order starts (a service order that needs review starts at REVIEWING).
INITIAL_STATUS = {OrderKind.SERVICE: OrderStatus.PENDING, OrderKind.REPORT: OrderStatus.REPORTED}


class Channel(models.TextChoices):
    SELF = "self", _("居民点单")
    STAFF = "staff", _("工作人员代点单")
    OPEN311 = "open311", _("第三方接入")


def new_token() -> str:
    return secrets.token_urlsafe(12)


class Open311Client(models.Model):
    """A third-party app (a hotline bridge, a mini-program) that submits through Open311.

    Only the SHA-256 digest of its ``api_key`` is stored; the key is shown once, when issued.
    """

    name = models.CharField(_("名称"), max_length=100, unique=True)
    site = models.ForeignKey(
        Site,
        verbose_name=_("默认阵地"),
        on_delete=models.PROTECT,
        related_name="open311_clients",
        help_text=_("请求没有位置时，交给此阵地处理。"),
    )
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    key_hint = models.CharField(_("密钥尾号"), max_length=8, editable=False)
    contact = models.CharField(_("联系人"), max_length=100, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 接入方")
        verbose_name_plural = _("Open311 接入方")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    kind = models.CharField(_("类别"), max_length=10, choices=OrderKind.choices)
    service_type = models.ForeignKey(
        ServiceType, verbose_name=_("服务类型"), on_delete=models.PROTECT, related_name="orders"
    )
    site = models.ForeignKey(Site, verbose_name=_("责任阵地"), on_delete=models.PROTECT, related_name="orders")
    escalated_to = models.ForeignKey(
        Site, verbose_name=_("已上报至"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    escalations = models.PositiveSmallIntegerField(_("上报次数"), default=0)
    status = models.CharField(_("状态"), max_length=20, choices=OrderStatus.choices)
    revision = models.PositiveIntegerField(default=0)

    # Who asked, and how.
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("点单人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    channel = models.CharField(_("来源"), max_length=10, choices=Channel.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    client = models.ForeignKey(Open311Client, null=True, blank=True, on_delete=models.PROTECT, related_name="orders")
    token = models.CharField(max_length=20, unique=True, default=new_token, editable=False)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    contact_email = models.EmailField(_("电子邮箱"), blank=True)

    # What and where.
    description = models.TextField(_("需求描述"), max_length=2000)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    latitude = models.FloatField(_("纬度"), null=True, blank=True)
    longitude = models.FloatField(_("经度"), null=True, blank=True)
    preferred_at = models.DateTimeField(_("期望服务时间"), null=True, blank=True)
    answers = models.JSONField(_("附加信息"), default=dict, blank=True)
    # The classifier's suggestion, kept for staff to see why: {"type": id, "confidence": 0.8, "words": [...]}.
    classification = models.JSONField(default=dict, blank=True)

    # Dispatch and acceptance.
    assigned_volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("派给志愿者"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assigned_team = models.ForeignKey(
        Team, verbose_name=_("派给队伍"), null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    accepted_by = models.ForeignKey(
        Volunteer,
        verbose_name=_("接单志愿者"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accepted_orders",
    )
    accept_by = models.DateTimeField(_("接单期限"), null=True, blank=True)
    finish_by = models.DateTimeField(_("办结期限"), null=True, blank=True)

    # Completion and rating.
    beneficiaries = models.PositiveIntegerField(_("服务人数"), null=True, blank=True)
    completion_note = models.TextField(_("服务记录"), blank=True)
    rating = models.PositiveSmallIntegerField(_("评分"), null=True, blank=True)
    rating_comment = models.CharField(_("评价"), max_length=500, blank=True)
    review_note = models.CharField(_("复核意见"), max_length=500, blank=True)

    # Civility reports.
    follow_up_on = models.DateField(_("复查日期"), null=True, blank=True)

    # The latest note the requester should read (Open311 status_notes), and the timestamps.
    status_note = models.CharField(_("处理说明"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("点单时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("订单")
        verbose_name_plural = _("订单")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["site", "status"]),
            models.Index(fields=["status", "accept_by"]),
            models.Index(fields=["status", "completed_at"]),
            models.Index(fields=["requester", "created_at"]),
            models.Index(fields=["accepted_by", "status"]),
            models.Index(fields=["accepted_by", "accepted_at"]),
            models.Index(fields=["updated_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="order_rating_range"
            ),
            models.CheckConstraint(
                condition=~Q(assigned_volunteer__isnull=False, assigned_team__isnull=False),
                name="order_one_assignee",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["accepted", "in_service", "completed", "complaint"])
                | Q(accepted_by__isnull=False),
                name="order_held_has_volunteer",
            ),
            models.CheckConstraint(
                condition=~Q(status="dispatched")
                | Q(assigned_volunteer__isnull=False)
                | Q(assigned_team__isnull=False),
                name="order_dispatched_has_assignee",
            ),
            models.CheckConstraint(
                condition=Q(kind="service", status__in=SERVICE_STATUSES) | Q(kind="report", status__in=REPORT_STATUSES),
                name="order_status_fits_kind",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="order_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="order_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.service_type}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def responsible_site_id(self) -> int:
        return self.escalated_to_id or self.site_id


class OrderEvent(models.Model):
    """History: every move of an order, and every note on it (who, when, from, to, note)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="history")
    action = models.CharField(max_length=20)
    from_status = models.CharField(max_length=20, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=OrderStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    # Who acted when it was not a person: an Open311 client, or the clock.
    actor_label = models.CharField(max_length=100, blank=True)
    volunteer = models.ForeignKey(Volunteer, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("订单记录")
        verbose_name_plural = _("订单记录")
        ordering = ["order_id", "at", "id"]
        indexes = [models.Index(fields=["volunteer", "action", "at"])]

    def __str__(self) -> str:
        return f"{self.action}: {self.from_status} → {self.to_status}"


class OrderServer(models.Model):
    """A volunteer who served a completed order, with the ledger entry it wrote."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="servers")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="+")
    hours = models.DecimalField(max_digits=5, decimal_places=2)
    record = models.OneToOneField(ServiceRecord, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("服务志愿者")
        verbose_name_plural = _("服务志愿者")
        constraints = [
            models.UniqueConstraint(fields=["order", "volunteer"], name="order_server_once"),
            models.CheckConstraint(condition=Q(hours__gt=0, hours__lte=24), name="order_server_hours_range"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} · {self.volunteer_id} {self.hours}h"


class PhotoStage(models.TextChoices):
    REQUEST = "request", _("点单照片")
    COMPLETION = "completion", _("服务照片")
    FOLLOW_UP = "follow_up", _("整改照片")


class OrderPhoto(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="photos")
    stage = models.CharField(max_length=12, choices=PhotoStage.choices, default=PhotoStage.REQUEST)
    image = models.ImageField(_("照片"), upload_to="orders/%Y/%m/")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("订单照片")
        verbose_name_plural = _("订单照片")
        ordering = ["order_id", "id"]

    def __str__(self) -> str:
        return str(self.image.name)
