"""Staff pages of service orders and civility reports (desktop, for station managers and above).

- ``/staff/orders/``: 派单台, the dispatch board. The orders of the user's scope
  (``policies.staff_orders_q``: their stations' orders and those escalated to them), in queues
  (待审核, 待派单, 待接单/抢单中, 服务中, 待复核, 随手拍, 已办结), filtered by station (its subtree),
  service type, status and words of the description, the most urgent deadline first, each with its
  countdown ("还剩2小时15分", "已超时35分"), worked out here at render time.
- ``/staff/orders/<id>/``: one order, all of it (the contact unmasked, the answers to the extra
  questions, the classifier's words and confidence, photos, history) and the forms of every move the
  order allows now: 审核, 不予受理, 更改类型, 派单 with the recommender's candidates, 改派, 开放抢单,
  撤销, 代为开始 / 完成, 代录评价, 差评复核, and the report moves (劝导, 已整改, 未整改 with a date).
- ``/staff/orders/new/``: 代点单, an order taken by phone or at the desk for a resident of the scope.

Views parse and render; ``services`` write and ``policies`` decide. An order outside the user's
scope does not exist for them: 404. A refused move shows the service's Chinese message and changes
nothing (every service runs in one transaction).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, Count, DateTimeField, F, Q, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wenming.accounts.models import User
from wenming.accounts.policies import is_staff_anywhere, people_visible_to, staff_scope
from wenming.activities.forms import add_domain_error
from wenming.core.errors import DomainError
from wenming.lib.phone import InvalidPhone, normalize
from wenming.orders import policies, selectors, services
from wenming.orders.models import (
    AWAITING_ACCEPT,
    FINAL_STATUSES,
    HELD,
    TRANSITIONS,
    Order,
    OrderKind,
    OrderPhoto,
    OrderStatus,
    ServiceType,
)
from wenming.orders.staff_forms import (
    DUE,
    BoardFilterForm,
    CompleteForm,
    DispatchForm,
    NoteForm,
    NotRectifiedForm,
    RateForm,
    ReasonForm,
    RectifiedForm,
    RetypeForm,
    StaffOrderForm,
    answer_name,
)
from wenming.volunteers.models import Volunteer

PAGE_SIZE = 30
CANDIDATES = 10
S = OrderStatus

# The board's queues: key -> (tab label, filter). "open" is every order still in hand.
QUEUES: dict[str, tuple[Any, Q]] = {
    "open": (gettext_lazy("全部待办"), ~Q(status__in=FINAL_STATUSES)),
    "review": (gettext_lazy("待审核"), Q(status=S.REVIEWING)),
    "pending": (gettext_lazy("待派单"), Q(status=S.PENDING)),
    "waiting": (gettext_lazy("待接单/抢单中"), Q(status__in=[S.DISPATCHED, S.GRABBING])),
    "serving": (gettext_lazy("服务中"), Q(status__in=[S.ACCEPTED, S.IN_SERVICE])),
    "complaint": (gettext_lazy("待复核"), Q(status=S.COMPLAINT)),
    "reports": (gettext_lazy("随手拍"), Q(kind=OrderKind.REPORT)),
    "done": (gettext_lazy("已办结"), Q(status__in=FINAL_STATUSES)),
}
DEFAULT_QUEUE = "open"
OPEN_REPORTS = [S.REPORTED, S.PERSUADED, S.UNRECTIFIED]

# History lines: what each recorded action was, in words.
EVENT_LABELS: dict[str, Any] = {
    "create": gettext_lazy("点单"),
    "retype": gettext_lazy("更改服务类型"),
    "escalate": gettext_lazy("超时上报"),
    "approve": gettext_lazy("通过审核"),
    "reject": gettext_lazy("不予受理"),
    "cancel": gettext_lazy("撤销"),
    "dispatch": gettext_lazy("派单"),
    "redispatch": gettext_lazy("改派"),
    "open_grab": gettext_lazy("开放抢单"),
    "accept": gettext_lazy("接单"),
    "grab": gettext_lazy("抢单"),
    "decline": gettext_lazy("拒单"),
    "release": gettext_lazy("退回"),
    "start": gettext_lazy("开始服务"),
    "complete": gettext_lazy("完成服务"),
    "rate": gettext_lazy("评价"),
    "review": gettext_lazy("差评复核"),
    "persuade": gettext_lazy("劝导"),
    "rectify": gettext_lazy("已整改"),
    "not_rectified": gettext_lazy("未整改"),
}
REASON_LABELS: dict[str, Any] = {
    "skill": gettext_lazy("技能"),
    "distance": gettext_lazy("距离"),
    "availability": gettext_lazy("时间"),
    "load": gettext_lazy("在手"),
    "rating": gettext_lazy("评分"),
    "fairness": gettext_lazy("均衡"),
}


# --- Countdowns ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Countdown:
    label: str  # 接单 / 办结
    at: dt.datetime
    text: str  # 还剩2小时15分 / 已超时35分
    overdue: bool


def span_text(minutes: int) -> str:
    """A length of time in whole minutes, as staff say it: 1天3小时, 2小时15分, 35分."""
    if minutes < 1:
        return _("不到1分")
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return (
            _("%(days)d天%(hours)d小时") % {"days": days, "hours": hours} if hours else _("%(days)d天") % {"days": days}
        )
    if hours:
        return (
            _("%(hours)d小时%(minutes)d分") % {"hours": hours, "minutes": mins}
            if mins
            else _("%(hours)d小时") % {"hours": hours}
        )
    return _("%(minutes)d分") % {"minutes": mins}


def countdown_text(deadline: dt.datetime, now: dt.datetime) -> tuple[str, bool]:
    seconds = (deadline - now).total_seconds()
    if seconds > 0:
        return _("还剩%(span)s") % {"span": span_text(int(seconds // 60))}, False
    return _("已超时%(span)s") % {"span": span_text(int(-seconds // 60))}, True


def countdown_texts() -> dict[str, str]:
    """The pieces of ``span_text`` and ``countdown_text``, for the script that ticks them on the page."""
    return {
        "under": _("不到1分"),
        "dh": _("%(days)d天%(hours)d小时"),
        "d": _("%(days)d天"),
        "hm": _("%(hours)d小时%(minutes)d分"),
        "h": _("%(hours)d小时"),
        "m": _("%(minutes)d分"),
        "left": _("还剩%(span)s"),
        "over": _("已超时%(span)s"),
    }


def countdown_of(order: Order, now: dt.datetime) -> Countdown | None:
    """The time limit running now: accept while it waits for a volunteer, finish while one holds it."""
    if order.status in AWAITING_ACCEPT and order.accept_by is not None:
        label, at = _("接单"), order.accept_by
    elif order.status in HELD and order.finish_by is not None:
        label, at = _("办结"), order.finish_by
    else:
        return None
    text, overdue = countdown_text(at, now)
    return Countdown(label, at, text, overdue)


def follow_up_due(order: Order, today: dt.date) -> bool:
    return order.status == S.UNRECTIFIED and order.follow_up_on is not None and order.follow_up_on <= today


# --- Helpers ---------------------------------------------------------------------------------------------


def _staff(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not is_staff_anywhere(user):
        raise PermissionDenied(_("此页面仅供阵地工作人员使用。"))
    return user


def _order(actor: User, pk: int) -> Order:
    """An order on the actor's board, or 404."""
    order = (
        Order.objects.select_related(
            "service_type",
            "site",
            "escalated_to",
            "requester",
            "created_by",
            "client",
            "assigned_volunteer__user",
            "assigned_team",
            "accepted_by__user",
        )
        .filter(pk=pk)
        .first()
    )
    if order is None or not policies.is_staff_for(actor, order):
        raise Http404
    return order


def _detail_url(order: Order) -> str:
    return reverse("orders_staff:detail", args=[order.pk])


def _status(exc: DomainError) -> int:
    return exc.status if 400 <= exc.status < 500 else 400


def photo_path(photo: OrderPhoto) -> str | None:
    """The resident pages' photo view, by path, if that view exists."""
    for path in (f"/orders/photos/{photo.pk}", f"/orders/photos/{photo.pk}/"):
        try:
            resolve(path)
        except Resolver404:
            continue
        return path
    return None


# --- The board -------------------------------------------------------------------------------------------


def _deadline() -> Case:
    return Case(
        When(status__in=list(AWAITING_ACCEPT), then=F("accept_by")),
        When(status__in=list(HELD), then=F("finish_by")),
        default=Value(None),
        output_field=DateTimeField(),
    )


def _filtered(actor: User, form: BoardFilterForm) -> QuerySet[Order]:
    rows = Order.objects.filter(policies.staff_orders_q(actor))
    if not form.is_valid():
        return rows
    data = form.cleaned_data
    if data["station"] is not None:
        rows = rows.filter(site__path__startswith=data["station"].path)
    if data["service_type"] is not None:
        rows = rows.filter(service_type=data["service_type"])
    if data["escalated"]:
        rows = rows.filter(escalated_to__isnull=False)
    words = data["q"].strip()
    if words:
        match = Q(description__icontains=words)
        if words.lstrip("#").isdigit():
            match |= Q(pk=int(words.lstrip("#")))
        rows = rows.filter(match)
    return rows


@login_required
@never_cache
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    """派单台: the queues of the user's scope, the nearest deadline first."""
    actor = _staff(request)
    form = BoardFilterForm(request.GET, scope=staff_scope(actor))
    queue = request.GET.get("queue", DEFAULT_QUEUE)
    if queue not in QUEUES:
        queue = DEFAULT_QUEUE
    rows = _filtered(actor, form)
    counts = rows.aggregate(**{key: Count("pk", filter=cond) for key, (_label, cond) in QUEUES.items()})
    rows = rows.filter(QUEUES[queue][1])
    shown_status = form.cleaned_data.get("status", "") if form.is_valid() else ""
    today = timezone.localdate()
    if shown_status == DUE:
        rows = rows.filter(status=S.UNRECTIFIED, follow_up_on__lte=today)
    elif shown_status:
        rows = rows.filter(status=shown_status)
    elif queue == "reports":
        rows = rows.filter(status__in=OPEN_REPORTS)
    if queue == "done":
        rows = rows.order_by("-updated_at", "-id")
    else:
        rows = rows.annotate(deadline=_deadline()).order_by(
            F("deadline").asc(nulls_last=True), F("follow_up_on").asc(nulls_last=True), "created_at", "id"
        )
    rows = rows.select_related(
        "service_type", "site", "escalated_to", "assigned_volunteer__user", "assigned_team", "accepted_by__user"
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    items = [(o, countdown_of(o, now), follow_up_due(o, today)) for o in page.object_list]
    return render(
        request,
        "orders/staff/board.html",
        {
            "form": form,
            "queue": queue,
            "tabs": [(key, label, counts[key]) for key, (label, _cond) in QUEUES.items()],
            "page": page,
            "items": items,
            "now": now,
            "report_statuses": [(s, s.label) for s in (S.REPORTED, S.PERSUADED, S.UNRECTIFIED, S.RECTIFIED)],
            "shown_status": shown_status,
            "due": DUE,
            "countdown_texts": countdown_texts(),
        },
    )


# --- One order ---------------------------------------------------------------------------------------------


def _can(order: Order, to: str, action: str) -> bool:
    return TRANSITIONS.get((order.kind, order.status, to)) == action


def _actions(actor: User, order: Order) -> dict[str, bool]:
    staff = policies.is_staff_for(actor, order)
    report = order.kind == OrderKind.REPORT
    return {
        "approve": staff and _can(order, S.PENDING, "approve"),
        "reject": staff and _can(order, S.REJECTED, "reject"),
        "retype": staff and order.status in {S.REVIEWING, S.PENDING, S.REPORTED},
        "cancel": policies.can_cancel(actor, order) and _can(order, S.CANCELLED, "cancel"),
        "dispatch": policies.can_dispatch(actor, order)
        and (_can(order, S.DISPATCHED, "dispatch") or _can(order, S.DISPATCHED, "redispatch")),
        "redispatch": order.status in {S.DISPATCHED, S.ACCEPTED},
        "grab": policies.can_dispatch(actor, order) and _can(order, S.GRABBING, "open_grab"),
        "start": policies.can_deliver(actor, order) and _can(order, S.IN_SERVICE, "start"),
        "complete": policies.can_deliver(actor, order) and order.status == S.IN_SERVICE,
        "rate": policies.can_rate(actor, order) and order.status == S.COMPLETED,
        "review": policies.can_review_complaint(actor, order) and order.status == S.COMPLAINT,
        "persuade": report and staff and _can(order, S.PERSUADED, "persuade"),
        "rectify": report and staff and _can(order, S.RECTIFIED, "rectify"),
        "not_rectified": report and staff and _can(order, S.UNRECTIFIED, "not_rectified"),
    }


def _classification(order: Order) -> dict[str, Any] | None:
    """The classifier's suggestion, as staff read it: the type, its confidence, the words, the runners-up."""
    record = order.classification or {}
    if not record:
        return None
    ids = [record.get("type"), *(r.get("type") for r in record.get("ranked", []))]
    names: dict[Any, str] = dict(ServiceType.objects.filter(pk__in=[i for i in ids if i]).values_list("pk", "name"))
    return {
        "type": names.get(record.get("type"), ""),
        "confidence": round(float(record.get("confidence") or 0) * 100),
        "words": record.get("words") or [],
        "ranked": [
            (names.get(r.get("type"), ""), round(float(r.get("p") or 0) * 100))
            for r in record.get("ranked", [])
            if r.get("type") in names
        ],
        "overridden": record.get("type") is not None and record.get("type") != order.service_type_id,
    }


def _candidates(order: Order) -> list[dict[str, Any]]:
    from wenming.orders.recommend import rank

    return [
        {
            "volunteer": c.volunteer,
            "score": c.score,
            "distance_m": c.distance_m,
            "reasons": [(REASON_LABELS.get(r.factor, r.factor), r.points, r.text) for r in c.reasons],
            "current": c.volunteer.pk in (order.assigned_volunteer_id, order.accepted_by_id),
        }
        for c in rank(order, limit=CANDIDATES)
    ]


def _forms(order: Order, given: dict[str, forms.Form]) -> dict[str, forms.Form]:
    root = policies.responsible_site(order)
    made: dict[str, forms.Form] = {
        "approve": NoteForm(prefix="approve"),
        "reject": ReasonForm(prefix="reject"),
        "retype": RetypeForm(prefix="retype", order=order),
        "cancel": ReasonForm(prefix="cancel"),
        "dispatch": DispatchForm(prefix="dispatch", root=root),
        "complete": CompleteForm(prefix="complete"),
        "rate": RateForm(prefix="rate"),
        "review": NoteForm(prefix="review"),
        "persuade": NoteForm(prefix="persuade"),
        "rectify": RectifiedForm(prefix="rectify"),
        "not_rectified": NotRectifiedForm(prefix="not_rectified"),
    }
    made.update(given)
    return made


def _render_detail(
    request: HttpRequest,
    actor: User,
    order: Order,
    *,
    status: int = 200,
    error: str = "",
    given: dict[str, forms.Form] | None = None,
) -> HttpResponse:
    now = timezone.now()
    actions = _actions(actor, order)
    photos = [(p, photo_path(p)) for p in order.photos.all()]
    context = {
        "order": order,
        "actions": actions,
        "any_action": any(actions.values()),
        "forms": _forms(order, given or {}),
        "error": error,
        "countdown": countdown_of(order, now),
        "follow_up_due": follow_up_due(order, timezone.localdate()),
        "show_contact": policies.can_see_contact(actor, order),
        "answers": selectors.answers_in_words(order),
        "classification": _classification(order),
        "candidates": _candidates(order) if actions["dispatch"] else [],
        "history": [
            (h, EVENT_LABELS.get(h.action, h.action))
            for h in order.history.select_related("actor", "volunteer__user", "team").order_by("at", "id")
        ],
        "servers": order.servers.select_related("volunteer__user").order_by("id"),
        "photos": [(p, url) for p, url in photos if url],
        "photos_hidden": sum(1 for _p, url in photos if not url),
        "responsible": policies.responsible_site(order),
        "countdown_texts": countdown_texts(),
    }
    return render(request, "orders/staff/detail.html", context, status=status)


@login_required
@never_cache
@require_GET
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _staff(request)
    return _render_detail(request, actor, _order(actor, pk))


MOVES = (
    "approve",
    "reject",
    "retype",
    "cancel",
    "dispatch",
    "grab",
    "start",
    "complete",
    "rate",
    "review",
    "persuade",
    "rectify",
    "not_rectified",
)


def _bound(action: str, request: HttpRequest, order: Order) -> forms.Form | None:
    data, files = request.POST, request.FILES
    if action in ("approve", "review", "persuade"):
        return NoteForm(data, prefix=action)
    if action in ("reject", "cancel"):
        return ReasonForm(data, prefix=action)
    if action == "retype":
        return RetypeForm(data, prefix=action, order=order)
    if action == "dispatch":
        return DispatchForm(data, prefix=action, root=policies.responsible_site(order))
    if action == "complete":
        return CompleteForm(data, prefix=action)
    if action == "rate":
        return RateForm(data, prefix=action)
    if action == "rectify":
        return RectifiedForm(data, files, prefix=action)
    if action == "not_rectified":
        return NotRectifiedForm(data, prefix=action)
    return None


def _dispatch_target(form: DispatchForm, order: Order) -> Volunteer | None:
    """The volunteer chosen from the candidates, or found by phone in the responsible subtree."""
    volunteer: Volunteer | None = form.cleaned_data["volunteer"]
    raw = form.cleaned_data["phone"].strip()
    if volunteer is not None or not raw:
        return volunteer
    try:
        phone = normalize(raw)
    except InvalidPhone as exc:
        form.add_error("phone", str(exc))
        return None
    found = (
        Volunteer.objects.select_related("user", "site")
        .filter(
            user__phone=phone,
            is_active=True,
            site__path__startswith=policies.responsible_site(order).path,
        )
        .first()
    )
    if found is None:
        form.add_error("phone", _("在本辖区没有找到这个手机号的在册志愿者。"))
    return found


def _perform(actor: User, order: Order, action: str, form: forms.Form | None) -> str:
    """Make the move through its service; the success message."""
    data = form.cleaned_data if form is not None else {}
    kind = order.service_type.name
    if action == "approve":
        services.approve_order(actor=actor, order=order, note=data["note"])
        return _("已通过审核，可以派单了。")
    if action == "reject":
        services.reject_order(actor=actor, order=order, reason=data["reason"])
        return _("已不予受理，点单人会看到原因。")
    if action == "retype":
        services.override_type(actor=actor, order=order, service_type=data["service_type"], note=data["note"])
        return _("服务类型已改为“%(type)s”。") % {"type": data["service_type"].name}
    if action == "cancel":
        services.cancel_order(actor=actor, order=order, reason=data["reason"])
        return _("订单已撤销。")
    if action == "dispatch":
        assert isinstance(form, DispatchForm)
        again = order.status in {S.DISPATCHED, S.ACCEPTED}
        volunteer = _dispatch_target(form, order)
        if form.errors:
            raise _FormInvalid
        team = data["team"]
        services.dispatch_order(actor=actor, order=order, volunteer=volunteer, team=team, note=data["note"])
        name = volunteer.user.name if volunteer is not None else team.name if team is not None else ""
        return (_("已改派给%(name)s。") if again else _("已派给%(name)s。")) % {"name": name}
    if action == "grab":
        services.open_grab(actor=actor, order=order)
        return _("已开放抢单，符合条件的志愿者都能看到这张订单。")
    if action == "start":
        services.start_order(actor=actor, order=order)
        return _("已代志愿者开始服务。")
    if action == "complete":
        servers = [services.Served(order.accepted_by, data["hours"])] if order.accepted_by is not None else []
        services.complete_order(
            actor=actor,
            order=order,
            servers=servers,
            beneficiaries=data["beneficiaries"],
            note=data["note"],
            started_at=data["started_at"],
        )
        return _("已代志愿者完成“%(type)s”，服务时长已记入台账。") % {"type": kind}
    if action == "rate":
        services.rate_order(actor=actor, order=order, rating=data["rating"], comment=data["comment"])
        return _("已代录评价。")
    if action == "review":
        services.review_complaint(actor=actor, order=order, note=data["note"])
        return _("已复核，订单办结。")
    if action == "persuade":
        services.persuade_report(actor=actor, order=order, note=data["note"])
        return _("已记录劝导情况。")
    if action == "rectify":
        services.mark_rectified(actor=actor, order=order, note=data["note"], photos=data["photos"])
        return _("已确认整改，随手拍办结。")
    services.mark_not_rectified(actor=actor, order=order, follow_up_on=data["follow_up_on"], note=data["note"])
    return _("已记录未整改，%(date)s复查。") % {"date": data["follow_up_on"].isoformat()}


# A service's field name → the form field that shows its message.
FIELD_ALIASES = {"servers": "hours"}


class _FormInvalid(Exception):
    """The form found a problem of its own (a phone number nobody has): show it, call no service."""


@login_required
@require_POST
def order_move(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One action form of the order page: the service decides whether the move is allowed."""
    actor = _staff(request)
    order = _order(actor, pk)
    if action not in MOVES:
        raise Http404
    form = _bound(action, request, order)
    given = {action: form} if form is not None else {}
    if form is not None and not form.is_valid():
        return _render_detail(request, actor, order, status=400, given=given)
    try:
        done = _perform(actor, order, action, form)
    except _FormInvalid:
        return _render_detail(request, actor, order, status=400, given=given)
    except DomainError as exc:
        if exc.status == 404:
            raise Http404 from exc
        order = _order(actor, pk)
        field = FIELD_ALIASES.get(exc.extra.get("field", ""), exc.extra.get("field"))
        if form is not None and field in form.fields:
            form.add_error(field, exc.message)
            return _render_detail(request, actor, order, status=_status(exc), given=given)
        return _render_detail(request, actor, order, status=_status(exc), error=exc.message, given=given)
    messages.success(request, done)
    return HttpResponseRedirect(_detail_url(order))


# --- 代点单 ---------------------------------------------------------------------------------------------------


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def order_new(request: HttpRequest) -> HttpResponse:
    """代点单: find the resident by phone in the scope, then place the order for them."""
    actor = _staff(request)
    types = list(
        ServiceType.objects.filter(kind=OrderKind.SERVICE, is_active=True)
        .prefetch_related("questions")
        .order_by("position", "id")
    )
    form = StaffOrderForm(request.POST or None, request.FILES or None, scope=staff_scope(actor), types=types)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        resident: User | None = None
        try:
            phone = normalize(data["phone"])
        except InvalidPhone as exc:
            form.add_error("phone", str(exc))
        else:
            resident = User.objects.filter(people_visible_to(actor), phone=phone, is_active=True).first()
            if resident is None:
                form.add_error("phone", _("在您负责的阵地没有找到这个手机号的居民，请核对号码或先为其代注册。"))
        if resident is not None:
            try:
                order = services.place_order(
                    actor=actor,
                    requester=resident,
                    service_type=data["service_type"],
                    description=data["description"],
                    site=data["site"],
                    address=data["address"],
                    preferred_at=data["preferred_at"],
                    answers=form.answers(data["service_type"]),
                    contact_name=data["contact_name"],
                    contact_phone=data["contact_phone"],
                    photos=data["photos"],
                )
            except DomainError as exc:
                chosen = data["service_type"]
                question = answer_name(chosen.pk, str(exc.extra.get("field"))) if chosen is not None else ""
                if question in form.fields:
                    form.add_error(question, exc.message)
                else:
                    add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("已为%(name)s代点单“%(type)s”（%(status)s）。")
                    % {"name": resident.name, "type": order.service_type.name, "status": S(order.status).label},
                )
                return HttpResponseRedirect(_detail_url(order))
    status = 400 if request.method == "POST" else 200
    return render(request, "orders/staff/new.html", {"form": form}, status=status)
