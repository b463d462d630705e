"""Where a notification goes: one interface, an adapter per channel.

``settings.NOTIFIERS`` lists the adapters by dotted path; every notification
goes through each of them (``services.deliver``). The default is the in-site
inbox only. The adapters:

- ``InSiteNotifier`` writes a ``Message`` row (站内消息), idempotent by
  (recipient, dedupe_key);
- ``SmsNotifier`` sends a short text through the pluggable SMS backend
  (``wenming.accounts.sms``) to the user's phone;
- ``WeChatTemplateNotifier`` sends an Official Account template message
  (模板消息) to the user's openid (``WeChatBinding``); people without a
  binding are skipped.

A deployment adds a channel by writing a ``Notifier`` subclass and naming it
in ``NOTIFIERS``.
"""

from __future__ import annotations

import abc
import hashlib
import json
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.module_loading import import_string

from wenming.accounts.models import User
from wenming.accounts.sms import get_backend
from wenming.notices.models import Message, WeChatBinding

log = logging.getLogger("wenming.notices")

IN_SITE = "wenming.notices.notifier.InSiteNotifier"
DEFAULT_NOTIFIERS = [IN_SITE]

# One SMS segment holds 70 Chinese characters; a longer text costs two.
SMS_MAX_CHARS = 70


@dataclass(frozen=True)
class Outgoing:
    """One notification for one person, as every adapter receives it."""

    recipient: User
    kind: str
    title: str
    body: str
    link: str = ""
    dedupe_key: str = ""


class Notifier(abc.ABC):
    @abc.abstractmethod
    def send(self, note: Outgoing) -> None:
        """Deliver ``note`` on this channel, or raise."""

    def send_many(self, notes: Sequence[Outgoing]) -> None:
        """Deliver several notes. One that fails is logged and does not stop the others.

        Adapters override this when they can do better than one by one.
        """
        for note in notes:
            try:
                self.send(note)
            except Exception:
                log.exception("%s failed for user %s (%s)", type(self).__name__, note.recipient.pk, note.kind)


def notifier_paths() -> list[str]:
    return list(getattr(settings, "NOTIFIERS", DEFAULT_NOTIFIERS))


def load_notifier(path: str) -> Notifier:
    cls = import_string(path)
    if not (isinstance(cls, type) and issubclass(cls, Notifier)):
        raise ImproperlyConfigured(f"NOTIFIERS: {path} is not a Notifier")
    notifier: Notifier = cls()
    return notifier


def get_notifiers() -> list[Notifier]:
    """The configured adapters, in order."""
    return [load_notifier(path) for path in notifier_paths()]


def absolute_url(link: str) -> str:
    """A link for outside the site (WeChat, SMS): site paths get ``SITE_URL`` in front."""
    if link.startswith("/") and not link.startswith("//"):
        return str(settings.SITE_URL).rstrip("/") + link
    return link


# --- In-site ---------------------------------------------------------------------------------------


class InSiteNotifier(Notifier):
    """Leaves a ``Message`` in the person's inbox. A second note with the same dedupe_key adds nothing."""

    def _message(self, note: Outgoing) -> Message:
        return Message(
            recipient=note.recipient,
            kind=note.kind,
            title=note.title,
            body=note.body,
            link=note.link,
            dedupe_key=note.dedupe_key,
        )

    def send(self, note: Outgoing) -> None:
        self.send_many([note])

    def send_many(self, notes: Sequence[Outgoing]) -> None:
        # The partial unique constraint (recipient, dedupe_key) turns a repeat into a skipped row.
        Message.objects.bulk_create([self._message(n) for n in notes], batch_size=500, ignore_conflicts=True)


# --- SMS -------------------------------------------------------------------------------------------


def sms_text(note: Outgoing) -> str:
    """Title and body in one short text, cut to one SMS segment."""
    text = f"{note.title}：{note.body}" if note.body else note.title
    text = " ".join(text.split())
    return text if len(text) <= SMS_MAX_CHARS else text[: SMS_MAX_CHARS - 1] + "…"


class SmsNotifier(Notifier):
    """A short text to the person's phone through ``settings.SMS_BACKEND``."""

    def send(self, note: Outgoing) -> None:
        if not note.recipient.phone:
            return
        get_backend().send(note.recipient.phone, sms_text(note))


# --- WeChat Official Account template messages ----------------------------------------------------


class WeChatError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat errcode {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


# Codes meaning the access token is no longer good: fetch a new one and try once more.
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
# The person has unfollowed the account or refused messages: nothing to retry.
RECIPIENT_REFUSED = frozenset({43004, 43101})

# Template data keys → what fills them: the note's title, body, or the time it is sent.
DEFAULT_TEMPLATE_DATA = {"first": "title", "keyword1": "body", "keyword2": "time"}

_token_lock = threading.Lock()


class WeChatTemplateNotifier(Notifier):
    """A template message (模板消息) of the Official Account, to the person's openid.

    Settings: ``WECHAT_API_BASE`` (https://api.weixin.qq.com), ``WECHAT_APP_ID``,
    ``WECHAT_APP_SECRET``, ``WECHAT_TEMPLATE_ID`` (the template for every kind),
    ``WECHAT_TEMPLATES`` (kind → template id, overriding it), ``WECHAT_TEMPLATE_DATA``
    (template keys → ``title``, ``body`` or ``time``), ``WECHAT_TIMEOUT_SECONDS``.

    The access token is fetched from ``/cgi-bin/token`` and kept in the cache,
    which every process shares, until shortly before it expires; WeChat allows
    only a few thousand fetches a day. A token WeChat reports as expired is
    dropped and fetched again, once.
    """

    def __init__(self) -> None:
        self.base = str(getattr(settings, "WECHAT_API_BASE", "https://api.weixin.qq.com")).rstrip("/")
        if urllib.parse.urlsplit(self.base).scheme not in ("http", "https"):
            raise ImproperlyConfigured("WECHAT_API_BASE must be an http(s) URL")
        self.app_id = str(getattr(settings, "WECHAT_APP_ID", ""))
        self.secret = str(getattr(settings, "WECHAT_APP_SECRET", ""))
        self.default_template = str(getattr(settings, "WECHAT_TEMPLATE_ID", ""))
        self.templates: dict[str, str] = dict(getattr(settings, "WECHAT_TEMPLATES", {}))
        self.data_fields: dict[str, str] = dict(getattr(settings, "WECHAT_TEMPLATE_DATA", DEFAULT_TEMPLATE_DATA))
        self.timeout = float(getattr(settings, "WECHAT_TIMEOUT_SECONDS", 5))

    # -- sending --

    def send(self, note: Outgoing) -> None:
        openid = WeChatBinding.objects.filter(user_id=note.recipient.pk).values_list("openid", flat=True).first()
        if openid:
            self.send_to(openid, note)

    def send_many(self, notes: Sequence[Outgoing]) -> None:
        """One query for every recipient's binding, then one message each."""
        bindings = dict(
            WeChatBinding.objects.filter(user_id__in={n.recipient.pk for n in notes}).values_list("user_id", "openid")
        )
        for note in notes:
            openid = bindings.get(note.recipient.pk)
            if not openid:
                continue
            try:
                self.send_to(openid, note)
            except Exception:
                log.exception("WeChat template message failed for user %s (%s)", note.recipient.pk, note.kind)

    def payload(self, openid: str, note: Outgoing) -> dict[str, Any]:
        template_id = self.templates.get(note.kind) or self.default_template
        if not template_id:
            raise ImproperlyConfigured("WECHAT_TEMPLATE_ID is not set")
        values = {
            "title": note.title,
            "body": note.body,
            "time": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        }
        payload: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {key: {"value": values.get(source, "")} for key, source in self.data_fields.items()},
        }
        if note.link:
            payload["url"] = absolute_url(note.link)
        if note.dedupe_key:
            # WeChat drops a second message with the same client_msg_id (at most 32 characters).
            payload["client_msg_id"] = hashlib.sha256(f"{openid}:{note.dedupe_key}".encode()).hexdigest()[:32]
        return payload

    def send_to(self, openid: str, note: Outgoing) -> None:
        payload = self.payload(openid, note)
        for attempt in (1, 2):
            token = self.access_token(refresh=attempt == 2)
            url = f"{self.base}/cgi-bin/message/template/send?" + urllib.parse.urlencode({"access_token": token})
            answer = self._call(url, payload)
            errcode = int(answer.get("errcode", 0))
            if errcode == 0:
                return
            if errcode in TOKEN_ERRORS and attempt == 1:
                continue
            if errcode in RECIPIENT_REFUSED:
                log.info("WeChat: user %s does not take template messages (%s)", note.recipient.pk, errcode)
                return
            raise WeChatError(errcode, str(answer.get("errmsg", "")))

    # -- the access token --

    @property
    def _token_key(self) -> str:
        return f"notices:wechat-token:{self.app_id}"

    def access_token(self, *, refresh: bool = False) -> str:
        if not refresh:
            cached = cache.get(self._token_key)
            if cached:
                return str(cached)
        with _token_lock:
            cached = None if refresh else cache.get(self._token_key)
            if cached:
                return str(cached)
            if not self.app_id or not self.secret:
                raise ImproperlyConfigured("WECHAT_APP_ID and WECHAT_APP_SECRET must be set")
            query = urllib.parse.urlencode(
                {"grant_type": "client_credential", "appid": self.app_id, "secret": self.secret}
            )
            answer = self._call(f"{self.base}/cgi-bin/token?{query}")
            token = answer.get("access_token")
            if not token:
                raise WeChatError(int(answer.get("errcode", -1)), str(answer.get("errmsg", "no access_token")))
            expires_in = int(answer.get("expires_in", 7200))
            # Refresh five minutes early, so a token never expires between cache and use.
            cache.set(self._token_key, token, timeout=max(60, expires_in - 300))
            return str(token)

    def _call(self, url: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET, or POST JSON; the answer as a JSON object. The URL is never logged: it carries secrets."""
        data = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else None
        request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")  # noqa: S310
        if data is not None:
            request.add_header("Content-Type", "application/json; charset=utf-8")
        try:
            # The scheme is checked in __init__ (http or https only).
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise WeChatError(-1, f"HTTP {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise WeChatError(-1, f"unreachable: {type(reason).__name__}") from None
        try:
            answer = json.loads(body)
        except ValueError:
            raise WeChatError(-1, "answer is not JSON") from None
        if not isinstance(answer, dict):
            raise WeChatError(-1, "answer is not a JSON object")
        return answer
