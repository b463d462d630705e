"""accounts.services: registration, sign-in, lock-out, SMS codes, roles, PII."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.test import RequestFactory
from django.utils import timezone

from conftest import ID_A
from wenming.accounts import services
from wenming.accounts.models import AuditLog, Profile, Role, RoleGrant, SmsCode, User
from wenming.core.errors import Conflict, Invalid, NotAllowed, NotFound, TooMany
from wenming.lib import crypto

pytestmark = pytest.mark.django_db

NEW_ID = "11010519491231002X"


def _counts() -> tuple[int, int, int, int]:
    return (User.objects.count(), Profile.objects.count(), RoleGrant.objects.count(), AuditLog.objects.count())


def _request(ip: str = "10.0.0.1"):
    return RequestFactory().post("/", REMOTE_ADDR=ip)


# --- 代注册 ----------------------------------------------------------------------------


def test_manager_registers_resident_with_encrypted_id(people: Any, street: Any) -> None:
    user = services.register_resident(
        actor=people.manager_a, site=street.station_a, phone="139 1111 2222", name=" 陈阿婆 ", id_number=NEW_ID
    )
    assert user.phone == "13911112222"
    assert user.name == "陈阿婆"
    assert user.home_site == street.station_a
    assert user.registered_by == people.manager_a
    profile = user.profile
    assert NEW_ID not in profile.id_number_encrypted
    assert profile.id_number_masked == "110105********002X"
    assert profile.decrypt_id_number() == NEW_ID
    assert profile.gender == "F"
    assert RoleGrant.objects.filter(user=user, role=Role.RESIDENT, site=street.station_a).exists()
    assert AuditLog.objects.filter(action="user_registered", target_id=str(user.pk)).count() == 1
    assert services.find_by_id_number(NEW_ID.lower()) == user


@pytest.mark.parametrize(
    ("phone", "id_number", "code"),
    [
        ("1391111222", "", "invalid_phone"),
        ("23911112222", "", "invalid_phone"),
        ("13911112222", "110105194912310021", "invalid_id_number"),
        ("13911112222", "11010519491231", "invalid_id_number"),
    ],
)
def test_malformed_input_is_refused_in_chinese_and_writes_nothing(
    people: Any, street: Any, phone: str, id_number: str, code: str
) -> None:
    before = _counts()
    with pytest.raises(Invalid) as info:
        services.register_resident(
            actor=people.manager_a, site=street.station_a, phone=phone, name="陈阿婆", id_number=id_number
        )
    assert info.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in info.value.message)
    assert _counts() == before


def test_duplicates_are_conflicts_and_write_nothing(people: Any, street: Any) -> None:
    before = _counts()
    with pytest.raises(Conflict) as info:
        services.register_resident(
            actor=people.manager_a, site=street.station_a, phone=people.resident_a.phone, name="某"
        )
    assert info.value.code == "phone_taken"
    with pytest.raises(Conflict) as info:
        services.register_resident(
            actor=people.manager_a, site=street.station_a, phone="13911112222", name="某", id_number=ID_A
        )
    assert info.value.code == "id_number_taken"
    assert _counts() == before


def test_manager_cannot_register_at_another_station(people: Any, street: Any) -> None:
    before = _counts()
    with pytest.raises(NotAllowed):
        services.register_resident(actor=people.manager_a, site=street.station_b, phone="13911112222", name="某")
    with pytest.raises(NotAllowed):
        services.register_resident(actor=people.resident_a, site=street.station_a, phone="13911112222", name="某")
    assert _counts() == before


# --- Password sign-in and lock-out ---------------------------------------------------------------


def test_password_login_is_audited(people: Any) -> None:
    user = services.login_with_password(phone="13800000006", password="correct-horse-battery", request=_request())
    assert user == people.resident_a
    entry = AuditLog.objects.filter(action="login").latest("id")
    assert entry.actor_id == user.pk
    assert entry.ip == "10.0.0.1"


def test_failures_lock_out_then_cool_off(people: Any, settings: Any) -> None:
    settings.LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        with pytest.raises(NotAllowed) as info:
            services.login_with_password(phone="13800000006", password="wrong", request=_request())
        assert info.value.status == 401
    # Locked now, even with the right password.
    with pytest.raises(TooMany) as locked:
        services.login_with_password(phone="13800000006", password="correct-horse-battery", request=_request())
    assert "暂停登录" in locked.value.message
    assert AuditLog.objects.filter(action="login_failed").count() == 3
    assert AuditLog.objects.filter(action="login_locked").count() == 1
    # After the cool-off (the cache entry expires) the right password works again.
    from django.core.cache import cache

    cache.clear()
    assert services.login_with_password(phone="13800000006", password="correct-horse-battery") == people.resident_a


def test_unknown_phone_fails_like_a_wrong_password(people: Any) -> None:
    with pytest.raises(NotAllowed) as info:
        services.login_with_password(phone="13999999999", password="whatever")
    assert info.value.code == "bad_credentials"


def test_malformed_phone_is_invalid_not_a_failure(people: Any) -> None:
    with pytest.raises(Invalid):
        services.login_with_password(phone="12345", password="x")
    assert not AuditLog.objects.filter(action="login_failed").exists()


def test_inactive_user_cannot_sign_in(people: Any) -> None:
    User.objects.filter(pk=people.resident_a.pk).update(is_active=False)
    with pytest.raises(NotAllowed):
        services.login_with_password(phone="13800000006", password="correct-horse-battery")


def test_production_hasher_is_argon2() -> None:
    from wenming import settings as production

    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_argon2_hashes_verify(people: Any, settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    user = people.resident_a
    user.set_password("a-long-passphrase")
    user.save()
    assert user.password.startswith("argon2$")
    assert services.login_with_password(phone=user.phone, password="a-long-passphrase") == user


# --- SMS codes ------------------------------------------------------------------------------------


@pytest.fixture
def send_code(django_capture_on_commit_callbacks):
    """request_sms_code with its on-commit sending run, as after a real commit."""

    def send(phone: str, **kwargs: Any) -> services.CodeSent:
        with django_capture_on_commit_callbacks(execute=True):
            return services.request_sms_code(phone=phone, **kwargs)

    return send


def _code_from(outbox: list[tuple[str, str]]) -> str:
    import re

    match = re.search(r"(\d{6})", outbox[-1][1])
    assert match
    return match.group(1)


def test_sms_code_signs_in_once(people: Any, sms_outbox: list[tuple[str, str]], send_code: Any) -> None:
    send_code("13800000006", request=_request())
    assert sms_outbox[-1][0] == "13800000006"
    code = _code_from(sms_outbox)
    assert code not in SmsCode.objects.get().code_hash
    user = services.login_with_sms_code(phone="13800000006", code=code, request=_request())
    assert user == people.resident_a
    with pytest.raises(NotAllowed):
        services.login_with_sms_code(phone="13800000006", code=code, request=_request())


def test_sms_code_expires(people: Any, sms_outbox: list[tuple[str, str]], send_code: Any) -> None:
    send_code("13800000006")
    code = _code_from(sms_outbox)
    SmsCode.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(NotAllowed):
        services.login_with_sms_code(phone="13800000006", code=code)


def test_sms_code_rate_limits(people: Any, sms_outbox: list[tuple[str, str]], settings: Any, send_code: Any) -> None:
    send_code("13800000006", request=_request())
    with pytest.raises(TooMany):  # too soon
        send_code("13800000006", request=_request())
    settings.SMS_CODE_MIN_INTERVAL_SECONDS = 0
    settings.SMS_CODE_MAX_PER_PHONE_HOUR = 2
    send_code("13800000006", request=_request())
    with pytest.raises(TooMany):  # per phone per hour
        send_code("13800000006", request=_request())
    settings.SMS_CODE_MAX_PER_IP_HOUR = 3
    send_code("13800000007", request=_request())
    with pytest.raises(TooMany):  # per IP per hour
        send_code("13800000002", request=_request())
    assert len(sms_outbox) == 3


def test_sms_code_for_unknown_phone_answers_alike_but_sends_nothing(
    db: None, sms_outbox: list[tuple[str, str]], send_code: Any
) -> None:
    sent = send_code("13999999999")
    assert sent.expires_in > 0
    assert sms_outbox == []


def test_guessing_sms_codes_is_limited(people: Any, sms_outbox: list[tuple[str, str]], send_code: Any) -> None:
    send_code("13800000006")
    code = _code_from(sms_outbox)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        with pytest.raises((NotAllowed, TooMany)):
            services.login_with_sms_code(phone="13800000006", code=wrong)
    # Five wrong guesses spend the code: even the right one no longer works.
    with pytest.raises((NotAllowed, TooMany)):
        services.login_with_sms_code(phone="13800000006", code=code)


# --- Tokens ---------------------------------------------------------------------------------------------


def test_api_tokens_are_stored_hashed_and_expire(people: Any) -> None:
    raw, token = services.issue_api_token(user=people.resident_a)
    assert raw not in token.digest
    assert services.user_for_token(raw) == people.resident_a
    assert services.user_for_token(raw + "x") is None
    token.expires_at = timezone.now() - dt.timedelta(seconds=1)
    token.save()
    assert services.user_for_token(raw) is None


# --- Roles ----------------------------------------------------------------------------------------------------


def test_grant_and_revoke_are_audited(people: Any, street: Any) -> None:
    grant = services.grant_role(
        actor=people.subcentre_admin, user=people.volunteer_a, role=Role.STATION_MANAGER, site=street.station_a
    )
    assert AuditLog.objects.filter(action="role_granted", target_id=str(people.volunteer_a.pk)).exists()
    with pytest.raises(Conflict):
        services.grant_role(
            actor=people.subcentre_admin, user=people.volunteer_a, role=Role.STATION_MANAGER, site=street.station_a
        )
    services.revoke_role(actor=people.subcentre_admin, grant=grant)
    assert AuditLog.objects.filter(action="role_revoked").count() == 1


def test_grant_refusals(people: Any, street: Any) -> None:
    with pytest.raises(NotFound):  # 刘大爷 is not 张站长's to see
        services.grant_role(actor=people.manager_a, user=people.resident_b, role=Role.VOLUNTEER, site=street.station_b)
    with pytest.raises(NotAllowed):
        services.grant_role(actor=people.manager_a, user=people.volunteer_a, role=Role.VOLUNTEER, site=street.station_b)
    with pytest.raises(Invalid):
        services.grant_role(actor=people.admin, user=people.resident_b, role=Role.STATION_MANAGER, site=street.district)
    with pytest.raises(Invalid):
        services.grant_role(actor=people.admin, user=people.resident_b, role="emperor", site=street.station_b)


# --- Personal data --------------------------------------------------------------------------------------------


def test_reveal_is_audited_and_scoped(people: Any) -> None:
    value = services.reveal_id_number(actor=people.manager_a, person=people.resident_a, request=_request())
    assert value == ID_A
    entry = AuditLog.objects.get(action="pii_revealed")
    assert entry.actor_id == people.manager_a.pk
    assert entry.target_id == str(people.resident_a.pk)
    with pytest.raises(NotAllowed):
        services.reveal_id_number(actor=people.manager_a, person=people.resident_b)
    assert AuditLog.objects.filter(action="pii_revealed").count() == 1


def test_key_rotation_reencrypts_and_rehashes(people: Any, settings: Any) -> None:
    old_cipher = Profile.objects.get(user=people.resident_a).id_number_encrypted
    settings.PII_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *settings.PII_ENCRYPTION_KEYS]
    settings.PII_LOOKUP_KEYS = ["new-lookup-key", *settings.PII_LOOKUP_KEYS]
    # Before rotation, old hashes are still found through the old key.
    assert services.find_by_id_number(ID_A) == people.resident_a
    assert services.rotate_pii_keys() == 2
    settings.PII_ENCRYPTION_KEYS = settings.PII_ENCRYPTION_KEYS[:1]
    settings.PII_LOOKUP_KEYS = ["new-lookup-key"]
    profile = Profile.objects.get(user=people.resident_a)
    assert profile.id_number_encrypted != old_cipher
    assert profile.decrypt_id_number() == ID_A
    assert profile.id_number_hash == crypto.lookup_hash(ID_A, "new-lookup-key")
    assert services.find_by_id_number(ID_A) == people.resident_a
    assert AuditLog.objects.filter(action="pii_keys_rotated").exists()
