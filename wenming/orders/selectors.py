"""Read-side questions about orders: an order's answers in words; satisfaction per volunteer, team
and station.

A rated order counts for the volunteer who accepted it, the team it was
dispatched to (if any) and its station. Satisfied means 4 or 5 stars, the
share the office reports (满意率); low means 2 or less, what opens a review.
Counted in one grouped query per question, for any subtree and period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, Q, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from wenming.network.models import Site
from wenming.orders.models import LOW_RATING, Datatype, Order, OrderKind


def answers_in_words(order: Order) -> list[tuple[str, str]]:
    """The extra questions' answers as people read them: (prompt, answer), with choices by name and
    times in local time; an answer to a question since removed shows its code and value."""
    questions = {q.code: q for q in order.service_type.questions.all()}
    rows = []
    for code, value in (order.answers or {}).items():
        question = questions.get(code)
        if question is None:
            rows.append((code, str(value)))
            continue
        names = {str(c.get("key")): str(c.get("name") or c.get("key")) for c in question.choices}
        if question.datatype in (Datatype.SINGLE, Datatype.MULTI):
            values = value if isinstance(value, list) else [value]
            text = _("、").join(names.get(str(v), str(v)) for v in values)
        elif question.datatype == Datatype.DATETIME:
            parsed = dt.datetime.fromisoformat(str(value))
            text = formats.date_format(timezone.localtime(parsed), "DATETIME_FORMAT")
        else:
            text = str(value)
        rows.append((question.prompt, text))
    return rows


@dataclass(frozen=True)
class Satisfaction:
    rated: int
    average: Decimal | None
    satisfied: int
    low: int

    @property
    def satisfied_share(self) -> Decimal | None:
        """满意率, as a percentage with one decimal."""
        if not self.rated:
            return None
        return (Decimal(self.satisfied) * 100 / self.rated).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def rated_orders(root: Site, since: dt.datetime | None = None, until: dt.datetime | None = None) -> QuerySet[Order]:
    """Rated service orders of ``root``'s subtree, rated in [since, until)."""
    qs = Order.objects.filter(kind=OrderKind.SERVICE, rating__isnull=False, site__path__startswith=root.path)
    if since is not None:
        qs = qs.filter(rated_at__gte=since)
    if until is not None:
        qs = qs.filter(rated_at__lt=until)
    return qs


def _grouped(qs: QuerySet[Order], key: str) -> dict[int, Satisfaction]:
    rows = (
        qs.filter(**{f"{key}__isnull": False})
        .values(key)
        .annotate(
            rated=Count("id"),
            average=Avg("rating"),
            satisfied=Count("id", filter=Q(rating__gte=4)),
            low=Count("id", filter=Q(rating__lte=LOW_RATING)),
        )
        .order_by(key)
    )
    return {
        row[key]: Satisfaction(
            rated=row["rated"],
            average=Decimal(str(row["average"])).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
            satisfied=row["satisfied"],
            low=row["low"],
        )
        for row in rows
    }


def by_volunteer(
    root: Site, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> dict[int, Satisfaction]:
    return _grouped(rated_orders(root, since, until), "accepted_by")


def by_team(root: Site, since: dt.datetime | None = None, until: dt.datetime | None = None) -> dict[int, Satisfaction]:
    return _grouped(rated_orders(root, since, until), "assigned_team")


def by_station(
    root: Site, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> dict[int, Satisfaction]:
    return _grouped(rated_orders(root, since, until), "site")


def overall(root: Site, since: dt.datetime | None = None, until: dt.datetime | None = None) -> Satisfaction:
    row = rated_orders(root, since, until).aggregate(
        rated=Count("id"),
        average=Avg("rating"),
        satisfied=Count("id", filter=Q(rating__gte=4)),
        low=Count("id", filter=Q(rating__lte=LOW_RATING)),
    )
    average = row["average"]
    return Satisfaction(
        rated=row["rated"],
        average=None if average is None else Decimal(str(average)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
        satisfied=row["satisfied"],
        low=row["low"],
    )
