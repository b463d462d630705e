"""Read-side queries for messages."""

from __future__ import annotations

from django.db.models import Case, IntegerField, QuerySet, Value, When

from wenming.accounts.policies import AnyUser
from wenming.notices import policies
from wenming.notices.models import Message


def inbox(user: AnyUser) -> QuerySet[Message]:
    """The user's own messages, unread first, newest first within each."""
    unread_first = Case(When(read_at__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField())
    return Message.objects.filter(policies.inbox_q(user)).order_by(unread_first, "-created_at", "-id")
