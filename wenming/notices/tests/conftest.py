"""Fixtures for notifications: a local HTTP server that plays WeChat's API, and sample activities and bookings."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

APP_ID = "wx-test-app"
APP_SECRET = "wx-test-secret"
TEMPLATE_ID = "tmpl-notice-001"


@dataclass
class FakeWeChat:
    """What the server was asked, and how it should answer."""

    base: str = ""
    token_requests: list[dict[str, list[str]]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    send_tokens: list[str] = field(default_factory=list)
    valid_tokens: set[str] = field(default_factory=set)
    refused_openids: set[str] = field(default_factory=set)
    http_error: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def expire_tokens(self) -> None:
        """WeChat invalidated every token it gave (as when another server fetched a new one)."""
        with self.lock:
            self.valid_tokens.clear()


def _handler(state: FakeWeChat) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self, body: dict[str, Any], status: int = 200) -> None:
            raw = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path != "/cgi-bin/token":
                self._answer({"errcode": 404, "errmsg": "not found"}, 404)
                return
            query = parse_qs(url.query)
            with state.lock:
                state.token_requests.append(query)
                good = (
                    query.get("grant_type") == ["client_credential"]
                    and query.get("appid") == [APP_ID]
                    and query.get("secret") == [APP_SECRET]
                )
                if not good:
                    self._answer({"errcode": 40013, "errmsg": "invalid appid"})
                    return
                token = f"token-{len(state.token_requests)}"
                state.valid_tokens.add(token)
            self._answer({"access_token": token, "expires_in": 7200})

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            if url.path != "/cgi-bin/message/template/send":
                self._answer({"errcode": 404, "errmsg": "not found"}, 404)
                return
            if state.http_error:
                self._answer({"errmsg": "server error"}, state.http_error)
                return
            if not self.headers.get("Content-Type", "").startswith("application/json"):
                self._answer({"errcode": 47001, "errmsg": "data format error"})
                return
            token = parse_qs(url.query).get("access_token", [""])[0]
            payload = json.loads(raw.decode("utf-8"))
            with state.lock:
                state.send_tokens.append(token)
                if token not in state.valid_tokens:
                    self._answer({"errcode": 42001, "errmsg": "access_token expired"})
                    return
                if payload.get("touser") in state.refused_openids:
                    self._answer({"errcode": 43004, "errmsg": "require subscribe"})
                    return
                state.sent.append(payload)
                msgid = len(state.sent)
            self._answer({"errcode": 0, "errmsg": "ok", "msgid": msgid})

    return Handler


@pytest.fixture
def wechat(settings: Any) -> Iterator[FakeWeChat]:
    """A WeChat API on 127.0.0.1, and the settings that point the WeChat notifier at it."""
    state = FakeWeChat()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    settings.WECHAT_API_BASE = state.base
    settings.WECHAT_APP_ID = APP_ID
    settings.WECHAT_APP_SECRET = APP_SECRET
    settings.WECHAT_TEMPLATE_ID = TEMPLATE_ID
    settings.WECHAT_TIMEOUT_SECONDS = 5
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- Sample rows ------------------------------------------------------------------------------------


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def make_activity(site: Any, creator: Any, starts_at: dt.datetime, **extra: Any) -> Any:
    from wenming.activities.models import Activity

    fields: dict[str, Any] = {
        "title": "社区书法讲座",
        "platform": "culture",
        "status": "published",
        "seats": 30,
        "ends_at": starts_at + dt.timedelta(hours=2),
        "checkin_opens_at": starts_at - dt.timedelta(minutes=30),
        "checkin_closes_at": starts_at + dt.timedelta(hours=2),
        "week_start": monday_of(starts_at.date()),
    }
    fields.update(extra)
    return Activity.objects.create(site=site, created_by=creator, starts_at=starts_at, **fields)


def make_signup(activity: Any, user: Any, *, status: str = "confirmed", code: str | None = None) -> Any:
    from wenming.activities.models import Signup

    code = code or f"{user.pk:04d}"
    return Signup.objects.create(
        activity=activity, user=user, kind="resident", status=status, code=code, created_by=user
    )


def make_venue(site: Any, name: str = "多功能活动室") -> Any:
    from wenming.network.models import Venue

    return Venue.objects.create(site=site, name=name, area_m2=Decimal("80.00"), capacity=40)


def make_booking(venue: Any, requester: Any, starts_at: dt.datetime, *, status: str = "approved", **extra: Any) -> Any:
    from wenming.bookings.models import Booking

    return Booking.objects.create(
        venue=venue,
        requester=requester,
        purpose=extra.pop("purpose", "合唱队排练"),
        attendees=12,
        starts_at=starts_at,
        ends_at=extra.pop("ends_at", starts_at + dt.timedelta(hours=2)),
        status=status,
        **extra,
    )
