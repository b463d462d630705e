"""Residents register themselves with a phone, an SMS code and their station."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from wenming.accounts import services
from wenming.accounts.models import AuditLog, Profile, Role, RoleGrant, User
from wenming.core.errors import Conflict, Invalid, NotAllowed

pytestmark = pytest.mark.django_db


@pytest.fixture
def send(django_capture_on_commit_callbacks: Any) -> Any:
    def run(phone: str, purpose: str = "register") -> None:
        with django_capture_on_commit_callbacks(execute=True):
            services.request_sms_code(phone=phone, purpose=purpose)

    return run


def _code(outbox: list[tuple[str, str]]) -> str:
    match = re.search(r"(\d{6})", outbox[-1][1])
    assert match
    return match.group(1)


def test_a_new_resident_registers(street: Any, sms_outbox: Any, send: Any) -> None:
    send("13911112222")
    assert "注册验证码" in sms_outbox[-1][1]
    user = services.register_self(phone="13911112222", code=_code(sms_outbox), name="陈阿婆", site=street.station_a)
    assert user.home_site == street.station_a
    assert Profile.objects.filter(user=user).exists()
    assert RoleGrant.objects.filter(user=user, role=Role.RESIDENT, site=street.station_a).exists()
    assert AuditLog.objects.filter(action="user_registered", actor=user).exists()


def test_wrong_code_refused_and_counted(street: Any, sms_outbox: Any, send: Any) -> None:
    send("13911112222")
    right = _code(sms_outbox)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    with pytest.raises(NotAllowed):
        services.register_self(phone="13911112222", code=wrong, name="陈阿婆", site=street.station_a)
    assert not User.objects.filter(phone="13911112222").exists()
    assert AuditLog.objects.filter(action="login_failed").count() == 1
    # The failed guess used one of the code's attempts, and stays used.
    from wenming.accounts.models import SmsCode

    assert SmsCode.objects.get(phone="13911112222").attempts == 1


def test_registered_number_is_told_and_cannot_register_again(people: Any, sms_outbox: Any, send: Any) -> None:
    send(people.resident_a.phone)
    assert "已注册" in sms_outbox[-1][1]
    with pytest.raises(Conflict):
        services.register_self(
            phone=people.resident_a.phone, code=_code(sms_outbox), name="某", site=people.resident_a.home_site
        )
    # That code still signs the owner in.
    assert services.login_with_sms_code(phone=people.resident_a.phone, code=_code(sms_outbox)) == people.resident_a


def test_only_a_station_or_point(street: Any, sms_outbox: Any, send: Any) -> None:
    send("13911112222")
    with pytest.raises(Invalid):
        services.register_self(phone="13911112222", code=_code(sms_outbox), name="某", site=street.subcentre)


def test_the_page_walks_a_resident_through(
    client: Client, street: Any, sms_outbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    url = reverse("accounts:signup") + f"?site={street.station_a.pk}"
    page = client.get(url).content.decode()
    assert "甲居民区实践站" in page
    assert "丙居民区实践站" not in page  # another district's stations are not offered
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"phone": "13911112222", "action": "send_code"})
    assert response.status_code == 200
    code = _code(sms_outbox)
    response = client.post(
        url, {"phone": "13911112222", "code": code, "name": "陈阿婆", "site": street.station_a.pk, "action": "register"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("network:site_detail", args=[street.station_a.pk])
    assert int(client.session["_auth_user_id"]) == User.objects.get(phone="13911112222").pk


@pytest.mark.parametrize(
    "data",
    [
        {"phone": "1391111", "action": "send_code"},
        {"phone": "13911112222", "code": "", "name": "", "site": "", "action": "register"},
        {"phone": "13911112222", "code": "123456", "name": "陈阿婆", "site": "999999", "action": "register"},
        {"phone": "13911112222", "code": "12\x0056", "name": "<b>", "site": "abc", "action": "register"},
    ],
)
def test_bad_input_is_answered_in_chinese(client: Client, street: Any, data: dict[str, str]) -> None:
    response = client.post(reverse("accounts:signup") + "?site=abc", data)
    assert response.status_code == 200
    assert "wm-errorlist" in response.content.decode() or "wm-error" in response.content.decode()
    assert not User.objects.filter(phone="13911112222").exists()


def test_the_api_registers_and_returns_a_token(
    client: Client, street: Any, sms_outbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(
            "/api/auth/sms-code", {"phone": "13911112222", "purpose": "register"}, content_type="application/json"
        )
    assert sent.status_code == 202
    body = {"phone": "13911112222", "sms_code": _code(sms_outbox), "name": "陈阿婆", "site_id": street.station_a.pk}
    response = client.post("/api/auth/register", body, content_type="application/json")
    assert response.status_code == 201, response.content
    token = response.json()["token"]
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["name"] == "陈阿婆"
    again = client.post("/api/auth/register", body, content_type="application/json")
    assert again.status_code == 409
    assert again.json()["code"] == "phone_taken"
    wrong_site = {**body, "phone": "13911113333", "site_id": 999999}
    assert client.post("/api/auth/register", wrong_site, content_type="application/json").status_code == 404
