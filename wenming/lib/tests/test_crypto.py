from cryptography.fernet import Fernet

from wenming.lib import crypto


def test_round_trip_and_no_plaintext() -> None:
    token = crypto.encrypt("11010519491231002X")
    assert "11010519491231002X" not in token
    assert crypto.decrypt(token) == "11010519491231002X"


def test_lookup_hash_is_keyed_and_stable(settings) -> None:
    a = crypto.lookup_hash("11010519491231002X")
    assert a == crypto.lookup_hash("11010519491231002X")
    assert a != crypto.lookup_hash("11010519491231002X", key="another-key")


def test_rotation_keeps_old_values_readable(settings) -> None:
    old = crypto.encrypt("secret")
    new_key = Fernet.generate_key().decode()
    settings.PII_ENCRYPTION_KEYS = [new_key, *settings.PII_ENCRYPTION_KEYS]
    assert crypto.decrypt(old) == "secret"
    rotated = crypto.reencrypt(old)
    settings.PII_ENCRYPTION_KEYS = [new_key]
    assert crypto.decrypt(rotated) == "secret"
