"""Template context shared by every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _


def _set_language_url() -> str:
    """The language switcher posts here; empty until ``django.conf.urls.i18n`` is routed."""
    try:
        return reverse("set_language")
    except NoReverseMatch:
        return ""


def wenming(request: HttpRequest) -> dict[str, Any]:
    def viewer_is_staff() -> bool:
        # Called by the template only when a page asks, so public pages that
        # never show the staff menu pay no query for it.
        from wenming.accounts import policies

        user = getattr(request, "user", None)
        return user is not None and policies.is_staff_anywhere(user)

    return {
        "product_name": _("文明实践"),
        "set_language_url": _set_language_url(),
        "viewer_is_staff": viewer_is_staff,
    }
