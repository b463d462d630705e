"""Property-based fuzzing of the whole JSON API with schemathesis.

The schema is the one the app serves at /api/openapi.json; every operation
in it gets generated requests, valid and invalid (schemathesis' coverage
phase: boundary values, wrong types, missing fields, other media types,
methods the path does not accept; then its fuzzing phase), sent in-process
to Django's WSGI handler on the test database, as four callers:

- ``anonymous``: no credentials at all;
- ``bad_token``: a bearer token that is no token;
- ``admin``: a valid token of the platform admin (平台管理员);
- ``manager_a``: a valid token of the station manager of 甲站 (张站长).

What must hold for every answer:

- never a 5xx;
- the status is documented for the operation, the content type is the
  documented one, and the body matches the documented schema (schemathesis'
  own checks, plus: invalid input is refused, methods the path does not
  accept are a 405 with ``Allow``);
- every 4xx is JSON with a non-empty string ``code`` and ``message``, and
  the code is one of those the schema lists for that status ("错误码：...");
  a 401 says how to authenticate (``WWW-Authenticate``);
- whatever the input, an operation that takes a token answers 401
  ``invalid_token`` to ``bad_token`` (a token sent is never ignored), 401
  ``unauthorized`` to ``anonymous`` when it needs signing in (and no 401
  when signing in is optional), and never 401 to a valid token.

Hypothesis runs each (operation, caller) pair as one test: the database is
rolled back after it, not between its examples. That is fine here, because
nothing below depends on the state an earlier example left: reads are
reads, and writes (a role granted, a resident registered, an ID number
revealed, a lock-out after failed sign-ins) may succeed or be refused, and
every refusal must still be a documented 4xx. The cache (rate limits and
lock-outs) is cleared per test by the root conftest.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    allow_header_conformance,
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from schemathesis.config import SchemathesisConfig

if TYPE_CHECKING:
    from schemathesis import Case, Response

    from conftest import People

# Examples per (operation, caller) in the fuzzing phase, on top of the
# coverage phase's deterministic cases. Bounded so that the whole file
# stays well under a minute on two cores, on SQLite and on PostgreSQL.
MAX_EXAMPLES = 20

CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {
            # Credentials come from the callers below, not from generated
            # Authorization headers and session cookies.
            "with-security-parameters": False,
            "deterministic": True,
            "database": "none",
        },
    }
)

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", WSGIHandler(), config=CONFIG)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    unsupported_method,
    allow_header_conformance,
]

CALLERS = ["anonymous", "bad_token", "admin", "manager_a"]
SIGNED_IN = {"admin", "manager_a"}


@pytest.fixture
def _requests_keep_the_test_connection(db: None) -> Iterator[None]:
    """Requests run in the test's transaction, as Django's test client runs them.

    WSGIHandler closes "old" database connections when a request starts and
    ends; inside the test's transaction that means closing the only one
    (every later query then fails). Django's test client disconnects that
    handler around each request; the WSGI app here gets the same, for the
    whole test.
    """
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def caller(request: pytest.FixtureRequest, people: People, _requests_keep_the_test_connection: None) -> dict[str, str]:
    """The caller's name and, when it sends one, its Authorization header."""
    from wenming.accounts.services import issue_api_token

    name = str(request.param)
    if name == "anonymous":
        return {"name": name}
    if name == "bad_token":
        return {"name": name, "Authorization": "Bearer not-a-token"}
    raw, _ = issue_api_token(user=getattr(people, name))
    return {"name": name, "Authorization": f"Bearer {raw}"}


# --- Checks of the error contract ---------------------------------------------------------------

DOCUMENTED_CODES = re.compile(r"错误码：(?P<codes>.+)$")


def _security(case: Case) -> list[dict[str, Any]]:
    """The operation's security requirements: none for a public operation, ``{}`` among them when optional."""
    return list(case.operation.definition.raw.get("security") or [])


def _documented_codes(case: Case, status: int) -> set[str] | None:
    answer = case.operation.definition.raw.get("responses", {}).get(str(status))
    if answer is None:
        return None
    found = DOCUMENTED_CODES.search(str(answer.get("description", "")))
    return {code.strip() for code in found["codes"].split(",")} if found else None


def _json_object(response: Response) -> dict[str, Any]:
    """The body as a JSON object, or ``{}`` when it is not one."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error_contract(case: Case, response: Response, caller: dict[str, str]) -> list[str]:
    """What is wrong with the answer under the API's error contract (nothing, when it holds)."""
    problems: list[str] = []
    status = response.status_code
    own_method = case.method.upper() == case.operation.method.upper()
    security = _security(case)
    if own_method and security:
        name = caller["name"]
        code = _json_object(response).get("code")
        if name == "bad_token" and (status, code) != (401, "invalid_token"):
            problems.append(f"a token that is no token got {status} {code!r}, not 401 'invalid_token'")
        if name == "anonymous" and {} not in security and (status, code) != (401, "unauthorized"):
            problems.append(f"no credentials got {status} {code!r} from an operation that needs signing in")
        if name == "anonymous" and {} in security and status == 401:
            problems.append("no credentials got 401 from an operation open to everyone")
        if name in SIGNED_IN and status == 401:
            problems.append(f"the valid token of {name} was refused with 401")
    if not 400 <= status < 500:
        return problems
    content_type = response.headers.get("content-type", [""])[0]
    if not content_type.startswith("application/json"):
        return [*problems, f"a {status} with Content-Type {content_type!r}, not JSON"]
    body = _json_object(response)
    if not body:
        return [*problems, f"a {status} whose body is not a JSON object"]
    for key in ("code", "message"):
        if not isinstance(body.get(key), str) or not body[key]:
            problems.append(f"a {status} without a non-empty string {key!r}")
    codes = _documented_codes(case, status) if own_method else None
    if codes is not None and body.get("code") not in codes:
        problems.append(f"a {status} with code {body.get('code')!r}, documented codes are {sorted(codes)}")
    if status == 401 and "www-authenticate" not in response.headers:
        problems.append("a 401 without WWW-Authenticate")
    return problems


# --- The test -----------------------------------------------------------------------------------


@schema.parametrize()
@pytest.mark.parametrize("caller", CALLERS, indirect=True)
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,  # requests hit a real database; time is not what is tested
    derandomize=True,  # the same cases on every run, so CI is repeatable
    database=None,  # derandomized: no failing examples to save and replay between runs
    # The database fixtures are per test, not per example, by design (see
    # the module docstring); and generation speed is not what is tested.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_keeps_its_contract(case: Case, caller: dict[str, str]) -> None:
    headers = {"Authorization": caller["Authorization"]} if "Authorization" in caller else None
    response = case.call(headers=headers)
    case.validate_response(response, checks=CHECKS, headers=headers)
    problems = _error_contract(case, response, caller)
    assert not problems, (
        f"{case.operation.label} as {caller['name']}: " + "; ".join(problems) + "\n\n"
        f"{response.status_code} {response.text[:500]}\n\n"
        f"Reproduce with:\n    {case.as_curl_command(headers=headers)}"
    )
