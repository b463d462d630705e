"""notify(): queued when the caller's transaction commits, through every notifier, once per dedupe key."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction

from conftest import People
from wenming.notices.models import Delivery, Message, WeChatBinding
from wenming.notices.services import deliver, notify
from wenming.notices.tests.conftest import TEMPLATE_ID, FakeWeChat

IN_SITE = "wenming.notices.notifier.InSiteNotifier"
SMS = "wenming.notices.notifier.SmsNotifier"
WECHAT = "wenming.notices.notifier.WeChatTemplateNotifier"


def _notify(recipients: list[Any], **extra: Any) -> None:
    fields: dict[str, Any] = {
        "kind": "test",
        "title": "活动变更",
        "body": "活动改到下午三点。",
        "link": "/activities/1/",
    }
    fields.update(extra)
    notify(recipients=recipients, **fields)


# --- On commit, not on rollback ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_nothing_is_sent_before_the_transaction_commits(people: People, sms_outbox: list, settings: Any) -> None:
    settings.NOTIFIERS = [IN_SITE, SMS]
    with transaction.atomic():
        _notify([people.resident_a])
        assert not Message.objects.exists()
        assert sms_outbox == []
    message = Message.objects.get()
    assert (message.recipient, message.title, message.link) == (people.resident_a, "活动变更", "/activities/1/")
    assert sms_outbox == [(people.resident_a.phone, "活动变更：活动改到下午三点。")]


def _notify_then_fail(user: Any, title: str = "活动变更") -> None:
    with transaction.atomic():
        _notify([user], title=title)
        raise RuntimeError("the sign-up failed")


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_sends_nothing(people: People, sms_outbox: list, settings: Any) -> None:
    settings.NOTIFIERS = [IN_SITE, SMS]
    with pytest.raises(RuntimeError):
        _notify_then_fail(people.resident_a)
    assert not Message.objects.exists()
    assert sms_outbox == []
    # A savepoint rolled back inside a committed transaction takes its notification with it.
    with transaction.atomic():
        _notify([people.resident_b], title="保留")
        with pytest.raises(RuntimeError):
            _notify_then_fail(people.resident_a, title="撤销")
    assert list(Message.objects.values_list("recipient__name", "title")) == [("刘大爷", "保留")]


def test_users_or_ids_are_queued_as_ids(people: People, settings: Any, django_capture_on_commit_callbacks: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _notify([people.resident_a, people.resident_b.pk, people.resident_a], dedupe_key="k1")
    assert len(callbacks) == 1
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "wenming.notices.tasks.deliver"
    kwargs = queued.args_kwargs["kwargs"]
    assert kwargs["recipient_ids"] == [people.resident_a.pk, people.resident_b.pk]  # ids, once each
    assert kwargs["dedupe_key"] == "k1"
    assert not Message.objects.exists()  # queued, not yet delivered


@pytest.mark.django_db(transaction=True)
def test_the_database_queue_delivers_through_a_worker(people: People, settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    _notify([people.resident_a, people.volunteer_a])
    assert not Message.objects.exists()
    call_command("db_worker", batch=True, verbosity=0)
    assert sorted(Message.objects.values_list("recipient__name", flat=True)) == ["小陈", "王阿姨"]


def test_no_recipients_queue_nothing(db: None, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        _notify([])
    assert callbacks == []


def test_bad_arguments_are_refused_at_the_call(people: People) -> None:
    with pytest.raises(TypeError):
        _notify(["13800000006"])
    with pytest.raises(ValueError, match="kind"):
        _notify([people.resident_a], kind="")
    with pytest.raises(ValueError, match="dedupe_key"):
        _notify([people.resident_a], dedupe_key="k" * 101)
    with pytest.raises(ValueError, match="link"):
        _notify([people.resident_a], link="/" + "a" * 200)


def test_a_long_title_is_cut_to_fit(people: People, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _notify([people.resident_a], title="活动提醒：" + "长" * 120)
    title = Message.objects.get().title
    assert len(title) == 100
    assert title.endswith("…")


# --- Dedupe -----------------------------------------------------------------------------------------------


def test_a_dedupe_key_sends_once_on_every_channel(
    people: People, sms_outbox: list, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.NOTIFIERS = [IN_SITE, SMS]
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            _notify([people.resident_a, people.resident_b], dedupe_key="activity-changed:7")
    assert Message.objects.count() == 2
    assert len(sms_outbox) == 2
    assert Delivery.objects.filter(dedupe_key="activity-changed:7").count() == 2
    # A newcomer under the same key still gets it; the others do not hear twice.
    with django_capture_on_commit_callbacks(execute=True):
        _notify([people.resident_a, people.volunteer_a], dedupe_key="activity-changed:7")
    assert Message.objects.count() == 3
    assert [phone for phone, _text in sms_outbox].count(people.resident_a.phone) == 1
    # Without a key, every call is a new notification.
    with django_capture_on_commit_callbacks(execute=True):
        _notify([people.resident_a])
        _notify([people.resident_a])
    assert Message.objects.filter(recipient=people.resident_a, dedupe_key="").count() == 2


def test_the_in_site_message_alone_is_idempotent_too(people: People) -> None:
    from wenming.notices.notifier import InSiteNotifier, Outgoing

    note = Outgoing(recipient=people.resident_a, kind="test", title="一", body="二", dedupe_key="same")
    InSiteNotifier().send(note)
    InSiteNotifier().send_many([note, note])
    assert Message.objects.filter(recipient=people.resident_a).count() == 1


def test_inactive_users_get_nothing(people: People) -> None:
    people.resident_b.is_active = False
    people.resident_b.save()
    sent = deliver(recipient_ids=[people.resident_a.pk, people.resident_b.pk, 999_999], kind="t", title="t", body="b")
    assert sent == 1
    assert list(Message.objects.values_list("recipient", flat=True)) == [people.resident_a.pk]


# --- A failing adapter does not stop the others ------------------------------------------------------------


def test_a_failing_adapter_is_logged_and_the_others_still_send(
    people: People, sms_outbox: list, settings: Any, wechat: FakeWeChat, caplog: pytest.LogCaptureFixture
) -> None:
    WeChatBinding.objects.create(user=people.resident_a, openid="openid-wang")
    wechat.http_error = 502  # WeChat is down
    settings.NOTIFIERS = [WECHAT, SMS, IN_SITE]
    with caplog.at_level(logging.ERROR, logger="wenming.notices"):
        sent = deliver(recipient_ids=[people.resident_a.pk], kind="test", title="通知", body="内容")
    assert sent == 1
    assert sms_outbox == [(people.resident_a.phone, "通知：内容")]
    assert Message.objects.filter(recipient=people.resident_a).count() == 1
    assert "WeChat template message failed" in caplog.text
    assert "HTTP 502" in caplog.text
    assert "access_token" not in caplog.text  # the token is in the URL, which is never logged


def test_an_adapter_that_cannot_start_does_not_stop_the_others(
    people: People, sms_outbox: list, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.WECHAT_API_BASE = "file:///etc"  # refused when the adapter starts
    settings.SMS_BACKEND = "wenming.accounts.sms.NoSuchBackend"  # every send fails
    settings.NOTIFIERS = [WECHAT, SMS, "wenming.notices.models.Message", IN_SITE]
    with caplog.at_level(logging.ERROR, logger="wenming.notices"):
        deliver(recipient_ids=[people.resident_a.pk], kind="test", title="通知", body="内容")
    assert Message.objects.filter(recipient=people.resident_a).count() == 1
    assert sms_outbox == []
    assert f"notifier {WECHAT} failed" in caplog.text
    assert "SmsNotifier failed" in caplog.text
    assert "is not a Notifier" in caplog.text


def test_all_three_channels_together(
    people: People, sms_outbox: list, settings: Any, wechat: FakeWeChat, django_capture_on_commit_callbacks: Any
) -> None:
    WeChatBinding.objects.create(user=people.resident_a, openid="openid-wang")
    settings.NOTIFIERS = [IN_SITE, SMS, WECHAT]
    with django_capture_on_commit_callbacks(execute=True):
        _notify([people.resident_a, people.resident_b], dedupe_key="all-three")
    assert Message.objects.count() == 2
    assert len(sms_outbox) == 2
    assert [p["touser"] for p in wechat.sent] == ["openid-wang"]  # 刘大爷 has no binding
    assert wechat.sent[0]["template_id"] == TEMPLATE_ID


def test_muted_sends_nothing_and_unmutes_after(people: People, django_capture_on_commit_callbacks: Any) -> None:
    from wenming.notices.services import muted

    with django_capture_on_commit_callbacks(execute=True) as callbacks, muted():
        notify(recipients=[people.resident_a], kind="demo", title="演示", body="不应发送")
    assert callbacks == []
    assert not Message.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipients=[people.resident_a], kind="demo", title="演示", body="应当发送")
    assert Message.objects.filter(recipient=people.resident_a).count() == 1
