"""Every write about notifications: sending them, reading them, binding WeChat.

``notify`` is what other domains call, inside their own transaction: it
queues one background task when that transaction commits, so a rolled-back
sign-up sends nothing. The task (``tasks.deliver``) hands the notification
to every configured notifier (``notifier.get_notifiers``); one that fails
is logged and the others still send.

A notification with a ``dedupe_key`` goes out at most once per recipient,
on every channel: the task first claims a ``Delivery`` row per (recipient,
key), and only the rows it inserted are sent. A retried task, a second
reminder run or two workers racing therefore send nothing twice; the price
is that a channel that fails for a keyed notification is not retried.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wenming.accounts.models import User
from wenming.accounts.policies import AnyUser
from wenming.core.errors import Conflict, Invalid, NotAllowed, NotFound
from wenming.notices import policies
from wenming.notices.models import Delivery, Message, WeChatBinding
from wenming.notices.notifier import Outgoing, load_notifier, notifier_paths

log = logging.getLogger("wenming.notices")

TITLE_MAX = Message._meta.get_field("title").max_length or 100
KIND_MAX = Message._meta.get_field("kind").max_length or 40
LINK_MAX = Message._meta.get_field("link").max_length or 200
KEY_MAX = Message._meta.get_field("dedupe_key").max_length or 100
OPENID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _recipient_ids(recipients: Iterable[User | int]) -> list[int]:
    ids: list[int] = []
    for r in recipients:
        pk = r.pk if isinstance(r, User) else r
        if isinstance(pk, bool) or not isinstance(pk, int):
            raise TypeError(f"notify: a recipient must be a User or a user id, not {type(r).__name__}")
        if pk not in ids:
            ids.append(pk)
    return ids


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_quiet = threading.local()


@contextmanager
def muted() -> Iterator[None]:
    """Within this block (this thread), ``notify`` sends nothing: for writing demo or imported
    history through the services without messaging the people in it."""
    previous = getattr(_quiet, "on", False)
    _quiet.on = True
    try:
        yield
    finally:
        _quiet.on = previous


def notify(
    *,
    recipients: Iterable[User | int],
    kind: str,
    title: str,
    body: str,
    link: str = "",
    dedupe_key: str = "",
) -> None:
    """Queue a notification to ``recipients`` (users or user ids) for when the current transaction commits.

    ``kind`` names the event in code (``activity_reminder``); ``link`` is a
    site path (``/activities/12/``) or a full URL; ``dedupe_key`` makes a
    repeat a no-op for each recipient. A title longer than a message holds
    is cut with "…". Nothing is sent if the transaction rolls back.
    """
    ids = _recipient_ids(recipients)
    if not kind or len(kind) > KIND_MAX:
        raise ValueError(f"notify: kind must be 1–{KIND_MAX} characters")
    if len(link) > LINK_MAX:
        raise ValueError(f"notify: link longer than {LINK_MAX} characters")
    if len(dedupe_key) > KEY_MAX:
        raise ValueError(f"notify: dedupe_key longer than {KEY_MAX} characters")
    if not ids or getattr(_quiet, "on", False):
        return
    from wenming.notices.tasks import deliver

    queue = partial(
        deliver.enqueue,
        recipient_ids=ids,
        kind=kind,
        title=_clip(" ".join(title.split()), TITLE_MAX),
        body=body,
        link=link,
        dedupe_key=dedupe_key,
    )
    # robust: a queue that is down loses the notification, not the caller's committed work.
    transaction.on_commit(queue, robust=True)


def _claim(users: list[User], kind: str, dedupe_key: str) -> list[User]:
    """The users this run may send ``dedupe_key`` to: those whose Delivery row it inserted."""
    batch = uuid.uuid4().hex
    Delivery.objects.bulk_create(
        [Delivery(recipient=u, dedupe_key=dedupe_key, kind=kind, batch=batch) for u in users],
        batch_size=500,
        ignore_conflicts=True,
    )
    mine = set(
        Delivery.objects.filter(dedupe_key=dedupe_key, batch=batch, recipient__in=users).values_list(
            "recipient_id", flat=True
        )
    )
    return [u for u in users if u.pk in mine]


def deliver(*, recipient_ids: list[int], kind: str, title: str, body: str, link: str = "", dedupe_key: str = "") -> int:
    """Hand a notification to every configured notifier; the number of people it went to.

    Runs in the background task. Inactive or deleted users get nothing.
    """
    users = list(User.objects.filter(pk__in=recipient_ids, is_active=True).only("id", "phone", "name").order_by("id"))
    if dedupe_key and users:
        users = _claim(users, kind, dedupe_key)
    if not users:
        return 0
    notes = [Outgoing(recipient=u, kind=kind, title=title, body=body, link=link, dedupe_key=dedupe_key) for u in users]
    for path in notifier_paths():
        # Each adapter on its own: one that cannot even start does not stop the others.
        try:
            load_notifier(path).send_many(notes)
        except Exception:
            log.exception("notifier %s failed for %s (%d recipients)", path, kind, len(notes))
    return len(notes)


# --- Reading ---------------------------------------------------------------------------------------


def _signed_in(actor: AnyUser) -> User:
    if not isinstance(actor, User) or not actor.is_authenticated or not actor.is_active:
        raise NotAllowed(_("请先登录。"), code="unauthorized", status=401)
    return actor


def mark_read(*, actor: AnyUser, message: Message) -> Message:
    """Mark one of the actor's own messages read. Someone else's message does not exist for them."""
    user = _signed_in(actor)
    if not policies.can_read_message(user, message):
        raise NotFound(_("未找到该消息。"), code="not_found")
    with transaction.atomic():
        now = timezone.now()
        if Message.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=now):
            message.read_at = now
        else:
            message.refresh_from_db(fields=["read_at"])
    return message


def mark_all_read(*, actor: AnyUser) -> int:
    """Mark every unread message of the actor read; how many were."""
    user = _signed_in(actor)
    with transaction.atomic():
        return Message.objects.filter(policies.inbox_q(user), read_at__isnull=True).update(read_at=timezone.now())


# --- WeChat binding --------------------------------------------------------------------------------


def bind_wechat(*, actor: AnyUser, openid: str) -> WeChatBinding:
    """Bind the actor's account to their openid (after the Official Account's sign-in), replacing an old one."""
    user = _signed_in(actor)
    openid = openid.strip()
    if not OPENID.fullmatch(openid):
        raise Invalid(_("微信标识不正确。"), code="invalid_openid", field="openid")
    try:
        # The unique openid settles two accounts racing for one WeChat.
        with transaction.atomic():
            binding, _created = WeChatBinding.objects.update_or_create(
                user=user, defaults={"openid": openid, "bound_at": timezone.now()}
            )
    except IntegrityError:
        raise Conflict(_("该微信已绑定其他账号。"), code="openid_taken", field="openid") from None
    return binding


def unbind_wechat(*, actor: AnyUser) -> bool:
    user = _signed_in(actor)
    with transaction.atomic():
        deleted, _rows = WeChatBinding.objects.filter(user=user).delete()
    return bool(deleted)
