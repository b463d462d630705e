"""Writing the audit log. Every sensitive action calls ``record``."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest

from wenming.accounts.models import AuditLog, User
from wenming.network.models import Site


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address, for rate limits and the audit log.

    ``REMOTE_ADDR`` is the socket peer. Behind a reverse proxy that is the
    proxy, so when the peer is one of ``settings.TRUSTED_PROXIES`` the
    address comes from ``X-Forwarded-For``: the right-most entry that is not
    itself a trusted proxy (entries further left are whatever the client
    chose to send). From anyone else the header is ignored.
    """
    if request is None:
        return None
    peer = request.META.get("REMOTE_ADDR") or None
    trusted = set(settings.TRUSTED_PROXIES)
    if peer is None or peer not in trusted:
        return peer
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    for candidate in reversed(forwarded):
        try:
            address = str(ipaddress.ip_address(candidate))
        except ValueError:
            return peer
        if address not in trusted:
            return address
    return peer


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
