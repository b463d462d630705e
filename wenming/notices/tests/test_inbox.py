"""The inbox page and the messages API: one's own messages, unread first; nobody sees anyone else's."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import People
from wenming.accounts.services import issue_api_token
from wenming.core.errors import NotAllowed, NotFound
from wenming.notices import services
from wenming.notices.models import Message

pytestmark = pytest.mark.django_db


def _message(user: Any, title: str, *, minutes_ago: int = 0, read: bool = False, link: str = "") -> Message:
    created = timezone.now() - dt.timedelta(minutes=minutes_ago)
    return Message.objects.create(
        recipient=user,
        kind="test",
        title=title,
        body=f"{title}的内容",
        link=link,
        created_at=created,
        read_at=created + dt.timedelta(minutes=1) if read else None,
    )


@pytest.fixture
def inbox(people: People) -> dict[str, Message]:
    """王阿姨 has two unread and two read messages; 刘大爷 has one of his own."""
    return {
        "old_read": _message(people.resident_a, "旧的已读", minutes_ago=300, read=True),
        "old_unread": _message(people.resident_a, "旧的未读", minutes_ago=200, link="/activities/3/"),
        "new_read": _message(people.resident_a, "新的已读", minutes_ago=10, read=True),
        "new_unread": _message(people.resident_a, "新的未读", minutes_ago=5),
        "his": _message(people.resident_b, "刘大爷的消息", minutes_ago=1),
    }


def _bearer(user: Any) -> dict[str, str]:
    raw, _token = issue_api_token(user=user)
    return {"Authorization": f"Bearer {raw}"}


# --- Services -------------------------------------------------------------------------------------


def test_mark_read_is_for_the_recipient_only(people: People, inbox: dict[str, Message]) -> None:
    message = services.mark_read(actor=people.resident_a, message=inbox["new_unread"])
    assert message.read_at is not None
    first = message.read_at
    assert services.mark_read(actor=people.resident_a, message=inbox["new_unread"]).read_at == first  # unchanged
    for stranger in (people.resident_b, people.admin, people.manager_a):
        with pytest.raises(NotFound):
            services.mark_read(actor=stranger, message=inbox["old_unread"])
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(NotAllowed):
        services.mark_all_read(actor=AnonymousUser())
    assert Message.objects.get(pk=inbox["old_unread"].pk).read_at is None


def test_mark_all_read_touches_only_ones_own(people: People, inbox: dict[str, Message]) -> None:
    assert services.mark_all_read(actor=people.resident_a) == 2  # the two unread
    assert not Message.objects.filter(recipient=people.resident_a, read_at__isnull=True).exists()
    assert Message.objects.get(pk=inbox["his"].pk).read_at is None
    assert services.mark_all_read(actor=people.resident_a) == 0


# --- The page ---------------------------------------------------------------------------------------


def test_the_inbox_needs_signing_in(client: Client) -> None:
    response = client.get(reverse("notices:inbox"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_the_inbox_lists_ones_own_messages_unread_first(
    client: Client, people: People, inbox: dict[str, Message], django_assert_max_num_queries: Any
) -> None:
    client.force_login(people.resident_a)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("notices:inbox"))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<meta name="viewport"' in page
    assert "weui" in page
    order = ["新的未读", "旧的未读", "新的已读", "旧的已读"]
    positions = [page.index(title) for title in order]
    assert positions == sorted(positions)
    assert "刘大爷的消息" not in page
    assert "2 条未读" in page
    assert reverse("notices:read", args=[inbox["new_unread"].pk]) in page
    assert reverse("notices:read", args=[inbox["new_read"].pk]) not in page  # already read: no button


def test_marking_read_from_the_page(client: Client, people: People, inbox: dict[str, Message]) -> None:
    client.force_login(people.resident_a)
    url = reverse("notices:read", args=[inbox["new_unread"].pk])
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("notices:inbox")
    assert Message.objects.get(pk=inbox["new_unread"].pk).read_at is not None


def test_marking_read_with_htmx_returns_the_row(client: Client, people: People, inbox: dict[str, Message]) -> None:
    client.force_login(people.resident_a)
    response = client.post(reverse("notices:read", args=[inbox["new_unread"].pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    row = response.content.decode()
    assert row.lstrip().startswith('<div class="weui-media-box')
    assert f'id="message-{inbox["new_unread"].pk}"' in row
    assert "已读" in row
    assert "标为已读" not in row
    assert "<html" not in row
    assert '<p class="wm-page-desc" id="wm-unread-count" style="margin:0" hx-swap-oob="true">1 条未读</p>' in row


def test_opening_a_message_marks_it_read_and_follows_its_link(
    client: Client, people: People, inbox: dict[str, Message]
) -> None:
    client.force_login(people.resident_a)
    response = client.post(reverse("notices:open", args=[inbox["old_unread"].pk]))
    assert response.status_code == 302
    assert response["Location"] == "/activities/3/"
    assert Message.objects.get(pk=inbox["old_unread"].pk).read_at is not None
    offsite = _message(people.resident_a, "外部链接", link="https://evil.example.com/")
    response = client.post(reverse("notices:open", args=[offsite.pk]))
    assert response["Location"] == reverse("notices:inbox")


def test_read_all_from_the_page(client: Client, people: People, inbox: dict[str, Message]) -> None:
    client.force_login(people.resident_a)
    response = client.post(reverse("notices:read_all"), {"page": "1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("notices:inbox") + "?page=1"
    assert not Message.objects.filter(recipient=people.resident_a, read_at__isnull=True).exists()
    assert "没有未读消息" in client.get(reverse("notices:inbox")).content.decode()


@pytest.mark.parametrize("name", ["read", "open"])
def test_someone_elses_message_is_not_found_on_the_page(
    client: Client, people: People, inbox: dict[str, Message], name: str
) -> None:
    for stranger in (people.resident_b, people.admin):
        client.force_login(stranger)
        response = client.post(reverse(f"notices:{name}", args=[inbox["old_unread"].pk]))
        assert response.status_code == 404
    assert Message.objects.get(pk=inbox["old_unread"].pk).read_at is None


def test_the_inbox_pages(client: Client, people: People) -> None:
    Message.objects.bulk_create(
        Message(recipient=people.resident_a, kind="t", title=f"第{i}条", body="b", created_at=timezone.now())
        for i in range(25)
    )
    client.force_login(people.resident_a)
    page = client.get(reverse("notices:inbox"), {"page": 2}).content.decode()
    assert "第 2 / 2 页" in page
    assert page.count('class="weui-media-box weui-media-box_text wm-message-item') == 5


# --- The API -----------------------------------------------------------------------------------------------


def test_api_lists_ones_own_messages_unread_first(
    client: Client, people: People, inbox: dict[str, Message], django_assert_num_queries: Any
) -> None:
    headers = _bearer(people.resident_a)
    with django_assert_num_queries(4):  # token, unread count, count, page
        response = client.get("/api/messages", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["unread_count"], body["page"], body["page_size"]) == (4, 2, 1, 20)
    assert [m["title"] for m in body["results"]] == ["新的未读", "旧的未读", "新的已读", "旧的已读"]
    first = body["results"][0]
    assert first["is_read"] is False
    assert first["read_at"] is None
    assert set(first) == {"id", "kind", "title", "body", "link", "created_at", "read_at", "is_read"}

    unread = client.get("/api/messages", {"unread": "true", "page_size": "1"}, headers=headers).json()
    assert unread["count"] == 2
    assert [m["title"] for m in unread["results"]] == ["新的未读"]
    beyond = client.get("/api/messages", {"page": 9}, headers=headers).json()
    assert beyond["results"] == []


def test_api_marks_read(client: Client, people: People, inbox: dict[str, Message]) -> None:
    headers = _bearer(people.resident_a)
    response = client.post(f"/api/messages/{inbox['old_unread'].pk}/read", headers=headers)
    assert response.status_code == 200
    assert response.json()["is_read"] is True
    assert Message.objects.get(pk=inbox["old_unread"].pk).read_at is not None
    response = client.post("/api/messages/read-all", headers=headers)
    assert response.json() == {"updated": 1}
    assert client.get("/api/messages", headers=headers).json()["unread_count"] == 0


def test_api_nobody_sees_anyone_elses_messages(client: Client, people: People, inbox: dict[str, Message]) -> None:
    for stranger in (people.resident_b, people.admin, people.manager_a):
        headers = _bearer(stranger)
        response = client.post(f"/api/messages/{inbox['old_unread'].pk}/read", headers=headers)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        titles = [m["title"] for m in client.get("/api/messages", headers=headers).json()["results"]]
        assert "旧的未读" not in titles
    assert client.post("/api/messages/999999/read", headers=_bearer(people.resident_a)).status_code == 404
    client.post("/api/messages/read-all", headers=_bearer(people.resident_b))
    assert Message.objects.filter(recipient=people.resident_a, read_at__isnull=True).count() == 2


def test_api_needs_signing_in_and_csrf_for_sessions(client: Client, people: People, inbox: dict[str, Message]) -> None:
    assert client.get("/api/messages").json()["code"] == "unauthorized"
    assert client.post("/api/messages/read-all").status_code == 401
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(people.resident_a)
    assert csrf_client.get("/api/messages").status_code == 200
    response = csrf_client.post("/api/messages/read-all")
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"


def test_api_refuses_bad_parameters(client: Client, people: People) -> None:
    headers = _bearer(people.resident_a)
    assert client.get("/api/messages", {"page": 0}, headers=headers).status_code == 422
    assert client.get("/api/messages", {"page_size": 101}, headers=headers).status_code == 422
    assert client.post("/api/messages/0/read", headers=headers).status_code == 422
    assert client.post(f"/api/messages/{2**63}/read", headers=headers).status_code == 422
