"""The messages API: the caller's own in-site messages, and marking them read.

A message is its recipient's alone: anyone else's answers 404, as if it did
not exist. Writes go through ``wenming.notices.services``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy
from ninja import Field, Router, Schema
from ninja.params import functions as params

from wenming.accounts.api import SIGNED_IN, signed_in
from wenming.core.api_errors import Id, PageNumber, PageSize, documented, lazy_str
from wenming.notices import policies, services
from wenming.notices.models import Message
from wenming.notices.selectors import inbox

router = Router()

TAG = gettext_lazy("站内消息")
AUTH_ERRORS = ("unauthorized", "invalid_token")
WRITE_FORBIDDEN = ("forbidden", "csrf_failed")


class MessageOut(Schema):
    id: int
    kind: str = Field(description=lazy_str(gettext_lazy("消息类别代码，如 activity_reminder")))
    title: str
    body: str
    link: str = Field(description=lazy_str(gettext_lazy("相关页面的路径或网址；可为空")))
    created_at: dt.datetime
    read_at: dt.datetime | None = Field(description=lazy_str(gettext_lazy("读取时间；未读为 null")))
    is_read: bool


class MessagePage(Schema):
    count: int
    unread_count: int = Field(description=lazy_str(gettext_lazy("未读消息总数")))
    page: int
    page_size: int
    results: list[MessageOut]


class ReadAllOut(Schema):
    updated: int = Field(description=lazy_str(gettext_lazy("本次标为已读的条数")))


def message_out(m: Message) -> MessageOut:
    return MessageOut(
        id=m.pk,
        kind=m.kind,
        title=m.title,
        body=m.body,
        link=m.link,
        created_at=m.created_at,
        read_at=m.read_at,
        is_read=m.read_at is not None,
    )


@router.get(
    "/messages",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("我的消息"),
        gettext_lazy("调用者自己的站内消息，未读在前，同类按时间倒序；可只看未读。"),
        tag=TAG,
        success={200: MessagePage},
        errors={401: AUTH_ERRORS, 422: ("invalid",)},
    ),
)
def list_messages(
    request: HttpRequest,
    unread: Annotated[bool, params.Query(False, description=lazy_str(gettext_lazy("只看未读")))] = False,
    page: PageNumber = 1,
    page_size: PageSize = 20,
) -> MessagePage:
    user = signed_in(request)
    messages = inbox(user)
    unread_count = messages.filter(read_at__isnull=True).count()
    if unread:
        messages = messages.filter(read_at__isnull=True)
        count = unread_count
    else:
        count = messages.count()
    start = (page - 1) * page_size
    rows = list(messages[start : start + page_size]) if start < count else []
    return MessagePage(
        count=count,
        unread_count=unread_count,
        page=page,
        page_size=page_size,
        results=[message_out(m) for m in rows],
    )


@router.post(
    "/messages/read-all",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("全部标为已读"),
        gettext_lazy("把调用者所有未读消息标为已读，返回本次标记的条数。"),
        tag=TAG,
        success={200: ReadAllOut},
        errors={401: AUTH_ERRORS, 403: WRITE_FORBIDDEN},
    ),
)
def read_all(request: HttpRequest) -> ReadAllOut:
    return ReadAllOut(updated=services.mark_all_read(actor=signed_in(request)))


@router.post(
    "/messages/{message_id}/read",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("标为已读"),
        gettext_lazy("把调用者自己的一条消息标为已读；已读的再标一次不变。别人的消息与不存在的一样回答 404。"),
        tag=TAG,
        success={200: MessageOut},
        errors={401: AUTH_ERRORS, 403: WRITE_FORBIDDEN, 404: ("not_found",), 422: ("invalid",)},
    ),
)
def read_one(request: HttpRequest, message_id: Id) -> MessageOut:
    user = signed_in(request)
    message = get_object_or_404(Message.objects.filter(policies.inbox_q(user)), pk=message_id)
    return message_out(services.mark_read(actor=user, message=message))
