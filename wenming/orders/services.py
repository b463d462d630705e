"""Every write about service orders and civility reports.

点单 ``place_order`` → 审单 ``approve_order`` / ``reject_order`` → 派单
``dispatch_order`` or ``open_grab`` → 接单 ``accept_order`` (or
``decline_order``) → ``start_order`` → ``complete_order`` → 评单
``rate_order`` (a low rating opens ``review_complaint``). Reports move by
``persuade_report``, ``mark_rectified`` and ``mark_not_rectified``. The
clock runs ``escalate_overdue`` and ``close_unrated``.

Each move goes through ``_move``: the transition table decides whether it is
allowed, a conditional UPDATE on the status decides who wins a race, and an
``OrderEvent`` records it. Notifications are queued for when the move
commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from wenming.accounts.models import Role, RoleGrant, User
from wenming.accounts.policies import staff_scope
from wenming.core.errors import Conflict, Invalid, NotAllowed, NotFound
from wenming.core.services import apply_changes
from wenming.lib import phone as phones
from wenming.lib.images import InvalidImage, check_photo
from wenming.network.models import Site, SiteLevel
from wenming.network.selectors import nearby_sites
from wenming.notices.services import notify
from wenming.orders import policies
from wenming.orders.models import (
    ACTION_LABELS,
    AWAITING_ACCEPT,
    INITIAL_STATUS,
    LOW_RATING,
    TRANSITIONS,
    Channel,
    Datatype,
    DispatchMode,
    DispatchRule,
    Open311Client,
    Order,
    OrderEvent,
    OrderKind,
    OrderPhoto,
    OrderServer,
    OrderStatus,
    PhotoStage,
    Question,
    ServiceType,
)
from wenming.volunteers import services as volunteer_services
from wenming.volunteers.models import ServiceSource, Team, Volunteer

# A located order goes to the nearest station within this distance.
STATION_RADIUS_M = 5000.0
DESCRIPTION_MAX = 2000
NOTE_MAX = 500
MAX_PHOTOS = 6
HOURS_PLACES = Decimal("0.01")
# How far ahead a preferred time may be.
PREFERRED_AHEAD = dt.timedelta(days=90)
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
# Control characters other than tab and newline (PostgreSQL refuses NUL in text).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
NOTIFY_GRAB_LIMIT = 200
# A service's photos are added once it has started.
PHOTO_SERVICE_STATUSES = frozenset(
    {OrderStatus.IN_SERVICE, OrderStatus.COMPLETED, OrderStatus.COMPLAINT, OrderStatus.CLOSED}
)
DISPATCHABLE = frozenset({OrderStatus.PENDING, OrderStatus.GRABBING, OrderStatus.DISPATCHED, OrderStatus.ACCEPTED})


def order_link(order: Order) -> str:
    return f"/orders/{order.pk}/"


# --- Reading the rules ------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    mode: str
    rate_within_days: int


def rule_for(site: Site) -> Rule:
    """The nearest dispatch rule up the tree; manual dispatch and a week to rate when none is set."""
    chain = [*site.ancestor_ids, site.pk]
    rules = {r.site_id: r for r in DispatchRule.objects.filter(site_id__in=chain)}
    for site_id in reversed(chain):
        if site_id in rules:
            return Rule(rules[site_id].mode, rules[site_id].rate_within_days)
    return Rule(DispatchMode.MANUAL, 7)


def _station_of(site: Site) -> Site:
    """The station a site belongs to: itself, or its level-3 ancestor; a sub-centre stays itself."""
    if site.level <= SiteLevel.STATION:
        return site
    ancestor_ids = site.ancestor_ids
    if len(ancestor_ids) >= SiteLevel.STATION:
        return Site.objects.get(pk=ancestor_ids[SiteLevel.STATION - 1])
    return site


def find_station(latitude: float | None, longitude: float | None, fallback: Site | None) -> Site | None:
    """The responsible station: the nearest active one to the location, else the fallback's station."""
    if latitude is not None and longitude is not None:
        found = nearby_sites(latitude, longitude, STATION_RADIUS_M, levels=[SiteLevel.STATION], limit=1)
        if found:
            return found[0].site
    if fallback is not None:
        return _station_of(fallback)
    return None


def _staff_of(site: Site, *, upward: bool = True) -> list[int]:
    """Station managers and sub-centre admins holding a grant on the site (or, upward, its ancestors)."""
    ids = [*site.ancestor_ids, site.pk] if upward else [site.pk]
    grants = RoleGrant.objects.filter(
        role__in=[Role.STATION_MANAGER, Role.SUBCENTRE_ADMIN], site_id__in=ids
    ).values_list("user_id", flat=True)
    return sorted(set(grants))


def _assignee_users(order: Order) -> list[int]:
    if order.assigned_volunteer_id is not None:
        return [Volunteer.objects.values_list("user_id", flat=True).get(pk=order.assigned_volunteer_id)]
    if order.assigned_team_id is not None:
        return list(
            Volunteer.objects.filter(memberships__team_id=order.assigned_team_id, is_active=True).values_list(
                "user_id", flat=True
            )
        )
    return []


def _tell_requester(order: Order, title: str, body: str) -> None:
    if order.requester_id is not None:
        notify(
            recipients=[order.requester_id],
            kind=f"order_{order.status}",
            title=title,
            body=body,
            link=order_link(order),
        )


# --- Input ------------------------------------------------------------------------------


def _text(value: Any, *, limit: int, field: str, required: bool = False, message: str = "") -> str:
    text = CONTROL.sub("", unicodedata.normalize("NFC", str(value or ""))).strip()
    if required and not text:
        raise Invalid(message or _("请填写此项。"), code=f"missing_{field}", field=field)
    if len(text) > limit:
        raise Invalid(_("不能超过%(limit)d个字。") % {"limit": limit}, code=f"invalid_{field}", field=field)
    return text


def clean_contact_phone(raw: str) -> str:
    value = re.sub(r"[\s()]", "", unicodedata.normalize("NFKC", raw or ""))
    if not value:
        return ""
    if LANDLINE.fullmatch(value):
        return value
    try:
        return phones.normalize(value)
    except phones.InvalidPhone as exc:
        raise Invalid(
            _("联系电话格式不正确，请填写手机号或带区号的座机号。"), code="invalid_phone", field="contact_phone"
        ) from exc


def _coordinates(latitude: Any, longitude: Any) -> tuple[float | None, float | None]:
    if latitude in (None, "") and longitude in (None, ""):
        return None, None
    try:
        lat, lng = float(latitude), float(longitude)
    except (TypeError, ValueError) as exc:
        raise Invalid(_("位置坐标应为数字。"), code="invalid_location", field="latitude") from exc
    if not (-90 <= lat <= 90 and -180 <= lng <= 180) or lat != lat or lng != lng:
        raise Invalid(_("位置坐标超出范围。"), code="invalid_location", field="latitude")
    return lat, lng


def clean_answers(service_type: ServiceType, answers: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check the answers to a type's extra questions: required ones present, values of the right kind."""
    answers = dict(answers or {})
    questions = {q.code: q for q in service_type.questions.all()}
    unknown = sorted(set(answers) - set(questions))
    if unknown:
        raise Invalid(
            _("不认识的附加信息：%(codes)s。") % {"codes": _("、").join(unknown)},
            code="unknown_attribute",
            field=unknown[0],
        )
    cleaned: dict[str, Any] = {}
    for code, question in questions.items():
        value = answers.get(code)
        empty = value is None or value == "" or value == []
        if empty:
            if question.required:
                raise Invalid(
                    _("请回答“%(prompt)s”。") % {"prompt": question.prompt}, code="missing_attribute", field=code
                )
            continue
        cleaned[code] = _answer(question.datatype, question.choices, question.prompt, code, value)
    return cleaned


def _answer(datatype: str, choices: list[dict[str, str]], prompt: str, code: str, value: Any) -> Any:
    bad = Invalid(_("“%(prompt)s”的回答不正确。") % {"prompt": prompt}, code="invalid_attribute", field=code)
    keys = {str(c.get("key")) for c in choices}
    if datatype == Datatype.MULTI:
        values = value if isinstance(value, list | tuple) else [value]
        values = [str(v) for v in values]
        if not values or any(v not in keys for v in values):
            raise bad
        return sorted(set(values), key=values.index)
    if isinstance(value, list | tuple):
        if len(value) != 1:
            raise bad
        value = value[0]
    text = CONTROL.sub("", str(value)).strip()
    if datatype == Datatype.SINGLE:
        if text not in keys:
            raise bad
        return text
    if datatype == Datatype.NUMBER:
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise bad from exc
        if not number.is_finite():
            raise bad
        return str(number)
    if datatype == Datatype.DATETIME:
        parsed = parse_datetime(text)
        if parsed is None or parsed.tzinfo is None:
            raise bad
        return parsed.isoformat()
    limit = 2000 if datatype == Datatype.TEXT else 200
    if len(text) > limit:
        raise bad
    return text


def _photos(files: Sequence[UploadedFile]) -> list[tuple[UploadedFile, str]]:
    if len(files) > MAX_PHOTOS:
        raise Invalid(_("最多上传%(n)d张照片。") % {"n": MAX_PHOTOS}, code="too_many_photos", field="photos")
    checked = []
    for f in files:
        try:
            checked.append((f, check_photo(f)))
        except InvalidImage as exc:
            raise Invalid(exc.message, code=exc.code, field="photos") from exc
    return checked


def _store_photos(order: Order, checked: list[tuple[UploadedFile, str]], *, stage: str, actor: User | None) -> None:
    for f, ext in checked:
        photo = OrderPhoto(order=order, stage=stage, uploaded_by=actor)
        photo.image.save(f"{order.pk}-{secrets.token_hex(6)}.{ext}", f, save=False)
        photo.save()


# --- Moves ------------------------------------------------------------------------------


def _move(
    order: Order,
    to: str,
    *,
    action: str,
    actor: User | None,
    note: str = "",
    actor_label: str = "",
    volunteer: Volunteer | None = None,
    team: Team | None = None,
    where: Q | None = None,
    now: dt.datetime | None = None,
    **changes: Any,
) -> Order:
    """Make ``action``'s move if the table allows it from the current status; the UPDATE's row count
    settles a race (``where`` narrows it further, e.g. to the assigned volunteer)."""
    now = now or timezone.now()
    from_status = order.status
    if TRANSITIONS.get((order.kind, from_status, to)) != action:
        raise Conflict(
            _("“%(from)s”的订单不能%(action)s。")
            % {"from": OrderStatus(from_status).label, "action": ACTION_LABELS.get(action, action)},
            code="invalid_transition",
        )
    note = note[:NOTE_MAX]
    if note and "status_note" not in changes:
        changes["status_note"] = note
    rows = Order.objects.filter(pk=order.pk, status=from_status, revision=order.revision)
    if where is not None:
        rows = rows.filter(where)
    moved = rows.update(status=to, revision=F("revision") + 1, updated_at=now, **changes)
    if not moved:
        raise Conflict(_("订单状态已变化，请刷新后重试。"), code="stale")
    order.status = to
    order.revision += 1
    order.updated_at = now
    for key, value in changes.items():
        setattr(order, key, value)
    OrderEvent.objects.create(
        order=order,
        action=action,
        from_status=from_status,
        to_status=to,
        actor=actor if actor is not None and actor.pk else None,
        actor_label=actor_label[:100],
        volunteer=volunteer,
        team=team,
        note=note,
        at=now,
    )
    return order


def _locked(order: Order, actor: User | None = None, *allowed: Callable[[User, Order], bool]) -> Order:
    """Re-read the caller's order inside the transaction (a row lock on PostgreSQL), so a move starts
    from the state as it is now and the caller's copy shows the result; then ask each policy in
    ``allowed``: an order the actor may not act on answers 404, as if it were not there."""
    try:
        order.refresh_from_db(from_queryset=Order.objects.select_for_update())
    except Order.DoesNotExist as exc:
        raise NotFound(_("未找到该订单。")) from exc
    if actor is not None and not all(check(actor, order) for check in allowed):
        raise NotFound(_("未找到该订单。"))
    return order


def _pending_fields(order: Order, now: dt.datetime) -> dict[str, Any]:
    return {"accept_by": now + dt.timedelta(hours=order.service_type.accept_within_hours)}


# --- 点单 -------------------------------------------------------------------------------


def classify_text(text: str) -> tuple[ServiceType | None, dict[str, Any]]:
    """The service type the words point to, with the evidence kept for staff to read."""
    from wenming.orders.classify import classify_service

    return classify_service(text)


def place_order(
    *,
    actor: User | None,
    description: str,
    service_type: ServiceType | None = None,
    kind: str = OrderKind.SERVICE,
    requester: User | None = None,
    site: Site | None = None,
    address: str = "",
    latitude: Any = None,
    longitude: Any = None,
    preferred_at: dt.datetime | None = None,
    answers: Mapping[str, Any] | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    photos: Sequence[UploadedFile] = (),
    client: Open311Client | None = None,
    now: dt.datetime | None = None,
) -> Order:
    """点单 (or 随手拍): a resident for themselves, staff for a resident, or an Open311 client.

    The responsible station is found from the location (else the requester's home site, the staff
    member's chosen site or the client's site). With no type chosen, the words decide the type.
    """
    now = now or timezone.now()
    if client is not None:
        channel = Channel.OPEN311
    elif actor is None or not policies.can_place_order(actor):
        raise NotAllowed(_("请先登录。"), code="login_required")
    elif requester is not None and requester.pk != actor.pk:
        channel = Channel.STAFF
    else:
        channel = Channel.SELF
        requester = actor
    description = _text(
        description, limit=DESCRIPTION_MAX, field="description", required=True, message=_("请描述您的需求。")
    )
    address = _text(address, limit=200, field="address")
    lat, lng = _coordinates(latitude, longitude)
    contact_name = _text(contact_name, limit=50, field="contact_name")
    contact_phone = clean_contact_phone(contact_phone)
    contact_email = _text(contact_email, limit=254, field="contact_email")
    if contact_email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", contact_email):
        raise Invalid(_("电子邮箱格式不正确。"), code="invalid_email", field="contact_email")
    if preferred_at is not None:
        if preferred_at.tzinfo is None:
            raise Invalid(_("时间必须包含时区。"), code="invalid_time", field="preferred_at")
        if preferred_at < now - dt.timedelta(hours=1) or preferred_at > now + PREFERRED_AHEAD:
            raise Invalid(_("期望服务时间应在今后90天内。"), code="invalid_time", field="preferred_at")

    classification: dict[str, Any] = {}
    if service_type is None:
        if kind == OrderKind.REPORT:
            raise Invalid(_("请选择问题类别。"), code="missing_service_type", field="service_type")
        service_type, classification = classify_text(description)
        if service_type is None:
            raise Invalid(
                _("没能从描述中判断服务类型，请选择一个服务类型。"), code="unclassified", field="service_type"
            )
    if not service_type.is_active:
        raise Invalid(_("该服务暂不受理。"), code="inactive_service_type", field="service_type")
    kind = service_type.kind
    if kind == OrderKind.REPORT and channel == Channel.SELF and not photos:
        raise Invalid(_("随手拍请至少拍一张照片。"), code="missing_photo", field="photos")
    cleaned = clean_answers(service_type, answers)
    checked = _photos(photos)

    if channel == Channel.SELF:
        assert requester is not None
        contact_name = contact_name or requester.name
        contact_phone = contact_phone or requester.phone
        fallback = requester.home_site
    elif channel == Channel.STAFF:
        assert requester is not None
        assert actor is not None
        contact_name = contact_name or requester.name
        contact_phone = contact_phone or requester.phone
        fallback = site or requester.home_site
        if fallback is None or not policies.can_order_for_others(actor, fallback):
            raise NotAllowed(_("您只能为本辖区的居民代点单。"), code="out_of_scope")
    else:
        assert client is not None
        fallback = client.site
    station = find_station(lat, lng, site if channel == Channel.OPEN311 and site else fallback)
    if station is None:
        raise Invalid(
            _("请填写服务地址或在地图上选择位置，以便交给附近的实践站。"), code="missing_location", field="address"
        )
    if channel == Channel.STAFF and actor is not None and not policies.can_order_for_others(actor, station):
        raise NotAllowed(_("您只能为本辖区的居民代点单。"), code="out_of_scope")
    if not (address or lat is not None):
        address = ""

    status = INITIAL_STATUS[OrderKind(kind)]
    if kind == OrderKind.SERVICE and service_type.needs_review:
        status = OrderStatus.REVIEWING
    with transaction.atomic():
        order = Order(
            kind=kind,
            service_type=service_type,
            site=station,
            status=status,
            requester=requester,
            channel=channel,
            created_by=actor if actor is not None and actor.pk else None,
            client=client,
            contact_name=contact_name,
            contact_phone=contact_phone,
            contact_email=contact_email,
            description=description,
            address=address,
            latitude=lat,
            longitude=lng,
            preferred_at=preferred_at,
            answers=cleaned,
            classification=classification,
            created_at=now,
            updated_at=now,
        )
        if status == OrderStatus.PENDING:
            order.accept_by = now + dt.timedelta(hours=service_type.accept_within_hours)
        order.save()
        OrderEvent.objects.create(
            order=order,
            action="create",
            to_status=status,
            actor=actor if actor is not None and actor.pk else None,
            actor_label=client.name if client is not None else "",
            note=_("自动分类：%(type)s") % {"type": service_type.name} if classification else "",
            at=now,
        )
        _store_photos(order, checked, stage=PhotoStage.REQUEST, actor=actor)
        notify(
            recipients=_staff_of(station, upward=False) or _staff_of(station),
            kind="order_new" if kind == OrderKind.SERVICE else "report_new",
            title=_("新的点单：%(type)s") % {"type": service_type.name}
            if kind == OrderKind.SERVICE
            else _("新的随手拍：%(type)s") % {"type": service_type.name},
            body=description[:100],
            link=staff_link(order),
        )
        if status == OrderStatus.PENDING:
            _apply_rule(order, now=now)
    return order


def staff_link(order: Order) -> str:
    return f"/staff/orders/{order.pk}/"


def _apply_rule(order: Order, *, now: dt.datetime) -> None:
    """Right after an order becomes ready for dispatch: automatic dispatch or an open grab, per the site's rule."""
    rule = rule_for(order.site)
    if rule.mode == DispatchMode.GRAB:
        _open_grab(order, actor=None, actor_label=_("系统"), now=now)
    elif rule.mode == DispatchMode.AUTO:
        from wenming.orders.recommend import rank

        best = rank(order, limit=1, now=now)
        if best:
            _dispatch(order, volunteer=best[0].volunteer, team=None, actor=None, actor_label=_("系统自动派单"), now=now)


def override_type(*, actor: User, order: Order, service_type: ServiceType, note: str = "") -> Order:
    """Staff correct the type (the classifier's or the requester's choice) before the order is taken."""
    with transaction.atomic():
        order = _locked(order, actor, policies.can_review_order)
        if order.status not in {OrderStatus.REVIEWING, OrderStatus.PENDING, OrderStatus.REPORTED}:
            raise Conflict(_("订单已派出，不能再更改服务类型。"), code="invalid_transition")
        if service_type.kind != order.kind or not service_type.is_active:
            raise Invalid(_("请选择同类的、在受理中的服务类型。"), code="invalid_service_type", field="service_type")
        if service_type.pk == order.service_type_id:
            return order
        previous = order.service_type.name
        now = timezone.now()
        # Answers to questions the new type does not ask are dropped.
        asked = set(service_type.questions.values_list("code", flat=True))
        answers = {code: value for code, value in order.answers.items() if code in asked}
        Order.objects.filter(pk=order.pk).update(
            service_type=service_type, answers=answers, revision=F("revision") + 1, updated_at=now
        )
        order.service_type = service_type
        order.answers = answers
        order.revision += 1
        OrderEvent.objects.create(
            order=order,
            action="retype",
            from_status=order.status,
            to_status=order.status,
            actor=actor,
            note=(
                _("服务类型由“%(old)s”改为“%(new)s”") % {"old": previous, "new": service_type.name}
                + (_("：%(note)s") % {"note": note} if note else "")
            )[:NOTE_MAX],
            at=now,
        )
    return order


def approve_order(*, actor: User, order: Order, note: str = "") -> Order:
    with transaction.atomic():
        order = _locked(order, actor, policies.can_review_order)
        now = timezone.now()
        _move(
            order, OrderStatus.PENDING, action="approve", actor=actor, note=note, now=now, **_pending_fields(order, now)
        )
        _tell_requester(
            order, _("您的点单已受理"), _("“%(type)s”已通过审核，正在安排志愿者。") % {"type": order.service_type.name}
        )
        _apply_rule(order, now=now)
    return order


def reject_order(*, actor: User, order: Order, reason: str) -> Order:
    """审单不通过, or a civility report not taken up: the requester reads the reason."""
    reason = _text(reason, limit=NOTE_MAX, field="reason", required=True, message=_("请填写不予受理的原因。"))
    with transaction.atomic():
        order = _locked(order, actor, policies.can_review_order)
        now = timezone.now()
        _move(
            order,
            OrderStatus.REJECTED,
            action="reject",
            actor=actor,
            note=reason,
            now=now,
            closed_at=now,
            accept_by=None,
        )
        _tell_requester(order, _("您的点单未被受理"), _("原因：%(reason)s") % {"reason": reason})
    return order


def cancel_order(*, actor: User, order: Order, reason: str = "") -> Order:
    """The requester withdraws, or staff cancel, before anyone has accepted."""
    reason = _text(reason, limit=NOTE_MAX, field="reason")
    with transaction.atomic():
        order = _locked(order, actor, policies.can_view_order, policies.can_cancel)
        now = timezone.now()
        _move(
            order,
            OrderStatus.CANCELLED,
            action="cancel",
            actor=actor,
            note=reason or _("已撤销"),
            now=now,
            closed_at=now,
            accept_by=None,
        )
        told = _assignee_users(order)
        if told:
            notify(
                recipients=told,
                kind="order_cancelled",
                title=_("订单已撤销：%(type)s") % {"type": order.service_type.name},
                body=reason,
                link=order_link(order),
            )
    return order


# --- 派单 -------------------------------------------------------------------------------


def _dispatch(
    order: Order,
    *,
    volunteer: Volunteer | None,
    team: Team | None,
    actor: User | None,
    actor_label: str = "",
    note: str = "",
    now: dt.datetime,
) -> Order:
    if order.kind != OrderKind.SERVICE or order.status not in DISPATCHABLE:
        raise Conflict(
            _("“%(from)s”的订单不能派单。") % {"from": OrderStatus(order.status).label}, code="invalid_transition"
        )
    if (volunteer is None) == (team is None):
        raise Invalid(_("请选择一位志愿者或一支队伍。"), code="missing_assignee", field="volunteer")
    site = policies.responsible_site(order)
    if volunteer is not None:
        if not volunteer.is_active or (not volunteer.site.is_within(site) and not volunteer.site.is_within(order.site)):
            raise Invalid(_("只能派给本辖区在册的志愿者。"), code="invalid_assignee", field="volunteer")
        if order.assigned_volunteer_id == volunteer.pk and order.status == OrderStatus.DISPATCHED:
            raise Conflict(_("已经派给这位志愿者了。"), code="already_dispatched")
    if team is not None and not team.site.is_within(site) and not team.site.is_within(order.site):
        raise Invalid(_("只能派给本辖区的志愿服务队。"), code="invalid_assignee", field="team")
    action = "redispatch" if order.status in {OrderStatus.DISPATCHED, OrderStatus.ACCEPTED} else "dispatch"
    previous = _assignee_users(order) if order.status != OrderStatus.ACCEPTED else []
    if order.status == OrderStatus.ACCEPTED and order.accepted_by is not None:
        previous = [order.accepted_by.user_id]
    _move(
        order,
        OrderStatus.DISPATCHED,
        action=action,
        actor=actor,
        actor_label=actor_label,
        note=note,
        volunteer=volunteer,
        team=team,
        now=now,
        assigned_volunteer=volunteer,
        assigned_team=team,
        accepted_by=None,
        accepted_at=None,
        finish_by=None,
        dispatched_at=now,
    )
    name = volunteer.user.name if volunteer is not None else team.name  # type: ignore[union-attr]
    notify(
        recipients=_assignee_users(order),
        kind="order_dispatched",
        title=_("新派单：%(type)s") % {"type": order.service_type.name},
        body=_("请在%(deadline)s前接单。") % {"deadline": _deadline_text(order.accept_by)},
        link=order_link(order),
    )
    gone = [u for u in previous if u not in _assignee_users(order)]
    if gone:
        notify(
            recipients=gone,
            kind="order_reassigned",
            title=_("订单已改派：%(type)s") % {"type": order.service_type.name},
            body=_("该订单已改派给%(name)s。") % {"name": name},
            link=order_link(order),
        )
    return order


def _deadline_text(at: dt.datetime | None) -> str:
    if at is None:
        return ""
    return timezone.localtime(at).strftime("%m-%d %H:%M")


def dispatch_order(
    *, actor: User, order: Order, volunteer: Volunteer | None = None, team: Team | None = None, note: str = ""
) -> Order:
    """派单 to one volunteer or one team; again (改派) while it waits or after it was accepted."""
    note = _text(note, limit=NOTE_MAX, field="note")
    with transaction.atomic():
        order = _locked(order, actor, policies.can_dispatch)
        return _dispatch(order, volunteer=volunteer, team=team, actor=actor, note=note, now=timezone.now())


def _open_grab(order: Order, *, actor: User | None, actor_label: str = "", now: dt.datetime) -> Order:
    _move(
        order,
        OrderStatus.GRABBING,
        action="open_grab",
        actor=actor,
        actor_label=actor_label,
        now=now,
        assigned_volunteer=None,
        assigned_team=None,
    )
    recipients = list(policies.qualified_volunteers(order).values_list("user_id", flat=True)[:NOTIFY_GRAB_LIMIT])
    notify(
        recipients=recipients,
        kind="order_grab",
        title=_("可抢单：%(type)s") % {"type": order.service_type.name},
        body=order.description[:100],
        link=order_link(order),
    )
    return order


def open_grab(*, actor: User, order: Order) -> Order:
    """抢单: every qualified volunteer of the site sees the order; the first to take it gets it."""
    with transaction.atomic():
        order = _locked(order, actor, policies.can_dispatch)
        return _open_grab(order, actor=actor, now=timezone.now())


# --- 接单 -------------------------------------------------------------------------------


def accept_order(*, actor: User, order: Order) -> Order:
    """接单 (or 抢单). Exactly one acceptance wins: the UPDATE only matches while the order still waits.

    No row lock is taken first, so a hundred volunteers at once cost one short UPDATE each, and the
    losers are told at once that someone else was quicker.
    """
    volunteer = policies.volunteer_of(actor)
    try:
        order.refresh_from_db()
    except Order.DoesNotExist as exc:
        raise NotFound(_("未找到该订单。")) from exc
    current = order
    if volunteer is None:
        raise NotFound(_("未找到该订单。"))
    if not policies.can_view_order(actor, current):
        # A qualified volunteer who saw the open grab is told it went, not that it never was.
        if current.accepted_by_id is not None and policies.qualifies(actor, current):
            raise Conflict(_("手慢了，该订单已被其他志愿者接走。"), code="taken")
        raise NotFound(_("未找到该订单。"))
    if current.status not in {OrderStatus.DISPATCHED, OrderStatus.GRABBING}:
        if current.accepted_by_id == volunteer.pk:
            raise Conflict(_("您已接下该订单。"), code="already_accepted")
        if current.accepted_by_id is not None:
            raise Conflict(_("手慢了，该订单已被其他志愿者接走。"), code="taken")
        raise Conflict(_("该订单当前不能接单。"), code="invalid_transition")
    if not policies.can_accept(actor, current):
        raise NotAllowed(_("该订单没有派给您。"), code="not_assigned")
    now = timezone.now()
    action = "grab" if current.status == OrderStatus.GRABBING else "accept"
    finish_by = now + dt.timedelta(days=current.service_type.finish_within_days)
    with transaction.atomic():
        # The status and revision as read: a concurrent accept, redispatch or cancel makes this match nothing.
        rows = Order.objects.filter(pk=current.pk, status=current.status, revision=current.revision).update(
            status=OrderStatus.ACCEPTED,
            revision=F("revision") + 1,
            updated_at=now,
            accepted_by=volunteer,
            accepted_at=now,
            finish_by=finish_by,
            accept_by=None,
        )
        if not rows:
            raise Conflict(_("手慢了，该订单已被其他志愿者接走。"), code="taken")
        OrderEvent.objects.create(
            order=current,
            action=action,
            from_status=current.status,
            to_status=OrderStatus.ACCEPTED,
            actor=actor,
            volunteer=volunteer,
            at=now,
        )
        current.status = OrderStatus.ACCEPTED
        current.revision += 1
        current.accepted_by = volunteer
        current.accepted_at = now
        current.finish_by = finish_by
        current.accept_by = None
        _tell_requester(
            current,
            _("志愿者已接单"),
            _("%(name)s已接下您的“%(type)s”，会尽快与您联系。")
            % {"name": actor.name, "type": current.service_type.name},
        )
    return current


def decline_order(*, actor: User, order: Order, reason: str) -> Order:
    """拒单 with a reason: the order goes back to the station to dispatch again."""
    reason = _text(reason, limit=NOTE_MAX, field="reason", required=True, message=_("请填写拒单原因。"))
    with transaction.atomic():
        order = _locked(order, actor, policies.can_view_order)
        if not policies.can_decline(actor, order):
            raise NotAllowed(_("该订单没有派给您。"), code="not_assigned")
        volunteer = policies.volunteer_of(actor)
        team = order.assigned_team
        _move(
            order,
            OrderStatus.PENDING,
            action="decline",
            actor=actor,
            note=reason,
            volunteer=volunteer,
            team=team,
            assigned_volunteer=None,
            assigned_team=None,
            status_note="",
        )
        notify(
            recipients=_staff_of(order.site, upward=False) or _staff_of(order.site),
            kind="order_declined",
            title=_("拒单：%(type)s") % {"type": order.service_type.name},
            body=_("%(name)s拒单，原因：%(reason)s") % {"name": actor.name, "reason": reason},
            link=staff_link(order),
        )
    return order


def release_order(*, actor: User, order: Order, reason: str) -> Order:
    """The volunteer who accepted cannot serve after all: back to the station, with a reason."""
    reason = _text(reason, limit=NOTE_MAX, field="reason", required=True, message=_("请填写退回原因。"))
    with transaction.atomic():
        order = _locked(order, actor, policies.can_view_order, policies.can_deliver)
        now = timezone.now()
        _move(
            order,
            OrderStatus.PENDING,
            action="release",
            actor=actor,
            note=reason,
            volunteer=order.accepted_by,
            now=now,
            assigned_volunteer=None,
            assigned_team=None,
            accepted_by=None,
            accepted_at=None,
            finish_by=None,
            status_note="",
            **_pending_fields(order, now),
        )
        notify(
            recipients=_staff_of(order.site, upward=False) or _staff_of(order.site),
            kind="order_released",
            title=_("订单被退回：%(type)s") % {"type": order.service_type.name},
            body=reason,
            link=staff_link(order),
        )
    return order


def start_order(*, actor: User, order: Order, now: dt.datetime | None = None) -> Order:
    with transaction.atomic():
        order = _locked(order, actor, policies.can_view_order, policies.can_deliver)
        now = now or timezone.now()
        _move(
            order,
            OrderStatus.IN_SERVICE,
            action="start",
            actor=actor,
            volunteer=order.accepted_by,
            now=now,
            started_at=now,
        )
        _tell_requester(
            order, _("服务已开始"), _("志愿者已开始为您提供“%(type)s”。") % {"type": order.service_type.name}
        )
    return order


@dataclass(frozen=True)
class Served:
    volunteer: Volunteer
    hours: Any


def _served_hours(value: Any, elapsed: Decimal) -> Decimal:
    try:
        hours = Decimal(str(value)).quantize(HOURS_PLACES, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError) as exc:
        raise Invalid(_("时长应为数字。"), code="invalid_hours", field="servers") from exc
    if not hours.is_finite() or hours <= 0:
        raise Invalid(_("时长必须大于0。"), code="invalid_hours", field="servers")
    if hours > elapsed or hours > 24:
        raise Invalid(
            _("时长不能超过实际服务时间（%(hours)s小时）。") % {"hours": elapsed}, code="invalid_hours", field="servers"
        )
    return hours


def complete_order(
    *,
    actor: User,
    order: Order,
    servers: Iterable[Served],
    beneficiaries: int = 1,
    note: str = "",
    started_at: dt.datetime | None = None,
    photos: Sequence[UploadedFile] = (),
    now: dt.datetime | None = None,
) -> Order:
    """完成服务: who served and for how long, how many people were served, notes and photos.

    Every serving volunteer gets one ledger entry, for no more hours than passed between the start
    (as recorded, or as given) and now.
    """
    now = now or timezone.now()
    note = _text(note, limit=2000, field="note")
    if isinstance(beneficiaries, bool) or not isinstance(beneficiaries, int) or not 1 <= beneficiaries <= 10000:
        raise Invalid(_("服务人数应为1到10000之间的整数。"), code="invalid_beneficiaries", field="beneficiaries")
    checked = _photos(photos)
    with transaction.atomic():
        order = _locked(order, actor, policies.can_view_order, policies.can_deliver)
        if order.status != OrderStatus.IN_SERVICE:
            raise Conflict(_("请先开始服务，再完成。"), code="invalid_transition")
        began = started_at or order.started_at
        assert began is not None
        if began.tzinfo is None:
            raise Invalid(_("时间必须包含时区。"), code="invalid_time", field="started_at")
        if (order.accepted_at is not None and began < order.accepted_at) or began >= now:
            raise Invalid(_("开始时间应在接单之后、现在之前。"), code="invalid_time", field="started_at")
        elapsed = (Decimal((now - began).total_seconds()) / Decimal(3600)).quantize(
            HOURS_PLACES, rounding=ROUND_HALF_UP
        )
        people: dict[int, tuple[Volunteer, Decimal]] = {}
        for served in servers:
            hours = _served_hours(served.hours, elapsed)
            if served.volunteer.pk in people:
                raise Invalid(_("同一位志愿者只能登记一次。"), code="duplicate_server", field="servers")
            if not (
                served.volunteer.pk == order.accepted_by_id
                or served.volunteer.site.is_within(policies.responsible_site(order))
                or served.volunteer.site.is_within(order.site)
            ):
                raise Invalid(_("只能登记本辖区在册的志愿者。"), code="invalid_server", field="servers")
            if not served.volunteer.is_active:
                raise Invalid(
                    _("志愿者%(name)s已不在册。") % {"name": served.volunteer.user.name},
                    code="invalid_server",
                    field="servers",
                )
            people[served.volunteer.pk] = (served.volunteer, hours)
        if order.accepted_by_id not in people:
            raise Invalid(_("请登记接单志愿者本人的服务时长。"), code="missing_server", field="servers")
        _move(
            order,
            OrderStatus.COMPLETED,
            action="complete",
            actor=actor,
            note=_("服务已完成"),
            volunteer=order.accepted_by,
            now=now,
            completed_at=now,
            started_at=began,
            beneficiaries=beneficiaries,
            completion_note=note,
        )
        for volunteer, hours in people.values():
            record = volunteer_services.record_activity_hours(
                recorder=actor,
                volunteer=volunteer,
                site=order.site,
                description=_("点单服务：%(type)s") % {"type": order.service_type.name},
                started_at=began,
                ended_at=now,
                hours=hours,
                source_ref=f"order:{order.pk}",
                source=ServiceSource.ORDER,
            )
            OrderServer.objects.create(order=order, volunteer=volunteer, hours=hours, record=record)
        _store_photos(order, checked, stage=PhotoStage.COMPLETION, actor=actor)
        _tell_requester(
            order,
            _("服务已完成，请评价"),
            _("“%(type)s”已完成，欢迎为本次服务打分。") % {"type": order.service_type.name},
        )
    return order


# --- 评单 -------------------------------------------------------------------------------


def rate_order(*, actor: User, order: Order, rating: int, comment: str = "") -> Order:
    """评单, 1–5. Two or less opens a review by the station."""
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise Invalid(_("请打1到5分。"), code="invalid_rating", field="rating")
    comment = _text(comment, limit=500, field="comment")
    if rating <= LOW_RATING and not comment:
        raise Invalid(_("请说说哪里不满意，便于我们改进。"), code="missing_comment", field="comment")
    with transaction.atomic():
        order = _locked(order, actor, policies.can_view_order, policies.can_rate)
        if order.status != OrderStatus.COMPLETED:
            if order.rating is not None:
                raise Conflict(_("您已评价过该订单。"), code="already_rated")
            raise Conflict(_("服务完成后才能评价。"), code="invalid_transition")
        now = timezone.now()
        low = rating <= LOW_RATING
        _move(
            order,
            OrderStatus.COMPLAINT if low else OrderStatus.CLOSED,
            action="rate",
            actor=actor,
            note=_("评分%(n)d：%(comment)s") % {"n": rating, "comment": comment}
            if comment
            else _("评分%(n)d") % {"n": rating},
            now=now,
            rating=rating,
            rating_comment=comment,
            rated_at=now,
            closed_at=None if low else now,
            status_note=_("感谢您的评价。") if not low else _("您的意见已转站长复核。"),
        )
        if low:
            notify(
                recipients=_staff_of(order.site, upward=False) or _staff_of(order.site),
                kind="order_complaint",
                title=_("差评待复核：%(type)s") % {"type": order.service_type.name},
                body=comment,
                link=staff_link(order),
            )
    return order


def review_complaint(*, actor: User, order: Order, note: str) -> Order:
    """The station manager looks into a low rating and writes what was done; the order closes."""
    note = _text(note, limit=NOTE_MAX, field="note", required=True, message=_("请填写复核意见。"))
    with transaction.atomic():
        order = _locked(order, actor, policies.can_review_complaint)
        now = timezone.now()
        _move(
            order, OrderStatus.CLOSED, action="review", actor=actor, note=note, now=now, review_note=note, closed_at=now
        )
        _tell_requester(order, _("您的意见已复核"), note)
    return order


# --- 随手拍 ------------------------------------------------------------------------------


def persuade_report(*, actor: User, order: Order, note: str) -> Order:
    """劝导: staff record what they told the people concerned."""
    note = _text(note, limit=NOTE_MAX, field="note", required=True, message=_("请填写劝导情况。"))
    with transaction.atomic():
        order = _locked(order, actor, policies.can_review_order)
        _move(order, OrderStatus.PERSUADED, action="persuade", actor=actor, note=note, follow_up_on=None)
        _tell_requester(order, _("您反映的问题已劝导"), note)
    return order


def mark_rectified(*, actor: User, order: Order, note: str = "", photos: Sequence[UploadedFile] = ()) -> Order:
    note = _text(note, limit=NOTE_MAX, field="note") or _("已整改")
    checked = _photos(photos)
    with transaction.atomic():
        order = _locked(order, actor, policies.can_review_order)
        now = timezone.now()
        _move(
            order,
            OrderStatus.RECTIFIED,
            action="rectify",
            actor=actor,
            note=note,
            now=now,
            closed_at=now,
            follow_up_on=None,
        )
        _store_photos(order, checked, stage=PhotoStage.FOLLOW_UP, actor=actor)
        _tell_requester(order, _("您反映的问题已整改"), note)
    return order


def mark_not_rectified(*, actor: User, order: Order, follow_up_on: dt.date, note: str = "") -> Order:
    """Not put right yet: the station comes back on ``follow_up_on``."""
    note = _text(note, limit=NOTE_MAX, field="note")
    today = timezone.localdate()
    if not isinstance(follow_up_on, dt.date) or follow_up_on <= today or follow_up_on > today + dt.timedelta(days=90):
        raise Invalid(_("复查日期应在今后90天内。"), code="invalid_follow_up", field="follow_up_on")
    with transaction.atomic():
        order = _locked(order, actor, policies.can_review_order)
        _move(
            order,
            OrderStatus.UNRECTIFIED,
            action="not_rectified",
            actor=actor,
            note=note or _("未整改，%(date)s复查") % {"date": follow_up_on.isoformat()},
            follow_up_on=follow_up_on,
        )
    return order


# --- Photos after the order is placed ---------------------------------------------------------


def photo_stage_for(actor: User, order: Order) -> str | None:
    """Which photos ``actor`` may add now: the requester's own (while the order is open), the
    service's (its volunteer or staff, once the service has started), a report's follow-up (staff)."""
    if order.kind == OrderKind.REPORT:
        if policies.can_review_order(actor, order):
            return PhotoStage.FOLLOW_UP
    elif policies.can_deliver(actor, order) and order.status in PHOTO_SERVICE_STATUSES:
        return PhotoStage.COMPLETION
    if policies.is_requester(actor, order) and not order.is_final:
        return PhotoStage.REQUEST
    return None


def add_photos(*, actor: User, order: Order, photos: Sequence[UploadedFile]) -> list[OrderPhoto]:
    """Add photos to an order: at most ``MAX_PHOTOS`` of each kind (request, service, follow-up)."""
    if not photos:
        raise Invalid(_("请选择要上传的照片。"), code="missing_photo", field="photos")
    checked = _photos(photos)
    with transaction.atomic():
        order = _locked(order, actor, policies.can_view_order)
        stage = photo_stage_for(actor, order)
        if stage is None:
            raise Conflict(_("该订单现在不能再添加照片。"), code="photos_closed")
        if order.photos.filter(stage=stage).count() + len(checked) > MAX_PHOTOS:
            raise Invalid(_("最多上传%(n)d张照片。") % {"n": MAX_PHOTOS}, code="too_many_photos", field="photos")
        before = set(order.photos.values_list("pk", flat=True))
        _store_photos(order, checked, stage=stage, actor=actor)
        Order.objects.filter(pk=order.pk).update(updated_at=timezone.now())
        return list(order.photos.exclude(pk__in=before).order_by("id"))


# --- The clock --------------------------------------------------------------------------


def escalate_overdue(*, now: dt.datetime | None = None) -> int:
    """Orders nobody took in time go up one level (站 → 分中心 → 中心) and the new level is told.

    The deadline restarts for the new level; an order already at the top stays there, flagged once.
    Returns how many orders moved up.
    """
    now = now or timezone.now()
    due = list(
        Order.objects.filter(status__in=AWAITING_ACCEPT, accept_by__lte=now)
        .select_related("service_type", "site", "escalated_to")
        .order_by("accept_by", "id")[:500]
    )
    moved = 0
    for order in due:
        current = order.escalated_to or order.site
        parent = Site.objects.filter(pk=current.parent_id).first() if current.parent_id else None
        with transaction.atomic():
            changes: dict[str, Any] = {"accept_by": now + dt.timedelta(hours=order.service_type.accept_within_hours)}
            if parent is not None:
                changes.update(escalated_to=parent, escalations=F("escalations") + 1)
            else:
                changes["accept_by"] = None
            rows = Order.objects.filter(pk=order.pk, revision=order.revision, status=order.status).update(
                revision=F("revision") + 1, updated_at=now, **changes
            )
            if not rows:
                continue
            target = parent or current
            OrderEvent.objects.create(
                order=order,
                action="escalate",
                from_status=order.status,
                to_status=order.status,
                actor_label=_("系统"),
                note=_("超过接单时限未接单，已上报%(site)s") % {"site": target.name}
                if parent is not None
                else _("超过接单时限未接单，已无上级可上报"),
                at=now,
            )
            notify(
                recipients=_staff_of(target, upward=False),
                kind="order_escalated",
                title=_("超时未接单：%(type)s") % {"type": order.service_type.name},
                body=_("%(site)s的订单超过接单时限仍无人接单，请协调派单。") % {"site": order.site.name},
                link=staff_link(order),
                dedupe_key=f"order-escalated-{order.pk}-{order.revision + 1}",
            )
            moved += 1 if parent is not None else 0
    return moved


def close_unrated(*, now: dt.datetime | None = None) -> int:
    """A completed order the requester has not rated within the site's days closes by itself."""
    now = now or timezone.now()
    closed = 0
    candidates = Order.objects.filter(status=OrderStatus.COMPLETED, completed_at__lte=now - dt.timedelta(days=1))
    rules: dict[int, Rule] = {}
    for order in candidates.select_related("site", "service_type").order_by("completed_at", "id")[:2000]:
        rule = rules.setdefault(order.site_id, rule_for(order.site))
        assert order.completed_at is not None
        if order.completed_at + dt.timedelta(days=rule.rate_within_days) > now:
            continue
        with transaction.atomic():
            try:
                _move(
                    order,
                    OrderStatus.CLOSED,
                    action="rate",
                    actor=None,
                    actor_label=_("系统"),
                    note=_("%(days)d天内未评价，自动办结") % {"days": rule.rate_within_days},
                    now=now,
                    closed_at=now,
                )
            except Conflict:
                continue
        closed += 1
    return closed


# --- Open311 clients --------------------------------------------------------------------


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_open311_key(*, actor: User | None, client: Open311Client, key: str | None = None) -> str:
    """A new api_key for the client (the old one stops working); returned once, stored as a digest.

    ``key`` is given only by the demo loader, which uses the documented demo key.
    """
    if actor is not None and not policies.can_manage_open311_clients(actor):
        raise NotAllowed(_("只有平台管理员可以签发接入密钥。"))
    key = key or secrets.token_urlsafe(24)
    client.key_digest = key_digest(key)
    client.key_hint = key[-4:]
    client.save(update_fields=["key_digest", "key_hint"] if client.pk else None)
    return key


def update_open311_client(*, actor: User, client: Open311Client, changes: Mapping[str, Any]) -> Open311Client:
    """Rename a client, move its default site, change its contact, or switch it off: platform admins."""
    if not policies.can_manage_open311_clients(actor):
        raise NotAllowed(_("只有平台管理员可以管理接入方。"))
    return apply_changes(client, changes, allowed=("name", "site", "contact", "is_active"))


def client_for_key(key: str) -> Open311Client | None:
    if not key or len(key) > 200:
        return None
    client = Open311Client.objects.select_related("site").filter(key_digest=key_digest(key), is_active=True).first()
    if client is not None:
        Open311Client.objects.filter(pk=client.pk).update(last_used_at=timezone.now())
    return client


# --- The menu and the rules (the admin writes through these) ----------------------------------

SERVICE_TYPE_FIELDS = (
    "code",
    "kind",
    "name",
    "description",
    "group",
    "keywords",
    "audience",
    "accept_within_hours",
    "finish_within_days",
    "needs_review",
    "is_active",
    "position",
)


def _clean_keywords(value: Any) -> list[str]:
    if isinstance(value, str):
        value = re.split(r"[,，、\s]+", value)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise Invalid(_("关键词应为一组词语。"), code="invalid_keywords", field="keywords")
    words = [v.strip() for v in value if v.strip()]
    if len(words) > 50 or any(len(w) > 20 for w in words):
        raise Invalid(_("关键词最多50个，每个不超过20字。"), code="invalid_keywords", field="keywords")
    return list(dict.fromkeys(words))


def _full_clean(obj: Any) -> None:
    """The model's own validation and constraints, as an Invalid on the first field it names."""
    try:
        obj.full_clean(validate_unique=True, validate_constraints=True)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise Invalid(" ".join(messages), field=None if field == "__all__" else field) from exc


def save_service_type(*, actor: User, service_type: ServiceType, changes: Mapping[str, Any]) -> ServiceType:
    """Create (unsaved ``service_type``) or edit an entry of the menu: platform admins only."""
    if not policies.can_manage_catalogue(actor):
        raise NotAllowed(_("服务菜单由平台管理员维护。"))
    changes = dict(changes)
    if "keywords" in changes:
        changes["keywords"] = _clean_keywords(changes["keywords"])
    if service_type.pk is None:
        service_type.keywords = _clean_keywords(service_type.keywords)
        _full_clean(service_type)
        service_type.save()
        return service_type
    if service_type.orders.exists() and "kind" in changes and changes["kind"] != service_type.kind:
        raise Conflict(_("已有订单的服务类型不能改变类别。"), code="kind_in_use", field="kind")
    return apply_changes(service_type, changes, allowed=SERVICE_TYPE_FIELDS)


def save_question(*, actor: User, question: Question) -> Question:
    """Add or edit an extra question; list types need their choices as [{"key", "name"}]."""
    if not policies.can_manage_catalogue(actor):
        raise NotAllowed(_("服务菜单由平台管理员维护。"))
    choices = question.choices or []
    if question.datatype in {Datatype.SINGLE, Datatype.MULTI}:
        valid = (
            isinstance(choices, list)
            and choices
            and all(
                isinstance(c, dict) and str(c.get("key", "")).strip() and str(c.get("name", "")).strip()
                for c in choices
            )
        )
        if not valid or len({str(c["key"]) for c in choices}) != len(choices):
            raise Invalid(
                _('单选、多选题请填写选项，例如 [{"key": "1", "name": "一楼"}]，编码不能重复。'),
                code="invalid_choices",
                field="choices",
            )
    elif choices:
        raise Invalid(_("只有单选、多选题需要选项。"), code="invalid_choices", field="choices")
    _full_clean(question)
    with transaction.atomic():
        question.save()
        ServiceType.objects.filter(pk=question.service_type_id).update(updated_at=timezone.now())
    return question


def set_dispatch_rule(*, actor: User, site: Site, mode: str, rate_within_days: int = 7) -> DispatchRule:
    """How a site (and the sites below it without their own rule) dispatches: staff of the site."""
    if not staff_scope(actor).covers(site):
        raise NotFound(_("未找到该阵地。"))
    if mode not in DispatchMode.values:
        raise Invalid(_("未知的派单方式。"), code="invalid_mode", field="mode")
    if isinstance(rate_within_days, bool) or not isinstance(rate_within_days, int) or not 1 <= rate_within_days <= 60:
        raise Invalid(_("评价期限应为1到60天。"), code="invalid_rate_days", field="rate_within_days")
    rule, _created = DispatchRule.objects.update_or_create(
        site=site, defaults={"mode": mode, "rate_within_days": rate_within_days}
    )
    return rule
