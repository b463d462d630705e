"""Which address rate limits and the audit log count."""

from __future__ import annotations

from typing import Any

from django.test import RequestFactory

from wenming.accounts.audit import client_ip


def _request(peer: str, forwarded: str | None = None) -> Any:
    request = RequestFactory().get("/", REMOTE_ADDR=peer)
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return request


def test_without_trusted_proxies_the_peer_counts_and_headers_are_ignored(settings: Any) -> None:
    settings.TRUSTED_PROXIES = []
    assert client_ip(_request("198.51.100.7", "203.0.113.9")) == "198.51.100.7"


def test_behind_a_trusted_proxy_the_forwarded_client_counts(settings: Any) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    assert client_ip(_request("10.0.0.5", "203.0.113.9")) == "203.0.113.9"
    # A client cannot choose its address by sending its own header: the
    # right-most untrusted entry is the one the proxy saw.
    assert client_ip(_request("10.0.0.5", "1.2.3.4, 203.0.113.9")) == "203.0.113.9"
    assert client_ip(_request("10.0.0.5", "203.0.113.9, 10.0.0.5")) == "203.0.113.9"
    # Garbage in the header falls back to the proxy, never to the garbage.
    assert client_ip(_request("10.0.0.5", "not-an-ip")) == "10.0.0.5"
    # Someone else sending the header is not believed.
    assert client_ip(_request("198.51.100.7", "203.0.113.9")) == "198.51.100.7"
