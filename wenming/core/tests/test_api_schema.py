"""The API as a whole: its schema, its docs page, and its error contract.

Every operation is in /api/openapi.json with a summary, a description and
its error answers; /api/docs lists them all without loading anything from
anywhere; whatever arrives under /api/, the answer is JSON, and bad input
is a 4xx with a stable code and a Chinese message, never a 500.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from wenming.core.api_errors import FIELD_MESSAGES, _field_error

EXPECTED_OPERATIONS = {
    ("post", "/api/auth/token"),
    ("post", "/api/auth/sms-code"),
    ("get", "/api/me"),
    ("get", "/api/sites"),
    ("get", "/api/sites/nearby"),
    ("get", "/api/sites/{site_id}"),
    ("get", "/api/sites/{site_id}/coverage"),
    ("post", "/api/users"),
    ("get", "/api/users"),
    ("get", "/api/users/{user_id}"),
    ("post", "/api/users/{user_id}/reveal-id-number"),
    ("post", "/api/role-grants"),
}
CJK = re.compile(r"[\u4e00-\u9fff]")


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert CJK.search(body["message"]), body
    return body


@pytest.fixture
def schema(client: Client) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


# --- /healthz -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_reports_process_and_database(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


# --- The schema -----------------------------------------------------------------------------------


def test_every_listed_operation_is_in_the_schema(schema: dict[str, Any]) -> None:
    found = {(method, path) for method, path, _ in _operations(schema)}
    assert found >= EXPECTED_OPERATIONS, EXPECTED_OPERATIONS - found


def test_every_operation_has_a_summary_a_description_and_a_tag(schema: dict[str, Any]) -> None:
    for method, path, operation in _operations(schema):
        assert operation.get("summary"), (method, path)
        assert CJK.search(operation["summary"]), (method, path)
        assert len(operation.get("description", "")) >= 10, (method, path)
        assert operation.get("tags"), (method, path)


def test_operations_declare_how_they_fail(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    base = components["ErrorOut"]
    for method, path, operation in _operations(schema):
        answers = operation["responses"]
        errors = {int(status) for status in answers if int(status) >= 400}
        assert errors, (method, path)
        for status in errors:
            content = answers[str(status)]["content"]["application/json"]["schema"]
            # ErrorOut, or a schema that extends it (every field of ErrorOut, the same ones required).
            name = content["$ref"].rsplit("/", 1)[-1]
            shape = components[name]
            assert set(base["properties"]) <= set(shape["properties"]), (method, path, status)
            assert set(shape["required"]) == set(base["required"]), (method, path, status)
            assert "错误码" in answers[str(status)]["description"], (method, path, status)
        takes_input = operation.get("parameters") or operation.get("requestBody")
        if takes_input:
            assert 422 in errors, (method, path)
        if "{" in path:
            assert 404 in errors, (method, path)
        required = operation.get("security") and {} not in operation["security"]
        if required:
            assert 401 in errors, (method, path)
        if operation.get("requestBody"):
            assert {400, 415} <= errors, (method, path)


def test_schema_tells_which_operations_need_signing_in(schema: dict[str, Any]) -> None:
    ops = {(m, p): o for m, p, o in _operations(schema)}
    assert "security" not in ops[("get", "/api/sites")]
    assert "security" not in ops[("post", "/api/auth/token")]
    assert {} in ops[("get", "/api/sites/{site_id}")]["security"]  # optional
    assert ops[("get", "/api/me")]["security"] == [{"BearerToken": []}, {"SessionCookie": []}]
    schemes = schema["components"]["securitySchemes"]
    assert schemes["BearerToken"] == {"type": "http", "scheme": "bearer"}
    assert schemes["SessionCookie"]["in"] == "cookie"


def test_error_schema_is_the_documented_shape(schema: dict[str, Any]) -> None:
    error = schema["components"]["schemas"]["ErrorOut"]
    assert set(error["properties"]) == {"code", "message", "field", "errors", "conflict"}
    assert set(error["required"]) == {"code", "message"}


# --- The docs page --------------------------------------------------------------------------------


def test_docs_page_lists_every_operation_and_loads_nothing_from_outside(client: Client, schema: dict[str, Any]) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in response["Content-Security-Policy"]
    html = response.content.decode()
    for method, path, operation in _operations(schema):
        assert f"{method.upper()}</span><code>{path}</code>" in html, (method, path)
        assert operation["summary"] in html
    assert "<script" not in html.lower()
    assert not re.search(r"<link\b", html, re.IGNORECASE)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html, re.IGNORECASE)
    assert "cdn" not in html.lower()
    assert 'href="/api/openapi.json"' in html
    # Parameters are listed with their constraints.
    assert "<code>radius_m</code>" in html
    assert "≤50000" in html


# --- JSON everywhere under /api/ ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/", "/api/nothing-here", "/api/sites/", "/api/sites/1/nope", "/api/%00"])
def test_unknown_paths_answer_json_404(client: Client, path: str) -> None:
    assert_error(client.get(path), 404, "not_found")


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), [("delete", "/api/sites"), ("put", "/api/me"), ("get", "/api/auth/token")])
def test_wrong_methods_answer_json_405(client: Client, method: str, path: str) -> None:
    response = getattr(client, method)(path)
    body = assert_error(response, 405, "method_not_allowed")
    assert response["Allow"]
    assert body["allowed"]


@pytest.mark.django_db
def test_bodies_must_be_json(client: Client) -> None:
    url = "/api/auth/token"
    assert_error(client.post(url, "{not json", content_type="application/json"), 400, "malformed_json")
    assert_error(client.post(url, b"\xff\xfe\x00", content_type="application/json"), 400, "malformed_json")
    assert_error(client.post(url, '{"phone": NaN}', content_type="application/json"), 400, "malformed_json")
    assert_error(client.post(url, "[" * 100_000, content_type="application/json"), 400, "malformed_json")
    assert_error(client.post(url, {"phone": "13800000006"}), 415, "unsupported_media_type")  # multipart form
    assert_error(client.post(url, '{"phone": "x"}', content_type="text/plain"), 415, "unsupported_media_type")
    body = assert_error(client.post(url, "", content_type="application/json"), 422, "invalid")
    assert body["errors"] == [{"field": None, "message": "请求内容不能为空。"}]
    for not_an_object in ("[1, 2]", '"abc"', "42", "null"):
        body = assert_error(client.post(url, not_an_object, content_type="application/json"), 422, "invalid")
        assert body["errors"] == [{"field": None, "message": "请求内容应为JSON对象。"}], not_an_object


@pytest.mark.django_db
def test_oversized_body_is_refused(client: Client, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    payload = '{"phone": "%s"}' % ("1" * 5000)
    assert_error(client.post("/api/auth/token", payload, content_type="application/json"), 413, "too_large")


@pytest.mark.django_db
def test_unknown_fields_are_refused_not_dropped(client: Client) -> None:
    response = client.post(
        "/api/auth/token",
        {"phone": "13800000006", "password": "x", "passwrod": "y"},
        content_type="application/json",
    )
    body = assert_error(response, 422, "invalid")
    assert body["errors"] == [{"field": "passwrod", "message": "不认识的字段。"}]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "phone",
    ["1380000\u00000006", "\ud800", "1" * 10_000, "\x1b[31m"],
    ids=["nul", "lone-surrogate", "10k", "escape"],
)
def test_text_the_database_cannot_take_is_refused(client: Client, phone: str) -> None:
    import json

    payload = json.dumps({"phone": phone, "password": "x"})  # escapes the surrogate as \ud800
    body = assert_error(client.post("/api/auth/token", payload, content_type="application/json"), 422, "invalid")
    assert body["field"] == "phone"


# --- The error contract in isolation --------------------------------------------------------------


def test_field_errors_read_as_chinese_with_their_limits() -> None:
    assert _field_error({"type": "less_than_equal", "loc": ("query", "radius_m"), "ctx": {"le": 50000}}) == {
        "field": "radius_m",
        "message": "不能大于50000。",
    }
    too_long = {"type": "too_long", "loc": ("query", "q"), "ctx": {"field_type": "Value", "max_length": 100}}
    assert _field_error(too_long) == {"field": "q", "message": "不能超过100个字符。"}
    assert _field_error({"type": "missing", "loc": ("body", "payload", "site_id")}) == {
        "field": "site_id",
        "message": "此项必填。",
    }
    # Our own validators' messages pass through; unknown kinds still read as Chinese.
    assert _field_error({"type": "value_error", "loc": ("body", "payload"), "ctx": {"error": "二者选一。"}}) == {
        "field": None,
        "message": "二者选一。",
    }
    assert CJK.search(_field_error({"type": "something_new", "loc": ("query", "x")})["message"])
    # A template whose context is missing does not break the answer.
    assert CJK.search(_field_error({"type": "less_than_equal", "loc": ("query", "x")})["message"])


def test_every_field_message_is_chinese() -> None:
    for kind, message in FIELD_MESSAGES.items():
        assert CJK.search(message), kind


@pytest.mark.django_db
def test_a_defect_is_a_json_500_and_still_reported(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    from wenming.network import selectors

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "nearby_sites", broken)
    # The test client re-raises what Django's signal reports: the defect is not swallowed.
    with pytest.raises(RuntimeError, match="boom"):
        client.get("/api/sites/nearby?lat=31.2&lng=121.4")
    quiet = Client(raise_request_exception=False)
    assert_error(quiet.get("/api/sites/nearby?lat=31.2&lng=121.4"), 500, "server_error")
