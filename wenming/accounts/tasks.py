"""Background work for accounts."""

from __future__ import annotations

from django.tasks import task

from wenming.accounts.sms import get_backend
from wenming.lib import crypto


@task(queue_name="default")
def send_sms(phone: str, sealed_message: str) -> None:
    """Send a message that was encrypted (``lib.crypto``) before it was queued.

    Queued arguments are stored by the queue (a database table or Redis), so
    sign-in codes never sit there in clear.
    """
    get_backend().send(phone, crypto.decrypt(sealed_message))
