"""Who may read which messages: a message is its recipient's alone.

Nobody else, staff included, sees it; for them it does not exist (404).
"""

from __future__ import annotations

from django.db.models import Q

from wenming.accounts.policies import AnyUser
from wenming.notices.models import Message


def can_read_message(user: AnyUser, message: Message) -> bool:
    return user.is_authenticated and user.is_active and message.recipient_id == user.pk


def inbox_q(user: AnyUser) -> Q:
    """The messages ``user`` may see: their own."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    return Q(recipient_id=user.pk)
