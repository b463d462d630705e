"""Sign-in pages and the staff people pages (居民名册, 代注册, 查看身份证号).

Views parse and render; ``wenming.accounts.services`` does every write and
``wenming.accounts.policies`` every decision. A person a staff member may
not see does not exist for them: 404, never 403.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from wenming.accounts import policies, services
from wenming.accounts.forms import (
    PasswordLoginForm,
    PeopleSearchForm,
    RegisterResidentForm,
    SignupForm,
    SmsLoginForm,
    add_domain_error,
)
from wenming.accounts.models import Profile, User
from wenming.accounts.selectors import search_people
from wenming.core.errors import DomainError
from wenming.network.models import Site

PEOPLE_PAGE_SIZE = 20
SMS_BACKEND_PATH = "wenming.accounts.backends.PhonePasswordBackend"

# --- Sign-in ----------------------------------------------------------------------


def _safe_next(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _after_login(request: HttpRequest, user: User, next_url: str) -> HttpResponseRedirect:
    if next_url:
        return HttpResponseRedirect(next_url)
    if policies.is_staff_anywhere(user):
        return HttpResponseRedirect(resolve_url(settings.LOGIN_REDIRECT_URL))
    return HttpResponseRedirect(reverse("core:home"))


@sensitive_post_parameters("password", "code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    """Two tabs: phone and password, or phone and a code sent by SMS."""
    method = request.POST.get("method") or request.GET.get("tab") or "password"
    if method not in ("password", "sms"):
        method = "password"
    next_url = _safe_next(request)
    password_form = PasswordLoginForm()
    sms_form = SmsLoginForm()
    error = ""
    code_sent = False

    if request.method == "POST" and method == "password":
        password_form = PasswordLoginForm(request.POST)
        if password_form.is_valid():
            try:
                user = services.login_with_password(
                    phone=password_form.cleaned_data["phone"],
                    password=password_form.cleaned_data["password"],
                    request=request,
                )
            except DomainError as exc:
                error = exc.message
            else:
                auth_login(request, user)
                return _after_login(request, user, next_url)
    elif request.method == "POST":
        sms_form = SmsLoginForm(request.POST)
        if sms_form.is_valid():
            phone = sms_form.cleaned_data["phone"]
            if request.POST.get("action") == "send_code":
                try:
                    sent = services.request_sms_code(phone=phone, request=request)
                except DomainError as exc:
                    add_domain_error(sms_form, exc)
                else:
                    code_sent = True
                    messages.info(
                        request,
                        _("验证码已发送，%(minutes)d分钟内有效。若该号码已注册，稍后将收到短信。")
                        % {"minutes": max(1, sent.expires_in // 60)},
                    )
            elif not sms_form.cleaned_data.get("code"):
                sms_form.add_error("code", _("请输入短信验证码。"))
            else:
                try:
                    user = services.login_with_sms_code(
                        phone=phone, code=sms_form.cleaned_data["code"], request=request
                    )
                except DomainError as exc:
                    error = exc.message
                else:
                    user.backend = SMS_BACKEND_PATH
                    auth_login(request, user)
                    return _after_login(request, user, next_url)

    return render(
        request,
        "accounts/login.html",
        {
            "method": method,
            "password_form": password_form,
            "sms_form": sms_form,
            "error": error,
            "code_sent": code_sent,
            "next": next_url,
        },
    )


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """A resident registers with their phone: get a code, then name and station."""
    near = None
    site_param = request.GET.get("site", "")
    if site_param.isascii() and site_param.isdigit() and len(site_param) < 19:
        near = Site.objects.filter(pk=int(site_param), is_active=True).first()
    form = SignupForm(request.POST or None, near=near, initial={"site": near.pk if near else None})
    code_sent = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if request.POST.get("action") == "send_code":
            try:
                sent = services.request_sms_code(phone=data["phone"], purpose="register", request=request)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                code_sent = True
                messages.info(
                    request, _("验证码已发送，%(minutes)d分钟内有效。") % {"minutes": max(1, sent.expires_in // 60)}
                )
        else:
            for key, message in (
                ("code", _("请输入短信验证码。")),
                ("name", _("请输入姓名。")),
                ("site", _("请选择您所在的居民区实践站或实践点。")),
            ):
                if not data.get(key):
                    form.add_error(key, message)
            if form.is_valid():
                try:
                    user = services.register_self(
                        phone=data["phone"], code=data["code"], name=data["name"], site=data["site"], request=request
                    )
                except DomainError as exc:
                    add_domain_error(form, exc)
                else:
                    user.backend = SMS_BACKEND_PATH
                    auth_login(request, user)
                    messages.success(request, _("注册成功，欢迎您！"))
                    return redirect("network:site_detail", pk=user.home_site_id)
    return render(request, "accounts/signup.html", {"form": form, "code_sent": code_sent, "near": near})


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    services.logout(request=request)
    messages.info(request, _("您已退出登录。"))
    return redirect("core:home")


# --- Staff: people -------------------------------------------------------------------


def _staff(request: HttpRequest) -> User:
    """The signed-in staff member, or the 403 page."""
    user = request.user
    if not isinstance(user, User) or not policies.is_staff_anywhere(user):
        raise PermissionDenied(_("此页面仅供阵地工作人员使用。"))
    return user


def _visible_person(actor: User, pk: int) -> User:
    person = get_object_or_404(User.objects.select_related("home_site", "registered_by"), pk=pk)
    if not policies.can_view_person(actor, person):
        raise Http404
    return person


def _people(actor: User, request: HttpRequest) -> tuple[QuerySet[User], PeopleSearchForm, str]:
    form = PeopleSearchForm(request.GET)
    q = form.cleaned_data["q"] if form.is_valid() else ""
    people = (
        User.objects.filter(policies.people_visible_to(actor))
        .select_related("home_site", "profile")
        .defer("password", "profile__id_number_encrypted", "profile__id_number_hash")
        .order_by("home_site__path", "name", "id")
    )
    return search_people(people, q), form, q


@login_required
@require_http_methods(["GET"])
def people_list(request: HttpRequest) -> HttpResponse:
    actor = _staff(request)
    people, form, q = _people(actor, request)
    page = Paginator(people, PEOPLE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "accounts/people_list.html", {"page": page, "form": form, "q": q})


@login_required
@never_cache
@require_http_methods(["GET"])
def people_export(request: HttpRequest) -> HttpResponse:
    """The list as it is filtered on screen, as an Excel file; the service audits it."""
    actor = _staff(request)
    people, _form, q = _people(actor, request)
    try:
        data = services.export_people(actor=actor, people=people, filters={"q": q}, request=request)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:people_list")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="people-{stamp}.xlsx"'
    return response


def _profile(person: User) -> Profile | None:
    try:
        return person.profile
    except Profile.DoesNotExist:
        return None


def _render_person(request: HttpRequest, actor: User, person: User, **extra: object) -> HttpResponse:
    context = {
        "person": person,
        "profile": _profile(person),
        "grants": person.role_grants.select_related("site").order_by("site__path", "role"),
        "can_reveal": policies.can_reveal_id_number(actor, person),
        **extra,
    }
    return render(request, "accounts/person_detail.html", context)


@login_required
@never_cache
@require_http_methods(["GET"])
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _staff(request)
    person = _visible_person(actor, pk)
    return _render_person(request, actor, person)


@login_required
@never_cache
@require_POST
def person_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the whole ID number once, in this response only; the service audits it."""
    actor = _staff(request)
    person = _visible_person(actor, pk)
    if not policies.can_reveal_id_number(actor, person):
        raise Http404
    try:
        revealed = services.reveal_id_number(actor=actor, person=person, request=request)
    except DomainError as exc:
        return _render_person(request, actor, person, reveal_error=exc.message)
    return _render_person(request, actor, person, revealed_id_number=revealed)


@login_required
@sensitive_post_parameters("id_number")
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    """代注册: register a resident at a station or point the staff member covers."""
    actor = _staff(request)
    form = RegisterResidentForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            person = services.register_resident(
                actor=actor,
                site=data["site"],
                phone=data["phone"],
                name=data["name"],
                id_number=data["id_number"],
                address=data["address"],
                request=request,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已为%(name)s完成代注册。") % {"name": person.name})
            return redirect("accounts:person_detail", pk=person.pk)
    return render(request, "accounts/register.html", {"form": form})
