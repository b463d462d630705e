"""How personal data is shown: never whole, except in an audited reveal."""

from __future__ import annotations


def mask_id_number(value: str) -> str:
    """First 6 and last 4 characters: 310109********123X."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """First 3 and last 4 digits: 138****0000."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str) -> str:
    """Family name and a star per remaining character: 王** ."""
    if not value:
        return ""
    return value[0] + "*" * (len(value) - 1)
