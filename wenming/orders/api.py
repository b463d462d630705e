"""The orders API: the service menu, 点单, the three lists, every move of an order, and the candidates.

- ``/api/service-types``: the menu (service types and civility categories) with their extra questions;
- ``/api/orders/classify``: which type a resident's words point to, with the words and the confidence;
- ``/api/orders``: place an order or a report; list the caller's orders (``scope=mine``), tasks
  (``scope=tasks``) or dispatch board (``scope=board``);
- ``/api/orders/{id}``: one order with its history; ``…/candidates`` the ranked volunteers with reasons;
- ``/api/orders/{id}/<move>``: approve, reject, cancel, type, dispatch, grab-open, accept, decline,
  release, start, complete, rate, review, persuade, rectify, not-rectified.

Who may see and do what is ``wenming.orders.policies``; every write is ``wenming.orders.services``.
An order the caller may not see answers 404, as one that does not exist. Contact details are
masked unless ``policies.can_see_contact``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Literal

from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, File, Form, Router, Schema, UploadedFile
from ninja.errors import ValidationError
from ninja.params import functions as params
from ninja.responses import Status
from pydantic import Json

from wenming.accounts.api import SIGNED_IN, PersonRef, SiteRef, signed_in
from wenming.accounts.models import User
from wenming.accounts.policies import staff_scope
from wenming.activities.models import Audience
from wenming.core.api_errors import (
    DayOrMoment,
    Id,
    In,
    IsoDate,
    Moment,
    PageNumber,
    PageSize,
    SafeText,
    documented,
    lazy_str,
)
from wenming.core.errors import Invalid, NotFound
from wenming.lib.masking import mask_name, mask_phone
from wenming.lib.text import explain
from wenming.network.api import Latitude, Longitude
from wenming.network.models import Site
from wenming.orders import policies, selectors, services
from wenming.orders.classify import as_record, classify
from wenming.orders.models import (
    ACTION_LABELS,
    TRANSITIONS,
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
from wenming.volunteers.models import Team, TeamMembership, Volunteer

router = Router()
TAG = gettext_lazy("点单服务")

StatusCode = Literal[
    "reviewing",
    "pending",
    "dispatched",
    "grabbing",
    "accepted",
    "in_service",
    "completed",
    "complaint",
    "closed",
    "cancelled",
    "rejected",
    "reported",
    "persuaded",
    "unrectified",
    "rectified",
]
KindCode = Literal["service", "report"]
STATUS_HELP = gettext_lazy(
    "服务点单：reviewing 待审核，pending 待派单，dispatched 待接单，grabbing 抢单中，accepted 已接单，"
    "in_service 服务中，completed 待评价，complaint 差评复核中，closed 已办结，cancelled 已撤销，rejected 未受理；"
    "随手拍：reported 待处理，persuaded 已劝导，unrectified 未整改待复查，rectified 已整改"
)
KIND_HELP = gettext_lazy("service 服务点单，report 随手拍")
TypeCode = Annotated[SafeText, Field(min_length=1, max_length=40, description=lazy_str(gettext_lazy("服务类型编码")))]

Note = Annotated[SafeText, Field(max_length=services.NOTE_MAX)]
ReasonText = Annotated[SafeText, Field(max_length=services.NOTE_MAX)]

# --- Schemas --------------------------------------------------------------------------------------


class ChoiceOut(Schema):
    key: str
    name: str


class QuestionOut(Schema):
    code: str
    prompt: str
    datatype: str = Field(
        description=lazy_str(
            gettext_lazy(
                "string 短文本，text 长文本，number 数字，datetime 日期时间（带时区），"
                "singlevaluelist 单选（填 key），multivaluelist 多选（填 key 的列表）"
            )
        )
    )
    required: bool
    choices: list[ChoiceOut]
    help_text: str


class ServiceTypeRef(Schema):
    id: int
    code: str
    name: str
    kind: KindCode = Field(description=lazy_str(KIND_HELP))


class ServiceTypeOut(ServiceTypeRef):
    kind_label: str
    description: str
    group: str
    audience: str
    audience_label: str
    accept_within_hours: int = Field(description=lazy_str(gettext_lazy("接单时限（小时）")))
    finish_within_days: int = Field(description=lazy_str(gettext_lazy("办结时限（天）")))
    needs_review: bool = Field(description=lazy_str(gettext_lazy("派单前是否需要审核")))
    questions: list[QuestionOut] = Field(description=lazy_str(gettext_lazy("点单时的附加问题")))


class ClassifyIn(In):
    text: Annotated[
        SafeText,
        Field(min_length=1, max_length=services.DESCRIPTION_MAX, description=lazy_str(gettext_lazy("居民的需求描述"))),
    ]


class RankedOut(Schema):
    service_type: ServiceTypeRef
    p: float = Field(description=lazy_str(gettext_lazy("该类型的概率")))


class ClassifyOut(Schema):
    service_type: ServiceTypeRef | None = Field(
        description=lazy_str(gettext_lazy("建议的服务类型；把握不足时为 null，请人工选择"))
    )
    confidence: float = Field(description=lazy_str(gettext_lazy("置信度，0 到 1")))
    words: list[str] = Field(description=lazy_str(gettext_lazy("分类所依据的词语")))
    explanation: str = Field(description=lazy_str(gettext_lazy("给人看的一句话说明")))
    ranked: list[RankedOut] = Field(description=lazy_str(gettext_lazy("最接近的几个类型，概率高的在前")))


class ClassificationOut(Schema):
    service_type: ServiceTypeRef | None
    confidence: float
    words: list[str]


class TeamRef(Schema):
    id: int
    name: str


class VolunteerRef(Schema):
    id: int = Field(description=lazy_str(gettext_lazy("志愿者编号（派单、登记服务时长时使用）")))
    name: str


class OrderOut(Schema):
    id: int
    kind: KindCode = Field(description=lazy_str(KIND_HELP))
    kind_label: str
    service_type: ServiceTypeRef
    status: StatusCode = Field(description=lazy_str(STATUS_HELP))
    status_label: str
    status_note: str = Field(description=lazy_str(gettext_lazy("最近一条给点单人看的处理说明")))
    site: SiteRef = Field(description=lazy_str(gettext_lazy("责任阵地")))
    escalated_to: SiteRef | None = Field(description=lazy_str(gettext_lazy("超时未接单时已上报到的上级阵地")))
    channel: str = Field(description=lazy_str(gettext_lazy("self 居民点单，staff 工作人员代点单，open311 第三方接入")))
    requester: PersonRef | None = Field(description=lazy_str(gettext_lazy("点单人；无权查看联系方式时姓名打码")))
    contact_name: str
    contact_phone: str
    contact_masked: bool = Field(description=lazy_str(gettext_lazy("联系人与电话是否已打码")))
    description: str
    address: str
    latitude: float | None
    longitude: float | None
    preferred_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    accept_by: dt.datetime | None = Field(description=lazy_str(gettext_lazy("接单期限")))
    finish_by: dt.datetime | None = Field(description=lazy_str(gettext_lazy("办结期限")))
    assigned_volunteer: VolunteerRef | None
    assigned_team: TeamRef | None
    accepted_by: VolunteerRef | None
    rating: int | None
    follow_up_on: dt.date | None = Field(description=lazy_str(gettext_lazy("随手拍未整改时的复查日期")))


class OrderPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[OrderOut]


class AnswerOut(Schema):
    code: str
    prompt: str
    value: str | list[str]


class EventOut(Schema):
    action: str
    action_label: str
    from_status: str
    from_status_label: str
    to_status: str
    to_status_label: str
    actor: str = Field(description=lazy_str(gettext_lazy("操作人（居民姓名按联系方式的规则打码），或“系统”等")))
    volunteer: VolunteerRef | None
    team: TeamRef | None
    note: str
    at: dt.datetime


class ServerOut(Schema):
    volunteer: VolunteerRef
    hours: float


class PhotoOut(Schema):
    id: int
    url: str = Field(description=lazy_str(gettext_lazy("照片地址（能查看该订单的人可以打开）")))
    stage: str = Field(description=lazy_str(gettext_lazy("request 点单照片，completion 服务照片，follow_up 整改照片")))
    stage_label: str
    uploaded_at: dt.datetime


class OrderDetailOut(OrderOut):
    contact_email: str
    answers: list[AnswerOut] = Field(description=lazy_str(gettext_lazy("附加问题的回答")))
    classification: ClassificationOut | None = Field(
        description=lazy_str(gettext_lazy("未选类型时自动分类的依据（词语与置信度）"))
    )
    dispatched_at: dt.datetime | None
    accepted_at: dt.datetime | None
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    rated_at: dt.datetime | None
    closed_at: dt.datetime | None
    beneficiaries: int | None
    completion_note: str
    rating_comment: str
    review_note: str
    servers: list[ServerOut] = Field(description=lazy_str(gettext_lazy("服务志愿者与时长")))
    photos: list[PhotoOut]
    history: list[EventOut] = Field(description=lazy_str(gettext_lazy("每一步：谁、何时、从何状态到何状态、说明")))
    actions: list[str] = Field(
        description=lazy_str(gettext_lazy("当前用户此刻可做的操作，即 /api/orders/{id}/ 后的路径名，如 accept"))
    )


AnswerValue = (
    Annotated[SafeText, Field(max_length=2000)]
    | Annotated[int, Field(ge=-(10**15), le=10**15)]
    | Annotated[float, Field(allow_inf_nan=False)]
    | Annotated[list[Annotated[SafeText, Field(max_length=200)]], Field(max_length=50)]
)


class OrderFields(In):
    """What an order says, whether it comes as JSON or as a multipart form with photos."""

    description: Annotated[SafeText, Field(min_length=1, max_length=services.DESCRIPTION_MAX)] = Field(
        description=lazy_str(gettext_lazy("需求描述（随手拍为问题描述）"))
    )
    service_type: TypeCode | None = Field(
        None, description=lazy_str(gettext_lazy("服务类型编码；服务点单不填时按描述自动分类，随手拍必填"))
    )
    kind: KindCode = Field("service", description=lazy_str(KIND_HELP))
    requester_id: Id | None = Field(
        None, description=lazy_str(gettext_lazy("工作人员代点单时填居民的用户编号；本人点单不填"))
    )
    site_id: Id | None = Field(
        None, description=lazy_str(gettext_lazy("代点单且没有位置时，交给哪个阵地（默认居民所在阵地）"))
    )
    address: Annotated[SafeText, Field(max_length=200)] = ""
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    preferred_at: Moment | None = Field(None, description=lazy_str(gettext_lazy("期望服务时间（今后90天内）")))
    contact_name: Annotated[SafeText, Field(max_length=50)] = Field(
        "", description=lazy_str(gettext_lazy("联系人；不填时为点单人"))
    )
    contact_phone: Annotated[SafeText, Field(max_length=20)] = Field(
        "", description=lazy_str(gettext_lazy("手机号或带区号的座机号；不填时为点单人的手机号"))
    )
    contact_email: Annotated[SafeText, Field(max_length=254)] = ""


Answers = Annotated[dict[Annotated[SafeText, Field(max_length=40)], AnswerValue], Field(max_length=50)]
ANSWERS_HELP = gettext_lazy("附加问题的回答：问题编码 → 回答（多选为 key 的列表）")


class OrderIn(OrderFields):
    answers: Answers = Field(default_factory=dict, description=lazy_str(ANSWERS_HELP))


class OrderFormIn(OrderFields):
    answers: Json[Answers] | None = Field(
        None,
        description=lazy_str(format_lazy("{help}{json}", help=ANSWERS_HELP, json=gettext_lazy("，JSON 对象文本"))),
        examples=['{"mobility": "wheelchair"}'],
    )


class NoteIn(In):
    note: Note = ""


class RequiredNoteIn(In):
    note: Note


class ReasonIn(In):
    reason: ReasonText


class OptionalReasonIn(In):
    reason: ReasonText = ""


class TypeIn(In):
    service_type: TypeCode
    note: Note = ""


class DispatchIn(In):
    volunteer_id: Id | None = Field(None, description=lazy_str(gettext_lazy("派给这位志愿者（与 team_id 二选一）")))
    team_id: Id | None = Field(None, description=lazy_str(gettext_lazy("派给这支队伍（与 volunteer_id 二选一）")))
    note: Note = ""


class ServerIn(In):
    volunteer_id: Id
    hours: Annotated[
        float, Field(gt=0, le=24, allow_inf_nan=False, description=lazy_str(gettext_lazy("服务时长（小时）")))
    ]


class CompleteIn(In):
    servers: Annotated[list[ServerIn], Field(min_length=1, max_length=50)] = Field(
        description=lazy_str(gettext_lazy("服务志愿者及各自的时长；须含接单志愿者本人"))
    )
    beneficiaries: Annotated[int, Field(ge=1, le=10_000)] = Field(1, description=lazy_str(gettext_lazy("服务人数")))
    note: Annotated[SafeText, Field(max_length=2000)] = Field("", description=lazy_str(gettext_lazy("服务记录")))
    started_at: Moment | None = Field(
        None, description=lazy_str(gettext_lazy("实际开始时间；不填时为点“开始服务”的时间"))
    )


class RateIn(In):
    rating: Annotated[int, Field(ge=1, le=5)] = Field(description=lazy_str(gettext_lazy("1 到 5 分")))
    comment: Annotated[SafeText, Field(max_length=500)] = Field(
        "", description=lazy_str(gettext_lazy("评价；2分及以下须说明原因"))
    )


class NotRectifiedIn(In):
    follow_up_on: IsoDate = Field(description=lazy_str(gettext_lazy("复查日期（今后90天内）")))
    note: Note = ""


class ReasonOut(Schema):
    factor: str = Field(
        description=lazy_str(
            gettext_lazy(
                "skill 技能匹配，distance 距离，availability 空闲时间，load 在手订单，rating 以往评价，"
                "fairness 近期派单（少者优先）"
            )
        )
    )
    points: float = Field(description=lazy_str(gettext_lazy("该因素的得分")))
    text: str = Field(description=lazy_str(gettext_lazy("给人看的说明")))


class CandidateOut(Schema):
    volunteer: VolunteerRef
    site: SiteRef = Field(description=lazy_str(gettext_lazy("志愿者的注册阵地")))
    score: float
    distance_m: float | None = Field(
        description=lazy_str(gettext_lazy("与服务地点的距离（米）；订单没有位置时为 null"))
    )
    reasons: list[ReasonOut]


class CandidateList(Schema):
    order_id: int
    results: list[CandidateOut]


class SatisfactionOut(Schema):
    rated: int = Field(description=lazy_str(gettext_lazy("已评价单数")))
    average: float | None = Field(description=lazy_str(gettext_lazy("平均评分")))
    satisfied: int = Field(description=lazy_str(gettext_lazy("4分及以上的单数")))
    low: int = Field(description=lazy_str(gettext_lazy("2分及以下的单数")))
    satisfied_share: float | None = Field(description=lazy_str(gettext_lazy("满意率（%）")))


class SatisfactionRow(SatisfactionOut):
    id: int
    name: str


class SatisfactionReport(Schema):
    site: SiteRef
    by: str
    overall: SatisfactionOut
    results: list[SatisfactionRow]


# --- Shaping --------------------------------------------------------------------------------------


def _local(value: dt.datetime | None) -> dt.datetime | None:
    return timezone.localtime(value) if value is not None else None


def type_ref(service_type: ServiceType) -> ServiceTypeRef:
    return ServiceTypeRef(
        id=service_type.pk,
        code=service_type.code,
        name=service_type.name,
        kind=service_type.kind,  # type: ignore[arg-type]
    )


def type_out(service_type: ServiceType) -> ServiceTypeOut:
    return ServiceTypeOut(
        **type_ref(service_type).model_dump(),
        kind_label=str(OrderKind(service_type.kind).label),
        description=service_type.description,
        group=service_type.group,
        audience=service_type.audience,
        audience_label=str(Audience(service_type.audience).label),
        accept_within_hours=service_type.accept_within_hours,
        finish_within_days=service_type.finish_within_days,
        needs_review=service_type.needs_review,
        questions=[
            QuestionOut(
                code=q.code,
                prompt=q.prompt,
                datatype=q.datatype,
                required=q.required,
                choices=[ChoiceOut(key=str(c.get("key", "")), name=str(c.get("name", ""))) for c in q.choices or ()],
                help_text=q.help_text,
            )
            for q in service_type.questions.all()
        ],
    )


def _volunteer_ref(volunteer: Volunteer | None) -> VolunteerRef | None:
    return VolunteerRef(id=volunteer.pk, name=volunteer.user.name) if volunteer is not None else None


def _team_ref(team: Team | None) -> TeamRef | None:
    return TeamRef(id=team.pk, name=team.name) if team is not None else None


def _site_ref(site: Site | None) -> SiteRef | None:
    return SiteRef(id=site.pk, name=site.name) if site is not None else None


def _mask_email(value: str) -> str:
    local, at, domain = value.partition("@")
    return f"{mask_name(local)}{at}{domain}" if at else mask_name(value)


def _status_label(status: str) -> str:
    return str(OrderStatus(status).label) if status in OrderStatus.values else ""


def _summary(order: Order, viewer: User) -> dict[str, Any]:
    see = policies.can_see_contact(viewer, order)
    requester = order.requester
    return {
        "id": order.pk,
        "kind": order.kind,
        "kind_label": str(OrderKind(order.kind).label),
        "service_type": type_ref(order.service_type),
        "status": order.status,
        "status_label": _status_label(order.status),
        "status_note": order.status_note,
        "site": SiteRef(id=order.site.pk, name=order.site.name),
        "escalated_to": _site_ref(order.escalated_to),
        "channel": order.channel,
        "requester": PersonRef(id=requester.pk, name=requester.name if see else mask_name(requester.name))
        if requester is not None
        else None,
        "contact_name": order.contact_name if see else mask_name(order.contact_name),
        "contact_phone": order.contact_phone if see else mask_phone(order.contact_phone),
        "contact_masked": not see,
        "description": order.description,
        "address": order.address,
        "latitude": order.latitude,
        "longitude": order.longitude,
        "preferred_at": _local(order.preferred_at),
        "created_at": _local(order.created_at),
        "updated_at": _local(order.updated_at),
        "accept_by": _local(order.accept_by),
        "finish_by": _local(order.finish_by),
        "assigned_volunteer": _volunteer_ref(order.assigned_volunteer),
        "assigned_team": _team_ref(order.assigned_team),
        "accepted_by": _volunteer_ref(order.accepted_by),
        "rating": order.rating,
        "follow_up_on": order.follow_up_on,
    }


def order_out(order: Order, viewer: User) -> OrderOut:
    return OrderOut(**_summary(order, viewer))


# Every history action, for people (the service's labels cover the moves only).


def _event_out(event: OrderEvent, order: Order, see: bool) -> EventOut:
    if event.actor is not None:
        name = event.actor.name
        actor = name if see or event.actor_id != order.requester_id else mask_name(name)
    else:
        actor = event.actor_label
    return EventOut(
        action=event.action,
        action_label=str(ACTION_LABELS.get(event.action, event.action)),
        from_status=event.from_status,
        from_status_label=_status_label(event.from_status),
        to_status=event.to_status,
        to_status_label=_status_label(event.to_status),
        actor=actor,
        volunteer=_volunteer_ref(event.volunteer),
        team=_team_ref(event.team),
        note=event.note,
        at=timezone.localtime(event.at),
    )


def _answers(order: Order) -> list[AnswerOut]:
    prompts = {q.code: q.prompt for q in order.service_type.questions.all()}
    found = []
    for code, value in (order.answers or {}).items():
        shown = [str(v) for v in value] if isinstance(value, list) else str(value)
        found.append(AnswerOut(code=str(code), prompt=prompts.get(code, str(code)), value=shown))
    return found


def _classification(order: Order) -> ClassificationOut | None:
    record = order.classification or {}
    if not record:
        return None
    type_id = record.get("type")
    suggested: ServiceType | None = None
    if type_id == order.service_type_id:
        suggested = order.service_type
    elif type_id is not None:
        suggested = ServiceType.objects.filter(pk=type_id).first()
    return ClassificationOut(
        service_type=type_ref(suggested) if suggested is not None else None,
        confidence=float(record.get("confidence") or 0),
        words=[str(w) for w in record.get("words") or ()],
    )


# Endpoint name → (the services' actions it makes, who may make it).
MOVES: dict[str, tuple[frozenset[str], Callable[[User, Order], bool]]] = {
    "approve": (frozenset({"approve"}), policies.can_review_order),
    "reject": (frozenset({"reject"}), policies.can_review_order),
    "cancel": (frozenset({"cancel"}), policies.can_cancel),
    "dispatch": (frozenset({"dispatch", "redispatch"}), policies.can_dispatch),
    "grab-open": (frozenset({"open_grab"}), policies.can_dispatch),
    "accept": (frozenset({"accept", "grab"}), policies.can_accept),
    "decline": (frozenset({"decline"}), policies.can_decline),
    "release": (frozenset({"release"}), policies.can_deliver),
    "start": (frozenset({"start"}), policies.can_deliver),
    "complete": (frozenset({"complete"}), policies.can_deliver),
    "rate": (frozenset({"rate"}), policies.can_rate),
    "review": (frozenset({"review"}), policies.can_review_complaint),
    "persuade": (frozenset({"persuade"}), policies.can_review_order),
    "rectify": (frozenset({"rectify"}), policies.can_review_order),
    "not-rectified": (frozenset({"not_rectified"}), policies.can_review_order),
}
RETYPE_STATUSES = frozenset({OrderStatus.REVIEWING, OrderStatus.PENDING, OrderStatus.REPORTED})


def allowed_moves(viewer: User, order: Order) -> list[str]:
    """The moves the table allows from the order's status that the viewer may make, by endpoint name."""
    possible = {a for (kind, start, _end), a in TRANSITIONS.items() if kind == order.kind and start == order.status}
    found = [name for name, (acts, allowed) in MOVES.items() if acts & possible and allowed(viewer, order)]
    if order.status in RETYPE_STATUSES and policies.can_review_order(viewer, order):
        found.append("type")
    return found


def order_detail(order: Order, viewer: User) -> OrderDetailOut:
    see = policies.can_see_contact(viewer, order)
    return OrderDetailOut(
        **_summary(order, viewer),
        contact_email=order.contact_email if see else _mask_email(order.contact_email),
        answers=_answers(order),
        classification=_classification(order),
        dispatched_at=_local(order.dispatched_at),
        accepted_at=_local(order.accepted_at),
        started_at=_local(order.started_at),
        completed_at=_local(order.completed_at),
        rated_at=_local(order.rated_at),
        closed_at=_local(order.closed_at),
        beneficiaries=order.beneficiaries,
        completion_note=order.completion_note,
        rating_comment=order.rating_comment,
        review_note=order.review_note,
        servers=[
            ServerOut(volunteer=VolunteerRef(id=s.volunteer.pk, name=s.volunteer.user.name), hours=float(s.hours))
            for s in order.servers.all()
        ],
        photos=[
            PhotoOut(
                id=p.pk,
                url=reverse("orders:photo", args=[p.pk]),
                stage=p.stage,
                stage_label=str(PhotoStage(p.stage).label),
                uploaded_at=timezone.localtime(p.uploaded_at),
            )
            for p in order.photos.all()
        ],
        history=[
            _event_out(e, order, see) for e in order.history.all() if policies.can_see_event(viewer, order, e.action)
        ],
        actions=allowed_moves(viewer, order),
    )


# --- Looking up -----------------------------------------------------------------------------------

ORDER_RELATED = (
    "service_type",
    "site",
    "escalated_to",
    "requester",
    "assigned_volunteer__user",
    "assigned_team",
    "accepted_by__user",
)


def _orders() -> QuerySet[Order]:
    return Order.objects.select_related(*ORDER_RELATED)


def _visible(user: User, order_id: int) -> Order:
    """The order, or 404 whether it does not exist or the caller may not see it."""
    order = _orders().filter(pk=order_id).first()
    if order is None or not policies.can_view_order(user, order):
        raise Http404
    return order


def _detail(user: User, order_id: int) -> OrderDetailOut:
    """The order as it is now, with everything the detail shows in a fixed number of queries."""
    order = _orders().get(pk=order_id)
    prefetch_related_objects(
        [order],
        Prefetch("service_type__questions", queryset=Question.objects.order_by("position", "id")),
        Prefetch(
            "history",
            queryset=OrderEvent.objects.select_related("actor", "volunteer__user", "team").order_by("at", "id"),
        ),
        Prefetch("servers", queryset=OrderServer.objects.select_related("volunteer__user").order_by("id")),
        Prefetch("photos", queryset=OrderPhoto.objects.order_by("id")),
    )
    return order_detail(order, user)


def _service_type(code: str, *, field: str = "service_type") -> ServiceType:
    found = ServiceType.objects.filter(code=code).first()
    if found is None:
        raise Invalid(_("所选的服务类型不存在。"), code="invalid_service_type", field=field)
    return found


def _start_of(value: dt.datetime | dt.date) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return timezone.make_aware(dt.datetime.combine(value, dt.time.min))


def _end_of(value: dt.datetime | dt.date) -> dt.datetime:
    """``to`` is inclusive for a date (the whole day), exclusive for a moment."""
    if isinstance(value, dt.datetime):
        return value
    return timezone.make_aware(dt.datetime.combine(value + dt.timedelta(days=1), dt.time.min))


def tasks_q(volunteer: Volunteer | None) -> Q:
    """A volunteer's "my orders", as their page lists them: dispatched to them or their team and waiting,
    accepted by them (in any state since), and the open grabs they qualify for (``policies.open_grabs_for``).

    Each is an order ``policies.can_view_order`` lets them see.
    """
    if volunteer is None:
        return Q(pk__in=[])
    team_ids = sorted(TeamMembership.objects.filter(volunteer=volunteer).values_list("team_id", flat=True))
    waiting = Q(status=OrderStatus.DISPATCHED) & (Q(assigned_volunteer=volunteer) | Q(assigned_team_id__in=team_ids))
    grabs = Q(pk__in=policies.open_grabs_for(volunteer, team_ids).values("pk"))
    return waiting | Q(accepted_by=volunteer) | grabs


# --- The menu -------------------------------------------------------------------------------------


def _menu() -> QuerySet[ServiceType]:
    return ServiceType.objects.filter(is_active=True).prefetch_related(
        Prefetch("questions", queryset=Question.objects.order_by("position", "id"))
    )


@router.get(
    "/service-types",
    **documented(
        gettext_lazy("服务菜单"),
        gettext_lazy("受理中的服务类型与随手拍类别，含时限、是否需要审核和点单时的附加问题；kind 按类别筛选。"),
        tag=TAG,
        success={200: list[ServiceTypeOut]},
        errors={422: ("invalid",)},
    ),
)
def list_service_types(
    request: HttpRequest,
    kind: Annotated[KindCode | None, params.Query(None, description=lazy_str(KIND_HELP))] = None,
) -> list[ServiceTypeOut]:
    rows = _menu()
    if kind is not None:
        rows = rows.filter(kind=kind)
    return [type_out(t) for t in rows.order_by("kind", "position", "id")]


@router.get(
    "/service-types/{code}",
    **documented(
        gettext_lazy("查看服务类型"),
        gettext_lazy("一个受理中的服务类型（按编码），含附加问题；停用或不存在的回答 404。"),
        tag=TAG,
        success={200: ServiceTypeOut},
        errors={404: ("not_found",), 422: ("invalid",)},
    ),
)
def get_service_type(request: HttpRequest, code: TypeCode) -> ServiceTypeOut:
    found = _menu().filter(code=code).first()
    if found is None:
        raise Http404
    return type_out(found)


# --- 点单 -----------------------------------------------------------------------------------------

AUTH_ERRORS = ("unauthorized", "invalid_token")
WRITE_FORBIDDEN = ("forbidden", "csrf_failed")


@router.post(
    "/orders/classify",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("判断服务类型"),
        gettext_lazy(
            "按居民写的需求（中文分词）建议一个服务类型，并给出所依据的词语与置信度；把握不足时 service_type 为 null。"
            "只是建议：居民或工作人员可以另选。"
        ),
        tag=TAG,
        success={200: ClassifyOut},
        errors={
            400: ("malformed_json",),
            401: AUTH_ERRORS,
            403: WRITE_FORBIDDEN,
            415: ("unsupported_media_type",),
            422: ("invalid",),
        },
    ),
)
def classify_text(request: HttpRequest, payload: ClassifyIn) -> ClassifyOut:
    signed_in(request)
    result = classify(payload.text)
    record = as_record(result)
    ids = {record["type"], *(r["type"] for r in record["ranked"])} - {None}
    types = {t.pk: t for t in ServiceType.objects.filter(pk__in=ids)}
    best = types.get(record["type"]) if record["type"] is not None else None
    return ClassifyOut(
        service_type=type_ref(best) if best is not None else None,
        confidence=float(record["confidence"]),
        words=list(record["words"]),
        explanation=explain(result),
        ranked=[
            RankedOut(service_type=type_ref(types[r["type"]]), p=float(r["p"]))
            for r in record["ranked"]
            if r["type"] in types
        ],
    )


PLACE_ERRORS = {
    400: (
        "malformed_json",
        "missing_description",
        "invalid_description",
        "invalid_address",
        "invalid_contact_name",
        "invalid_contact_email",
        "invalid_email",
        "invalid_phone",
        "invalid_location",
        "invalid_time",
        "missing_service_type",
        "invalid_service_type",
        "inactive_service_type",
        "unclassified",
        "unknown_attribute",
        "missing_attribute",
        "invalid_attribute",
        "missing_location",
        "missing_photo",
        "too_many_photos",
        "invalid_photo",
        "photo_too_large",
        "invalid_requester",
        "invalid_site",
    ),
    401: AUTH_ERRORS,
    403: (*WRITE_FORBIDDEN, "login_required", "out_of_scope"),
    413: ("too_large",),
    415: ("unsupported_media_type",),
    422: ("invalid",),
}
PLACE_HELP = gettext_lazy(
    "居民为自己点单（不填 requester_id），或工作人员为本辖区居民代点单。服务点单不选类型时按描述自动分类；"
    "随手拍（kind=report）须选类别，居民和志愿者本人随手拍须附照片。有位置时交给最近的实践站，"
    "否则交给居民所在的实践站。需要审核的类型先待审核（reviewing），其余待派单（pending），"
    "按阵地规则可能立即自动派单或开放抢单。"
)


def _place(user: User, payload: OrderFields, answers: dict[str, Any], photos: list[UploadedFile]) -> OrderDetailOut:
    service_type = _service_type(payload.service_type) if payload.service_type is not None else None
    requester = None
    if payload.requester_id is not None:
        requester = User.objects.filter(pk=payload.requester_id).select_related("home_site").first()
        if requester is None:
            raise Invalid(_("所选的居民不存在。"), code="invalid_requester", field="requester_id")
    site = None
    if payload.site_id is not None:
        site = Site.objects.filter(pk=payload.site_id).first()
        if site is None:
            raise Invalid(_("所选的阵地不存在。"), code="invalid_site", field="site_id")
    order = services.place_order(
        actor=user,
        description=payload.description,
        service_type=service_type,
        kind=payload.kind,
        requester=requester,
        site=site,
        address=payload.address,
        latitude=payload.latitude,
        longitude=payload.longitude,
        preferred_at=payload.preferred_at,
        answers=answers,
        contact_name=payload.contact_name,
        contact_phone=payload.contact_phone,
        contact_email=payload.contact_email,
        photos=photos,
    )
    return _detail(user, order.pk)


@router.post(
    "/orders",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("点单或随手拍"),
        format_lazy(
            "{help}{photos}",
            help=PLACE_HELP,
            photos=gettext_lazy("要附照片时，改用 POST /api/orders/with-photos 以 multipart/form-data 提交。"),
        ),
        tag=TAG,
        success={201: OrderDetailOut},
        errors=PLACE_ERRORS,
    ),
)
def place_order(request: HttpRequest, payload: OrderIn) -> Status[OrderDetailOut]:
    return Status(201, _place(signed_in(request), payload, payload.answers, []))


def _refuse_unknown_fields(request: HttpRequest, *, fields: set[str]) -> None:
    """As a JSON body would: a form field or file nobody reads is refused (422), not silently dropped."""
    unknown = sorted((set(request.POST) - fields) | (set(request.FILES) - {"photos"}))
    if unknown:
        raise ValidationError(
            [
                {"type": "extra_forbidden", "loc": ("form", name), "msg": "Extra inputs are not permitted"}
                for name in unknown
            ]
        )


@router.post(
    "/orders/with-photos",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("点单或随手拍（附照片）"),
        format_lazy(
            "{help}{photos}",
            help=PLACE_HELP,
            photos=format_lazy(
                gettext_lazy(
                    "以 multipart/form-data 提交，字段与 POST /api/orders 相同（answers 为 JSON 文本），"
                    "photos 为照片文件（JPG、PNG 或 WebP，每张不超过5MB，最多{n}张）。"
                ),
                n=services.MAX_PHOTOS,
            ),
        ),
        tag=TAG,
        success={201: OrderDetailOut},
        errors=PLACE_ERRORS,
    ),
)
def place_order_with_photos(
    request: HttpRequest,
    payload: Form[OrderFormIn],
    photos: File[list[UploadedFile] | None] = None,
) -> Status[OrderDetailOut]:
    _refuse_unknown_fields(request, fields=set(OrderFormIn.model_fields))
    return Status(201, _place(signed_in(request), payload, payload.answers or {}, list(photos or [])))


@router.post(
    "/orders/{order_id}/photos",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("添加照片"),
        format_lazy(
            gettext_lazy(
                "以 multipart/form-data 上传 photos（JPG、PNG 或 WebP，每张不超过5MB）。"
                "点单人在办结前补充现场照片，接单志愿者或工作人员在服务开始后上传服务照片，"
                "工作人员上传随手拍的整改照片；每类最多{n}张。"
            ),
            n=services.MAX_PHOTOS,
        ),
        tag=TAG,
        success={200: OrderDetailOut},
        errors={
            400: ("missing_photo", "too_many_photos", "invalid_photo", "photo_too_large"),
            401: AUTH_ERRORS,
            403: WRITE_FORBIDDEN,
            404: ("not_found",),
            409: ("photos_closed", "stale"),
            415: ("unsupported_media_type",),
            422: ("invalid",),
        },
    ),
)
def add_photos(request: HttpRequest, order_id: Id, photos: File[list[UploadedFile] | None] = None) -> OrderDetailOut:
    _refuse_unknown_fields(request, fields=set())
    return _move(request, order_id, lambda u, o: services.add_photos(actor=u, order=o, photos=list(photos or [])))


# --- Reading --------------------------------------------------------------------------------------


@router.get(
    "/orders",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("订单列表"),
        gettext_lazy(
            "scope=mine 我点的单与随手拍；scope=tasks 志愿者的订单：派给我或我的队伍待接的、我接下的、"
            "我可以抢的；scope=board 工作人员的派单台：所管阵地（含下级）的订单，含上报到本级的。"
            "可按 status、kind、site（含下级阵地）、service_type（编码）筛选；from、to 按点单时间筛选。"
            "新点的单在前。联系方式按权限打码。"
        ),
        tag=TAG,
        success={200: OrderPage},
        errors={401: AUTH_ERRORS, 422: ("invalid",)},
    ),
)
def list_orders(
    request: HttpRequest,
    scope: Annotated[
        Literal["mine", "tasks", "board"],
        params.Query("mine", description=lazy_str(gettext_lazy("mine 我点的单，tasks 志愿者的订单，board 派单台"))),
    ] = "mine",
    status: Annotated[StatusCode | None, params.Query(None, description=lazy_str(STATUS_HELP))] = None,
    kind: Annotated[KindCode | None, params.Query(None, description=lazy_str(KIND_HELP))] = None,
    site: Annotated[Id | None, params.Query(None, description=lazy_str(gettext_lazy("责任阵地编号（含下级）")))] = None,
    service_type: Annotated[TypeCode | None, params.Query(None)] = None,
    from_: Annotated[
        DayOrMoment | None,
        params.Query(
            None, alias="from", description=lazy_str(gettext_lazy("点单时间起：日期（含当天）或带时区的时刻（含）"))
        ),
    ] = None,
    to: Annotated[
        DayOrMoment | None,
        params.Query(None, description=lazy_str(gettext_lazy("点单时间止：日期（含当天）或带时区的时刻（不含）"))),
    ] = None,
    page: PageNumber = 1,
    page_size: PageSize = 20,
) -> OrderPage:
    user = signed_in(request)
    if scope == "mine":
        rows = Order.objects.filter(requester=user)
    elif scope == "tasks":
        rows = Order.objects.filter(tasks_q(policies.volunteer_of(user)))
    else:
        rows = Order.objects.filter(policies.staff_orders_q(user))
    if status is not None:
        rows = rows.filter(status=status)
    if kind is not None:
        rows = rows.filter(kind=kind)
    if site is not None:
        root = Site.objects.filter(pk=site).only("path").first()
        rows = rows.filter(site__path__startswith=root.path) if root else rows.none()
    if service_type is not None:
        rows = rows.filter(service_type__code=service_type)
    if from_ is not None:
        rows = rows.filter(created_at__gte=_start_of(from_))
    if to is not None:
        rows = rows.filter(created_at__lt=_end_of(to))
    count = rows.count()
    start = (page - 1) * page_size
    found = (
        list(rows.select_related(*ORDER_RELATED).order_by("-created_at", "-id")[start : start + page_size])
        if start < count
        else []
    )
    return OrderPage(count=count, page=page, page_size=page_size, results=[order_out(o, user) for o in found])


@router.get(
    "/orders/{order_id}",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("查看订单"),
        gettext_lazy(
            "点单人、负责的工作人员、派到或接下订单的志愿者（抢单时符合条件的志愿者）可查看，含全部处理记录；"
            "其他人与不存在的订单一样回答 404。联系方式只对点单人、工作人员和接单后的志愿者显示完整。"
            "actions 列出当前用户此刻可做的操作。"
        ),
        tag=TAG,
        success={200: OrderDetailOut},
        errors={401: AUTH_ERRORS, 404: ("not_found",), 422: ("invalid",)},
    ),
)
def get_order(request: HttpRequest, order_id: Id) -> OrderDetailOut:
    user = signed_in(request)
    _visible(user, order_id)
    return _detail(user, order_id)


@router.get(
    "/orders/{order_id}/candidates",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("推荐志愿者"),
        gettext_lazy(
            "派单的工作人员查看推荐的志愿者，得分高的在前。得分综合技能匹配、距离、空闲时间、在手订单、"
            "以往评价与近期派单的公平性，reasons 逐项说明每一分的来由。其他人回答 404。"
        ),
        tag=TAG,
        success={200: CandidateList},
        errors={401: AUTH_ERRORS, 404: ("not_found",), 422: ("invalid",)},
    ),
)
def list_candidates(
    request: HttpRequest,
    order_id: Id,
    limit: Annotated[int, params.Query(5, ge=1, le=50, description=lazy_str(gettext_lazy("最多几位，1至50")))] = 5,
) -> CandidateList:
    from wenming.orders.recommend import rank

    user = signed_in(request)
    order = _visible(user, order_id)
    if not policies.can_dispatch(user, order):
        raise Http404
    ranked = rank(order, limit=limit)
    prefetch_related_objects([c.volunteer for c in ranked], "user", "site")
    return CandidateList(
        order_id=order.pk,
        results=[
            CandidateOut(
                volunteer=VolunteerRef(id=c.volunteer.pk, name=c.volunteer.user.name),
                site=SiteRef(id=c.volunteer.site.pk, name=c.volunteer.site.name),
                score=float(c.score),
                distance_m=float(c.distance_m) if c.distance_m is not None else None,
                reasons=[ReasonOut(factor=r.factor, points=float(r.points), text=str(r.text)) for r in c.reasons],
            )
            for c in ranked
        ],
    )


# --- Moves ----------------------------------------------------------------------------------------


def _errors(*, bad: tuple[str, ...] = (), forbidden: tuple[str, ...] = (), conflict: tuple[str, ...] = ()) -> Any:
    """The answers of a move: the usual ones, and what the move itself refuses."""
    return {
        400: ("malformed_json", *bad),
        401: AUTH_ERRORS,
        403: (*WRITE_FORBIDDEN, *forbidden),
        404: ("not_found",),
        409: ("invalid_transition", "stale", *conflict),
        415: ("unsupported_media_type",),
        422: ("invalid",),
    }


def _move(
    request: HttpRequest, order_id: int, make: Callable[[User, Order], Any], *, service_decides: bool = False
) -> OrderDetailOut:
    """Look the order up as the caller may see it, make the move, and answer with the order as it now is.

    An order the caller may not see is a 404 before anything in the request is looked at (so a bad
    volunteer id says nothing about an order that is not theirs), unless ``service_decides``: accepting
    leaves it to the service, which tells a qualified volunteer who saw an open grab that it was taken.
    The answer follows the policies as they now stand: a volunteer who declined sees the order masked.
    """
    user = signed_in(request)
    if service_decides:
        order = _orders().filter(pk=order_id).first()
        if order is None:
            raise Http404
    else:
        order = _visible(user, order_id)
    make(user, order)
    return _detail(user, order_id)


def _move_op(path: str, summary: Any, description: Any, errors: Any) -> Any:
    return router.post(
        f"/orders/{{order_id}}/{path}",
        auth=SIGNED_IN,
        **documented(summary, description, tag=TAG, success={200: OrderDetailOut}, errors=errors),
    )


@_move_op(
    "approve",
    gettext_lazy("审核通过"),
    gettext_lazy("工作人员通过待审核的点单，开始计算接单时限；按阵地规则可能随即自动派单或开放抢单。"),
    _errors(),
)
def approve(request: HttpRequest, order_id: Id, payload: NoteIn | None = None) -> OrderDetailOut:
    note = payload.note if payload else ""
    return _move(request, order_id, lambda u, o: services.approve_order(actor=u, order=o, note=note))


@_move_op(
    "reject",
    gettext_lazy("不予受理"),
    gettext_lazy("工作人员不受理一条待审核或待派单的点单（或一条随手拍），须写明原因，点单人会看到。"),
    _errors(bad=("missing_reason", "invalid_reason")),
)
def reject(request: HttpRequest, order_id: Id, payload: ReasonIn) -> OrderDetailOut:
    return _move(request, order_id, lambda u, o: services.reject_order(actor=u, order=o, reason=payload.reason))


@_move_op(
    "cancel",
    gettext_lazy("撤销订单"),
    gettext_lazy("点单人或工作人员在志愿者接单前撤销；已派到的志愿者会收到通知。"),
    _errors(bad=("invalid_reason",)),
)
def cancel(request: HttpRequest, order_id: Id, payload: OptionalReasonIn | None = None) -> OrderDetailOut:
    reason = payload.reason if payload else ""
    return _move(request, order_id, lambda u, o: services.cancel_order(actor=u, order=o, reason=reason))


@_move_op(
    "type",
    gettext_lazy("更改服务类型"),
    gettext_lazy("工作人员在派单前更正服务类型（自动分类或点单人的选择），只能改为同类的、受理中的类型。"),
    _errors(bad=("invalid_service_type",)),
)
def retype(request: HttpRequest, order_id: Id, payload: TypeIn) -> OrderDetailOut:
    def make(user: User, order: Order) -> Order:
        service_type = _service_type(payload.service_type)
        return services.override_type(actor=user, order=order, service_type=service_type, note=payload.note)

    return _move(request, order_id, make)


@_move_op(
    "dispatch",
    gettext_lazy("派单"),
    gettext_lazy(
        "工作人员把订单派给本辖区的一位志愿者（volunteer_id）或一支队伍（team_id），二选一；"
        "待接单、抢单中或已接单的订单可以改派。"
    ),
    _errors(bad=("missing_assignee", "invalid_assignee", "invalid_note"), conflict=("already_dispatched",)),
)
def dispatch(request: HttpRequest, order_id: Id, payload: DispatchIn) -> OrderDetailOut:
    def make(user: User, order: Order) -> Order:
        volunteer = None
        if payload.volunteer_id is not None:
            volunteer = Volunteer.objects.select_related("user", "site").filter(pk=payload.volunteer_id).first()
            if volunteer is None:
                raise Invalid(_("所选的志愿者不存在。"), code="invalid_assignee", field="volunteer_id")
        team = None
        if payload.team_id is not None:
            team = Team.objects.select_related("site").filter(pk=payload.team_id).first()
            if team is None:
                raise Invalid(_("所选的队伍不存在。"), code="invalid_assignee", field="team_id")
        return services.dispatch_order(actor=user, order=order, volunteer=volunteer, team=team, note=payload.note)

    return _move(request, order_id, make)


@_move_op(
    "grab-open",
    gettext_lazy("开放抢单"),
    gettext_lazy("工作人员把待派单或待接单的订单开放给符合条件的志愿者抢单，先接者得。"),
    _errors(),
)
def open_grab(request: HttpRequest, order_id: Id) -> OrderDetailOut:
    return _move(request, order_id, lambda u, o: services.open_grab(actor=u, order=o))


@_move_op(
    "accept",
    gettext_lazy("接单"),
    gettext_lazy(
        "派到的志愿者（或所派队伍的成员）接单，抢单中的订单由符合条件的志愿者抢。只有一人能接到："
        "晚一步的回答 409 taken。订单没有派给自己时回答 403 not_assigned。"
    ),
    _errors(forbidden=("not_assigned",), conflict=("taken", "already_accepted")),
)
def accept(request: HttpRequest, order_id: Id) -> OrderDetailOut:
    return _move(request, order_id, lambda u, o: services.accept_order(actor=u, order=o), service_decides=True)


@_move_op(
    "decline",
    gettext_lazy("拒单"),
    gettext_lazy("派到的志愿者说明原因后拒单，订单退回实践站重新派单。"),
    _errors(bad=("missing_reason", "invalid_reason"), forbidden=("not_assigned",)),
)
def decline(request: HttpRequest, order_id: Id, payload: ReasonIn) -> OrderDetailOut:
    return _move(request, order_id, lambda u, o: services.decline_order(actor=u, order=o, reason=payload.reason))


@_move_op(
    "release",
    gettext_lazy("退回订单"),
    gettext_lazy("接单的志愿者（或工作人员代为）在开始服务前退回订单并说明原因，订单回到待派单。"),
    _errors(bad=("missing_reason", "invalid_reason")),
)
def release(request: HttpRequest, order_id: Id, payload: ReasonIn) -> OrderDetailOut:
    return _move(request, order_id, lambda u, o: services.release_order(actor=u, order=o, reason=payload.reason))


@_move_op(
    "start",
    gettext_lazy("开始服务"),
    gettext_lazy("接单的志愿者（或工作人员代为）开始服务，点单人会收到通知。"),
    _errors(),
)
def start(request: HttpRequest, order_id: Id) -> OrderDetailOut:
    return _move(request, order_id, lambda u, o: services.start_order(actor=u, order=o))


@_move_op(
    "complete",
    gettext_lazy("完成服务"),
    gettext_lazy(
        "登记服务的志愿者与各自时长（须含接单志愿者，时长不超过实际服务时间）、服务人数和服务记录；"
        "每位志愿者记入一条时长台账。点单人随后可以评价。"
    ),
    _errors(
        bad=(
            "invalid_hours",
            "duplicate_server",
            "invalid_server",
            "missing_server",
            "invalid_time",
            "invalid_beneficiaries",
            "invalid_note",
        )
    ),
)
def complete(request: HttpRequest, order_id: Id, payload: CompleteIn) -> OrderDetailOut:
    def make(user: User, order: Order) -> Order:
        ids = [s.volunteer_id for s in payload.servers]
        found = {v.pk: v for v in Volunteer.objects.select_related("user").filter(pk__in=ids)}
        if any(pk not in found for pk in ids):
            raise Invalid(_("所选的志愿者不存在。"), code="invalid_server", field="servers")
        return services.complete_order(
            actor=user,
            order=order,
            servers=[services.Served(found[s.volunteer_id], s.hours) for s in payload.servers],
            beneficiaries=payload.beneficiaries,
            note=payload.note,
            started_at=payload.started_at,
        )

    return _move(request, order_id, make)


@_move_op(
    "rate",
    gettext_lazy("评价"),
    gettext_lazy("点单人为完成的服务打1到5分；2分及以下须说明原因，并转站长复核。"),
    _errors(bad=("invalid_rating", "missing_comment", "invalid_comment"), conflict=("already_rated",)),
)
def rate(request: HttpRequest, order_id: Id, payload: RateIn) -> OrderDetailOut:
    return _move(
        request,
        order_id,
        lambda u, o: services.rate_order(actor=u, order=o, rating=payload.rating, comment=payload.comment),
    )


@_move_op(
    "review",
    gettext_lazy("复核差评"),
    gettext_lazy("站长写明对差评的处理，订单办结，点单人会看到复核意见。"),
    _errors(bad=("missing_note", "invalid_note")),
)
def review(request: HttpRequest, order_id: Id, payload: RequiredNoteIn) -> OrderDetailOut:
    return _move(request, order_id, lambda u, o: services.review_complaint(actor=u, order=o, note=payload.note))


@_move_op(
    "persuade",
    gettext_lazy("记录劝导"),
    gettext_lazy("工作人员记录对随手拍所反映问题的劝导情况。"),
    _errors(bad=("missing_note", "invalid_note")),
)
def persuade(request: HttpRequest, order_id: Id, payload: RequiredNoteIn) -> OrderDetailOut:
    return _move(request, order_id, lambda u, o: services.persuade_report(actor=u, order=o, note=payload.note))


@_move_op(
    "rectify",
    gettext_lazy("确认整改"),
    gettext_lazy("工作人员确认随手拍所反映的问题已整改，随手拍办结。"),
    _errors(bad=("invalid_note",)),
)
def rectify(request: HttpRequest, order_id: Id, payload: NoteIn | None = None) -> OrderDetailOut:
    note = payload.note if payload else ""
    return _move(request, order_id, lambda u, o: services.mark_rectified(actor=u, order=o, note=note))


@_move_op(
    "not-rectified",
    gettext_lazy("记录未整改"),
    gettext_lazy("劝导后仍未整改：工作人员定下今后90天内的复查日期。"),
    _errors(bad=("invalid_follow_up", "invalid_note")),
)
def not_rectified(request: HttpRequest, order_id: Id, payload: NotRectifiedIn) -> OrderDetailOut:
    return _move(
        request,
        order_id,
        lambda u, o: services.mark_not_rectified(
            actor=u, order=o, follow_up_on=payload.follow_up_on, note=payload.note
        ),
    )


# --- Satisfaction ----------------------------------------------------------------------------


def _satisfaction(value: selectors.Satisfaction) -> dict[str, Any]:
    share = value.satisfied_share
    return {
        "rated": value.rated,
        "average": None if value.average is None else float(value.average),
        "satisfied": value.satisfied,
        "low": value.low,
        "satisfied_share": None if share is None else float(share),
    }


@router.get(
    "/sites/{site_id}/satisfaction",
    auth=SIGNED_IN,
    **documented(
        gettext_lazy("满意度统计"),
        gettext_lazy(
            "某阵地及其下级的评单统计，按志愿者、志愿服务队或实践站分列，可限定评价时间（from 含，to 不含）。"
            "仅该阵地的工作人员可查看，其他人与不存在的阵地一样回答 404。"
        ),
        tag=TAG,
        success={200: SatisfactionReport},
        errors={401: AUTH_ERRORS, 404: ("not_found",), 422: ("invalid",)},
    ),
)
def satisfaction(
    request: HttpRequest,
    site_id: Id,
    by: Annotated[
        Literal["volunteer", "team", "station"],
        params.Query("volunteer", description=lazy_str(gettext_lazy("volunteer 志愿者，team 服务队，station 实践站"))),
    ] = "volunteer",
    from_: Annotated[DayOrMoment | None, params.Query(None, alias="from")] = None,
    to: Annotated[DayOrMoment | None, params.Query(None)] = None,
) -> SatisfactionReport:
    user = signed_in(request)
    root = Site.objects.filter(pk=site_id).first()
    if root is None or not staff_scope(user).covers(root):
        raise NotFound(_("未找到该阵地。"))
    since = _start_of(from_) if from_ is not None else None
    until = _end_of(to) if to is not None else None
    grouped = {"volunteer": selectors.by_volunteer, "team": selectors.by_team, "station": selectors.by_station}[by](
        root, since, until
    )
    if by == "volunteer":
        names = dict(Volunteer.objects.filter(pk__in=grouped).values_list("pk", "user__name"))
    elif by == "team":
        names = dict(Team.objects.filter(pk__in=grouped).values_list("pk", "name"))
    else:
        names = dict(Site.objects.filter(pk__in=grouped).values_list("pk", "name"))
    rows = [SatisfactionRow(id=pk, name=names.get(pk, ""), **_satisfaction(value)) for pk, value in grouped.items()]
    rows.sort(key=lambda r: (-(r.satisfied_share or 0), -r.rated, r.id))
    return SatisfactionReport(
        site=SiteRef(id=root.pk, name=root.name),
        by=by,
        overall=SatisfactionOut(**_satisfaction(selectors.overall(root, since, until))),
        results=rows,
    )
