"""Encryption at rest and keyed look-up hashes for personal data.

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under
``settings.PII_ENCRYPTION_KEYS``; the first key encrypts, all keys decrypt.
Look-ups use HMAC-SHA256 under ``settings.PII_LOOKUP_KEYS`` so that equal
values can be found without decrypting and without an unkeyed hash that a
dictionary of all 10^17 ID numbers could reverse.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.signals import setting_changed


class DecryptionError(Exception):
    pass


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in settings.PII_ENCRYPTION_KEYS])


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("no configured key decrypts this value") from exc


def reencrypt(token: str) -> str:
    """Re-encrypt under the primary key (for rotation)."""
    return _fernet().rotate(token.encode()).decode()


def lookup_hash(value: str, key: str | None = None) -> str:
    key = key or settings.PII_LOOKUP_KEYS[0]
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


def lookup_hashes(value: str) -> list[str]:
    """The value's hash under every configured key, primary first."""
    return [lookup_hash(value, k) for k in settings.PII_LOOKUP_KEYS]


def _reset(**kwargs: object) -> None:
    if kwargs.get("setting") in {"PII_ENCRYPTION_KEYS", "PII_LOOKUP_KEYS"}:
        _fernet.cache_clear()


setting_changed.connect(_reset)
