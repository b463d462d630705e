"""Background work for orders. The clock enqueues these; they only call services."""

from __future__ import annotations

from django.tasks import task

from wenming.orders import services


@task(queue_name="default")
def escalate_overdue_orders() -> int:
    """Move orders nobody accepted in time up one level and tell that level; returns how many moved."""
    return services.escalate_overdue()


@task(queue_name="default")
def close_unrated_orders() -> int:
    """Close completed orders left unrated past their site's rating period; returns how many closed."""
    return services.close_unrated()
