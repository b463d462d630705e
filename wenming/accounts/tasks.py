"""Background work for accounts."""

from __future__ import annotations

from django.tasks import task

from wenming.accounts.sms import get_backend


@task(queue_name="default")
def send_sms(phone: str, message: str) -> None:
    get_backend().send(phone, message)
