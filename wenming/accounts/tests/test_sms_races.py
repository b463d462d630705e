"""Contested SMS-code moves on PostgreSQL: many guesses at once, many requests at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from wenming.accounts import services
from wenming.accounts.models import SmsCode
from wenming.core.errors import DomainError

pytestmark = pytest.mark.django_db(transaction=True)


def _together(count: int, work: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except DomainError as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_a_burst_of_guesses_gets_five_attempts_at_most(postgres_only: None, people: Any, settings: Any) -> None:
    settings.LOGIN_MAX_FAILURES = 1000  # isolate the per-code limit from the lock-out
    services.request_sms_code(phone="13800000006")
    entry = SmsCode.objects.get()
    # 40 concurrent wrong guesses: only five may even be compared.
    _together(40, lambda i: services.login_with_sms_code(phone="13800000006", code=f"{i:06d}x"[:6]))
    entry.refresh_from_db()
    assert entry.attempts == services.SMS_CODE_MAX_ATTEMPTS


def test_concurrent_code_requests_respect_the_interval(postgres_only: None, people: Any) -> None:
    results = _together(20, lambda i: services.request_sms_code(phone="13800000006"))
    sent = [r for r in results if isinstance(r, services.CodeSent)]
    assert len(sent) == 1
    assert SmsCode.objects.filter(phone="13800000006").count() == 1
