"""People, their roles on the network, their personal data and the audit log."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wenming.lib import crypto
from wenming.lib.masking import mask_id_number, mask_phone
from wenming.network.models import Site, SiteLevel


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, phone: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(phone=phone, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, phone: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("name", "管理员")
        return self.create_user(phone, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with a mainland mobile number."""

    phone = models.CharField(_("手机号"), max_length=11, unique=True)
    name = models.CharField(_("姓名"), max_length=50)
    is_active = models.BooleanField(_("有效"), default=True)
    is_staff = models.BooleanField(_("可进入管理后台"), default=False)
    date_joined = models.DateTimeField(_("注册时间"), default=timezone.now)
    home_site = models.ForeignKey(
        Site,
        verbose_name=_("所属阵地"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="residents",
        help_text=_("居民所在的居民区站或实践点；决定哪些工作人员能看到其个人信息。"),
    )
    registered_by = models.ForeignKey(
        "self",
        verbose_name=_("代注册人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["name"]

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(phone__regex=r"^1[3-9][0-9]{9}$"), name="user_phone_mainland_mobile"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.masked_phone}）"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name


class Gender(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class Profile(models.Model):
    """A real-name profile (实名信息). The ID number is never stored in clear."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    id_number_encrypted = models.TextField(_("身份证号（密文）"), blank=True)
    id_number_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    id_number_masked = models.CharField(_("身份证号"), max_length=18, blank=True)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    address = models.CharField(_("居住地址"), max_length=200, blank=True)
    verified_at = models.DateTimeField(_("实名核验时间"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("实名信息")
        verbose_name_plural = _("实名信息")

    def __str__(self) -> str:
        return f"{self.user.name} {self.id_number_masked}"

    def set_id_number(self, normalised: str) -> None:
        self.id_number_encrypted = crypto.encrypt(normalised)
        self.id_number_hash = crypto.lookup_hash(normalised)
        self.id_number_masked = mask_id_number(normalised)

    def decrypt_id_number(self) -> str:
        """Plain value. Callers outside ``services.reveal_id_number`` are a defect."""
        if not self.id_number_encrypted:
            return ""
        return crypto.decrypt(self.id_number_encrypted)


class Role(models.TextChoices):
    PLATFORM_ADMIN = "platform_admin", _("平台管理员")
    SUBCENTRE_ADMIN = "subcentre_admin", _("分中心管理员")
    STATION_MANAGER = "station_manager", _("站长")
    TEAM_LEADER = "team_leader", _("队长")
    VOLUNTEER = "volunteer", _("志愿者")
    RESIDENT = "resident", _("居民")
    UNIT_LIAISON = "unit_liaison", _("单位联络员")


# The site levels on which each role may be granted. A platform admin's grant
# has no site: it covers every district of the deployment.
ROLE_SITE_LEVELS: dict[str, set[int]] = {
    Role.PLATFORM_ADMIN: set(),
    Role.SUBCENTRE_ADMIN: {SiteLevel.CENTRE, SiteLevel.SUBCENTRE},
    Role.STATION_MANAGER: {SiteLevel.STATION, SiteLevel.POINT},
    Role.TEAM_LEADER: {SiteLevel.SUBCENTRE, SiteLevel.STATION, SiteLevel.POINT},
    Role.VOLUNTEER: {SiteLevel.CENTRE, SiteLevel.SUBCENTRE, SiteLevel.STATION, SiteLevel.POINT},
    Role.RESIDENT: {SiteLevel.STATION, SiteLevel.POINT},
    Role.UNIT_LIAISON: {SiteLevel.CENTRE, SiteLevel.SUBCENTRE, SiteLevel.STATION, SiteLevel.POINT},
}
STAFF_ROLES = {Role.PLATFORM_ADMIN, Role.SUBCENTRE_ADMIN, Role.STATION_MANAGER}


class RoleGrant(models.Model):
    """A role held on a site; it covers the site's whole subtree."""

    user = models.ForeignKey(User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    site = models.ForeignKey(
        Site, verbose_name=_("阵地"), null=True, blank=True, on_delete=models.PROTECT, related_name="role_grants"
    )
    granted_by = models.ForeignKey(
        User, verbose_name=_("授权人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted_at = models.DateTimeField(_("授权时间"), default=timezone.now)

    class Meta:
        verbose_name = _("角色授权")
        verbose_name_plural = _("角色授权")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "site"], name="rolegrant_unique"),
            models.UniqueConstraint(
                fields=["user"], condition=Q(role="platform_admin"), name="rolegrant_one_platform_admin"
            ),
            models.CheckConstraint(
                condition=(
                    Q(role="platform_admin", site__isnull=True) | (~Q(role="platform_admin") & Q(site__isnull=False))
                ),
                name="rolegrant_site_matches_role",
            ),
            models.CheckConstraint(condition=Q(role__in=[r.value for r in Role]), name="rolegrant_role_known"),
        ]

    def __str__(self) -> str:
        where = self.site.name if self.site_id and self.site else _("全平台")
        return f"{self.user.name} · {self.get_role_display()} · {where}"


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only its SHA-256 digest is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")

    def __str__(self) -> str:
        return f"{self.user.name} {self.created_at:%Y-%m-%d}"


class SmsCode(models.Model):
    """A one-time sign-in code sent by SMS. Only its keyed hash is stored."""

    phone = models.CharField(max_length=11, db_index=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        indexes = [models.Index(fields=["phone", "created_at"]), models.Index(fields=["ip", "created_at"])]

    def __str__(self) -> str:
        return f"{self.phone[:3]}****{self.phone[-4:]} {self.created_at:%Y-%m-%d %H:%M}"


class AuditAction(models.TextChoices):
    LOGIN = "login", _("登录")
    LOGIN_FAILED = "login_failed", _("登录失败")
    LOGIN_LOCKED = "login_locked", _("登录被锁定")
    LOGOUT = "logout", _("退出登录")
    SMS_CODE_SENT = "sms_code_sent", _("发送验证码")
    TOKEN_ISSUED = "token_issued", _("签发接口令牌")
    ROLE_GRANTED = "role_granted", _("授予角色")
    ROLE_REVOKED = "role_revoked", _("撤销角色")
    USER_REGISTERED = "user_registered", _("代注册居民")
    PII_REVEALED = "pii_revealed", _("查看完整个人信息")
    PII_KEYS_ROTATED = "pii_keys_rotated", _("轮换个人信息密钥")
    EXPORT = "export", _("导出数据")
    LEDGER_ENTRY = "ledger_entry", _("记录服务时长")
    IMPORT = "import", _("批量导入")
    ACCOUNT_UPDATED = "account_updated", _("修改账号")
    PASSWORD_SET = "password_set", _("重设密码")


class AuditLog(models.Model):
    """Append-only: the database refuses UPDATE and DELETE on this table."""

    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    action = models.CharField(_("操作"), max_length=30, choices=AuditAction.choices)
    target_type = models.CharField(_("对象类型"), max_length=50, blank=True)
    target_id = models.CharField(_("对象编号"), max_length=50, blank=True)
    site = models.ForeignKey(
        Site,
        verbose_name=_("阵地"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    ip = models.GenericIPAddressField(_("IP地址"), null=True, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["action", "created_at"]), models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.get_action_display()}"
