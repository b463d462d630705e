"""The adapters on their own: SMS through the pluggable backend, WeChat against a local server playing its API."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core.cache import cache

from conftest import People
from wenming.notices.models import WeChatBinding
from wenming.notices.notifier import (
    SMS_MAX_CHARS,
    Outgoing,
    SmsNotifier,
    WeChatError,
    WeChatTemplateNotifier,
    sms_text,
)
from wenming.notices.tests.conftest import APP_ID, TEMPLATE_ID, FakeWeChat

pytestmark = pytest.mark.django_db


def _note(user: Any, **extra: Any) -> Outgoing:
    fields: dict[str, Any] = {
        "kind": "activity_reminder",
        "title": "活动提醒：社区书法讲座",
        "body": "您报名的活动将于12月3日（周三）14:30开始。",
        "link": "/activities/12/",
    }
    fields.update(extra)
    return Outgoing(recipient=user, **fields)


# --- SMS ----------------------------------------------------------------------------------------------


def test_sms_goes_to_the_users_phone(people: People, sms_outbox: list) -> None:
    SmsNotifier().send(_note(people.resident_a))
    assert sms_outbox == [("13800000006", "活动提醒：社区书法讲座：您报名的活动将于12月3日（周三）14:30开始。")]


def test_sms_text_is_one_segment(people: People, sms_outbox: list) -> None:
    SmsNotifier().send_many([_note(people.resident_a, body="很长的内容" * 40), _note(people.resident_b)])
    assert [phone for phone, _text in sms_outbox] == ["13800000006", "13800000007"]
    long_text = sms_outbox[0][1]
    assert len(long_text) == SMS_MAX_CHARS
    assert long_text.endswith("…")
    assert sms_text(_note(people.resident_a, body="第一行\n\n第二行")) == "活动提醒：社区书法讲座：第一行 第二行"


# --- WeChat -----------------------------------------------------------------------------------------------


@pytest.fixture
def bound(people: People) -> People:
    WeChatBinding.objects.create(user=people.resident_a, openid="o-wang-ayi")
    WeChatBinding.objects.create(user=people.volunteer_a, openid="o-xiao-chen")
    return people


def test_wechat_sends_a_template_message(bound: People, wechat: FakeWeChat, settings: Any) -> None:
    settings.SITE_URL = "https://wenming.example.org/"
    WeChatTemplateNotifier().send(_note(bound.resident_a, dedupe_key="activity-reminder:5"))
    assert len(wechat.token_requests) == 1
    token_query = wechat.token_requests[0]
    assert token_query["grant_type"] == ["client_credential"]
    assert token_query["appid"] == [APP_ID]
    [payload] = wechat.sent
    assert payload["touser"] == "o-wang-ayi"
    assert payload["template_id"] == TEMPLATE_ID
    assert payload["url"] == "https://wenming.example.org/activities/12/"
    assert payload["data"]["first"] == {"value": "活动提醒：社区书法讲座"}
    assert payload["data"]["keyword1"] == {"value": "您报名的活动将于12月3日（周三）14:30开始。"}
    assert set(payload["data"]["keyword2"]) == {"value"}
    assert len(payload["client_msg_id"]) == 32


def test_wechat_token_is_cached_across_messages_and_notifiers(bound: People, wechat: FakeWeChat) -> None:
    WeChatTemplateNotifier().send_many([_note(bound.resident_a), _note(bound.volunteer_a)])
    WeChatTemplateNotifier().send(_note(bound.resident_a))
    assert len(wechat.token_requests) == 1
    assert wechat.send_tokens == ["token-1"] * 3
    assert [p["touser"] for p in wechat.sent] == ["o-wang-ayi", "o-xiao-chen", "o-wang-ayi"]


def test_an_expired_token_is_fetched_again_once(bound: People, wechat: FakeWeChat) -> None:
    notifier = WeChatTemplateNotifier()
    notifier.send(_note(bound.resident_a))
    wechat.expire_tokens()
    notifier.send(_note(bound.resident_a))
    assert len(wechat.token_requests) == 2
    assert wechat.send_tokens == ["token-1", "token-1", "token-2"]
    assert len(wechat.sent) == 2


def test_people_without_a_binding_are_skipped(bound: People, wechat: FakeWeChat) -> None:
    notifier = WeChatTemplateNotifier()
    notifier.send(_note(bound.resident_b))
    notifier.send_many([_note(bound.resident_b), _note(bound.manager_a)])
    assert wechat.sent == []
    assert wechat.token_requests == []  # not even a token is fetched


def test_bindings_are_read_in_one_query(bound: People, wechat: FakeWeChat, django_assert_num_queries: Any) -> None:
    notes = [_note(p) for p in (bound.resident_a, bound.volunteer_a, bound.resident_b, bound.manager_a)]
    with django_assert_num_queries(1):
        WeChatTemplateNotifier().send_many(notes)
    assert len(wechat.sent) == 2


def test_a_follower_who_left_is_not_an_error(
    bound: People, wechat: FakeWeChat, caplog: pytest.LogCaptureFixture
) -> None:
    wechat.refused_openids.add("o-wang-ayi")
    with caplog.at_level(logging.INFO, logger="wenming.notices"):
        WeChatTemplateNotifier().send(_note(bound.resident_a))
    assert wechat.sent == []
    assert "does not take template messages (43004)" in caplog.text


def test_wechat_errors_are_raised_for_the_caller_to_log(bound: People, wechat: FakeWeChat, settings: Any) -> None:
    wechat.http_error = 500
    with pytest.raises(WeChatError, match="HTTP 500"):
        WeChatTemplateNotifier().send(_note(bound.resident_a))
    wechat.http_error = None
    cache.clear()  # no token kept from before
    settings.WECHAT_APP_SECRET = "wrong"
    with pytest.raises(WeChatError, match="40013"):
        WeChatTemplateNotifier().send(_note(bound.resident_a))


def test_an_unreachable_wechat_is_an_error(bound: People, wechat: FakeWeChat, settings: Any) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    settings.WECHAT_API_BASE = f"http://127.0.0.1:{closed_port}"
    with pytest.raises(WeChatError, match="unreachable"):
        WeChatTemplateNotifier().send(_note(bound.resident_a))


def test_a_template_per_kind(bound: People, wechat: FakeWeChat, settings: Any) -> None:
    settings.WECHAT_TEMPLATES = {"booking_reminder": "tmpl-booking"}
    settings.WECHAT_TEMPLATE_DATA = {"thing1": "title", "time2": "time"}
    notifier = WeChatTemplateNotifier()
    notifier.send(_note(bound.resident_a, kind="booking_reminder", link=""))
    notifier.send(_note(bound.resident_a))
    assert [p["template_id"] for p in wechat.sent] == ["tmpl-booking", TEMPLATE_ID]
    assert set(wechat.sent[0]["data"]) == {"thing1", "time2"}
    assert "url" not in wechat.sent[0]


# --- Binding --------------------------------------------------------------------------------------------


def test_binding_wechat(people: People) -> None:
    from django.contrib.auth.models import AnonymousUser

    from wenming.core.errors import Conflict, Invalid, NotAllowed
    from wenming.notices.services import bind_wechat, unbind_wechat

    binding = bind_wechat(actor=people.resident_a, openid=" oABC_123-x ")
    assert (binding.user, binding.openid) == (people.resident_a, "oABC_123-x")
    assert bind_wechat(actor=people.resident_a, openid="oNEW").openid == "oNEW"  # a new one replaces the old
    assert WeChatBinding.objects.filter(user=people.resident_a).count() == 1
    with pytest.raises(Conflict) as taken:
        bind_wechat(actor=people.resident_b, openid="oNEW")
    assert taken.value.code == "openid_taken"
    for bad in ("", "o" * 65, "o\x00", "带中文"):
        with pytest.raises(Invalid):
            bind_wechat(actor=people.resident_b, openid=bad)
    with pytest.raises(NotAllowed):
        bind_wechat(actor=AnonymousUser(), openid="oX")
    assert unbind_wechat(actor=people.resident_a) is True
    assert unbind_wechat(actor=people.resident_a) is False
    assert not WeChatBinding.objects.exists()
