"""POST /api/auth/token, POST /api/auth/sms-code, GET /api/me, and how the API recognises callers.

A caller is recognised by a bearer token or by the session of a signed-in
page (whose unsafe requests must then carry the CSRF token). A token that
is sent but not valid is refused, never taken for "anonymous".
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from wenming.accounts import services
from wenming.accounts.models import ApiToken, AuditLog

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")
PASSWORD = "correct-horse-battery"


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert CJK.search(body["message"]), body
    return body


def post(client: Client, url: str, data: Any, **extra: Any) -> Any:
    return client.post(url, data, content_type="application/json", **extra)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- POST /api/auth/token -------------------------------------------------------------------------


def test_password_gives_a_token_that_signs_in(client: Client, people: Any) -> None:
    response = post(client, "/api/auth/token", {"phone": "138 0000 0006", "password": PASSWORD}, REMOTE_ADDR="10.1.1.1")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["user"] == {"id": people.resident_a.pk, "name": "王阿姨"}
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert dt.timedelta(days=29) < expires - timezone.now() <= dt.timedelta(days=30)
    stored = ApiToken.objects.get(user=people.resident_a)
    assert body["token"] not in stored.digest  # only the digest is kept
    assert AuditLog.objects.filter(action="token_issued", actor=people.resident_a, ip="10.1.1.1").exists()
    me = client.get("/api/me", headers=bearer(body["token"]))
    assert me.status_code == 200
    assert me.json()["id"] == people.resident_a.pk


def test_wrong_password_and_unknown_phone_are_the_same_401(client: Client, people: Any) -> None:
    wrong = assert_error(
        post(client, "/api/auth/token", {"phone": "13800000006", "password": "nope"}), 401, "bad_credentials"
    )
    unknown = assert_error(
        post(client, "/api/auth/token", {"phone": "13999999999", "password": "nope"}), 401, "bad_credentials"
    )
    assert wrong == unknown
    assert not ApiToken.objects.exists()


def test_repeated_failures_lock_out_with_429(client: Client, people: Any, settings: Any) -> None:
    settings.LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        assert_error(
            post(client, "/api/auth/token", {"phone": "13800000006", "password": "nope"}), 401, "bad_credentials"
        )
    body = assert_error(
        post(client, "/api/auth/token", {"phone": "13800000006", "password": PASSWORD}), 429, "locked_out"
    )
    assert "暂停登录" in body["message"]
    assert not ApiToken.objects.exists()


def test_token_needs_exactly_one_secret(client: Client, people: Any) -> None:
    for payload in ({"phone": "13800000006"}, {"phone": "13800000006", "password": PASSWORD, "sms_code": "123456"}):
        body = assert_error(post(client, "/api/auth/token", payload), 422, "invalid")
        assert body["errors"] == [{"field": None, "message": "请提供密码或短信验证码，二者选一。"}]


@pytest.mark.parametrize(
    ("payload", "status", "code", "field"),
    [
        ({"phone": "12345", "password": "x"}, 400, "invalid_phone", "phone"),
        ({"phone": "abc", "password": "x"}, 400, "invalid_phone", "phone"),
        ({"phone": 13800000006, "password": "x"}, 422, "invalid", "phone"),
        ({"phone": None, "password": "x"}, 422, "invalid", "phone"),
        ({"phone": ["13800000006"], "password": "x"}, 422, "invalid", "phone"),
        ({"phone": "13800000006", "password": ""}, 422, "invalid", "password"),
        ({"phone": "13800000006", "password": "x" * 10_000}, 422, "invalid", "password"),
        ({"phone": "13800000006", "sms_code": "1\u00002345"}, 422, "invalid", "sms_code"),
        ({"phone": "13800000006", "sms_code": {"$ne": 1}}, 422, "invalid", "sms_code"),
    ],
)
def test_token_garbage_is_a_4xx(
    client: Client, people: Any, payload: dict[str, Any], status: int, code: str, field: str
) -> None:
    body = assert_error(post(client, "/api/auth/token", payload), status, code)
    assert body.get("field") == field or field in {e["field"] for e in body.get("errors", [])}
    assert not AuditLog.objects.filter(action="login_failed").exists()


# --- SMS codes ------------------------------------------------------------------------------------


def _code(outbox: list[tuple[str, str]]) -> str:
    match = re.search(r"(\d{6})", outbox[-1][1])
    assert match
    return match.group(1)


def test_sms_code_signs_in_once(
    client: Client, people: Any, sms_outbox: list[tuple[str, str]], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, "/api/auth/sms-code", {"phone": "13800000006"})
    assert response.status_code == 202
    assert response.json() == {"expires_in": 300}
    assert sms_outbox[-1][0] == "13800000006"
    code = _code(sms_outbox)
    token = post(client, "/api/auth/token", {"phone": "13800000006", "sms_code": code})
    assert token.status_code == 200
    assert token.json()["user"]["name"] == "王阿姨"
    again = post(client, "/api/auth/token", {"phone": "13800000006", "sms_code": code})
    assert_error(again, 401, "bad_code")


def test_sms_code_answers_alike_for_unknown_numbers(
    client: Client, db: None, sms_outbox: list[tuple[str, str]], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, "/api/auth/sms-code", {"phone": "13999999999"})
    assert response.status_code == 202
    assert response.json() == {"expires_in": 300}
    assert sms_outbox == []


def test_sms_code_rate_limits_are_429(client: Client, people: Any, settings: Any) -> None:
    assert post(client, "/api/auth/sms-code", {"phone": "13800000006"}).status_code == 202
    body = assert_error(post(client, "/api/auth/sms-code", {"phone": "13800000006"}), 429, "rate_limited")
    assert "秒后再试" in body["message"]
    settings.SMS_CODE_MIN_INTERVAL_SECONDS = 0
    settings.SMS_CODE_MAX_PER_IP_HOUR = 2
    assert post(client, "/api/auth/sms-code", {"phone": "13800000007"}).status_code == 202
    assert_error(post(client, "/api/auth/sms-code", {"phone": "13800000002"}), 429, "rate_limited")


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"phone": "1380000"}, 400, "invalid_phone"),
        ({"phone": "1" * 10_000}, 422, "invalid"),
        ({"phone": "\u0000"}, 422, "invalid"),
        ({}, 422, "invalid"),
        ({"phone": "13800000006", "extra": 1}, 422, "invalid"),
    ],
)
def test_sms_code_garbage_is_a_4xx(client: Client, db: None, payload: dict[str, Any], status: int, code: str) -> None:
    assert_error(post(client, "/api/auth/sms-code", payload), status, code)


# --- Recognising the caller -----------------------------------------------------------------------


def test_anonymous_me_is_401(client: Client, db: None) -> None:
    response = client.get("/api/me")
    assert_error(response, 401, "unauthorized")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer ", "Bearer nonsense", "Bearer " + "x" * 5000, "Bearer a\u00e9b", "bearer  spaced  out"],
)
def test_invalid_tokens_are_401(client: Client, people: Any, header: str) -> None:
    assert_error(client.get("/api/me", headers={"Authorization": header}), 401, "invalid_token")


def test_other_schemes_are_not_bearer(client: Client, people: Any) -> None:
    assert_error(client.get("/api/me", headers={"Authorization": "Basic YTpi"}), 401, "unauthorized")


def test_expired_tokens_and_inactive_users_are_refused(client: Client, people: Any) -> None:
    raw, token = services.issue_api_token(user=people.resident_a)
    assert client.get("/api/me", headers=bearer(raw)).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert_error(client.get("/api/me", headers=bearer(raw)), 401, "invalid_token")
    raw, _ = services.issue_api_token(user=people.resident_b)
    people.resident_b.is_active = False
    people.resident_b.save()
    assert_error(client.get("/api/me", headers=bearer(raw)), 401, "invalid_token")


def test_me_lists_roles_with_their_sites(client: Client, people: Any, street: Any) -> None:
    raw, _ = services.issue_api_token(user=people.manager_a)
    body = client.get("/api/me", headers=bearer(raw)).json()
    assert body == {
        "id": people.manager_a.pk,
        "name": "张站长",
        "phone": "138****0002",
        "home_site": {"id": street.station_a.pk, "name": "甲居民区实践站"},
        "is_staff": True,
        "roles": [
            {
                "role": "station_manager",
                "role_label": "站长",
                "site": {"id": street.station_a.pk, "name": "甲居民区实践站"},
            }
        ],
    }
    raw, _ = services.issue_api_token(user=people.admin)
    admin = client.get("/api/me", headers=bearer(raw)).json()
    assert admin["roles"] == [{"role": "platform_admin", "role_label": "平台管理员", "site": None}]
    assert admin["home_site"] is None
    raw, _ = services.issue_api_token(user=people.volunteer_a)
    assert client.get("/api/me", headers=bearer(raw)).json()["is_staff"] is False


def test_session_of_a_signed_in_page_is_accepted(client: Client, people: Any) -> None:
    client.force_login(people.manager_a)
    assert client.get("/api/me").json()["name"] == "张站长"


def test_session_writes_need_the_csrf_token(people: Any, street: Any) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(people.manager_a)
    payload = {"phone": "13911112222", "name": "陈阿婆", "site_id": street.station_a.pk}
    assert_error(post(browser, "/api/users", payload), 403, "csrf_failed")
    # A page reads the token from its cookie and sends it back in a header.
    secret = "k" * 32  # the shape of a CSRF secret: 32 letters or digits
    browser.cookies["csrftoken"] = secret
    response = post(browser, "/api/users", payload, headers={"X-CSRFToken": secret})
    assert response.status_code == 201, response.content
    # A bearer token needs no CSRF token: it is not sent by the browser on its own.
    raw, _ = services.issue_api_token(user=people.manager_a)
    other = {"phone": "13911113333", "name": "陈阿公", "site_id": street.station_a.pk}
    assert (
        Client(enforce_csrf_checks=True)
        .post("/api/users", other, content_type="application/json", headers=bearer(raw))
        .status_code
        == 201
    )


def test_anonymous_session_does_not_trip_csrf(db: None) -> None:
    browser = Client(enforce_csrf_checks=True)
    assert_error(post(browser, "/api/users", {"phone": "13911112222"}), 401, "unauthorized")
