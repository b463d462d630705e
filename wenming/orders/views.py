"""Residents' and volunteers' order pages (mobile, WeUI, WeChat's browser).

- ``/orders/new/`` 我要点单: a type from the menu, or free words the classifier reads (the suggestion,
  with its words and confidence, shows before submitting: live with htmx, or by the "判断服务类型"
  button without JS); the type's extra questions; where, when, photos, contact.
- ``/reports/new/`` 随手拍: a category, at least one photo, where, what.
- ``/orders/mine/`` 我的点单: my orders and reports, newest first, each with its status in a sentence
  and, once served, the rating form.
- ``/orders/<id>/``: one order for whoever may see it: status, history, photos, the contact (masked
  unless the viewer needs it) and the moves the viewer may make right there.
- ``/orders/tasks/`` 我的任务: a volunteer's orders: dispatched to them or their team (with the time left
  to accept), held by them (with the time left to finish), and the open grabs they qualify for.

Views parse and render; ``services`` does every write and ``policies`` decides who sees what. An
order a person may not see does not exist for them (404). A refused move shows the service's message
on the page it came from.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from wenming.accounts.models import Profile, User
from wenming.core.errors import DomainError
from wenming.lib.images import photo_response
from wenming.lib.masking import mask_name, mask_phone
from wenming.lib.text import Classification
from wenming.orders import classify, policies, selectors, services
from wenming.orders.forms import (
    CompleteForm,
    OrderForm,
    PlaceForm,
    RateForm,
    ReasonForm,
    ReportForm,
    add_service_error,
)
from wenming.orders.models import (
    ACTION_LABELS,
    HELD,
    TRANSITIONS,
    Order,
    OrderKind,
    OrderPhoto,
    OrderStatus,
    PhotoStage,
    ServiceType,
)
from wenming.volunteers.models import TeamMembership

MY_PAGE_SIZE = 20
TASKS_LIMIT = 50
DONE_LIMIT = 10
PHOTO_CACHE_SECONDS = 3600
_ID = re.compile(r"[0-9]{1,18}")

# What each history row says happened (OrderEvent.action).


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _next_or(request: HttpRequest, default: str) -> str:
    """The page a form came from, when it is one of ours."""
    candidate = request.POST.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}):
        return candidate
    return default


# --- Words --------------------------------------------------------------------------------------


def _day(at: dt.datetime | dt.date) -> str:
    value = timezone.localtime(at) if isinstance(at, dt.datetime) else at
    return formats.date_format(value, "MONTH_DAY_FORMAT")


def duration_text(seconds: float) -> str:
    """A span as people say it: 3小时20分钟, 45分钟, 3天."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes >= 2 * 24 * 60:
        days = minutes // (24 * 60)
        return ngettext("%(n)d天", "%(n)d天", days) % {"n": days}
    hours, rest = divmod(minutes, 60)
    if not hours:
        return ngettext("%(n)d分钟", "%(n)d分钟", rest) % {"n": rest}
    text = ngettext("%(n)d小时", "%(n)d小时", hours) % {"n": hours}
    if rest and hours < 10:
        text = _("%(hours)s%(minutes)s") % {
            "hours": text,
            "minutes": ngettext("%(n)d分钟", "%(n)d分钟", rest) % {"n": rest},
        }
    return text


@dataclass(frozen=True)
class Countdown:
    text: str
    overdue: bool


def accept_countdown(order: Order, now: dt.datetime) -> Countdown | None:
    """还剩3小时接单, or how long ago the time to accept ran out."""
    if order.accept_by is None:
        return None
    left = (order.accept_by - now).total_seconds()
    if left > 0:
        return Countdown(_("还剩%(time)s接单") % {"time": duration_text(left)}, False)
    return Countdown(_("已超过接单时限%(time)s") % {"time": duration_text(-left)}, True)


def finish_countdown(order: Order, now: dt.datetime) -> Countdown | None:
    if order.finish_by is None:
        return None
    left = (order.finish_by - now).total_seconds()
    if left > 0:
        return Countdown(_("还剩%(time)s完成") % {"time": duration_text(left)}, False)
    return Countdown(_("已超过办结期限%(time)s") % {"time": duration_text(-left)}, True)


def status_sentence(order: Order) -> str:
    """Where the order stands, told to the person who asked for it."""
    status = order.status
    name = order.accepted_by.user.name if order.accepted_by is not None else ""
    sentences: dict[str, Callable[[], str]] = {
        OrderStatus.REVIEWING: lambda: _("已收到，工作人员正在审核。"),
        OrderStatus.PENDING: lambda: _("已收到，正在安排志愿者。"),
        OrderStatus.DISPATCHED: lambda: _("已安排志愿者，等待志愿者确认接单。"),
        OrderStatus.GRABBING: lambda: _("已收到，正在请附近的志愿者接单。"),
        OrderStatus.ACCEPTED: lambda: (
            _("志愿者%(name)s已接单，将于%(date)s前完成。") % {"name": name, "date": _day(order.finish_by)}
            if order.finish_by is not None
            else _("志愿者%(name)s已接单。") % {"name": name}
        ),
        OrderStatus.IN_SERVICE: lambda: _("志愿者%(name)s正在为您服务。") % {"name": name},
        OrderStatus.COMPLETED: lambda: _("服务已完成，请您评价。"),
        OrderStatus.COMPLAINT: lambda: _("您的意见已转站长复核，我们会尽快回复您。"),
        OrderStatus.CLOSED: lambda: (
            _("已办结。复核意见：%(note)s") % {"note": order.review_note}
            if order.review_note
            else _("已办结，感谢您的评价。")
            if order.rating is not None
            else _("已办结。")
        ),
        OrderStatus.CANCELLED: lambda: _("已撤销。"),
        OrderStatus.REJECTED: lambda: (
            _("未受理，原因：%(reason)s") % {"reason": order.status_note} if order.status_note else _("未受理。")
        ),
        OrderStatus.REPORTED: lambda: _("已收到，实践站会尽快处理。"),
        OrderStatus.PERSUADED: lambda: _("工作人员已劝导，正在等待整改。"),
        OrderStatus.UNRECTIFIED: lambda: (
            _("尚未整改，工作人员将于%(date)s复查。") % {"date": _day(order.follow_up_on)}
            if order.follow_up_on is not None
            else _("尚未整改，工作人员会再去复查。")
        ),
        OrderStatus.RECTIFIED: lambda: _("已整改，感谢您的监督。"),
    }
    found = sentences.get(status)
    return found() if found is not None else str(order.get_status_display())


# --- The classifier's suggestion ------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    """What the classifier makes of the words, said to the resident; ``service_type`` only when it is sure."""

    text: str
    service_type: ServiceType | None


def suggestion_for(classification: Classification, menu: Sequence[ServiceType]) -> Suggestion:
    by_id = {t.pk: t for t in menu}
    percent = round(classification.confidence * 100)
    # Each word once, and not a word that is part of another one listed (坏 beside 坏了).
    found = list(dict.fromkeys(classification.words))
    # Translators: the separator between listed words.
    words = _("、").join(w for w in found if not any(w != other and w in other for other in found))
    best = by_id.get(int(classification.best.key)) if classification.best is not None else None
    if best is not None:
        if words:
            text = _("根据“%(words)s”判断为%(name)s（置信度%(percent)d%%），可以修改。") % {
                "words": words,
                "name": best.name,
                "percent": percent,
            }
        else:
            text = _("判断为%(name)s（置信度%(percent)d%%），可以修改。") % {"name": best.name, "percent": percent}
        return Suggestion(text, best)
    if classification.ranked:
        closest = classification.ranked[0][0].name
        return Suggestion(
            _("没能确定服务类型（最接近“%(name)s”，置信度%(percent)d%%），请在下面选择。")
            % {"name": closest, "percent": percent},
            None,
        )
    return Suggestion(_("没能从描述中判断服务类型，请在下面选择。"), None)


def suggest(text: str, menu: Sequence[ServiceType]) -> Suggestion | None:
    text = text.strip()[: services.DESCRIPTION_MAX]
    if not text:
        return None
    return suggestion_for(classify.classify(text), menu)


# --- Placing an order or a report -----------------------------------------------------------------


@dataclass
class MenuEntry:
    service_type: ServiceType
    checked: bool
    questions: list[forms.BoundField]


@dataclass
class MenuGroup:
    label: str
    entries: list[MenuEntry] = field(default_factory=list)


def _menu(kind: str) -> list[ServiceType]:
    return list(
        ServiceType.objects.filter(kind=kind, is_active=True).prefetch_related("questions").order_by("position", "id")
    )


def _menu_groups(form: PlaceForm, selected: str) -> list[MenuGroup]:
    groups: dict[str, MenuGroup] = {}
    for service_type in form.service_types:
        group = groups.setdefault(service_type.group, MenuGroup(service_type.group))
        group.entries.append(MenuEntry(service_type, selected == str(service_type.pk), form.questions_of(service_type)))
    return list(groups.values())


def _home_address(user: User) -> str:
    """The address on the resident's real-name profile, to start the form with."""
    return Profile.objects.filter(user=user).values_list("address", flat=True).first() or ""


def _preset_type(request: HttpRequest, menu: Sequence[ServiceType]) -> int | None:
    raw = request.GET.get("type", "")
    if _ID.fullmatch(raw) and any(t.pk == int(raw) for t in menu):
        return int(raw)
    return None


def _place(
    request: HttpRequest, form: PlaceForm, menu: Sequence[ServiceType], *, extra: Callable[[], dict[str, Any]]
) -> tuple[Order | None, Suggestion | None, str]:
    """Validate, then place through the service. Returns the order (or None), the suggestion, the type to check."""
    selected = form.selected_type_id()
    if not form.is_valid():
        return None, None, selected
    chosen: ServiceType | None = form.cleaned_data["service_type"]
    suggestion = (
        suggest(form.cleaned_data["description"], menu) if chosen is None or "suggest" in request.POST else None
    )
    if "suggest" in request.POST:
        # The no-JS preview: show what the words point to, check it, place nothing.
        if suggestion is not None and suggestion.service_type is not None:
            selected = str(suggestion.service_type.pk)
        return None, suggestion, selected
    target = chosen or (suggestion.service_type if suggestion is not None else None)
    data = form.cleaned_data
    try:
        order = services.place_order(
            actor=_user(request),
            kind=form.kind,
            service_type=chosen,
            description=data["description"],
            address=data["address"],
            latitude=data["latitude"] or None,
            longitude=data["longitude"] or None,
            answers=form.answers_for(target),
            photos=data["photos"],
            **extra(),
        )
    except DomainError as exc:
        add_service_error(form, exc, form.answer_fields(target))
        if chosen is None and target is not None:
            selected = str(target.pk)
        return None, suggestion, selected
    return order, suggestion, selected


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def new_order(request: HttpRequest) -> HttpResponse:
    """我要点单."""
    user = _user(request)
    menu = _menu(OrderKind.SERVICE)
    initial: dict[str, Any] = {"contact_name": user.name, "contact_phone": user.phone, "address": _home_address(user)}
    preset = _preset_type(request, menu)
    if preset is not None:
        initial["service_type"] = preset
    form = OrderForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        service_types=menu,
        initial=initial,
    )
    # With htmx, the suggestion follows the words as they are typed.
    form.fields["description"].widget.attrs.update(
        {
            "hx-get": reverse("orders:suggest"),
            "hx-trigger": "input changed delay:800ms, change",
            "hx-target": "#wm-suggestion",
            "hx-swap": "outerHTML",
        }
    )
    suggestion: Suggestion | None = None
    selected = form.selected_type_id()
    if request.method == "POST":

        def extra() -> dict[str, Any]:
            data = form.cleaned_data
            return {
                "preferred_at": data["preferred_at"],
                "contact_name": data["contact_name"],
                "contact_phone": data["contact_phone"],
            }

        order, suggestion, selected = _place(request, form, menu, extra=extra)
        if order is not None:
            if order.status == OrderStatus.REVIEWING:
                messages.success(request, _("已提交，工作人员审核后会为您安排志愿者。"))
            else:
                messages.success(request, _("已提交！我们会尽快为您安排志愿者。"))
            return HttpResponseRedirect(reverse("orders:detail", args=[order.pk]))
    return render(
        request,
        "orders/new.html",
        {
            "form": form,
            "groups": _menu_groups(form, selected),
            "auto_checked": not selected,
            "suggestion": suggestion,
            "home_site": user.home_site,
            "photos_dropped": request.method == "POST" and bool(request.FILES),
        },
    )


@login_required
@require_safe
def suggest_type(request: HttpRequest) -> HttpResponse:
    """The suggestion alone, for htmx while the resident types."""
    suggestion = suggest(request.GET.get("description", ""), _menu(OrderKind.SERVICE))
    return render(request, "orders/new.html#suggestion", {"suggestion": suggestion})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def new_report(request: HttpRequest) -> HttpResponse:
    """随手拍."""
    user = _user(request)
    menu = _menu(OrderKind.REPORT)
    initial: dict[str, Any] = {}
    preset = _preset_type(request, menu)
    if preset is not None:
        initial["service_type"] = preset
    form = ReportForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        service_types=menu,
        initial=initial,
    )
    selected = form.selected_type_id()
    if request.method == "POST":
        order, _suggestion, selected = _place(request, form, menu, extra=dict)
        if order is not None:
            messages.success(request, _("已收到您的随手拍，感谢您的监督！处理进展会通知您。"))
            return HttpResponseRedirect(reverse("orders:detail", args=[order.pk]))
    return render(
        request,
        "orders/report_new.html",
        {
            "form": form,
            "groups": _menu_groups(form, selected),
            "home_site": user.home_site,
            "photos_dropped": request.method == "POST" and bool(request.FILES),
        },
    )


# --- My orders ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MyOrder:
    order: Order
    sentence: str
    rate_form: RateForm | None


def _rate_form(order: Order, data: Any = None) -> RateForm:
    return RateForm(data, auto_id=f"rate{order.pk}_%s")


@never_cache
@login_required
@require_safe
def my_orders(request: HttpRequest) -> HttpResponse:
    """我的点单: orders and reports, newest first."""
    user = _user(request)
    rows = (
        Order.objects.filter(requester=user)
        .select_related("service_type", "accepted_by__user")
        .order_by("-created_at", "-id")
    )
    page = Paginator(rows, MY_PAGE_SIZE).get_page(request.GET.get("page"))
    items = [
        MyOrder(
            order,
            status_sentence(order),
            _rate_form(order) if order.status == OrderStatus.COMPLETED and policies.can_rate(user, order) else None,
        )
        for order in page.object_list
    ]
    return render(request, "orders/mine.html", {"page": page, "items": items})


# --- One order ----------------------------------------------------------------------------------


def _order_query() -> QuerySet[Order]:
    return Order.objects.select_related(
        "service_type", "site", "escalated_to", "accepted_by__user", "assigned_volunteer__user", "assigned_team"
    )


def _visible_order(request: HttpRequest, pk: int) -> Order:
    order = _order_query().filter(pk=pk).first()
    if order is None or not policies.can_view_order(request.user, order):
        raise Http404
    return order


def _can_move_to(order: Order, to: str) -> bool:
    return (order.kind, order.status, to) in TRANSITIONS


@dataclass(frozen=True)
class Moves:
    """What the viewer may do with the order right here."""

    cancel: bool = False
    rate: bool = False
    accept: bool = False
    decline: bool = False
    grab: bool = False
    start: bool = False
    complete: bool = False
    release: bool = False

    @property
    def any(self) -> bool:
        return any(vars(self).values())


def _moves(user: User, order: Order) -> Moves:
    holder = policies.is_holder(user, order)
    return Moves(
        cancel=_can_move_to(order, OrderStatus.CANCELLED) and policies.can_cancel(user, order),
        rate=order.status == OrderStatus.COMPLETED and policies.can_rate(user, order),
        accept=order.status == OrderStatus.DISPATCHED and policies.can_accept(user, order),
        decline=policies.can_decline(user, order),
        grab=order.status == OrderStatus.GRABBING and policies.can_accept(user, order),
        start=holder and order.status == OrderStatus.ACCEPTED,
        complete=holder and order.status == OrderStatus.IN_SERVICE,
        release=holder and order.status == OrderStatus.ACCEPTED,
    )


def _hours_so_far(order: Order, now: dt.datetime) -> Decimal | None:
    """A first guess for the hours served: the time since the start, to a tenth, at most 24."""
    if order.started_at is None:
        return None
    hours = Decimal((now - order.started_at).total_seconds()) / Decimal(3600)
    guess = min(hours, Decimal(24)).quantize(Decimal("0.1"), rounding=ROUND_DOWN)
    return guess if guess > 0 else None


def _detail(
    request: HttpRequest,
    order: Order,
    *,
    bound: dict[str, forms.Form] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    now = timezone.now()
    moves = _moves(user, order)
    photos = list(order.photos.order_by("id"))
    events = list(order.history.select_related("actor", "volunteer__user", "team").order_by("at", "id"))
    show_contact = policies.can_see_contact(user, order)
    forms_: dict[str, forms.Form] = {
        "rate_form": _rate_form(order),
        "cancel_form": ReasonForm(prefix="cancel"),
        "decline_form": ReasonForm(prefix="decline"),
        "release_form": ReasonForm(prefix="release"),
        "complete_form": CompleteForm(prefix="complete", initial={"hours": _hours_so_far(order, now)}),
    }
    forms_.update(bound or {})
    return render(
        request,
        "orders/detail.html",
        {
            "order": order,
            "is_requester": policies.is_requester(user, order),
            "sentence": status_sentence(order),
            "accept_countdown": accept_countdown(order, now) if order.status == OrderStatus.DISPATCHED else None,
            "finish_countdown": finish_countdown(order, now) if order.status in HELD else None,
            "moves": moves,
            "events": [
                (e, ACTION_LABELS.get(e.action, e.action))
                for e in events
                if policies.can_see_event(user, order, e.action)
            ],
            "request_photos": [p for p in photos if p.stage == PhotoStage.REQUEST],
            "completion_photos": [p for p in photos if p.stage == PhotoStage.COMPLETION],
            "follow_up_photos": [p for p in photos if p.stage == PhotoStage.FOLLOW_UP],
            "answers": selectors.answers_in_words(order),
            "servers": [
                (server.volunteer.user.name, format(server.hours.normalize(), "f"))
                for server in order.servers.select_related("volunteer__user").order_by("id")
            ]
            if order.completed_at
            else [],
            "contact_name": order.contact_name if show_contact else mask_name(order.contact_name),
            "contact_phone": order.contact_phone if show_contact else mask_phone(order.contact_phone),
            "contact_shown": show_contact,
            "error": error,
            **forms_,
        },
        status=status,
    )


@never_cache
@login_required
@require_safe
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _visible_order(request, pk))


@require_safe
def order_photo(request: HttpRequest, pk: int) -> FileResponse:
    """One photo of an order, to whoever may see the order (404 to anyone else)."""
    photo = (
        OrderPhoto.objects.select_related("order__service_type", "order__site", "order__escalated_to")
        .filter(pk=pk)
        .first()
    )
    if photo is None or not policies.can_view_order(request.user, photo.order):
        raise Http404
    return photo_response(photo.image, cache_control=f"private, max-age={PHOTO_CACHE_SECONDS}")


# The form on the order's page → the move that shows it.
FORM_MOVES = {
    "rate_form": "rate",
    "cancel_form": "cancel",
    "decline_form": "decline",
    "release_form": "release",
    "complete_form": "complete",
}


def _perform(
    request: HttpRequest,
    pk: int,
    *,
    key: str,
    form: forms.Form,
    run: Callable[[User, Order, dict[str, Any]], Any],
    done: str,
    fields: dict[str, str] | None = None,
) -> HttpResponse:
    """One move from the order's page: the form, then the service; its refusal shown on the page."""
    user = _user(request)
    order = _visible_order(request, pk)
    detail = reverse("orders:detail", args=[order.pk])
    if not form.is_valid():
        if key and getattr(_moves(user, order), FORM_MOVES[key]):
            return _detail(request, order, bound={key: form}, status=400)
        first = next(iter(form.errors.values()), [""])[0]
        return _detail(request, order, error=str(first), status=400)
    try:
        run(user, order, form.cleaned_data)
    except DomainError as exc:
        if exc.status == 404:
            raise Http404 from exc
        current = _order_query().filter(pk=pk).first()
        if current is None or not policies.can_view_order(user, current):
            # Taken by someone else (a grab), or otherwise gone from the viewer's reach.
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("orders:tasks"))
        name = exc.extra.get("field")
        name = (fields or {}).get(name, name) if isinstance(name, str) else None
        if name in form.fields and key and getattr(_moves(user, current), FORM_MOVES[key]):
            form.add_error(name, exc.message)
            return _detail(request, current, bound={key: form}, status=exc.status)
        # Not about an input (the order moved on, say): said above the moves, whichever are left.
        return _detail(request, current, error=exc.message, status=exc.status)
    messages.success(request, done)
    moved = _order_query().filter(pk=pk).first()
    if moved is None or not policies.can_view_order(user, moved):
        # Declined or given back: no longer the viewer's to see.
        detail = reverse("orders:tasks")
    return HttpResponseRedirect(_next_or(request, detail))


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _perform(
        request,
        pk,
        key="cancel_form",
        form=ReasonForm(request.POST, prefix="cancel"),
        run=lambda user, order, data: services.cancel_order(actor=user, order=order, reason=data["reason"]),
        done=_("已撤销。"),
    )


@login_required
@require_POST
def rate(request: HttpRequest, pk: int) -> HttpResponse:
    return _perform(
        request,
        pk,
        key="rate_form",
        form=RateForm(request.POST, auto_id=f"rate{pk}_%s"),
        run=lambda user, order, data: services.rate_order(
            actor=user, order=order, rating=data["rating"], comment=data["comment"]
        ),
        done=_("感谢您的评价！"),
    )


def _taken_grab(request: HttpRequest, pk: int) -> HttpResponse | None:
    """A grab someone else took a moment ago: the volunteer who was offered it hears so, not a 404."""
    order = _order_query().filter(pk=pk).first()
    if order is None or policies.can_view_order(request.user, order):
        return None
    if order.history.filter(action="open_grab").exists() and policies.qualifies(request.user, order):
        messages.error(request, _("手慢了，该订单已被其他志愿者接走。"))
        return HttpResponseRedirect(reverse("orders:tasks"))
    return None


@login_required
@require_POST
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    """接单, or 抢单 for an open grab."""
    taken = _taken_grab(request, pk)
    if taken is not None:
        return taken
    return _perform(
        request,
        pk,
        key="",
        form=forms.Form(request.POST),
        run=lambda user, order, data: services.accept_order(actor=user, order=order),
        done=_("已接单，请尽快联系居民。"),
    )


@login_required
@require_POST
def decline(request: HttpRequest, pk: int) -> HttpResponse:
    return _perform(
        request,
        pk,
        key="decline_form",
        form=ReasonForm(request.POST, prefix="decline"),
        run=lambda user, order, data: services.decline_order(actor=user, order=order, reason=data["reason"]),
        done=_("已拒单，订单已退回实践站重新安排。"),
    )


@login_required
@require_POST
def release(request: HttpRequest, pk: int) -> HttpResponse:
    return _perform(
        request,
        pk,
        key="release_form",
        form=ReasonForm(request.POST, prefix="release"),
        run=lambda user, order, data: services.release_order(actor=user, order=order, reason=data["reason"]),
        done=_("已退回，实践站会重新安排。"),
    )


@login_required
@require_POST
def start(request: HttpRequest, pk: int) -> HttpResponse:
    return _perform(
        request,
        pk,
        key="",
        form=forms.Form(request.POST),
        run=lambda user, order, data: services.start_order(actor=user, order=order),
        done=_("已开始服务。完成后请在这里登记。"),
    )


def _complete(user: User, order: Order, data: dict[str, Any]) -> Order:
    volunteer = policies.volunteer_of(user)
    assert volunteer is not None  # the holder is a volunteer
    return services.complete_order(
        actor=user,
        order=order,
        servers=[services.Served(volunteer, data["hours"])],
        beneficiaries=data["beneficiaries"],
        note=data["note"],
        photos=data["photos"],
    )


@login_required
@require_POST
def complete(request: HttpRequest, pk: int) -> HttpResponse:
    return _perform(
        request,
        pk,
        key="complete_form",
        form=CompleteForm(request.POST, request.FILES, prefix="complete"),
        run=_complete,
        done=_("服务已完成，服务时长已记入您的志愿服务记录。"),
        fields={"servers": "hours", "started_at": "hours"},
    )


# --- A volunteer's orders -------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    order: Order
    countdown: Countdown | None
    can_accept: bool = False


@never_cache
@login_required
@require_safe
def tasks(request: HttpRequest) -> HttpResponse:
    """我的任务."""
    user = _user(request)
    volunteer = policies.volunteer_of(user)
    if volunteer is None:
        return render(request, "orders/tasks.html", {"volunteer": None})
    now = timezone.now()
    team_ids = list(TeamMembership.objects.filter(volunteer=volunteer).values_list("team_id", flat=True))
    base = Order.objects.select_related("service_type", "assigned_team")
    waiting = base.filter(
        Q(assigned_volunteer=volunteer) | Q(assigned_team_id__in=team_ids), status=OrderStatus.DISPATCHED
    ).order_by(F("accept_by").asc(nulls_last=True), "id")[:TASKS_LIMIT]
    held = base.filter(accepted_by=volunteer, status__in=HELD).order_by(F("finish_by").asc(nulls_last=True), "id")
    grabs = (
        policies.open_grabs_for(volunteer, team_ids)
        .select_related("service_type")
        .order_by(F("accept_by").asc(nulls_last=True), "id")[:TASKS_LIMIT]
    )
    done = base.filter(
        accepted_by=volunteer, status__in=[OrderStatus.COMPLETED, OrderStatus.COMPLAINT, OrderStatus.CLOSED]
    ).order_by(F("completed_at").desc(nulls_last=True), "-id")[:DONE_LIMIT]
    return render(
        request,
        "orders/tasks.html",
        {
            "volunteer": volunteer,
            "waiting": [Task(o, accept_countdown(o, now), True) for o in waiting],
            "held": [Task(o, finish_countdown(o, now)) for o in held],
            "grabs": [Task(o, None) for o in grabs],
            "done": [Task(o, None) for o in done],
        },
    )
