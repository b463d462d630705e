"""The JSON API, mounted at /api/ by ``wenming.urls``.

- ``/api/openapi.json``: the OpenAPI schema of every operation;
- ``/api/docs``: the same, as a plain page rendered here. ninja's default
  Swagger page loads its script and styles from a CDN, which the product
  may not do; this page has no script and loads nothing from anywhere
  (its Content-Security-Policy says so to the browser).

Errors are JSON everywhere under /api/, including unknown paths and
methods an operation does not accept (see ``wenming.core.api_errors``).
"""

from collections.abc import Callable, Iterable, Mapping
from functools import wraps
from html import escape
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern, URLResolver, re_path
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.openapi.docs import DocsBase
from ninja.renderers import JSONRenderer

from wenming.accounts.api import router as accounts_router
from wenming.activities.api import router as activities_router
from wenming.bookings.api import router as bookings_router
from wenming.core import api_errors
from wenming.core.api_errors import JsonParser, error_body, lazy_str
from wenming.network.api import router as network_router
from wenming.notices.api import router as notices_router
from wenming.orders.api import router as orders_router

# --- The docs page --------------------------------------------------------------------------------

DOCS_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
METHODS = ("get", "post", "put", "patch", "delete")
STYLE = """
body{font:15px/1.6 system-ui,"PingFang SC","Microsoft YaHei",sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;
color:#1f2328}
h2{border-bottom:1px solid #d0d7de;padding-bottom:.3rem;margin-top:2.5rem}
h3{margin:1.8rem 0 .4rem}
code,.method{font-family:ui-monospace,Menlo,Consolas,monospace}
.method{display:inline-block;min-width:4.2rem;font-weight:600;color:#0969da}
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.muted{color:#59636e}
"""


def _text(value: Any) -> str:
    return escape(str(value)) if value is not None else ""


def _type(schema: Mapping[str, Any]) -> str:
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return f'<a href="#schema-{_text(name)}">{_text(name)}</a>'
    if "anyOf" in schema:
        return " | ".join(_type(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return f"list[{_type(schema.get('items', {}))}]"
    return _text(schema.get("format") or schema.get("type") or "any")


def _constraints(schema: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for key, label in (
        ("minimum", "≥"),
        ("exclusiveMinimum", ">"),
        ("maximum", "≤"),
        ("exclusiveMaximum", "<"),
        ("minLength", _("最短")),
        ("maxLength", _("最长")),
    ):
        if key in schema:
            parts.append(f"{label}{schema[key]}")
    if "enum" in schema:
        parts.append(_("取值：") + ", ".join(str(v) for v in schema["enum"]))
    if "default" in schema:
        parts.append(_("默认：") + str(schema["default"]))
    for option in schema.get("anyOf", ()):
        if option.get("type") != "null":
            parts.append(_constraints(option))
    return _text(_("；").join(p for p in parts if p))


def _auth(operation: Mapping[str, Any]) -> str:
    security = operation.get("security")
    if not security:
        return _("无需登录")
    if {} in security:
        return _("可匿名；登录后可能看到更多")
    return _("需要登录（Bearer 令牌或已登录页面的会话）")


def _words() -> dict[str, str]:
    """Table headings in the active language (gettext calls kept out of f-strings for extraction)."""
    return {
        "parameter": _text(_("参数")),
        "in": _text(_("位置")),
        "type": _text(_("类型")),
        "required": _text(_("必填")),
        "constraints": _text(_("约束")),
        "notes": _text(_("说明")),
        "yes": _text(_("是")),
        "no": _text(_("否")),
        "status": _text(_("状态")),
        "content": _text(_("内容")),
        "field": _text(_("字段")),
        "schemas": _text(_("数据结构")),
        "body": _text(_("请求内容")),
    }


def _operation(method: str, path: str, operation: Mapping[str, Any]) -> str:
    w = _words()
    html = [
        f'<h3 id="{_text(operation.get("operationId"))}"><span class="method">{method.upper()}</span>'
        f"<code>{_text(path)}</code> {_text(operation.get('summary'))}</h3>",
        f"<p>{_text(operation.get('description'))}</p>",
        f'<p class="muted">{_text(_auth(operation))}</p>',
    ]
    parameters = operation.get("parameters") or []
    if parameters:
        html.append(
            f"<table><tr><th>{w['parameter']}</th><th>{w['in']}</th><th>{w['type']}</th>"
            f"<th>{w['required']}</th><th>{w['constraints']}</th><th>{w['notes']}</th></tr>"
        )
        for p in parameters:
            schema = p.get("schema", {})
            help_text = p.get("description") or schema.get("description")
            html.append(
                f"<tr><td><code>{_text(p.get('name'))}</code></td><td>{_text(p.get('in'))}</td>"
                f"<td>{_type(schema)}</td><td>{w['yes'] if p.get('required') else w['no']}</td>"
                f"<td>{_constraints(schema)}</td><td>{_text(help_text)}</td></tr>"
            )
        html.append("</table>")
    body = operation.get("requestBody")
    if body:
        for media, content in body.get("content", {}).items():
            kind = _type(content.get("schema", {}))
            html.append(f"<p>{w['body']} <code>{_text(media)}</code>: {kind}</p>")
    html.append(f"<table><tr><th>{w['status']}</th><th>{w['notes']}</th><th>{w['content']}</th></tr>")
    for status, answer in operation.get("responses", {}).items():
        schemas = [_type(c.get("schema", {})) for c in answer.get("content", {}).values()]
        html.append(
            f"<tr><td>{_text(status)}</td><td>{_text(answer.get('description'))}</td><td>{', '.join(schemas)}</td></tr>"
        )
    html.append("</table>")
    return "\n".join(html)


def _schema(name: str, schema: Mapping[str, Any]) -> str:
    w = _words()
    required = set(schema.get("required", ()))
    rows = "".join(
        f"<tr><td><code>{_text(field)}</code></td><td>{_type(details)}</td>"
        f"<td>{w['yes'] if field in required else w['no']}</td><td>{_constraints(details)}</td>"
        f"<td>{_text(details.get('description'))}</td></tr>"
        for field, details in schema.get("properties", {}).items()
    )
    return (
        f'<h3 id="schema-{_text(name)}"><code>{_text(name)}</code></h3>'
        f"<table><tr><th>{w['field']}</th><th>{w['type']}</th><th>{w['required']}</th>"
        f"<th>{w['constraints']}</th><th>{w['notes']}</th></tr>{rows}</table>"
    )


def render_operation_index(schema: Mapping[str, Any], *, openapi_url: str) -> str:
    """Every operation of an OpenAPI schema, grouped by tag, as one HTML page."""
    groups: dict[str, list[str]] = {}
    for path, item in schema.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                operation = item[method]
                tag = str((operation.get("tags") or [_("其他")])[0])
                groups.setdefault(tag, []).append(_operation(method, path, operation))
    info = schema.get("info", {})
    sections = [f"<h2>{_text(tag)}</h2>\n" + "\n".join(ops) for tag, ops in groups.items()]
    components = schema.get("components", {}).get("schemas", {})
    models = [_schema(name, components[name]) for name in sorted(components)]
    return "\n".join(
        [
            "<!doctype html>",
            f'<html lang="{_text(get_language() or "zh-hans")}"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_text(info.get('title'))}</title><style>{STYLE}</style></head><body>",
            f'<h1>{_text(info.get("title"))} <small class="muted">v{_text(info.get("version"))}</small></h1>',
            f"<p>{_text(info.get('description'))}</p>",
            f'<p><a href="{_text(openapi_url)}">openapi.json</a></p>',
            *sections,
            f"<h2>{_words()['schemas']}</h2>",
            *models,
            "</body></html>",
        ]
    )


class OperationIndex(DocsBase):
    """ninja's docs hook, answering with :func:`render_operation_index` instead of Swagger from a CDN."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        schema = api.get_openapi_schema(path_params=kwargs)
        page = render_operation_index(schema, openapi_url=self.get_openapi_url(api, kwargs))
        response = HttpResponse(page, content_type="text/html; charset=utf-8")
        response["Content-Security-Policy"] = DOCS_CSP
        return response


# --- The API --------------------------------------------------------------------------------------


class Utf8JSONRenderer(JSONRenderer):
    """JSON with Chinese as UTF-8 rather than \\u escapes: readable, and a third of the size."""

    json_dumps_params = {"ensure_ascii": False}


class WenmingAPI(NinjaAPI):
    """NinjaAPI whose every answer under its prefix is JSON, even for unknown paths and methods."""

    @property
    def urls(self) -> tuple[list[URLResolver | URLPattern], str, str]:
        patterns, app_name, namespace = super().urls
        wrapped: list[URLResolver | URLPattern] = [
            URLPattern(p.pattern, self._json_errors(p.callback), p.default_args, p.name)
            if isinstance(p, URLPattern)
            else p
            for p in patterns
        ]
        wrapped.append(re_path(r"^.*$", self._unknown_path, name="unknown"))
        return wrapped, app_name, namespace

    def _error(self, request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
        return self.create_response(request, body, status=status)

    def _unknown_path(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._error(request, 404, error_body("not_found", _(api_errors.MSG_NOT_FOUND)))

    def _json_errors(self, view: Callable[..., Any]) -> Callable[..., Any]:
        if iscoroutinefunction(view):
            return view

        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                response: HttpResponse = view(request, *args, **kwargs)
            except Http404:  # ninja's root view, which only exists to be reversed
                return self._unknown_path(request)
            if isinstance(response, HttpResponseNotAllowed):
                allowed: Iterable[str] = (m.strip() for m in response["Allow"].split(","))
                answer = self._error(request, 405, api_errors.method_not_allowed_body(allowed))
                answer["Allow"] = response["Allow"]
                return answer
            return response

        return wrapper


api = WenmingAPI(
    title=lazy_str(gettext_lazy("文明实践接口")),
    version="1",
    description=lazy_str(
        gettext_lazy(
            "新时代文明实践阵地网络的 JSON 接口。登录：先调用 POST /api/auth/token 换取令牌，"
            "再在请求头中发送 Authorization: Bearer <令牌>；已登录的页面也可直接使用会话（提交时附 CSRF 令牌）。"
            '出错时回答 {"code": 错误码, "message": 说明}，参数错误另附 errors 逐项说明。'
        )
    ),
    docs=OperationIndex(),
    docs_url="/docs",
    parser=JsonParser(),
    renderer=Utf8JSONRenderer(),
)
api_errors.install(api)
api.add_router("", accounts_router)
api.add_router("", network_router)
api.add_router("", activities_router)
api.add_router("", bookings_router)
api.add_router("", notices_router)
api.add_router("", orders_router)
