"""Writing the audit log. Every sensitive action calls ``record``."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import HttpRequest

from wenming.accounts.models import AuditLog, User
from wenming.network.models import Site


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    # REMOTE_ADDR only: the reverse proxy sets it from the real peer
    # (see README); trusting X-Forwarded-For here would let anyone pick the
    # address their rate limit is counted against.
    return request.META.get("REMOTE_ADDR") or None


def record(
    action: str,
    *,
    actor: User | None,
    target: models.Model | None = None,
    site: Site | None = None,
    request: HttpRequest | None = None,
    **detail: Any,
) -> AuditLog:
    return AuditLog.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        site=site,
        ip=client_ip(request),
        detail=detail,
    )
