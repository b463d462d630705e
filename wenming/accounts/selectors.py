"""Read-side queries about people."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from wenming.accounts.models import User


def search_people(people: QuerySet[User], text: str) -> QuerySet[User]:
    """Filter by name, a whole phone number, or a phone's last four digits.

    Only those two phone forms: matching any run of digits would let a
    searcher read a masked number back digit by digit.
    """
    text = text.strip()
    if not text:
        return people
    match = Q(name__icontains=text)
    digits = text.replace(" ", "")
    if digits.isascii() and digits.isdigit():
        if len(digits) == 11:
            match |= Q(phone=digits)
        elif len(digits) == 4:
            match |= Q(phone__endswith=digits)
    return people.filter(match)
