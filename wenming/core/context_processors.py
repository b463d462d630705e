from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _


def wenming(request: HttpRequest) -> dict[str, Any]:
    return {"product_name": _("文明实践")}
