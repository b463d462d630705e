"""The accounts API: signing in, the current user, people and role grants.

This module also holds the API's authentication, which every router uses:
a bearer token from ``POST /api/auth/token``, or the Django session of a
signed-in page (unsafe methods then need the CSRF token, as a form would).

Handlers parse, look the objects up, ask the policies what the caller may
see, call a service, and shape the answer. Writes happen only in
``wenming.accounts.services``.
"""

import datetime as dt
from typing import Annotated, Any, Literal, Self

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, Router, Schema
from ninja.errors import AuthenticationError
from ninja.params import functions as params
from ninja.responses import Status
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf
from pydantic import model_validator

from wenming.accounts import policies, services
from wenming.accounts.models import Profile, Role, RoleGrant, User
from wenming.accounts.selectors import search_people
from wenming.core.api_errors import Id, In, PageNumber, PageSize, SafeText, documented, lazy_str
from wenming.core.errors import NotAllowed
from wenming.network.models import Site

# --- Authentication -------------------------------------------------------------------------------


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>``. A token that is sent but not valid is refused, never ignored."""

    def authenticate(self, request: HttpRequest, token: str) -> User:
        user = services.user_for_token(token)
        if user is None:
            raise NotAllowed(_("登录已失效，请重新登录。"), code="invalid_token", status=401)
        return user


class SessionCookie(APIKeyCookie):
    """The Django session of a signed-in page. Unsafe methods must carry the CSRF token."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        # ninja checks CSRF here, before knowing whether anyone is signed in,
        # so an anonymous POST would be a 403 instead of a 401. The check
        # moves to authenticate(), for signed-in sessions only.
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if not key or user is None or not user.is_authenticated:
            return None
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request) is not None:
            raise NotAllowed(_("页面已过期，请刷新后重试。"), code="csrf_failed")
        return user


def anonymous(request: HttpRequest) -> AnonymousUser:
    """Last in the chain of an operation open to everyone: nobody signed in."""
    return AnonymousUser()


SIGNED_IN = [BearerToken(), SessionCookie()]
OPTIONAL = [*SIGNED_IN, anonymous]


def current_user(request: HttpRequest) -> User | AnonymousUser:
    user = getattr(request, "auth", None)
    return user if isinstance(user, User) else AnonymousUser()


def signed_in(request: HttpRequest) -> User:
    user = getattr(request, "auth", None)
    if not isinstance(user, User):
        raise AuthenticationError()
    return user


# --- Schemas --------------------------------------------------------------------------------------

Phone = Annotated[
    SafeText, Field(max_length=32, description=lazy_str(gettext_lazy("中国大陆手机号")), examples=["13800000006"])
]


class SiteRef(Schema):
    id: int
    name: str


class PersonRef(Schema):
    id: int
    name: str


class RoleOut(Schema):
    role: str = Field(description=lazy_str(gettext_lazy("角色代码")), examples=[Role.STATION_MANAGER.value])
    role_label: str
    site: SiteRef | None = Field(description=lazy_str(gettext_lazy("授权的阵地；平台管理员为 null")))


class MeOut(Schema):
    id: int
    name: str
    phone: str = Field(description=lazy_str(gettext_lazy("手机号（打码）")))
    home_site: SiteRef | None
    is_staff: bool = Field(
        description=lazy_str(gettext_lazy("是否在某处担任工作人员（平台管理员、分中心管理员、站长）"))
    )
    roles: list[RoleOut]


class TokenIn(In):
    phone: Phone
    password: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    sms_code: Annotated[SafeText, Field(max_length=16, description=lazy_str(gettext_lazy("短信验证码")))] | None = None

    @model_validator(mode="after")
    def one_secret(self) -> Self:
        if (self.password is None) == (self.sms_code is None):
            raise ValueError(_("请提供密码或短信验证码，二者选一。"))
        return self


class TokenOut(Schema):
    token: str = Field(description=lazy_str(gettext_lazy("在请求头中发送：Authorization: Bearer <token>")))
    expires_at: dt.datetime = Field(description=lazy_str(gettext_lazy("过期时间（ISO 8601）")))
    user: PersonRef


class SmsCodeIn(In):
    phone: Phone
    purpose: Literal["login", "register"] = Field(
        "login", description=lazy_str(gettext_lazy("用途：login 登录，register 注册"))
    )


class SignupIn(In):
    phone: Phone
    sms_code: Annotated[SafeText, Field(max_length=16, description=lazy_str(gettext_lazy("短信验证码")))]
    name: Annotated[SafeText, Field(max_length=100, description=lazy_str(gettext_lazy("姓名")))]
    site_id: Id = Field(description=lazy_str(gettext_lazy("所在的居民区实践站或实践点")))


class SmsCodeOut(Schema):
    expires_in: int = Field(description=lazy_str(gettext_lazy("验证码有效秒数")))


class PersonOut(Schema):
    id: int
    name: str
    phone: str = Field(description=lazy_str(gettext_lazy("手机号（打码）")))
    id_number: str = Field(description=lazy_str(gettext_lazy("身份证号（打码）；未登记为空")))
    site: SiteRef | None = Field(description=lazy_str(gettext_lazy("所属阵地")))


class PersonPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[PersonOut]


class RegisterIn(In):
    phone: Phone
    name: Annotated[SafeText, Field(max_length=100, description=lazy_str(gettext_lazy("姓名")))]
    site_id: Id = Field(description=lazy_str(gettext_lazy("居民所在的实践站或实践点")))
    id_number: Annotated[SafeText, Field(max_length=32, description=lazy_str(gettext_lazy("身份证号（可选）")))] = ""
    address: Annotated[SafeText, Field(max_length=400, description=lazy_str(gettext_lazy("居住地址（可选）")))] = ""


class IdNumberOut(Schema):
    id: int
    id_number: str = Field(description=lazy_str(gettext_lazy("完整身份证号；每次查看都记入审计日志")))


class RoleGrantIn(In):
    user_id: Id
    role: Annotated[
        SafeText,
        Field(
            max_length=32, description=lazy_str(gettext_lazy("角色代码")), json_schema_extra={"enum": list(Role.values)}
        ),
    ]
    site_id: Id | None = Field(None, description=lazy_str(gettext_lazy("授权的阵地；平台管理员为 null")))


class RoleGrantOut(Schema):
    id: int
    user: PersonRef
    role: str
    role_label: str
    site: SiteRef | None
    granted_at: dt.datetime


def site_ref(site: Site | None) -> SiteRef | None:
    return SiteRef(id=site.pk, name=site.name) if site is not None else None


def person_out(person: User) -> PersonOut:
    try:
        masked_id = person.profile.id_number_masked
    except Profile.DoesNotExist:
        masked_id = ""
    return PersonOut(
        id=person.pk, name=person.name, phone=person.masked_phone, id_number=masked_id, site=site_ref(person.home_site)
    )


# --- Operations -----------------------------------------------------------------------------------

router = Router()

AUTH_TAG = gettext_lazy("登录")
PEOPLE_TAG = gettext_lazy("居民与用户")
ROLES_TAG = gettext_lazy("角色")


@router.post(
    "/auth/token",
    auth=None,
    **documented(
        gettext_lazy("换取接口令牌"),
        gettext_lazy("用手机号加密码，或手机号加短信验证码登录，换取接口令牌。连续失败多次后账号会被临时锁定。"),
        tag=AUTH_TAG,
        success={200: TokenOut},
        errors={
            400: ("invalid_phone", "malformed_json"),
            401: ("bad_credentials", "bad_code"),
            415: ("unsupported_media_type",),
            422: ("invalid",),
            429: ("locked_out",),
        },
    ),
)
def issue_token(request: HttpRequest, response: HttpResponse, payload: TokenIn) -> TokenOut:
    if payload.password is not None:
        user = services.login_with_password(phone=payload.phone, password=payload.password, request=request)
    else:
        user = services.login_with_sms_code(phone=payload.phone, code=payload.sms_code or "", request=request)
    raw, token = services.issue_api_token(user=user, request=request)
    response["Cache-Control"] = "no-store"
    return TokenOut(token=raw, expires_at=token.expires_at, user=PersonRef(id=user.pk, name=user.name))


@router.post(
    "/auth/sms-code",
    auth=None,
    **documented(
        gettext_lazy("发送验证码"),
        gettext_lazy(
            "向手机号发送六位验证码。无论该号码是否注册，回答都相同。登录（login）时只有已注册的号码会收到短信；"
            "注册（register）时每个号码都会收到，已注册的号码会被告知并可用该验证码登录。"
            "同一号码、同一网络的发送次数有限制。"
        ),
        tag=AUTH_TAG,
        success={202: SmsCodeOut},
        errors={
            400: ("invalid_phone", "malformed_json"),
            415: ("unsupported_media_type",),
            422: ("invalid",),
            429: ("rate_limited",),
        },
    ),
)
def send_sms_code(request: HttpRequest, payload: SmsCodeIn) -> Status[SmsCodeOut]:
    sent = services.request_sms_code(phone=payload.phone, purpose=payload.purpose, request=request)
    return Status(202, SmsCodeOut(expires_in=sent.expires_in))


@router.post(
    "/auth/register",
    auth=None,
    **documented(
        gettext_lazy("居民自行注册"),
        gettext_lazy(
            "先用 purpose=register 获取验证码，再提交手机号、验证码、姓名和所在的居民区实践站或实践点；"
            "成功后返回接口令牌。"
        ),
        tag=AUTH_TAG,
        success={201: TokenOut},
        errors={
            400: ("invalid_phone", "invalid_name", "invalid_site", "malformed_json"),
            401: ("bad_code",),
            404: ("not_found",),
            409: ("phone_taken",),
            415: ("unsupported_media_type",),
            422: ("invalid",),
            429: ("locked_out",),
        },
    ),
)
def register_self(request: HttpRequest, response: HttpResponse, payload: SignupIn) -> Status[TokenOut]:
    site = get_object_or_404(Site, pk=payload.site_id, is_active=True)
    user = services.register_self(
        phone=payload.phone, code=payload.sms_code, name=payload.name, site=site, request=request
    )
    raw, token = services.issue_api_token(user=user, request=request)
    response["Cache-Control"] = "no-store"
    return Status(201, TokenOut(token=raw, expires_at=token.expires_at, user=PersonRef(id=user.pk, name=user.name)))


@router.get(
    "/me",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("当前用户"),
        gettext_lazy("当前登录的用户，及其在各阵地上的角色。"),
        tag=AUTH_TAG,
        success={200: MeOut},
        errors={401: ("unauthorized", "invalid_token")},
    ),
)
def me(request: HttpRequest) -> MeOut:
    user = signed_in(request)
    grants = RoleGrant.objects.filter(user=user).select_related("site").order_by("id")
    return MeOut(
        id=user.pk,
        name=user.name,
        phone=user.masked_phone,
        home_site=site_ref(user.home_site),
        is_staff=policies.is_staff_anywhere(user),
        roles=[RoleOut(role=g.role, role_label=g.get_role_display(), site=site_ref(g.site)) for g in grants],
    )


@router.post(
    "/users",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("代注册居民"),
        gettext_lazy(
            "工作人员在自己负责的实践站或实践点为居民注册账号。手机号和身份证号各只能登记一次，"
            "同时提交的重复注册也只会成功一个。返回的手机号和身份证号已打码。"
        ),
        tag=PEOPLE_TAG,
        success={201: PersonOut},
        errors={
            400: ("invalid_phone", "invalid_id_number", "invalid_name", "invalid_address", "malformed_json"),
            401: ("unauthorized", "invalid_token"),
            403: ("forbidden", "csrf_failed"),
            404: ("not_found",),
            409: ("phone_taken", "id_number_taken"),
            415: ("unsupported_media_type",),
            422: ("invalid",),
        },
    ),
)
def register_resident(request: HttpRequest, payload: RegisterIn) -> Status[PersonOut]:
    actor = signed_in(request)
    site = get_object_or_404(Site, pk=payload.site_id)
    person = services.register_resident(
        actor=actor,
        site=site,
        phone=payload.phone,
        name=payload.name,
        id_number=payload.id_number,
        address=payload.address,
        request=request,
    )
    return Status(201, person_out(person))


@router.get(
    "/users",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("列出居民与用户"),
        gettext_lazy(
            "调用者可以查看的人：工作人员看到自己负责范围内的人，其他用户只看到自己。"
            "可按阵地（含下级）和关键词（姓名或手机号）筛选。手机号和身份证号已打码。"
        ),
        tag=PEOPLE_TAG,
        success={200: PersonPage},
        errors={401: ("unauthorized", "invalid_token"), 422: ("invalid",)},
    ),
)
def list_people(
    request: HttpRequest,
    site: Annotated[Id | None, params.Query(None, description=lazy_str(gettext_lazy("只看该阵地及其下级的人")))] = None,
    q: Annotated[
        SafeText | None, params.Query(None, max_length=50, description=lazy_str(gettext_lazy("姓名或手机号中的文字")))
    ] = None,
    page: PageNumber = 1,
    page_size: PageSize = 20,
) -> PersonPage:
    actor = signed_in(request)
    people = User.objects.filter(policies.people_visible_to(actor)).select_related("home_site", "profile")
    if site is not None:
        root = Site.objects.filter(pk=site).first()
        people = people.filter(home_site__path__startswith=root.path) if root else people.none()
    if q:
        people = search_people(people, q)
    count = people.count()
    start = (page - 1) * page_size
    rows = list(people.order_by("id")[start : start + page_size]) if start < count else []
    return PersonPage(count=count, page=page, page_size=page_size, results=[person_out(p) for p in rows])


def _visible_person(actor: User, user_id: int) -> User:
    """The person, or 404 whether they do not exist or the caller may not see them."""
    person = get_object_or_404(User.objects.select_related("home_site", "profile"), pk=user_id)
    if not policies.can_view_person(actor, person):
        raise Http404
    return person


@router.get(
    "/users/{user_id}",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("查看一个人"),
        gettext_lazy("调用者可以查看的人的信息（打码）。看不到的人与不存在的人一样回答 404。"),
        tag=PEOPLE_TAG,
        success={200: PersonOut},
        errors={401: ("unauthorized", "invalid_token"), 404: ("not_found",), 422: ("invalid",)},
    ),
)
def get_person(request: HttpRequest, user_id: Id) -> PersonOut:
    return person_out(_visible_person(signed_in(request), user_id))


@router.post(
    "/users/{user_id}/reveal-id-number",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("查看完整身份证号"),
        gettext_lazy("返回完整身份证号，并记入审计日志。看不到的人与不存在的人一样回答 404。"),
        tag=PEOPLE_TAG,
        success={200: IdNumberOut},
        errors={
            400: ("no_id_number",),
            401: ("unauthorized", "invalid_token"),
            403: ("forbidden", "csrf_failed"),
            404: ("not_found",),
            422: ("invalid",),
        },
    ),
)
def reveal_id_number(request: HttpRequest, response: HttpResponse, user_id: Id) -> IdNumberOut:
    actor = signed_in(request)
    person = _visible_person(actor, user_id)
    value = services.reveal_id_number(actor=actor, person=person, request=request)
    response["Cache-Control"] = "no-store"
    return IdNumberOut(id=person.pk, id_number=value)


@router.post(
    "/role-grants",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("授予角色"),
        gettext_lazy(
            "在某个阵地上授予用户一个角色，该角色覆盖这个阵地及其全部下级。"
            "只能授予自己有权授予的角色，且只能在自己负责的范围内；平台管理员不属于任何阵地（site_id 为 null）。"
        ),
        tag=ROLES_TAG,
        success={201: RoleGrantOut},
        errors={
            400: ("invalid_role", "invalid_site", "invalid_site_level", "malformed_json"),
            401: ("unauthorized", "invalid_token"),
            403: ("forbidden", "csrf_failed"),
            404: ("not_found",),
            409: ("role_exists",),
            415: ("unsupported_media_type",),
            422: ("invalid",),
        },
    ),
)
def grant_role(request: HttpRequest, payload: RoleGrantIn) -> Status[RoleGrantOut]:
    actor = signed_in(request)
    user = get_object_or_404(User, pk=payload.user_id)
    site = get_object_or_404(Site, pk=payload.site_id) if payload.site_id is not None else None
    grant = services.grant_role(actor=actor, user=user, role=payload.role, site=site, request=request)
    return Status(
        201,
        RoleGrantOut(
            id=grant.pk,
            user=PersonRef(id=user.pk, name=user.name),
            role=grant.role,
            role_label=grant.get_role_display(),
            site=site_ref(site),
            granted_at=grant.granted_at,
        ),
    )
