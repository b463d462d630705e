"""The JSON API's error contract, and the input types that keep bad input a 4xx.

Every failure the API reports has one shape::

    {"code": "phone_taken", "message": "该手机号已注册。", "field": "phone"}

``code`` is stable, for machines; ``message`` is for people, in Chinese by
default (through gettext, so the English catalogue can follow); ``field``
names the input at fault when there is one. Validation failures also carry
``errors``: one ``{"field", "message"}`` per bad input.

Services raise :class:`wenming.core.errors.DomainError`; ninja raises its
own errors for authentication, unparsable bodies and invalid parameters;
Django raises ``Http404`` and ``PermissionDenied``. :func:`install` maps all
of them onto the shape above. Anything else is a defect: it is logged and
reported through Django's ``got_request_exception`` signal as usual, and
the client still gets JSON.

The input types at the bottom bound what the database will accept (ids
that fit a 64-bit integer, text without NUL bytes or lone surrogates,
finite numbers), so that no request can push a value the database refuses.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, cast

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.signals import got_request_exception
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from ninja.parser import Parser
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, ConfigDict, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from wenming.core.errors import DomainError

log = logging.getLogger("django.request")

# --- Documenting operations -----------------------------------------------------------------------

# Error codes an operation may answer with, by HTTP status.
ErrorCodes = Mapping[int, Sequence[str]]


def lazy_str(message: Promise) -> str:
    """A lazy translation where ninja or pydantic expect ``str``.

    The OpenAPI schema is rendered per request, so the text comes out in
    the request's language.
    """
    return cast(str, message)


def documented(
    summary: Promise,
    description: Promise,
    *,
    tag: Promise,
    success: Mapping[int, Any],
    errors: ErrorCodes,
    optional_auth: bool = False,
) -> dict[str, Any]:
    """Keyword arguments for a router decorator: what the operation does and how it fails.

    Every error status gets ``ErrorOut`` as its schema and the list of codes
    it can carry as its description. ``optional_auth`` adds the empty
    security requirement, OpenAPI's way of saying that signing in is optional.
    """
    extra: dict[str, Any] = {
        "responses": {
            status: {"description": format_lazy(gettext_lazy("错误码：{codes}"), codes=", ".join(codes))}
            for status, codes in errors.items()
        }
    }
    if optional_auth:
        extra["security"] = [{}]
    return {
        "summary": summary,
        "description": description,
        "tags": [tag],
        "response": {**success, **dict.fromkeys(errors, ErrorOut)},
        "openapi_extra": extra,
    }


# --- The error shape ------------------------------------------------------------------------------


class FieldErrorOut(Schema):
    field: str | None = Field(None, description=lazy_str(gettext_lazy("出错的输入项")))
    message: str = Field(description=lazy_str(gettext_lazy("给人看的说明")))


class ConflictOut(Schema):
    id: int = Field(description=lazy_str(gettext_lazy("与之冲突的记录编号")))
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None


class ErrorOut(Schema):
    code: str = Field(description=lazy_str(gettext_lazy("稳定的错误码，供程序判断")), examples=["phone_taken"])
    message: str = Field(description=lazy_str(gettext_lazy("给人看的说明，默认简体中文")))
    field: str | None = Field(None, description=lazy_str(gettext_lazy("出错的输入项（如有）")))
    errors: list[FieldErrorOut] | None = Field(None, description=lazy_str(gettext_lazy("参数校验失败时，逐项说明")))
    conflict: ConflictOut | None = Field(
        None, description=lazy_str(gettext_lazy("409 时与之冲突的记录（如场地已被哪条预约占用）"))
    )


def error_body(
    code: str,
    message: str,
    *,
    field: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    conflict: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": str(message)}
    if field:
        body["field"] = field
    if errors is not None:
        body["errors"] = errors
    if conflict:
        body["conflict"] = dict(conflict)
    return body


# --- Messages -------------------------------------------------------------------------------------

MSG_INVALID = gettext_noop("请求参数不正确。")
MSG_NOT_FOUND = gettext_noop("未找到。")
MSG_UNAUTHORIZED = gettext_noop("请先登录。")
MSG_FORBIDDEN = gettext_noop("您没有权限执行此操作。")
MSG_MALFORMED = gettext_noop("请求内容不是有效的JSON。")
MSG_MEDIA_TYPE = gettext_noop("请以 application/json 格式提交请求内容。")
MSG_TOO_LARGE = gettext_noop("请求内容过大。")
MSG_BAD_REQUEST = gettext_noop("请求无效。")
MSG_RATE_LIMITED = gettext_noop("请求太频繁，请稍后再试。")
MSG_METHOD = gettext_noop("不支持该请求方法。")
MSG_SERVER = gettext_noop("服务器出错了，请稍后再试。")

# ninja's own HttpErrors, by status.
HTTP_ERRORS: dict[int, tuple[str, str]] = {
    400: ("malformed_json", MSG_MALFORMED),
    401: ("unauthorized", MSG_UNAUTHORIZED),
    403: ("forbidden", MSG_FORBIDDEN),
    404: ("not_found", MSG_NOT_FOUND),
    405: ("method_not_allowed", MSG_METHOD),
    429: ("rate_limited", MSG_RATE_LIMITED),
}

# pydantic's error types, in words a person reads. %(name)s takes the error's context.
FIELD_MESSAGES: dict[str, str] = {
    "missing": gettext_noop("此项必填。"),
    "int_type": gettext_noop("应为整数。"),
    "int_parsing": gettext_noop("应为整数。"),
    "int_parsing_size": gettext_noop("数字过大。"),
    "int_from_float": gettext_noop("应为整数。"),
    "float_type": gettext_noop("应为数字。"),
    "float_parsing": gettext_noop("应为数字。"),
    "finite_number": gettext_noop("应为有限的数字。"),
    "greater_than": gettext_noop("应大于%(gt)s。"),
    "greater_than_equal": gettext_noop("不能小于%(ge)s。"),
    "less_than": gettext_noop("应小于%(lt)s。"),
    "less_than_equal": gettext_noop("不能大于%(le)s。"),
    "string_type": gettext_noop("应为文本。"),
    "string_too_short": gettext_noop("至少需要%(min_length)s个字符。"),
    "string_too_long": gettext_noop("不能超过%(max_length)s个字符。"),
    "too_long": gettext_noop("不能超过%(max_length)s个字符。"),
    "string_unicode": gettext_noop("应为有效的文本。"),
    "bool_type": gettext_noop("应为 true 或 false。"),
    "bool_parsing": gettext_noop("应为 true 或 false。"),
    "model_type": gettext_noop("应为JSON对象。"),
    "model_attributes_type": gettext_noop("应为JSON对象。"),
    "dict_type": gettext_noop("应为JSON对象。"),
    "list_type": gettext_noop("应为列表。"),
    "enum": gettext_noop("不是允许的取值。"),
    "literal_error": gettext_noop("不是允许的取值。"),
    "extra_forbidden": gettext_noop("不认识的字段。"),
    "unsafe_text": gettext_noop("不能包含控制字符。"),
}
BODY_MESSAGES: dict[str, str] = {
    "missing": gettext_noop("请求内容不能为空。"),
    "model_type": gettext_noop("请求内容应为JSON对象。"),
    "model_attributes_type": gettext_noop("请求内容应为JSON对象。"),
}


def _field_error(error: Mapping[str, Any]) -> dict[str, Any]:
    loc = [str(part) for part in error.get("loc", ())]
    source, rest = (loc[0], loc[1:]) if loc else ("", [])
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    # A body is one schema argument, whose name leads the location; an
    # error at that level is about the body as a whole.
    whole_body = source == "body" and len(rest) <= 1
    if source == "body":
        rest = rest[1:]
    if kind == "value_error" and "error" in ctx:
        message = str(ctx["error"])  # raised by our own validators, already translated
    else:
        template = (BODY_MESSAGES.get(kind) if whole_body else None) or FIELD_MESSAGES.get(kind)
        try:
            message = _(template) % ctx if template else _("取值不正确。")
        except (KeyError, TypeError, ValueError):
            message = _("取值不正确。")
    return {"field": ".".join(rest) or None, "message": message}


# --- Handlers -------------------------------------------------------------------------------------


class UnsupportedMediaType(ValueError):
    """A request body that does not say it is JSON."""


class JsonParser(Parser):
    """Strict JSON bodies: declared as JSON, and no NaN or Infinity."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        content_type = (request.content_type or "").lower()
        if content_type != "application/json" and not content_type.endswith("+json"):
            raise UnsupportedMediaType(content_type)
        data: dict[str, Any] = json.loads(request.body, parse_constant=_refuse_constant)
        return data


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def install(api: NinjaAPI) -> None:
    """Map every exception an operation can raise onto ErrorOut."""

    def respond(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
        response = api.create_response(request, body, status=status)
        if status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response

    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        body = error_body(exc.code, exc.message, field=exc.extra.get("field"), conflict=exc.extra.get("conflict"))
        return respond(request, exc.status, body)

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = [_field_error(e) for e in exc.errors]
        field = errors[0]["field"] if len(errors) == 1 else None
        return respond(request, 422, error_body("invalid", _(MSG_INVALID), field=field, errors=errors))

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        # ninja wraps whatever broke while reading the body in HttpError(400).
        if isinstance(exc.__cause__, UnsupportedMediaType):
            return respond(request, 415, error_body("unsupported_media_type", _(MSG_MEDIA_TYPE)))
        if isinstance(exc, AuthenticationError):
            return respond(request, 401, error_body("unauthorized", _(MSG_UNAUTHORIZED)))
        if isinstance(exc, Throttled):
            return respond(request, 429, error_body("rate_limited", _(MSG_RATE_LIMITED)))
        code, message = HTTP_ERRORS.get(exc.status_code, ("bad_request", MSG_BAD_REQUEST))
        return respond(request, exc.status_code, error_body(code, _(message)))

    @api.exception_handler(Http404)
    @api.exception_handler(ObjectDoesNotExist)
    def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return respond(request, 404, error_body("not_found", _(MSG_NOT_FOUND)))

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return respond(request, 403, error_body("forbidden", _(MSG_FORBIDDEN)))

    @api.exception_handler(RequestDataTooBig)
    def too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return respond(request, 413, error_body("too_large", _(MSG_TOO_LARGE)))

    @api.exception_handler(SuspiciousOperation)
    def suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        logging.getLogger(f"django.security.{exc.__class__.__name__}").error(str(exc))
        return respond(request, 400, error_body("bad_request", _(MSG_BAD_REQUEST)))

    @api.exception_handler(Exception)
    def defect(request: HttpRequest, exc: Exception) -> HttpResponse:
        # Report it as Django reports an unhandled exception (error e-mails,
        # the test client re-raising it), but keep the answer JSON.
        got_request_exception.send(sender=None, request=request)
        log.error(
            "Internal Server Error: %s", request.path, exc_info=exc, extra={"status_code": 500, "request": request}
        )
        return respond(request, 500, error_body("server_error", _(MSG_SERVER)))


def method_not_allowed_body(allowed: Iterable[str]) -> dict[str, Any]:
    return error_body("method_not_allowed", _(MSG_METHOD)) | {"allowed": sorted(allowed)}


# --- Input types ----------------------------------------------------------------------------------

MAX_ID = 2**63 - 1  # a BIGINT, on SQLite and PostgreSQL alike


def _safe_text(value: str) -> str:
    """Refuse control characters (NUL above all: PostgreSQL cannot store it) and lone surrogates."""
    for ch in value:
        code = ord(ch)
        if code < 32 or code == 127 or 0xD800 <= code <= 0xDFFF:
            raise PydanticCustomError("unsafe_text", "text contains control characters")
    return value


SafeText = Annotated[str, AfterValidator(_safe_text)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
PageNumber = Annotated[int, Field(ge=1, le=100_000, description=lazy_str(gettext_lazy("页码，从1开始")))]
PageSize = Annotated[int, Field(ge=1, le=100, description=lazy_str(gettext_lazy("每页条数，最多100")))]


class In(Schema):
    """A request body: unknown fields are refused, so a misspelt field is never silently dropped."""

    model_config = ConfigDict(extra="forbid")


# --- Dates and moments in query strings and bodies -------------------------------------------------

ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_only(value: Any) -> Any:
    """Only ISO 8601 text: pydantic would also read "0" as a Unix timestamp, which nobody means."""
    if not isinstance(value, str) or not ISO_DAY.match(value):
        raise PydanticCustomError("iso_8601", "expected an ISO 8601 date or date-time")
    return value


# Datetimes a database of either kind can store, whatever the offset they come in.
EARLIEST_YEAR, LATEST_YEAR = 1970, 2100


def storable(value: dt.datetime | dt.date) -> dt.datetime | dt.date:
    # The year as written: an offset moves it by a day at most, which these bounds leave room for.
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(_("日期应在%(first)d年至%(last)d年之间。") % {"first": EARLIEST_YEAR, "last": LATEST_YEAR})
    return value


# ISO 8601 only (not a Unix timestamp), and within the years above.
Moment = Annotated[AwareDatetime, BeforeValidator(iso_only), AfterValidator(storable)]
IsoDate = Annotated[dt.date, BeforeValidator(iso_only), AfterValidator(storable)]


def day_or_moment(value: Any) -> dt.date | dt.datetime:
    """A date, or a date-time with its offset, as ISO 8601 text; one error message for either."""
    wrong = ValueError(_("请填写日期（如2026-03-01）或带时区的时刻（如2026-03-01T09:00:00+08:00）。"))
    if not isinstance(value, str) or not ISO_DAY.match(value):
        raise wrong
    try:
        parsed = dt.date.fromisoformat(value) if len(value) == len("2026-03-01") else dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise wrong from exc
    if isinstance(parsed, dt.datetime) and parsed.utcoffset() is None:
        raise wrong
    return storable(parsed)


# The ``from`` and ``to`` of a list: a day (all of it) or a moment.
DayOrMoment = Annotated[
    dt.date | dt.datetime,
    PlainValidator(day_or_moment),
    WithJsonSchema({"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]}),
]
