from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class NoticesConfig(AppConfig):
    name = "wenming.notices"
    verbose_name = _("消息通知")

    def ready(self) -> None:
        checks.register(check_notifiers, checks.Tags.compatibility)


def check_notifiers(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """NOTIFIERS names real adapters, and WeChat is configured when it is one of them."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    from wenming.notices.notifier import Notifier, WeChatTemplateNotifier, notifier_paths

    problems: list[checks.CheckMessage] = []
    for path in notifier_paths():
        try:
            cls = import_string(path)
        except ImportError:
            problems.append(checks.Error(f"NOTIFIERS: cannot import {path}", id="notices.E001"))
            continue
        if not (isinstance(cls, type) and issubclass(cls, Notifier)):
            problems.append(checks.Error(f"NOTIFIERS: {path} is not a Notifier", id="notices.E002"))
        elif issubclass(cls, WeChatTemplateNotifier):
            missing = [name for name in ("WECHAT_APP_ID", "WECHAT_APP_SECRET") if not getattr(settings, name, "")]
            if not getattr(settings, "WECHAT_TEMPLATE_ID", "") and not getattr(settings, "WECHAT_TEMPLATES", {}):
                missing.append("WECHAT_TEMPLATE_ID")
            if missing:
                problems.append(
                    checks.Error(f"NOTIFIERS includes WeChat but {', '.join(missing)} not set", id="notices.E003")
                )
    return problems
