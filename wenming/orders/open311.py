"""Open311 GeoReport v2 at ``/open311/v2/``: third-party apps submit and track orders and reports.

Every resource is ``<name>.json`` or ``<name>.xml`` (discovery, services, services/{code}, requests,
requests/{id}, tokens/{token}); a URL without one of these two suffixes, or any other path under
``/open311/v2/``, answers 404 with an XML errors body (XML is the format the specification requires).
A known resource asked with the wrong method answers 405 with an ``Allow`` header.

Decisions, where the specification leaves us a choice:

- **Formats.** JSON is ``application/json; charset=utf-8``; XML is ``text/xml; charset=utf-8`` with an
  ``<?xml version="1.0" encoding="utf-8"?>`` declaration, built with ElementTree (text escaped, characters
  XML 1.0 cannot carry dropped). Both carry the same data: a repeated element is a JSON array (top-level for
  services, requests and errors), booleans are ``true``/``false``, an absent value is JSON ``null`` and an
  empty XML element, and every object always has its full set of keys.
- **Errors** are ``[{"code", "description"}]`` / ``<errors><error>``. ``code`` is the HTTP status as a
  number (400 bad input, 403 missing or invalid ``api_key``, 404 unknown resource or jurisdiction, 405
  method); a domain error of any other status (409 …) is reported as 400, the only other status the
  specification names. ``description`` is the Chinese message (gettext), followed by the Open311 parameter
  it is about when there is one, e.g. ``请回答“就诊医院”。（attribute[hospital]）``. Our stable string codes
  (``missing_attribute`` …) go in the ``Wenming-Error-Code`` response header, comma-separated in the order
  of the errors, because the specification wants no extra tags in the body.
  Several problems with a POST (location, description, media_url, required attributes) come back
  together in one 400; what ``services.place_order`` finds after those comes back one at a time.
- **jurisdiction_id**: one jurisdiction, ``settings.OPEN311_JURISDICTION`` (default ``"wenming"``). Absent,
  empty or ours is accepted; any other answers 404. Discovery ignores it (it has no parameters). On POST it
  and ``api_key`` are read from the form first, then from the query string (as the ``open311`` client sends).
- **Services** are the active ``ServiceType`` rows of both kinds, ``type`` ``realtime``. A definition's
  attributes are its questions; ``order`` is the question's rank (1, 2, …) by position, since the
  specification wants unique positive integers and ``Question.position`` may repeat or be 0.
- **POST requests** needs an active client's ``api_key`` (403 otherwise, and nothing is stored). A
  location is required: ``lat`` and ``long`` together (WGS-84, as stored), or ``address_string``, or
  ``address_id`` (kept as address text: we have no address register). ``description`` is optional in
  Open311: without one the service's name is used; it may have at most 2,000 characters (our limit, below
  the specification's 4,000). ``first_name``/``last_name`` become the contact name (family name first when
  both are Chinese), ``phone`` and ``email`` the contact details. ``media_url`` must be an http(s) URL; it
  is never fetched, only appended to the description for staff. ``media`` (multipart, up to six files)
  become the order's photos. ``attribute[code]`` and ``attribute[code][]`` are merged; codes the service
  does not ask are ignored. ``device_id`` and ``account_id`` are not kept. Control characters are removed
  from every value. Success is 200 with ``service_request_id``: the request is created at once.
- **service_request_id** is the ``Order`` primary key as a string. **tokens/{token}** maps ``Order.token``
  to that id (we never need tokens, but one issued elsewhere resolves); an unknown token is 404.
- **Privacy.** GETs need no key, so they carry no personal data: never the contact name, phone or e-mail,
  the answers, the requester, or device/account ids. A civility report (随手拍, about a public place) shows
  its description, address and coordinates. A service order (at someone's home, often about health or
  family) shows neither description nor coordinates, and its ``address`` is only the name of the
  responsible site. ``status_notes`` is ``Order.status_note`` (the note written for the requester) or
  else the status in words. ``media_url`` is always empty: order photos have no public URL yet.
- **GET requests**: ``service_request_id`` (comma list, at most 1,000) overrides every other filter and the
  window; otherwise ``service_code`` and ``status`` (``open``/``closed``) are comma lists, and
  ``start_date``/``end_date`` are inclusive W3C datetimes with a zone (a ``+`` that arrives as a space is
  read as ``+``) spanning at most 90 days: the last 90 days by default, 90 days after a lone start, 90
  before a lone end. Newest first, at most 1,000 rows; ``page``/``page_size`` (1–1,000) page through them.
  A request is ``closed`` when its status is final (``FINAL_STATUSES``), else ``open``.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db.models import Exists, Max, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from wenming.core.errors import DomainError
from wenming.orders import services
from wenming.orders.models import (
    FINAL_STATUSES,
    Datatype,
    Order,
    OrderKind,
    OrderStatus,
    Question,
    ServiceType,
)

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
MEDIA_TYPES = ("text/xml", "application/json")
# When this interface itself last changed; the changeset is this or the menu's latest edit.
CHANGESET = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
WINDOW = dt.timedelta(days=90)
MAX_RESULTS = 1000
MAX_IDS = 1000
MAX_PAGE = 100_000
MEDIA_URL_MAX = 500
ERROR_HEADER = "Wenming-Error-Code"

W3C_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})", re.ASCII)
ATTRIBUTE = re.compile(r"attribute\[([^\[\]]+)\](\[\])?")
CODE = re.compile(r"[A-Za-z0-9_-]{1,40}", re.ASCII)
ID = re.compile(r"[0-9]{1,18}", re.ASCII)
HAN = re.compile(r"[\u3400-\u9fff]+")
# C0 controls other than tab and line breaks, DEL, and what XML 1.0 cannot carry at all.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
NOT_XML = re.compile(r"[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
LIST_TYPES = frozenset({Datatype.SINGLE, Datatype.MULTI})

# services.place_order's field names → the Open311 parameters they come from.
PARAMETERS = {
    "latitude": "lat",
    "longitude": "long",
    "address": "address_string",
    "contact_name": "first_name",
    "contact_phone": "phone",
    "contact_email": "email",
    "description": "description",
    "photos": "media",
    "service_type": "service_code",
}


# --- Output: one tree, two formats ------------------------------------------------------


@dataclass(frozen=True)
class Many:
    """A repeated element: a JSON array; in XML a container holding one ``item`` element per value."""

    item: str
    values: Sequence[Any]


def w3c(value: dt.datetime) -> str:
    """A W3C datetime in local time with its offset and no fraction: ``2026-03-01T09:30:00+08:00``."""
    return timezone.localtime(value).replace(microsecond=0).isoformat()


def _jsonable(value: Any) -> Any:
    if isinstance(value, Many):
        return [_jsonable(v) for v in value.values]
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, dt.datetime):
        return w3c(value)
    return value


def _xml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return w3c(value)
    if isinstance(value, float):
        return repr(value)
    return NOT_XML.sub("", str(value))


def _xml_fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Many):
        for item in value.values:
            _xml_fill(ET.SubElement(element, value.item), item)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _xml_fill(ET.SubElement(element, key), item)
    elif value is not None:
        element.text = _xml_text(value)


def render(fmt: str, root: str, payload: Many | Mapping[str, Any], *, status: int = 200) -> HttpResponse:
    """``payload`` as JSON (the root dropped), or as XML under ``root``."""
    if fmt == "json":
        body = json.dumps(_jsonable(payload), ensure_ascii=False).encode()
        return HttpResponse(body, status=status, content_type=JSON_TYPE)
    element = ET.Element(root)
    _xml_fill(element, payload)
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="utf-8", xml_declaration=False)
    return HttpResponse(body, status=status, content_type=XML_TYPE)


# --- Errors -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Error:
    status: int
    description: str
    code: str


class Problem(Exception):
    """One or more errors to answer with; the first one's status is the response's."""

    def __init__(self, *errors: Error) -> None:
        super().__init__(errors[0].description)
        self.errors = errors


def _problem(status: int, code: str, description: str, parameter: str = "") -> Problem:
    return Problem(Error(status, _described(description, parameter), code))


def _described(description: str, parameter: str) -> str:
    return f"{description}（{parameter}）" if parameter else description


def errors_response(fmt: str, errors: Sequence[Error], *, allow: str = "") -> HttpResponse:
    status = errors[0].status
    payload = Many("error", [{"code": e.status, "description": e.description} for e in errors])
    response = render(fmt, "errors", payload, status=status)
    response[ERROR_HEADER] = ",".join(e.code for e in errors)
    if allow:
        response["Allow"] = allow
    return response


def _from_domain(exc: DomainError, attribute_codes: set[str] | frozenset[str] = frozenset()) -> Error:
    field = str(exc.extra.get("field", ""))
    parameter = f"attribute[{field}]" if field in attribute_codes else PARAMETERS.get(field, "")
    status = exc.status if exc.status in (400, 403, 404) else 400
    return Error(status, _described(exc.message, parameter), exc.code)


def endpoint(*methods: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """An Open311 view: the allowed methods (else 405), and errors turned into the errors body.

    CSRF does not apply: callers are machines that authenticate with ``api_key``, not cookies (and a
    POST to a GET-only resource must get our 405, not the CSRF page).
    """
    allowed = {*methods, "HEAD"} if "GET" in methods else set(methods)
    allow = ", ".join(sorted(allowed))

    def wrap(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @functools.wraps(view)
        def inner(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
            if request.method not in allowed:
                return errors_response(fmt, [Error(405, _("不支持该请求方法。"), "method_not_allowed")], allow=allow)
            try:
                return view(request, fmt, **kwargs)
            except Problem as problem:
                return errors_response(fmt, problem.errors)
            except DomainError as exc:
                return errors_response(fmt, [_from_domain(exc)])

        return inner

    return wrap


@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """Anything under /open311/v2/ that is not a resource with a .json or .xml suffix."""
    fmt = "json" if request.path.endswith(".json") else "xml"
    return errors_response(fmt, [Error(404, _("没有这个接口，请求地址须以 .json 或 .xml 结尾。"), "not_found")])


# --- Input ------------------------------------------------------------------------------


def _clean(value: str) -> str:
    return CONTROL.sub("", unicodedata.normalize("NFC", value))


def _param(request: HttpRequest, name: str, *, form: QueryDict | None = None) -> str:
    """A parameter, from the form first (on POST), then from the query string; cleaned, stripped."""
    value = form.get(name) if form is not None else None
    if value in (None, ""):
        value = request.GET.get(name)
    return _clean(value or "").strip()


def _check_jurisdiction(value: str) -> None:
    ours = str(getattr(settings, "OPEN311_JURISDICTION", "wenming"))
    if value and value != ours:
        raise _problem(404, "unknown_jurisdiction", _("未找到该辖区（jurisdiction_id）。"), "jurisdiction_id")


def parse_w3c(raw: str, parameter: str) -> dt.datetime:
    """A W3C datetime with seconds and a zone; a ``+`` that arrived as a space is read as ``+``."""
    text = re.sub(r" (\d{2}:\d{2})$", r"+\1", raw)
    bad = _problem(
        400,
        "invalid_datetime",
        _("时间格式不正确，应为带时区的 ISO 8601 时间，如 2026-03-01T09:30:00+08:00。"),
        parameter,
    )
    if not W3C_DATETIME.fullmatch(text):
        raise bad
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise bad from exc


def _comma_list(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def _positive(raw: str, parameter: str, *, default: int, most: int) -> int:
    if not raw:
        return default
    if not ID.fullmatch(raw) or not 1 <= int(raw) <= most:
        raise _problem(400, "invalid_page", _("应为1到%(most)d之间的整数。") % {"most": most}, parameter)
    return int(raw)


# --- Shapes -----------------------------------------------------------------------------


def _service_out(service_type: ServiceType, *, has_questions: bool) -> dict[str, Any]:
    keywords = service_type.keywords if isinstance(service_type.keywords, list) else []
    return {
        "service_code": service_type.code,
        "service_name": service_type.name,
        "description": service_type.description,
        "metadata": has_questions,
        "type": "realtime",
        "keywords": ",".join(str(k).strip() for k in keywords if str(k).strip()),
        "group": service_type.group or str(OrderKind(service_type.kind).label),
    }


def _attribute_out(question: Question, order: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "variable": True,
        "code": question.code,
        "datatype": question.datatype,
        "required": question.required,
        "datatype_description": question.help_text or None,
        "order": order,
        "description": question.prompt,
    }
    if question.datatype in LIST_TYPES:
        choices = question.choices if isinstance(question.choices, list) else []
        out["values"] = Many("value", [{"key": str(c.get("key", "")), "name": str(c.get("name", ""))} for c in choices])
    return out


def service_notice(order: Order) -> str:
    """What happens next, as the service promises it."""
    site = (order.escalated_to or order.site).name
    service_type = order.service_type
    if order.kind == OrderKind.REPORT:
        return _("已转%(site)s处理。") % {"site": site}
    limits = {"site": site, "hours": service_type.accept_within_hours, "days": service_type.finish_within_days}
    if service_type.needs_review:
        return _("已转%(site)s，审核通过后派单；%(hours)d小时内接单，%(days)d天内办结。") % limits
    return _("已转%(site)s派单，%(hours)d小时内接单，%(days)d天内办结。") % limits


def _request_out(order: Order) -> dict[str, Any]:
    """One request as the public sees it: no personal data (see the module docstring)."""
    report = order.kind == OrderKind.REPORT
    site = order.escalated_to or order.site
    return {
        "service_request_id": str(order.pk),
        "status": "closed" if order.status in FINAL_STATUSES else "open",
        "status_notes": order.status_note or str(OrderStatus(order.status).label),
        "service_name": order.service_type.name,
        "service_code": order.service_type.code,
        "description": order.description if report else None,
        "agency_responsible": site.name,
        "service_notice": service_notice(order),
        "requested_datetime": order.created_at,
        "updated_datetime": order.updated_at,
        "expected_datetime": order.finish_by or order.accept_by,
        "address": (order.address or None) if report else site.name,
        "address_id": None,
        "zipcode": None,
        "lat": order.latitude if report else None,
        "long": order.longitude if report else None,
        "media_url": None,
    }


def _public_orders() -> QuerySet[Order]:
    return Order.objects.select_related("service_type", "site", "escalated_to").order_by("-created_at", "-id")


# --- Views ------------------------------------------------------------------------------


@endpoint("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    base = request.path[: -len(f"discovery.{fmt}")].rstrip("/")
    contact = str(getattr(settings, "OPEN311_CONTACT", "")) or _("如有疑问，请联系本平台管理员。")
    kind = "test" if str(getattr(settings, "OPEN311_ENDPOINT_TYPE", "production")) == "test" else "production"
    edited = ServiceType.objects.aggregate(latest=Max("updated_at"))["latest"]
    changeset = max(CHANGESET, edited) if edited is not None else CHANGESET
    payload = {
        "changeset": changeset,
        "contact": contact,
        "key_service": _("api_key 由平台管理员在管理后台“Open311 接入方”中签发，每个接入方一个。"),
        "endpoints": Many(
            "endpoint",
            [
                {
                    "specification": SPECIFICATION,
                    "url": request.build_absolute_uri(base),
                    "changeset": changeset,
                    "type": kind,
                    "formats": Many("format", list(MEDIA_TYPES)),
                }
            ],
        ),
    }
    return render(fmt, "discovery", payload)


@endpoint("GET")
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    _check_jurisdiction(_param(request, "jurisdiction_id"))
    types = (
        ServiceType.objects.filter(is_active=True)
        .annotate(has_questions=Exists(Question.objects.filter(service_type=OuterRef("pk"))))
        # The service menu first ("service" sorts after "report"), then the civility categories.
        .order_by("-kind", "position", "id")
    )
    payload = Many("service", [_service_out(t, has_questions=t.has_questions) for t in types])
    return render(fmt, "services", payload)


@endpoint("GET")
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    _check_jurisdiction(_param(request, "jurisdiction_id"))
    service_type = ServiceType.objects.filter(code=code, is_active=True).first()
    if service_type is None:
        raise _problem(404, "unknown_service_code", _("没有这个服务类型。"), "service_code")
    questions = service_type.questions.order_by("position", "id")
    payload = {
        "service_code": service_type.code,
        "attributes": Many("attribute", [_attribute_out(q, i) for i, q in enumerate(questions, start=1)]),
    }
    return render(fmt, "service_definition", payload)


@endpoint("GET", "POST")
def service_requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create(request, fmt)
    _check_jurisdiction(_param(request, "jurisdiction_id"))
    orders = _public_orders()
    ids_raw = _param(request, "service_request_id")
    if ids_raw:
        ids = _comma_list(ids_raw)
        if len(ids) > MAX_IDS:
            raise _problem(400, "too_many_ids", _("一次最多查询%(n)d个编号。") % {"n": MAX_IDS}, "service_request_id")
        found = orders.filter(pk__in=[int(i) for i in ids if ID.fullmatch(i)])
        return render(fmt, "service_requests", Many("request", [_request_out(o) for o in found[:MAX_RESULTS]]))

    codes_raw = _param(request, "service_code")
    if codes_raw:
        orders = orders.filter(service_type__code__in=[c for c in _comma_list(codes_raw) if CODE.fullmatch(c)])
    statuses = {s.lower() for s in _comma_list(_param(request, "status"))}
    if statuses - {"open", "closed"}:
        raise _problem(400, "invalid_status", _("状态只能是 open 或 closed。"), "status")
    if statuses == {"open"}:
        orders = orders.exclude(status__in=FINAL_STATUSES)
    elif statuses == {"closed"}:
        orders = orders.filter(status__in=FINAL_STATUSES)

    start_raw, end_raw = _param(request, "start_date"), _param(request, "end_date")
    start = parse_w3c(start_raw, "start_date") if start_raw else None
    end = parse_w3c(end_raw, "end_date") if end_raw else None
    now = timezone.now()
    if start is not None and end is not None:
        if start > end:
            raise _problem(400, "invalid_range", _("开始时间不能晚于结束时间。"), "start_date")
        if end - start > WINDOW:
            raise _problem(400, "range_too_long", _("查询时间跨度不能超过90天。"), "end_date")
    elif start is not None:
        end = min(start + WINDOW, now)
    elif end is not None:
        start = end - WINDOW
    else:
        start, end = now - WINDOW, now
    orders = orders.filter(created_at__gte=start, created_at__lte=end)

    page_size = _positive(_param(request, "page_size"), "page_size", default=MAX_RESULTS, most=MAX_RESULTS)
    page = _positive(_param(request, "page"), "page", default=1, most=MAX_PAGE)
    offset = (page - 1) * page_size
    found = orders[offset : offset + page_size]
    return render(fmt, "service_requests", Many("request", [_request_out(o) for o in found]))


@endpoint("GET")
def service_request(request: HttpRequest, fmt: str, request_id: str) -> HttpResponse:
    _check_jurisdiction(_param(request, "jurisdiction_id"))
    order = _public_orders().filter(pk=int(request_id)).first() if ID.fullmatch(request_id) else None
    if order is None:
        raise _problem(404, "unknown_request", _("没有这个服务请求。"), "service_request_id")
    return render(fmt, "service_requests", Many("request", [_request_out(order)]))


@endpoint("GET")
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    _check_jurisdiction(_param(request, "jurisdiction_id"))
    found = Order.objects.filter(token=token).values_list("pk", flat=True).first()
    if found is None:
        raise _problem(404, "unknown_token", _("没有这个凭据（token）。"), "token")
    return render(fmt, "service_requests", Many("request", [{"service_request_id": str(found), "token": token}]))


# --- POST requests ----------------------------------------------------------------------


def _form(request: HttpRequest) -> tuple[QueryDict, list[Any]]:
    try:
        return request.POST, request.FILES.getlist("media")
    except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent) as exc:
        raise _problem(400, "request_too_large", _("请求内容过大或字段过多。")) from exc
    except (MultiPartParserError, BadRequest, UnreadablePostError) as exc:
        raise _problem(400, "malformed_body", _("请求内容无法解析，请以表单（urlencoded 或 multipart）提交。")) from exc


def _attributes(form: QueryDict) -> dict[str, list[str]]:
    """``attribute[code]`` and ``attribute[code][]``, merged, empty values left out."""
    found: dict[str, list[str]] = {}
    for key in form:
        match = ATTRIBUTE.fullmatch(key)
        if match:
            values = [_clean(v).strip() for v in form.getlist(key)]
            found.setdefault(match.group(1), []).extend(v for v in values if v)
    return found


def _answers(questions: Sequence[Question], given: Mapping[str, list[str]]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for question in questions:
        values = given.get(question.code, [])
        if not values:
            continue
        if question.datatype == Datatype.MULTI:
            answers[question.code] = values
        else:
            answers[question.code] = values[0] if len(values) == 1 else values
    return answers


def _contact_name(first: str, last: str) -> str:
    if first and last and HAN.fullmatch(first) and HAN.fullmatch(last):
        return last + first
    return " ".join(part for part in (first, last) if part)


def _location(form: QueryDict, request: HttpRequest, errors: list[Error]) -> tuple[float | None, float | None]:
    lat_raw, long_raw = _param(request, "lat", form=form), _param(request, "long", form=form)
    if not lat_raw and not long_raw:
        return None, None
    if not lat_raw or not long_raw:
        errors.append(
            Error(400, _described(_("lat 和 long 须同时提供。"), "lat" if not lat_raw else "long"), "invalid_location")
        )
        return None, None
    try:
        lat, lng = float(lat_raw), float(long_raw)
    except ValueError:
        errors.append(Error(400, _described(_("位置坐标应为数字。"), "lat"), "invalid_location"))
        return None, None
    if not (math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
        errors.append(Error(400, _described(_("位置坐标超出范围。"), "lat"), "invalid_location"))
        return None, None
    return lat, lng


def _media_url(raw: str, errors: list[Error]) -> str:
    if not raw:
        return ""
    parts = urlsplit(raw)
    if len(raw) > MEDIA_URL_MAX or parts.scheme not in ("http", "https") or not parts.netloc or " " in raw:
        errors.append(Error(400, _described(_("图片链接应为 http 或 https 网址。"), "media_url"), "invalid_media_url"))
        return ""
    return raw


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    form, media = _form(request)
    client = services.client_for_key(_param(request, "api_key", form=form))
    if client is None:
        raise _problem(403, "invalid_api_key", _("api_key 缺失或无效。"), "api_key")
    _check_jurisdiction(_param(request, "jurisdiction_id", form=form))
    code = _param(request, "service_code", form=form)
    if not code:
        raise _problem(400, "missing_service_code", _("请提供服务类型。"), "service_code")
    service_type = ServiceType.objects.filter(code=code, is_active=True).first() if CODE.fullmatch(code) else None
    if service_type is None:
        raise _problem(404, "unknown_service_code", _("没有这个服务类型。"), "service_code")
    questions = list(service_type.questions.order_by("position", "id"))

    errors: list[Error] = []
    lat, lng = _location(form, request, errors)
    address = _param(request, "address_string", form=form) or _param(request, "address_id", form=form)
    if lat is None and not address and not errors:
        errors.append(
            Error(
                400,
                _described(_("请提供位置：lat 和 long，或 address_string。"), "lat"),
                "missing_location",
            )
        )
    description = _param(request, "description", form=form) or service_type.name
    media_url = _media_url(_param(request, "media_url", form=form), errors)
    if media_url:
        description = f"{description}\n{_('图片链接：')}{media_url}"
    if len(description) > services.DESCRIPTION_MAX:
        errors.append(
            Error(
                400,
                _described(_("不能超过%(limit)d个字。") % {"limit": services.DESCRIPTION_MAX}, "description"),
                "invalid_description",
            )
        )
    given = _attributes(form)
    for question in questions:
        if question.required and not given.get(question.code):
            errors.append(
                Error(
                    400,
                    _described(_("请回答“%(prompt)s”。") % {"prompt": question.prompt}, f"attribute[{question.code}]"),
                    "missing_attribute",
                )
            )
    if errors:
        raise Problem(*errors)

    try:
        order = services.place_order(
            actor=None,
            client=client,
            service_type=service_type,
            description=description,
            latitude=lat,
            longitude=lng,
            address=address,
            contact_name=_contact_name(
                _param(request, "first_name", form=form), _param(request, "last_name", form=form)
            ),
            contact_phone=_param(request, "phone", form=form),
            contact_email=_param(request, "email", form=form),
            answers=_answers(questions, given),
            photos=media,
        )
    except DomainError as exc:
        raise Problem(_from_domain(exc, {q.code for q in questions})) from exc
    payload = Many(
        "request", [{"service_request_id": str(order.pk), "service_notice": service_notice(order), "account_id": None}]
    )
    return render(fmt, "service_requests", payload)
