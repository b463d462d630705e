"""Messages and their delivery.

- ``Message``: an in-site message (站内消息), what the in-site notifier leaves
  for a person to read in Wenming itself.
- ``Delivery``: a keyed notification handed to the notifiers, once per
  (recipient, dedupe_key), whichever channels are configured; a retried task
  or a second reminder run finds it and sends nothing again.
- ``WeChatBinding``: a person's openid on the WeChat Official Account, for
  template messages.
- ``PeriodicJob``: the last slot each job of the clock (``wenming.core.schedule``)
  was enqueued for. It lives here because ``core`` has no models; it holds
  nothing but the clock's memory.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Message(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("收件人"), on_delete=models.CASCADE, related_name="messages"
    )
    kind = models.CharField(_("类别"), max_length=40)
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("内容"))
    link = models.CharField(_("链接"), max_length=200, blank=True)
    # Makes a repeated send (a retried task, a second reminder run) a no-op.
    dedupe_key = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at", "created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], condition=~models.Q(dedupe_key=""), name="message_dedupe"
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Delivery(models.Model):
    """A keyed notification that was handed to the notifiers for one recipient (at most once)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("收件人"), on_delete=models.CASCADE, related_name="+"
    )
    dedupe_key = models.CharField(max_length=100)
    kind = models.CharField(_("类别"), max_length=40)
    # The delivery run that claimed the row: after an INSERT that skips
    # existing rows, the rows carrying this run's batch are the ones it owns.
    batch = models.CharField(max_length=32)
    delivered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("通知发送记录")
        verbose_name_plural = _("通知发送记录")
        constraints = [
            models.UniqueConstraint(fields=["recipient", "dedupe_key"], name="delivery_once"),
            models.CheckConstraint(condition=~Q(dedupe_key=""), name="delivery_has_key"),
        ]

    def __str__(self) -> str:
        return self.dedupe_key


class WeChatBinding(models.Model):
    """A person's openid on the Official Account (公众号). Without one, no WeChat message is sent."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="wechat_binding"
    )
    openid = models.CharField(max_length=64, unique=True)
    bound_at = models.DateTimeField(_("绑定时间"), default=timezone.now)

    class Meta:
        verbose_name = _("微信绑定")
        verbose_name_plural = _("微信绑定")
        constraints = [models.CheckConstraint(condition=~Q(openid=""), name="wechat_openid_not_empty")]

    def __str__(self) -> str:
        return self.openid


class PeriodicJob(models.Model):
    """One job of the clock and the latest slot it was enqueued for."""

    name = models.CharField(max_length=100, unique=True)
    last_slot = models.DateTimeField(null=True, blank=True)
    last_enqueued_at = models.DateTimeField(null=True, blank=True)
    last_result_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("定时任务")
        verbose_name_plural = _("定时任务")

    def __str__(self) -> str:
        return self.name
