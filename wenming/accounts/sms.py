"""Pluggable SMS sending. ``settings.SMS_BACKEND`` names the class.

The default writes messages to the log, which is what a development machine
or the demo wants. A deployment plugs in its carrier's gateway by writing a
subclass with ``send`` and naming it in ``SMS_BACKEND``.
"""

from __future__ import annotations

import abc
import logging
import threading

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("wenming.sms")


class BaseSmsBackend(abc.ABC):
    @abc.abstractmethod
    def send(self, phone: str, message: str) -> None:
        """Deliver ``message`` to ``phone`` or raise."""


class LogSmsBackend(BaseSmsBackend):
    def send(self, phone: str, message: str) -> None:
        log.info("SMS to %s: %s", phone, message)


_outbox_lock = threading.Lock()
outbox: list[tuple[str, str]] = []


class MemorySmsBackend(BaseSmsBackend):
    """Keeps messages in ``outbox`` (like Django's locmem e-mail backend), for tests."""

    def send(self, phone: str, message: str) -> None:
        with _outbox_lock:
            outbox.append((phone, message))


def get_backend() -> BaseSmsBackend:
    cls = import_string(settings.SMS_BACKEND)
    backend: BaseSmsBackend = cls()
    return backend
