"""Every write about accounts: registration, sign-in, roles, personal data.

Each function validates, checks its policy, writes in one transaction,
records the audit log, and queues notifications on commit. Views, the API,
the admin and commands call these and nothing else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from wenming.accounts import audit, policies
from wenming.accounts.models import (
    ROLE_SITE_LEVELS,
    ApiToken,
    AuditAction,
    Profile,
    Role,
    RoleGrant,
    SmsCode,
    User,
)
from wenming.core.errors import Conflict, Invalid, NotAllowed, NotFound, TooMany
from wenming.lib import cn_id, crypto
from wenming.lib import phone as phones
from wenming.network.models import Site

# --- Validation helpers ---------------------------------------------------------


def clean_phone(raw: str) -> str:
    try:
        return phones.normalize(raw)
    except phones.InvalidPhone as exc:
        raise Invalid(str(exc), code="invalid_phone", field="phone") from exc


def clean_name(raw: str) -> str:
    name = (raw or "").strip()
    if not name:
        raise Invalid(_("请输入姓名。"), code="invalid_name", field="name")
    if len(name) > 50:
        raise Invalid(_("姓名不能超过50个字。"), code="invalid_name", field="name")
    if any(ch in name for ch in "<>\"'&;\\/") or any(ord(ch) < 32 for ch in name):
        raise Invalid(_("姓名中含有不允许的字符。"), code="invalid_name", field="name")
    return name


def clean_id_number(raw: str) -> cn_id.IdNumber:
    try:
        return cn_id.parse(raw)
    except cn_id.InvalidIdNumber as exc:
        raise Invalid(str(exc), code="invalid_id_number", field="id_number") from exc


# --- Registration ----------------------------------------------------------------


def register_resident(
    *,
    actor: User,
    site: Site,
    phone: str,
    name: str,
    id_number: str = "",
    address: str = "",
    password: str = "",
    request: HttpRequest | None = None,
) -> User:
    """代注册: staff register a resident at a station or point they cover.

    The phone and the ID number are each unique; a second registration of
    either, even at the same instant, is refused and leaves nothing behind.
    """
    number = clean_phone(phone)
    clean = clean_name(name)
    ident = clean_id_number(id_number) if (id_number or "").strip() else None
    if len(address) > 200:
        raise Invalid(_("地址不能超过200个字。"), code="invalid_address", field="address")
    if not policies.can_register_resident(actor, site):
        raise NotAllowed(_("您没有在该阵地代注册居民的权限。"))
    if password:
        from django.contrib.auth.password_validation import validate_password
        from django.core.exceptions import ValidationError

        try:
            validate_password(password)
        except ValidationError as exc:
            raise Invalid(" ".join(exc.messages), code="weak_password", field="password") from exc

    try:
        with transaction.atomic():
            if User.objects.filter(phone=number).exists():
                raise Conflict(_("该手机号已注册。"), code="phone_taken", field="phone")
            if ident and Profile.objects.filter(id_number_hash__in=crypto.lookup_hashes(ident.value)).exists():
                raise Conflict(_("该身份证号已登记。"), code="id_number_taken", field="id_number")
            user = User.objects.create_user(number, password or None, name=clean, home_site=site, registered_by=actor)
            profile = Profile(user=user, address=address.strip())
            if ident:
                profile.set_id_number(ident.value)
                profile.gender = ident.gender
                profile.birth_date = ident.birth_date
            profile.save()
            RoleGrant.objects.create(user=user, role=Role.RESIDENT, site=site, granted_by=actor)
            audit.record(AuditAction.USER_REGISTERED, actor=actor, target=user, site=site, request=request)
    except IntegrityError as exc:
        # Lost a race with a concurrent registration: the constraint decided.
        text = str(exc).lower()
        if "id_number_hash" in text:
            raise Conflict(_("该身份证号已登记。"), code="id_number_taken", field="id_number") from exc
        raise Conflict(_("该手机号已注册。"), code="phone_taken", field="phone") from exc
    return user


# --- Roles ---------------------------------------------------------------------------


def grant_role(
    *, actor: User, user: User, role: str, site: Site | None, request: HttpRequest | None = None
) -> RoleGrant:
    if role not in Role.values:
        raise Invalid(_("未知的角色。"), code="invalid_role", field="role")
    if role != Role.PLATFORM_ADMIN:
        if site is None:
            raise Invalid(_("请选择授权的阵地。"), code="invalid_site", field="site")
        if site.level not in ROLE_SITE_LEVELS[role]:
            raise Invalid(_("该角色不能授予在这一层级的阵地上。"), code="invalid_site_level", field="site")
    elif site is not None:
        raise Invalid(_("平台管理员不属于某个阵地。"), code="invalid_site", field="site")
    if not policies.can_view_person(actor, user):
        raise NotFound(_("未找到。"))
    if not policies.can_grant_role_to(actor, user, role, site):
        raise NotAllowed(_("您没有授予该角色的权限。"))
    try:
        with transaction.atomic():
            grant = RoleGrant.objects.create(user=user, role=role, site=site, granted_by=actor)
            if role in (Role.PLATFORM_ADMIN, Role.SUBCENTRE_ADMIN) and not user.is_staff:
                User.objects.filter(pk=user.pk).update(is_staff=True)
            audit.record(AuditAction.ROLE_GRANTED, actor=actor, target=user, site=site, request=request, role=role)
    except IntegrityError as exc:
        raise Conflict(_("该用户已拥有这一角色。"), code="role_exists") from exc
    policies.forget_grants(user)
    return grant


def ensure_role(
    *, actor: User | None, user: User, role: str, site: Site, request: HttpRequest | None = None
) -> RoleGrant:
    """The grant that follows from another act (enrolling a volunteer, naming a liaison or a leader).

    The caller has checked its own policy; this keeps the grant and its
    audit row together, in the caller's transaction. A grant already held
    is returned as it is.
    """
    grant, created = RoleGrant.objects.get_or_create(user=user, role=role, site=site, defaults={"granted_by": actor})
    if created:
        audit.record(AuditAction.ROLE_GRANTED, actor=actor, target=user, site=site, request=request, role=role)
    policies.forget_grants(user)
    return grant


def revoke_role(*, actor: User, grant: RoleGrant, request: HttpRequest | None = None) -> None:
    if not policies.can_revoke_grant(actor, grant):
        raise NotAllowed(_("您没有撤销该角色的权限。"))
    with transaction.atomic():
        user, role, site = grant.user, grant.role, grant.site
        grant.delete()
        audit.record(AuditAction.ROLE_REVOKED, actor=actor, target=user, site=site, request=request, role=role)
    policies.forget_grants(user)


# --- Sign-in --------------------------------------------------------------------------


def _fail_key(kind: str, value: str) -> str:
    return f"login-fail:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


def _lock_key(kind: str, value: str) -> str:
    return f"login-lock:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


def _check_not_locked(number: str, ip: str | None) -> None:
    keys = [_lock_key("phone", number)] + ([_lock_key("ip", ip)] if ip else [])
    if any(cache.get(k) for k in keys):
        minutes = max(1, settings.LOGIN_COOLOFF_SECONDS // 60)
        raise TooMany(
            _("登录失败次数过多，已暂停登录，请%(minutes)d分钟后再试。") % {"minutes": minutes},
            code="locked_out",
        )


def _count_failure(number: str, ip: str | None, request: HttpRequest | None, method: str) -> None:
    user = User.objects.filter(phone=number).first()
    audit.record(AuditAction.LOGIN_FAILED, actor=user, target=user, request=request, method=method)
    # The IP limit is wider than the phone limit: many people share an
    # office or a mobile carrier's address.
    for kind, value, limit in (
        ("phone", number, settings.LOGIN_MAX_FAILURES),
        ("ip", ip, settings.LOGIN_MAX_FAILURES * 10),
    ):
        if not value:
            continue
        key = _fail_key(kind, value)
        cache.add(key, 0, settings.LOGIN_COOLOFF_SECONDS)
        try:
            count = cache.incr(key)
        except ValueError:
            cache.set(key, 1, settings.LOGIN_COOLOFF_SECONDS)
            count = 1
        if count >= limit:
            cache.set(_lock_key(kind, value), 1, settings.LOGIN_COOLOFF_SECONDS)
            cache.delete(key)
            audit.record(AuditAction.LOGIN_LOCKED, actor=user, target=user, request=request, by=kind)


def _succeed(user: User, request: HttpRequest | None, method: str) -> User:
    cache.delete(_fail_key("phone", user.phone))
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    audit.record(AuditAction.LOGIN, actor=user, target=user, request=request, method=method)
    return user


def login_with_password(*, phone: str, password: str, request: HttpRequest | None = None) -> User:
    """Check a phone and password, with lock-out after repeated failures."""
    from django.contrib.auth import authenticate

    number = clean_phone(phone)
    ip = audit.client_ip(request)
    _check_not_locked(number, ip)
    user = authenticate(request, username=number, password=password or "")
    if user is None:
        _count_failure(number, ip, request, "password")
        raise NotAllowed(_("手机号或密码不正确。"), code="bad_credentials", status=401)
    assert isinstance(user, User)
    return _succeed(user, request, "password")


SMS_CODE_MAX_ATTEMPTS = 5


def _code_hash(phone: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class CodeSent:
    phone: str
    expires_in: int


def request_sms_code(*, phone: str, purpose: str = "login", request: HttpRequest | None = None) -> CodeSent:
    """Send a six-digit code, rate-limited per phone and per IP.

    The answer is the same whether or not the number has an account, so the
    endpoint does not tell strangers who is registered. For signing in, only
    registered numbers are sent a message; for registering, every number is
    (a registered one is told so, and its code signs in).
    """
    if purpose not in ("login", "register"):
        raise Invalid(_("未知的验证码用途。"), code="invalid_purpose")
    number = clean_phone(phone)
    ip = audit.client_ip(request)
    now = timezone.now()
    hour_ago = now - dt.timedelta(hours=1)
    with transaction.atomic():
        _serialise_per_phone(number)
        recent = SmsCode.objects.filter(phone=number, created_at__gte=hour_ago)
        last = recent.order_by("-created_at").first()
        if last and (now - last.created_at).total_seconds() < settings.SMS_CODE_MIN_INTERVAL_SECONDS:
            wait = settings.SMS_CODE_MIN_INTERVAL_SECONDS - int((now - last.created_at).total_seconds())
            raise TooMany(_("验证码发送太频繁，请%(seconds)d秒后再试。") % {"seconds": max(wait, 1)})
        if recent.count() >= settings.SMS_CODE_MAX_PER_PHONE_HOUR:
            raise TooMany(_("该手机号一小时内获取验证码次数过多，请稍后再试。"))
        if ip and SmsCode.objects.filter(ip=ip, created_at__gte=hour_ago).count() >= settings.SMS_CODE_MAX_PER_IP_HOUR:
            raise TooMany(_("当前网络获取验证码次数过多，请稍后再试。"))
        code = f"{secrets.randbelow(1_000_000):06d}"
        SmsCode.objects.create(
            phone=number,
            code_hash=_code_hash(number, code),
            expires_at=now + dt.timedelta(seconds=settings.SMS_CODE_TTL_SECONDS),
            ip=ip,
        )
        user = User.objects.filter(phone=number).first()
        minutes = settings.SMS_CODE_TTL_SECONDS // 60
        message = ""
        if user is not None and user.is_active:
            audit.record(AuditAction.SMS_CODE_SENT, actor=user, target=user, request=request)
            if purpose == "register":
                message = _("【文明实践】该手机号已注册，可直接用验证码%(code)s登录，%(minutes)d分钟内有效。") % {
                    "code": code,
                    "minutes": minutes,
                }
            else:
                message = _("【文明实践】您的登录验证码为%(code)s，%(minutes)d分钟内有效。请勿告诉他人。") % {
                    "code": code,
                    "minutes": minutes,
                }
        elif user is None and purpose == "register":
            audit.record(AuditAction.SMS_CODE_SENT, actor=None, request=request, purpose="register")
            message = _("【文明实践】您的注册验证码为%(code)s，%(minutes)d分钟内有效。请勿告诉他人。") % {
                "code": code,
                "minutes": minutes,
            }
        if message:
            from wenming.accounts.tasks import send_sms

            # The queue keeps its arguments; the code travels encrypted.
            sealed = crypto.encrypt(message)
            transaction.on_commit(lambda: send_sms.enqueue(number, sealed))
    return CodeSent(phone=number, expires_in=settings.SMS_CODE_TTL_SECONDS)


def _serialise_per_phone(number: str) -> None:
    """Make concurrent code requests for one phone take turns (inside a transaction).

    SQLite's IMMEDIATE transactions already serialise every writer; on
    PostgreSQL a transaction-scoped advisory lock does it per phone, so the
    count-then-insert of the rate limit cannot be raced.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"sms:{number}"])


def login_with_sms_code(*, phone: str, code: str, request: HttpRequest | None = None) -> User:
    number = clean_phone(phone)
    ip = audit.client_ip(request)
    _check_not_locked(number, ip)
    user = User.objects.filter(phone=number, is_active=True).first()
    if user is not None and _consume_code(number, code):
        return _succeed(user, request, "sms")
    _count_failure(number, ip, request, "sms")
    raise NotAllowed(_("验证码不正确或已过期。"), code="bad_code", status=401)


def _consume_code(number: str, code: str) -> bool:
    """Use the phone's latest live code if ``code`` matches it; every code signs in once."""
    code = (code or "").strip()
    now = timezone.now()
    entry = (
        SmsCode.objects.filter(phone=number, used_at__isnull=True, expires_at__gt=now).order_by("-created_at").first()
    )
    if entry is None:
        return False
    # Each guess first claims one of the code's five attempts in the
    # database; a guess that cannot claim one is not even compared.
    claimed = (
        SmsCode.objects.filter(pk=entry.pk, used_at__isnull=True, attempts__lt=SMS_CODE_MAX_ATTEMPTS).update(
            attempts=F("attempts") + 1
        )
        == 1
    )
    if not (claimed and len(code) == 6 and hmac.compare_digest(entry.code_hash, _code_hash(number, code))):
        return False
    # One code, one use: the conditional update decides between racers.
    return SmsCode.objects.filter(pk=entry.pk, used_at__isnull=True).update(used_at=now) == 1


def register_self(*, phone: str, code: str, name: str, site: Site, request: HttpRequest | None = None) -> User:
    """A resident registers with their phone, an SMS code and their residential station."""
    from wenming.network.models import SiteLevel

    number = clean_phone(phone)
    clean = clean_name(name)
    if site.level not in (SiteLevel.STATION, SiteLevel.POINT) or not site.is_active:
        raise Invalid(_("请选择您所在的居民区实践站或实践点。"), code="invalid_site", field="site")
    ip = audit.client_ip(request)
    _check_not_locked(number, ip)
    if User.objects.filter(phone=number).exists():
        raise Conflict(_("该手机号已注册，请直接登录。"), code="phone_taken", field="phone")
    # The code is spent in its own statements, outside the transaction below,
    # so that a failed guess stays counted.
    if not _consume_code(number, code):
        _count_failure(number, ip, request, "sms")
        raise NotAllowed(_("验证码不正确或已过期。"), code="bad_code", status=401, field="code")
    try:
        with transaction.atomic():
            user = User.objects.create_user(number, None, name=clean, home_site=site)
            Profile.objects.create(user=user)
            RoleGrant.objects.create(user=user, role=Role.RESIDENT, site=site)
            audit.record(
                AuditAction.USER_REGISTERED, actor=user, target=user, site=site, request=request, method="self"
            )
    except IntegrityError as exc:
        raise Conflict(_("该手机号已注册，请直接登录。"), code="phone_taken", field="phone") from exc
    return user


def logout(*, request: HttpRequest) -> None:
    """End the session, recording who left."""
    from django.contrib.auth import logout as end_session

    user = request.user if request.user.is_authenticated else None
    if isinstance(user, User):
        audit.record(AuditAction.LOGOUT, actor=user, target=user, request=request)
    end_session(request)


# --- Accounts -------------------------------------------------------------------------------------


def update_account(
    *,
    actor: User,
    person: User,
    name: str | None = None,
    is_active: bool | None = None,
    request: HttpRequest | None = None,
) -> User:
    """Rename or (de)activate an account; deactivating also ends its API tokens."""
    if not policies.can_manage_account(actor, person):
        raise NotAllowed(_("您没有管理该账号的权限。"))
    changes: dict[str, object] = {}
    if name is not None and name != person.name:
        changes["name"] = clean_name(name)
    if is_active is not None and is_active != person.is_active:
        changes["is_active"] = is_active
    if not changes:
        return person
    with transaction.atomic():
        User.objects.filter(pk=person.pk).update(**changes)
        for key, value in changes.items():
            setattr(person, key, value)
        if changes.get("is_active") is False:
            ApiToken.objects.filter(user=person).delete()
        audit.record(
            AuditAction.ACCOUNT_UPDATED,
            actor=actor,
            target=person,
            site=person.home_site,
            request=request,
            fields=sorted(changes),
        )
    return person


def set_password(*, actor: User, person: User, password: str | None, request: HttpRequest | None = None) -> User:
    """Set (or, with None, disable) a password; every API token of the account ends."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    if not policies.can_manage_account(actor, person) and actor.pk != person.pk:
        raise NotAllowed(_("您没有管理该账号的权限。"))
    if password is not None:
        try:
            validate_password(password, person)
        except ValidationError as exc:
            raise Invalid(" ".join(exc.messages), code="weak_password", field="password") from exc
    with transaction.atomic():
        if password is None:
            person.set_unusable_password()
        else:
            person.set_password(password)
        User.objects.filter(pk=person.pk).update(password=person.password)
        ApiToken.objects.filter(user=person).delete()
        audit.record(AuditAction.PASSWORD_SET, actor=actor, target=person, site=person.home_site, request=request)
    return person


# --- API tokens -------------------------------------------------------------------------


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_api_token(*, user: User, request: HttpRequest | None = None) -> tuple[str, ApiToken]:
    raw = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        digest=_digest(raw),
        expires_at=timezone.now() + dt.timedelta(days=settings.API_TOKEN_TTL_DAYS),
    )
    audit.record(AuditAction.TOKEN_ISSUED, actor=user, target=user, request=request)
    return raw, token


def user_for_token(raw: str) -> User | None:
    if not raw or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=_digest(raw), expires_at__gt=timezone.now(), user__is_active=True)
        .first()
    )
    return token.user if token else None


# --- Exports ---------------------------------------------------------------------------------


def export_people(
    *, actor: User, people: QuerySet[User], filters: dict[str, str], request: HttpRequest | None = None
) -> bytes:
    """The people list as xlsx, masked as on screen, at most MAX_ROWS rows; audited."""
    from wenming.accounts.exports import MAX_ROWS, people_workbook

    if not policies.is_staff_anywhere(actor):
        raise NotAllowed(_("您没有导出人员名册的权限。"))
    visible = people.filter(policies.people_visible_to(actor))
    count = visible.count()
    if count > MAX_ROWS:
        raise Invalid(_("一次最多导出%(limit)d人，请先筛选。") % {"limit": MAX_ROWS}, code="export_too_large")
    data = people_workbook(visible)
    audit.record(AuditAction.EXPORT, actor=actor, request=request, what="people", rows=count, filters=filters)
    return data


# --- Personal data ---------------------------------------------------------------------------


def reveal_id_number(*, actor: User, person: User, request: HttpRequest | None = None) -> str:
    """The whole ID number, for someone allowed to see it; always audited."""
    if not policies.can_reveal_id_number(actor, person):
        raise NotAllowed(_("您没有查看该居民完整身份证号的权限。"))
    profile = Profile.objects.filter(user=person).first()
    if profile is None or not profile.id_number_encrypted:
        raise Invalid(_("该居民未登记身份证号。"), code="no_id_number")
    value = profile.decrypt_id_number()
    audit.record(
        AuditAction.PII_REVEALED, actor=actor, target=person, site=person.home_site, request=request, field="id_number"
    )
    return value


def set_id_number(*, actor: User, person: User, id_number: str, request: HttpRequest | None = None) -> Profile:
    ident = clean_id_number(id_number)
    if not policies.can_edit_person(actor, person):
        raise NotAllowed(_("您没有修改该居民信息的权限。"))
    try:
        with transaction.atomic():
            profile, _created = Profile.objects.select_for_update().get_or_create(user=person)
            taken = Profile.objects.filter(id_number_hash__in=crypto.lookup_hashes(ident.value)).exclude(pk=profile.pk)
            if taken.exists():
                raise Conflict(_("该身份证号已登记。"), code="id_number_taken", field="id_number")
            profile.set_id_number(ident.value)
            profile.gender = ident.gender
            profile.birth_date = ident.birth_date
            profile.save()
    except IntegrityError as exc:
        raise Conflict(_("该身份证号已登记。"), code="id_number_taken", field="id_number") from exc
    return profile


def find_by_id_number(id_number: str) -> User | None:
    ident = clean_id_number(id_number)
    profile = (
        Profile.objects.select_related("user").filter(id_number_hash__in=crypto.lookup_hashes(ident.value)).first()
    )
    return profile.user if profile else None


def rotate_pii_keys(*, actor: User | None = None, batch: int = 500) -> int:
    """Re-encrypt every ID number and re-hash it under the primary keys."""
    done = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            rows = list(
                Profile.objects.select_for_update()
                .filter(pk__gt=last_pk)
                .exclude(id_number_encrypted="")
                .order_by("pk")[:batch]
            )
            if not rows:
                break
            for profile in rows:
                profile.set_id_number(profile.decrypt_id_number())
            Profile.objects.bulk_update(rows, ["id_number_encrypted", "id_number_hash", "id_number_masked"])
            last_pk = rows[-1].pk
            done += len(rows)
    audit.record(AuditAction.PII_KEYS_ROTATED, actor=actor, count=done)
    return done
