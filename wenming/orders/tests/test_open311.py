"""Conformance of /open311/v2/ to GeoReport v2, every endpoint in JSON and XML, errors included.

A 12345-hotline bridge (``hotline``, an Open311 client of 甲站) submits for residents; anyone reads.
XML is parsed with ElementTree and converted by the specification's JSON ⇄ XML rule, so each answer
is checked in both formats for the same data. The client is Django's with CSRF checks on, as a
browser-less caller meets them.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from conftest import People, Street
from wenming.orders import services
from wenming.orders.models import (
    Channel,
    Datatype,
    Open311Client,
    Order,
    OrderKind,
    OrderPhoto,
    OrderStatus,
    Question,
    ServiceType,
)
from wenming.orders.tests.conftest import NEAR_A, MakeOrder, Menu

BASE = "/open311/v2/"
FORMATS = ["json", "xml"]
W3C = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})")
# The XML elements whose children are a list (the specification's JSON ⇄ XML rule).
LISTS = {"services", "service_requests", "errors", "attributes", "values", "endpoints", "formats"}
SERVICE_KEYS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
REQUEST_KEYS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}
PHONE = "13912340000"
EMAIL = "li.lei@example.com"


# --- Reading answers --------------------------------------------------------------------


def xml_data(element: ET.Element) -> Any:
    """An XML answer as the JSON one would be (every leaf a string, empty ones None)."""
    if element.tag in LISTS:
        return [xml_data(child) for child in element]
    if len(element):
        return {child.tag: xml_data(child) for child in element}
    return element.text


def as_xml_leaves(value: Any) -> Any:
    """A JSON answer with its leaves written as XML writes them."""
    if isinstance(value, list):
        return [as_xml_leaves(v) for v in value]
    if isinstance(value, dict):
        return {k: as_xml_leaves(v) for k, v in value.items()}
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or value == "":
        return None
    return str(value)


def parse(response: Any, fmt: str) -> Any:
    """The body, after checking its type and encoding; XML comes back as the root element."""
    if fmt == "json":
        assert response["Content-Type"] == "application/json; charset=utf-8"
        return json.loads(response.content.decode("utf-8"))
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    assert b"xmlns" not in response.content
    return ET.fromstring(response.content)  # noqa: S314 - our own answer


def data(response: Any, fmt: str) -> Any:
    """The body as JSON-shaped data (XML converted, leaves as strings)."""
    body = parse(response, fmt)
    return xml_data(body) if fmt == "xml" else body


def errors(response: Any, fmt: str, status: int) -> list[tuple[str, str]]:
    """The errors body, checked: ``[(code, description)]`` with the code the HTTP status."""
    assert response.status_code == status, response.content.decode()
    body = parse(response, fmt)
    if fmt == "xml":
        assert body.tag == "errors"
        assert [child.tag for child in body] == ["error"] * len(body)
        found = [(e.findtext("code") or "", e.findtext("description") or "") for e in body]
        assert all([c.tag for c in e] == ["code", "description"] for e in body)
    else:
        assert isinstance(body, list)
        assert all(set(e) == {"code", "description"} and isinstance(e["code"], int) for e in body)
        found = [(str(e["code"]), e["description"]) for e in body]
    assert found
    assert all(code == str(status) and description for code, description in found)
    return found


def same_in_both(get: Callable[[str], Any]) -> Any:
    """Ask in JSON and in XML; the two answers must carry the same data. Returns the JSON."""
    as_json, as_xml = get("json"), get("xml")
    assert as_json.status_code == as_xml.status_code == 200
    body = parse(as_json, "json")
    assert xml_data(parse(as_xml, "xml")) == as_xml_leaves(body)
    return body


# --- Fixtures ---------------------------------------------------------------------------


@pytest.fixture
def api() -> Client:
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def survey(menu: Menu) -> ServiceType:
    """飞线充电 asks where (several places), how many bikes, and when it was seen."""
    wires = menu.wires
    Question.objects.create(
        service_type=wires,
        code="spots",
        prompt="在哪里",
        datatype=Datatype.MULTI,
        position=5,
        choices=[
            {"key": "corridor", "name": "楼道"},
            {"key": "stairs", "name": "楼梯间"},
            {"key": "yard", "name": "院内"},
        ],
    )
    Question.objects.create(service_type=wires, code="bikes", prompt="几辆车", datatype=Datatype.NUMBER, position=5)
    Question.objects.create(
        service_type=wires,
        code="seen_at",
        prompt="发现时间",
        datatype=Datatype.DATETIME,
        position=9,
        help_text="如 2026-03-01T09:30:00+08:00",
    )
    return wires


@pytest.fixture
def hotline(street: Street) -> tuple[Open311Client, str]:
    client = Open311Client(name="12345市民热线", site=street.station_a)
    key = services.issue_open311_key(actor=None, client=client)
    return client, key


@pytest.fixture
def key(hotline: tuple[Open311Client, str]) -> str:
    return hotline[1]


@pytest.fixture
def media_root(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def post(api: Client, fmt: str, body: dict[str, Any], *, query: str = "") -> Any:
    """A form-urlencoded POST, as the specification shows it."""
    from urllib.parse import urlencode

    return api.post(
        f"{BASE}requests.{fmt}{query}",
        data=urlencode(body, doseq=True),
        content_type="application/x-www-form-urlencoded",
    )


def report_body(key: str, **extra: Any) -> dict[str, Any]:
    body = {
        "api_key": key,
        "service_code": "wires",
        "lat": "31.2112",
        "long": "121.4912",
        "address_string": "甲小区3号楼楼道",
        "description": "楼道里有人飞线给电瓶车充电",
        "first_name": "雷",
        "last_name": "李",
        "phone": PHONE,
        "email": EMAIL,
    }
    body.update(extra)
    return body


def escort_body(key: str, **extra: Any) -> dict[str, Any]:
    body = {
        "api_key": key,
        "service_code": "escort",
        "address_string": "甲小区5号楼302",
        "description": "下周二需要陪同去医院复查",
        "first_name": "芳",
        "last_name": "王",
        "phone": PHONE,
        "attribute[hospital]": "瑞金医院",
        "attribute[mobility]": "wheelchair",
    }
    body.update(extra)
    return body


def created_id(response: Any, fmt: str) -> str:
    assert response.status_code == 200, response.content.decode()
    body = parse(response, fmt)
    if fmt == "xml":
        assert body.tag == "service_requests"
        assert [c.tag for c in body] == ["request"]
        assert [c.tag for c in body[0]] == ["service_request_id", "service_notice", "account_id"]
        assert body[0].find("account_id").text is None
        assert body[0].findtext("service_notice")
        return body[0].findtext("service_request_id") or ""
    assert isinstance(body, list)
    assert len(body) == 1
    assert set(body[0]) == {"service_request_id", "service_notice", "account_id"}
    assert body[0]["account_id"] is None
    assert body[0]["service_notice"]
    assert isinstance(body[0]["service_request_id"], str)
    return body[0]["service_request_id"]


# --- General ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["services", "services.html", "services.JSON", "requests/1", "", "discovery", "services.json/", "nope.xml"],
)
def test_unknown_resources_are_404_with_an_errors_body(api: Client, path: str) -> None:
    errors(api.get(f"{BASE}{path}"), "xml", 404)


@pytest.mark.django_db
def test_an_unknown_path_ending_in_json_answers_json(api: Client) -> None:
    errors(api.get(f"{BASE}nope.json"), "json", 404)


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("delete", "requests", "GET, HEAD, POST"),
        ("put", "requests", "GET, HEAD, POST"),
        ("post", "services", "GET, HEAD"),
        ("post", "services/repair", "GET, HEAD"),
        ("post", "discovery", "GET, HEAD"),
        ("post", "requests/1", "GET, HEAD"),
        ("post", "tokens/abc", "GET, HEAD"),
    ],
)
def test_wrong_methods_are_405_with_allow(
    api: Client, menu: Menu, fmt: str, method: str, path: str, allow: str
) -> None:
    response = getattr(api, method)(f"{BASE}{path}.{fmt}")
    errors(response, fmt, 405)
    assert response["Allow"] == allow


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_foreign_jurisdiction_is_404_everywhere(
    api: Client, menu: Menu, make_order: MakeOrder, key: str, fmt: str
) -> None:
    order = make_order()
    for path in ("services", "services/repair", "requests", f"requests/{order.pk}", f"tokens/{order.token}"):
        found = errors(api.get(f"{BASE}{path}.{fmt}", {"jurisdiction_id": "elsewhere"}), fmt, 404)
        assert "jurisdiction_id" in found[0][1]
    before = Order.objects.count()
    errors(post(api, fmt, {**report_body(key), "jurisdiction_id": "elsewhere"}), fmt, 404)
    assert Order.objects.count() == before


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
def test_no_empty_or_our_jurisdiction_mean_the_same(
    api: Client, menu: Menu, make_order: MakeOrder, settings: Any, fmt: str
) -> None:
    settings.OPEN311_JURISDICTION = "jiahe.example.cn"
    order = make_order()
    for path in ("services", "services/escort", "requests", f"requests/{order.pk}", f"tokens/{order.token}"):
        answers = [
            api.get(f"{BASE}{path}.{fmt}", query).content
            for query in ({}, {"jurisdiction_id": ""}, {"jurisdiction_id": "jiahe.example.cn"})
        ]
        assert answers[0] == answers[1] == answers[2]
    errors(api.get(f"{BASE}services.{fmt}", {"jurisdiction_id": "wenming"}), fmt, 404)


@pytest.mark.django_db
def test_error_codes_of_ours_ride_in_a_header(api: Client, menu: Menu) -> None:
    response = api.get(f"{BASE}services/nope.json")
    errors(response, "json", 404)
    assert response["Wenming-Error-Code"] == "unknown_service_code"


# --- Discovery --------------------------------------------------------------------------


@pytest.mark.django_db
def test_discovery_in_both_formats(api: Client) -> None:
    body = same_in_both(lambda fmt: api.get(f"{BASE}discovery.{fmt}", {"jurisdiction_id": "anything"}))
    assert set(body) == {"changeset", "contact", "key_service", "endpoints"}
    assert body["contact"]
    assert "api_key" in body["key_service"]
    assert W3C.fullmatch(body["changeset"])
    assert dt.datetime.fromisoformat(body["changeset"]) <= timezone.now()
    [endpoint] = body["endpoints"]
    assert set(endpoint) == {"specification", "url", "changeset", "type", "formats"}
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["type"] in {"production", "test"}
    assert endpoint["formats"] == ["text/xml", "application/json"]
    root = parse(api.get(f"{BASE}discovery.xml"), "xml")
    assert [f.text for f in root.findall("./endpoints/endpoint/formats/format")] == ["text/xml", "application/json"]


@pytest.mark.django_db
def test_discovery_says_test_when_configured(api: Client, settings: Any) -> None:
    settings.OPEN311_ENDPOINT_TYPE = "test"
    assert parse(api.get(f"{BASE}discovery.json"), "json")["endpoints"][0]["type"] == "test"


# --- Services ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_service_list(api: Client, menu: Menu, survey: ServiceType) -> None:
    menu.haircut.group = "生活服务"
    menu.haircut.save()
    ServiceType.objects.create(code="old", name="旧服务", is_active=False)
    body = same_in_both(lambda fmt: api.get(f"{BASE}services.{fmt}"))
    assert isinstance(body, list)
    assert all(set(s) == SERVICE_KEYS for s in body)
    by_code = {s["service_code"]: s for s in body}
    assert list(by_code) == ["repair", "haircut", "escort", "wires"]
    assert all(s["type"] == "realtime" for s in body)
    assert {c: s["metadata"] for c, s in by_code.items()} == {
        "repair": False,
        "haircut": False,
        "escort": True,
        "wires": True,
    }
    assert by_code["repair"]["keywords"] == "洗衣机,冰箱,电视,空调,修理,维修,坏了"
    assert by_code["repair"]["service_name"] == "家电维修"
    assert by_code["repair"]["description"] == "上门检修洗衣机、电视、冰箱等家用电器。"
    assert by_code["haircut"]["group"] == "生活服务"
    assert by_code["repair"]["group"] == "服务点单"
    assert by_code["wires"]["group"] == "随手拍"

    root = parse(api.get(f"{BASE}services.xml"), "xml")
    assert root.tag == "services"
    assert {child.tag for child in root} == {"service"}
    assert root.findtext("./service/metadata") == "false"
    assert root.findtext("./service/service_name") == "家电维修"


@pytest.mark.django_db
def test_service_definition(api: Client, menu: Menu, survey: ServiceType) -> None:
    body = same_in_both(lambda fmt: api.get(f"{BASE}services/wires.{fmt}"))
    assert body["service_code"] == "wires"
    attributes = body["attributes"]
    assert [a["code"] for a in attributes] == ["spots", "bikes", "seen_at"]
    assert [a["order"] for a in attributes] == [1, 2, 3]
    spots, bikes, seen_at = attributes
    assert spots == {
        "variable": True,
        "code": "spots",
        "datatype": "multivaluelist",
        "required": False,
        "datatype_description": None,
        "order": 1,
        "description": "在哪里",
        "values": [
            {"key": "corridor", "name": "楼道"},
            {"key": "stairs", "name": "楼梯间"},
            {"key": "yard", "name": "院内"},
        ],
    }
    assert "values" not in bikes
    assert bikes["datatype"] == "number"
    assert seen_at["datatype_description"] == "如 2026-03-01T09:30:00+08:00"

    root = parse(api.get(f"{BASE}services/escort.xml"), "xml")
    assert root.tag == "service_definition"
    assert [c.tag for c in root] == ["service_code", "attributes"]
    hospital, mobility = root.findall("./attributes/attribute")
    assert [c.tag for c in hospital] == [
        "variable",
        "code",
        "datatype",
        "required",
        "datatype_description",
        "order",
        "description",
    ]
    assert (hospital.findtext("required"), hospital.findtext("datatype")) == ("true", "string")
    assert [(v.findtext("key"), v.findtext("name")) for v in mobility.findall("./values/value")] == [
        ("walk", "能自己走"),
        ("wheelchair", "需要轮椅"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_service_without_questions_has_no_attributes(api: Client, menu: Menu, fmt: str) -> None:
    assert data(api.get(f"{BASE}services/repair.{fmt}"), fmt) == {
        "service_code": "repair",
        "attributes": [],
    }


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_and_inactive_services_are_404(api: Client, menu: Menu, fmt: str) -> None:
    ServiceType.objects.create(code="old", name="旧服务", is_active=False)
    errors(api.get(f"{BASE}services/nope.{fmt}"), fmt, 404)
    errors(api.get(f"{BASE}services/old.{fmt}"), fmt, 404)


# --- POST requests ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
def test_post_a_report_then_read_it(
    api: Client, menu: Menu, survey: ServiceType, hotline: tuple[Open311Client, str], fmt: str
) -> None:
    client, key = hotline
    body = report_body(
        key,
        jurisdiction_id="wenming",
        device_id="tt222111",
        account_id="123456",
        **{"attribute[bikes]": "3", "attribute[seen_at]": "2026-03-01T21:30:00+08:00"},
    )
    request_id = created_id(post(api, fmt, body), fmt)
    order = Order.objects.get(pk=int(request_id))
    assert (order.kind, order.service_type, order.channel, order.client) == (
        OrderKind.REPORT,
        survey,
        Channel.OPEN311,
        client,
    )
    assert order.status == OrderStatus.REPORTED
    assert (order.latitude, order.longitude) == (31.2112, 121.4912)
    assert order.address == "甲小区3号楼楼道"
    assert order.description == "楼道里有人飞线给电瓶车充电"
    assert (order.contact_name, order.contact_phone, order.contact_email) == ("李雷", PHONE, EMAIL)
    assert order.answers == {"bikes": "3", "seen_at": "2026-03-01T21:30:00+08:00"}
    assert order.history.get().actor_label == "12345市民热线"

    [shown] = data(api.get(f"{BASE}requests/{request_id}.{fmt}"), fmt)
    assert shown["service_request_id"] == request_id
    assert shown["status"] == "open"
    assert shown["service_code"] == "wires"
    assert shown["description"] == "楼道里有人飞线给电瓶车充电"
    assert shown["agency_responsible"] == "甲居民区实践站"


@pytest.mark.django_db
def test_post_needs_no_csrf_token_and_sets_no_cookie(api: Client, menu: Menu, key: str) -> None:
    response = post(api, "json", report_body(key))
    created_id(response, "json")
    assert "csrftoken" not in response.cookies


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("given", [None, "", "not-a-key", "disabled"])
def test_post_without_a_valid_key_is_403_and_stores_nothing(
    api: Client, menu: Menu, hotline: tuple[Open311Client, str], fmt: str, given: str | None
) -> None:
    client, key = hotline
    body = report_body(key)
    if given is None:
        del body["api_key"]
    elif given == "disabled":
        client.is_active = False
        client.save()
    else:
        body["api_key"] = given
    found = errors(post(api, fmt, body), fmt, 403)
    assert "api_key" in found[0][1]
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_key_in_the_query_string_works_and_the_form_wins(api: Client, menu: Menu, key: str) -> None:
    body = report_body(key)
    del body["api_key"]
    created_id(post(api, "json", body, query=f"?api_key={key}&jurisdiction_id="), "json")
    errors(post(api, "json", report_body("wrong-key"), query=f"?api_key={key}"), "json", 403)


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
def test_service_code_missing_is_400_unknown_is_404(api: Client, menu: Menu, key: str, fmt: str) -> None:
    body = report_body(key)
    del body["service_code"]
    errors(post(api, fmt, body), fmt, 400)
    errors(post(api, fmt, report_body(key, service_code="nope")), fmt, 404)
    errors(post(api, fmt, report_body(key, service_code="../x")), fmt, 404)
    assert not Order.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "location",
    [
        {},
        {"lat": "31.2112"},
        {"long": "121.4912"},
        {"lat": "abc", "long": "121.4912"},
        {"lat": "91", "long": "121.4912"},
        {"lat": "31.2", "long": "-180.5"},
        {"lat": "nan", "long": "121.4912"},
        {"lat": "inf", "long": "121.4912"},
        {"lat": "1e400", "long": "121.4912", "address_string": "甲小区"},
    ],
)
def test_bad_or_missing_locations_are_400(
    api: Client, menu: Menu, key: str, fmt: str, location: dict[str, str]
) -> None:
    body = {k: v for k, v in report_body(key).items() if k not in {"lat", "long", "address_string"}}
    errors(post(api, fmt, {**body, **location}), fmt, 400)
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_an_address_alone_is_enough(api: Client, menu: Menu, key: str, street: Street) -> None:
    body = {k: v for k, v in report_body(key).items() if k not in {"lat", "long"}}
    order = Order.objects.get(pk=created_id(post(api, "json", body), "json"))
    assert (order.address, order.latitude, order.site) == ("甲小区3号楼楼道", None, street.station_a)
    body = {k: v for k, v in body.items() if k != "address_string"}
    order = Order.objects.get(pk=created_id(post(api, "json", {**body, "address_id": "JH-0031-02"}), "json"))
    assert order.address == "JH-0031-02"


@pytest.mark.django_db
def test_the_location_finds_the_station(api: Client, menu: Menu, key: str, street: Street) -> None:
    order = Order.objects.get(
        pk=created_id(post(api, "json", report_body(key, lat="31.2301", long="121.5101")), "json")
    )
    assert order.site == street.station_b


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("hospital", [None, "", "   "])
def test_a_required_attribute_missing_is_400_and_named(
    api: Client, menu: Menu, key: str, fmt: str, hospital: str | None
) -> None:
    body = escort_body(key)
    if hospital is None:
        del body["attribute[hospital]"]
    else:
        body["attribute[hospital]"] = hospital
    response = post(api, fmt, body)
    [(_code, description)] = errors(response, fmt, 400)
    assert "attribute[hospital]" in description
    assert "就诊医院" in description
    assert response["Wenming-Error-Code"] == "missing_attribute"
    assert not Order.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("code", "value"),
    [
        ("bikes", "abc"),
        ("bikes", "NaN"),
        ("seen_at", "2026-01-01"),
        ("seen_at", "tomorrow"),
        ("spots", "roof"),
    ],
)
def test_bad_attribute_values_are_400(
    api: Client, menu: Menu, survey: ServiceType, key: str, fmt: str, code: str, value: str
) -> None:
    response = post(api, fmt, report_body(key, **{f"attribute[{code}]": value}))
    [(_code, description)] = errors(response, fmt, 400)
    assert f"attribute[{code}]" in description
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_a_bad_key_among_list_values_is_400(api: Client, menu: Menu, survey: ServiceType, key: str) -> None:
    response = post(api, "json", report_body(key, **{"attribute[spots][]": ["corridor", "roof"]}))
    errors(response, "json", 400)
    response = post(api, "json", escort_body(key, **{"attribute[mobility]": ["walk", "wheelchair"]}))
    errors(response, "json", 400)
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_an_empty_optional_choice_means_none_picked(api: Client, menu: Menu, key: str) -> None:
    order = Order.objects.get(pk=created_id(post(api, "json", escort_body(key, **{"attribute[mobility]": ""})), "json"))
    assert order.answers == {"hospital": "瑞金医院"}
    assert order.status == OrderStatus.REVIEWING


@pytest.mark.django_db
@pytest.mark.parametrize("spelling", ["attribute[spots][]", "attribute[spots]"])
def test_multivaluelists_take_several_values(
    api: Client, menu: Menu, survey: ServiceType, key: str, spelling: str
) -> None:
    body = report_body(key, **{spelling: ["stairs", "corridor", "stairs"]})
    order = Order.objects.get(pk=created_id(post(api, "json", body), "json"))
    assert order.answers == {"spots": ["stairs", "corridor"]}


@pytest.mark.django_db
def test_both_list_spellings_are_merged(api: Client, menu: Menu, survey: ServiceType, key: str) -> None:
    body = report_body(key, **{"attribute[spots][]": "yard", "attribute[spots]": "stairs"})
    order = Order.objects.get(pk=created_id(post(api, "json", body), "json"))
    assert sorted(order.answers["spots"]) == ["stairs", "yard"]


@pytest.mark.django_db
def test_unknown_attributes_are_ignored(api: Client, menu: Menu, key: str) -> None:
    body = escort_body(key, **{"attribute[WHISPAWN]": "123456", "attribute[]": "x", "attribute[a][b]": "y"})
    order = Order.objects.get(pk=created_id(post(api, "json", body), "json"))
    assert order.answers == {"hospital": "瑞金医院", "mobility": "wheelchair"}


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
def test_description_limits_and_line_breaks(api: Client, menu: Menu, key: str, fmt: str) -> None:
    errors(post(api, fmt, report_body(key, description="长" * 2001)), fmt, 400)
    errors(post(api, fmt, report_body(key, description="长" * 100_000)), fmt, 400)
    assert not Order.objects.exists()
    longest = created_id(post(api, fmt, report_body(key, description="长" * 2000)), fmt)
    assert len(Order.objects.get(pk=longest).description) == 2000
    broken = created_id(post(api, fmt, report_body(key, description="第一行\r\n第二行")), fmt)
    assert "第一行" in Order.objects.get(pk=broken).description
    assert "\n第二行" in Order.objects.get(pk=broken).description


@pytest.mark.django_db
def test_without_a_description_the_service_name_is_used(api: Client, menu: Menu, key: str) -> None:
    body = report_body(key)
    del body["description"]
    assert Order.objects.get(pk=created_id(post(api, "json", body), "json")).description == "飞线充电"


@pytest.mark.django_db
def test_media_url_is_checked_and_kept_for_staff(api: Client, menu: Menu, key: str) -> None:
    errors(post(api, "json", report_body(key, media_url="javascript:alert(1)")), "json", 400)
    errors(post(api, "json", report_body(key, media_url="ftp://example.com/a.jpg")), "json", 400)
    url = "https://img.example.com/a/638344.jpg"
    order = Order.objects.get(pk=created_id(post(api, "json", report_body(key, media_url=url)), "json"))
    assert order.description.endswith(url)


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
def test_several_problems_come_back_together(api: Client, menu: Menu, key: str, fmt: str) -> None:
    body = escort_body(key, lat="95", long="121.49", description="长" * 2001, media_url="nope")
    del body["attribute[hospital]"]
    response = post(api, fmt, body)
    found = errors(response, fmt, 400)
    assert len(found) == 4
    assert response["Wenming-Error-Code"] == "invalid_location,invalid_media_url,invalid_description,missing_attribute"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "parameter"),
    [("phone", "12345", "phone"), ("email", "not-an-email", "email"), ("first_name", "名" * 60, "first_name")],
)
def test_bad_contact_details_are_400_naming_the_parameter(
    api: Client, menu: Menu, key: str, field: str, value: str, parameter: str
) -> None:
    [(_code, description)] = errors(post(api, "json", report_body(key, **{field: value})), "json", 400)
    assert f"（{parameter}）" in description
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_names_join_family_first_in_chinese(api: Client, menu: Menu, key: str) -> None:
    order = Order.objects.get(
        pk=created_id(post(api, "json", report_body(key, first_name="Lei", last_name="Li")), "json")
    )
    assert order.contact_name == "Lei Li"
    body = report_body(key, first_name="李雷")
    del body["last_name"]
    assert Order.objects.get(pk=created_id(post(api, "json", body), "json")).contact_name == "李雷"


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
def test_multipart_with_a_photo(
    api: Client, menu: Menu, survey: ServiceType, key: str, media_root: Any, fmt: str
) -> None:
    photo = io.BytesIO(png_bytes())
    photo.name = "wires.jpg"
    body = report_body(key, **{"attribute[spots][]": ["corridor", "yard"]})
    response = api.post(f"{BASE}requests.{fmt}", data={**body, "media": photo})
    order = Order.objects.get(pk=created_id(response, fmt))
    assert order.answers == {"spots": ["corridor", "yard"]}
    [stored] = OrderPhoto.objects.filter(order=order)
    assert str(stored.image.name).endswith(".png")


@pytest.mark.django_db
def test_a_media_file_that_is_no_photo_is_400(api: Client, menu: Menu, key: str, media_root: Any) -> None:
    fake = io.BytesIO(b"#!/bin/sh\necho hi\n")
    fake.name = "photo.jpg"
    [(_code, description)] = errors(
        api.post(f"{BASE}requests.xml", data={**report_body(key), "media": fake}), "xml", 400
    )
    assert "（media）" in description
    assert not Order.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content_type", "payload"),
    [
        ("multipart/form-data; boundary=xyz", b"--xyz\r\nContent-Disposition: form-data; name=\r\n\r\nbroken"),
        ("multipart/form-data", b"no boundary at all"),
        ("application/x-www-form-urlencoded", b"api_key=%FF%FE&service_code=\xff\xfe&description=\xc3\x28"),
        ("application/x-www-form-urlencoded; charset=latin-1", b"api_key=x"),
        ("application/json", b'{"api_key": "x"}'),
        ("text/plain", b"\x00\x01\x02"),
    ],
)
def test_malformed_bodies_never_500(api: Client, menu: Menu, content_type: str, payload: bytes) -> None:
    response = api.post(f"{BASE}requests.json", data=payload, content_type=content_type)
    assert response.status_code in {400, 403}
    errors(response, "json", response.status_code)


@pytest.mark.django_db
def test_too_many_fields_or_too_big_a_body_is_400(api: Client, menu: Menu, key: str) -> None:
    many = "&".join(f"f{i}=x" for i in range(1200))
    response = api.post(
        f"{BASE}requests.xml", data=f"api_key={key}&{many}", content_type="application/x-www-form-urlencoded"
    )
    errors(response, "xml", 400)
    big = f"api_key={key}&service_code=wires&description=" + "x" * 3_000_000
    errors(api.post(f"{BASE}requests.json", data=big, content_type="application/x-www-form-urlencoded"), "json", 400)
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_control_characters_are_dropped(api: Client, menu: Menu, survey: ServiceType, key: str) -> None:
    body = report_body(
        key,
        description="飞线\x00充电\x07",
        address_string="3号楼\x1b楼道",
        **{"attribute[bikes]": "2\x00", "attribute[spots]": "yard\x00"},
    )
    order = Order.objects.get(pk=created_id(post(api, "xml", body), "xml"))
    assert (order.description, order.address) == ("飞线充电", "3号楼楼道")
    assert order.answers == {"bikes": "2", "spots": ["yard"]}
    parse(api.get(f"{BASE}requests/{order.pk}.xml"), "xml")


@pytest.mark.django_db
def test_non_utf8_in_the_body_is_replaced_not_fatal(api: Client, menu: Menu, key: str) -> None:
    payload = f"api_key={key}&service_code=wires&address_string=%E7%94%B2%FF&description=ok".encode()
    response = api.post(f"{BASE}requests.json", data=payload, content_type="application/x-www-form-urlencoded")
    order = Order.objects.get(pk=created_id(response, "json"))
    assert order.address.startswith("甲")


# --- Tokens -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
def test_tokens(api: Client, make_order: MakeOrder, fmt: str) -> None:
    order = make_order()
    errors(api.get(f"{BASE}tokens/no-such-token.{fmt}"), fmt, 404)
    assert data(api.get(f"{BASE}tokens/{order.token}.{fmt}"), fmt) == [
        {"service_request_id": str(order.pk), "token": order.token}
    ]
    root = parse(api.get(f"{BASE}tokens/{order.token}.xml"), "xml")
    assert [c.tag for c in root] == ["request"]
    assert [c.tag for c in root[0]] == ["service_request_id", "token"]


# --- GET requests -----------------------------------------------------------------------


def ids(response: Any, fmt: str = "json") -> list[str]:
    assert response.status_code == 200, response.content.decode()
    return [r["service_request_id"] for r in data(response, fmt) or []]


def aged(order: Order, days: float) -> Order:
    when = timezone.now() - dt.timedelta(days=days)
    Order.objects.filter(pk=order.pk).update(created_at=when)
    order.created_at = when
    return order


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
def test_requests_list_shape(api: Client, make_order: MakeOrder, key: str, menu: Menu, fmt: str) -> None:
    order = make_order(OrderStatus.DISPATCHED)
    report = Order.objects.get(pk=created_id(post(api, "json", report_body(key)), "json"))
    body = same_in_both(lambda f: api.get(f"{BASE}requests.{f}"))
    assert [r["service_request_id"] for r in body] == [str(report.pk), str(order.pk)]
    assert all(set(r) == REQUEST_KEYS for r in body)
    for r in body:
        for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
            assert r[field] is None or W3C.fullmatch(r[field]), r[field]
        assert r["requested_datetime"]
    shown_report, shown_order = body
    assert shown_report["lat"] == 31.2112
    assert shown_report["long"] == 121.4912
    assert shown_report["address"] == "甲小区3号楼楼道"
    assert shown_order["status"] == "open"
    assert shown_order["status_notes"] == "待接单"
    assert shown_order["expected_datetime"] is not None

    root = parse(api.get(f"{BASE}requests.{fmt}"), fmt)
    if fmt == "xml":
        assert root.tag == "service_requests"
        assert [c.tag for c in root] == ["request", "request"]
        assert [c.tag for c in root[0]] == list(_request_fields())


def _request_fields() -> list[str]:
    return [
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "agency_responsible",
        "service_notice",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "address",
        "address_id",
        "zipcode",
        "lat",
        "long",
        "media_url",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
def test_posted_request_goes_from_open_to_closed(api: Client, menu: Menu, key: str, people: People, fmt: str) -> None:
    request_id = created_id(post(api, fmt, escort_body(key)), fmt)
    [shown] = data(api.get(f"{BASE}requests/{request_id}.{fmt}"), fmt)
    assert (shown["status"], shown["status_notes"]) == ("open", "待审核")
    assert request_id in ids(api.get(f"{BASE}requests.{fmt}", {"status": "open"}), fmt)
    assert request_id not in ids(api.get(f"{BASE}requests.{fmt}", {"status": "closed"}), fmt)

    order = Order.objects.get(pk=request_id)
    services.reject_order(actor=people.manager_a, order=order, reason="该时段暂无志愿者，请改约时间")
    [shown] = data(api.get(f"{BASE}requests/{request_id}.{fmt}"), fmt)
    assert (shown["status"], shown["status_notes"]) == ("closed", "该时段暂无志愿者，请改约时间")
    order.refresh_from_db()
    assert shown["updated_datetime"] == timezone.localtime(order.updated_at).replace(microsecond=0).isoformat()
    assert request_id in ids(api.get(f"{BASE}requests.{fmt}", {"status": "closed"}), fmt)
    assert request_id not in ids(api.get(f"{BASE}requests.{fmt}", {"status": "open"}), fmt)


@pytest.mark.django_db
def test_every_status_maps_to_open_or_closed(api: Client, make_order: MakeOrder, people: People) -> None:
    expected = {
        OrderStatus.PENDING: "open",
        OrderStatus.DISPATCHED: "open",
        OrderStatus.ACCEPTED: "open",
        OrderStatus.IN_SERVICE: "open",
        OrderStatus.COMPLETED: "open",
        OrderStatus.CLOSED: "closed",
    }
    made = {status: make_order(status) for status in expected}
    cancelled = make_order()
    services.cancel_order(actor=people.resident_a, order=cancelled, reason="不需要了")
    shown = {r["service_request_id"]: r for r in data(api.get(f"{BASE}requests.json"), "json")}
    assert {s: shown[str(o.pk)]["status"] for s, o in made.items()} == expected
    assert shown[str(cancelled.pk)]["status"] == "closed"
    assert shown[str(made[OrderStatus.CLOSED].pk)]["status_notes"] == "感谢您的评价。"


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
def test_no_personal_data_in_any_get(
    api: Client, menu: Menu, make_order: MakeOrder, key: str, people: People, fmt: str
) -> None:
    order = make_order(OrderStatus.ACCEPTED, contact_phone="13700001111", contact_name="王阿姨家属")
    report_id = created_id(post(api, "json", report_body(key)), "json")
    escort_id = created_id(post(api, "json", escort_body(key)), "json")
    answers = [
        api.get(f"{BASE}requests.{fmt}"),
        api.get(f"{BASE}requests.{fmt}", {"service_request_id": f"{order.pk},{report_id},{escort_id}"}),
        api.get(f"{BASE}requests/{order.pk}.{fmt}"),
        api.get(f"{BASE}requests/{report_id}.{fmt}"),
        api.get(f"{BASE}requests/{escort_id}.{fmt}"),
    ]
    secrets = [
        "13700001111",
        "王阿姨家属",
        PHONE,
        "139****0000",
        EMAIL,
        "李雷",
        people.resident_a.phone,
        "王阿姨",
        "王芳",
        "甲小区3号楼201",  # a service order's address is a home
        "甲小区5号楼302",
        "洗衣机",  # a service order's description is private
        "医院",
        "瑞金医院",  # answers are never shown
        "wheelchair",
        "小陈",
        people.volunteer_a.phone,
        "email",
        "phone",
        "first_name",
    ]
    for response in answers:
        text = response.content.decode()
        assert response.status_code == 200
        for secret in secrets:
            assert secret not in text, (secret, text)
    shown = {r["service_request_id"]: r for r in data(answers[1], fmt)}
    service_order = shown[str(order.pk)]
    assert service_order["address"] == "甲居民区实践站"
    assert (service_order["lat"], service_order["long"], service_order["description"]) == (None, None, None)
    assert shown[report_id]["description"] == "楼道里有人飞线给电瓶车充电"


@pytest.mark.django_db
def test_the_default_window_is_ninety_days_newest_first(api: Client, make_order: MakeOrder) -> None:
    old = aged(make_order(), 91)
    older_in = aged(make_order(), 89)
    newest = make_order()
    assert ids(api.get(f"{BASE}requests.json")) == [str(newest.pk), str(older_in.pk)]
    assert str(old.pk) not in ids(api.get(f"{BASE}requests.xml"), "xml")


@pytest.mark.django_db
def test_dates_are_inclusive_and_zones_count(api: Client, make_order: MakeOrder) -> None:
    order = make_order()
    at = dt.datetime(2026, 11, 20, 1, 30, tzinfo=dt.UTC)
    Order.objects.filter(pk=order.pk).update(created_at=at)
    mine = str(order.pk)
    assert ids(api.get(f"{BASE}requests.json", {"start_date": "2026-11-20T01:30:00Z"})) == [mine]
    assert ids(api.get(f"{BASE}requests.json", {"end_date": "2026-11-20T09:30:00+08:00"})) == [mine]
    assert ids(api.get(f"{BASE}requests.json", {"end_date": "2026-11-20T09:29:59+08:00"})) == []
    assert ids(api.get(f"{BASE}requests.json", {"start_date": "2026-11-20T01:30:01Z"})) == []
    both = {"start_date": "2026-11-01T00:00:00+08:00", "end_date": "2026-11-30T00:00:00+08:00"}
    assert ids(api.get(f"{BASE}requests.json", both)) == [mine]
    # A "+" written raw in a query string arrives as a space.
    assert ids(api.get(f"{BASE}requests.json?end_date=2026-11-20T09:30:00+08:00")) == [mine]
    assert ids(api.get(f"{BASE}requests.json", {"end_date": "2026-11-20T09:30:00.000+08:00"})) == [mine]


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "query",
    [
        {"start_date": "2026-13-01T00:00:00Z"},
        {"start_date": "2026-01-01"},
        {"start_date": "2026-01-01T00:00:00"},
        {"end_date": "20260101T000000Z"},
        {"end_date": "garbage"},
        {"end_date": "2026-02-30T00:00:00Z"},
        {"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-02-01T00:00:00Z"},
        {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-02T00:00:00Z"},
        {"status": "pending"},
        {"status": "open,done"},
        {"page_size": "0"},
        {"page_size": "1001"},
        {"page_size": "abc"},
        {"page": "0"},
        {"page": "99999999999999999999999"},
        {"service_request_id": ",".join(str(i) for i in range(1001))},
    ],
)
def test_bad_list_parameters_are_400(api: Client, db: None, fmt: str, query: dict[str, str]) -> None:
    errors(api.get(f"{BASE}requests.{fmt}", query), fmt, 400)


@pytest.mark.django_db
def test_status_filters(api: Client, make_order: MakeOrder) -> None:
    open_one, closed_one = make_order(), make_order(OrderStatus.CLOSED)
    assert ids(api.get(f"{BASE}requests.json", {"status": "open"})) == [str(open_one.pk)]
    assert ids(api.get(f"{BASE}requests.json", {"status": "closed"})) == [str(closed_one.pk)]
    assert ids(api.get(f"{BASE}requests.json", {"status": "open,closed"})) == [str(closed_one.pk), str(open_one.pk)]
    assert ids(api.get(f"{BASE}requests.json", {"status": "OPEN, closed"})) == [str(closed_one.pk), str(open_one.pk)]


@pytest.mark.django_db
def test_service_code_filter(api: Client, make_order: MakeOrder, menu: Menu, key: str) -> None:
    repair = make_order()
    haircut = make_order(service_type=menu.haircut)
    report = created_id(post(api, "json", report_body(key)), "json")
    assert ids(api.get(f"{BASE}requests.json", {"service_code": "repair"})) == [str(repair.pk)]
    assert ids(api.get(f"{BASE}requests.json", {"service_code": "repair,wires"})) == [report, str(repair.pk)]
    assert sorted(ids(api.get(f"{BASE}requests.json", {"service_code": "haircut,nope"}))) == [str(haircut.pk)]
    assert ids(api.get(f"{BASE}requests.json", {"service_code": "nope"})) == []
    assert ids(api.get(f"{BASE}requests.json", {"service_code": "x\x00y,../../"})) == []


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
def test_ids_override_every_other_filter(api: Client, make_order: MakeOrder, fmt: str) -> None:
    old = aged(make_order(OrderStatus.CLOSED), 400)
    recent = make_order()
    query = {
        "service_request_id": f"{old.pk}, {recent.pk},999999,abc,{'9' * 30}",
        "status": "open",
        "service_code": "haircut",
        "start_date": "2020-01-01T00:00:00Z",
    }
    assert sorted(ids(api.get(f"{BASE}requests.{fmt}", query), fmt)) == sorted([str(old.pk), str(recent.pk)])


@pytest.mark.django_db
def test_an_empty_list_is_still_a_list(api: Client, db: None) -> None:
    assert parse(api.get(f"{BASE}requests.json"), "json") == []
    root = parse(api.get(f"{BASE}requests.xml"), "xml")
    assert (root.tag, len(root)) == ("service_requests", 0)


@pytest.mark.django_db
def test_paging(api: Client, make_order: MakeOrder) -> None:
    made = [make_order() for _ in range(5)]
    newest_first = [str(o.pk) for o in reversed(made)]
    assert ids(api.get(f"{BASE}requests.json", {"page_size": "2"})) == newest_first[:2]
    assert ids(api.get(f"{BASE}requests.json", {"page_size": "2", "page": "2"})) == newest_first[2:4]
    assert ids(api.get(f"{BASE}requests.json", {"page_size": "2", "page": "3"})) == newest_first[4:]
    assert ids(api.get(f"{BASE}requests.json", {"page_size": "2", "page": "4"})) == []


def _bulk_orders(menu: Menu, street: Street, count: int, **fields: Any) -> None:
    now = timezone.now()
    Order.objects.bulk_create(
        [
            Order(
                kind=OrderKind.SERVICE,
                service_type=menu.repair if i % 2 else menu.haircut,
                site=street.station_a,
                status=OrderStatus.PENDING,
                channel=Channel.SELF,
                description=f"第{i}单",
                created_at=now - dt.timedelta(seconds=i),
                updated_at=now,
                **fields,
            )
            for i in range(count)
        ]
    )


@pytest.mark.django_db
def test_at_most_a_thousand(api: Client, menu: Menu, street: Street) -> None:
    _bulk_orders(menu, street, 1001)
    assert len(ids(api.get(f"{BASE}requests.json"))) == 1000
    assert len(ids(api.get(f"{BASE}requests.json", {"page": "2"}))) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
def test_the_list_does_not_query_per_request(
    api: Client, menu: Menu, street: Street, fmt: str, django_assert_max_num_queries: Any
) -> None:
    _bulk_orders(menu, street, 3, escalated_to=street.subcentre)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = api.get(f"{BASE}requests.{fmt}")
        assert response.status_code == 200
        return len(queries)

    few = count()
    _bulk_orders(menu, street, 27, escalated_to=street.subcentre)
    with django_assert_max_num_queries(few):
        response = api.get(f"{BASE}requests.{fmt}")
    shown = data(response, fmt)
    assert len(shown) == 30
    assert {r["agency_responsible"] for r in shown} == {"嘉禾路街道新时代文明实践分中心"}
    assert few <= 3


# --- GET one request --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
def test_one_request(api: Client, make_order: MakeOrder, fmt: str) -> None:
    order = aged(make_order(), 400)  # no window applies
    body = same_in_both(lambda f: api.get(f"{BASE}requests/{order.pk}.{f}"))
    assert isinstance(body, list)
    assert len(body) == 1
    assert body[0]["service_request_id"] == str(order.pk)
    assert body[0]["service_name"] == "家电维修"
    root = parse(api.get(f"{BASE}requests/{order.pk}.xml"), "xml")
    assert [c.tag for c in root] == ["request"]
    assert root.findtext("./request/service_name") == "家电维修"
    assert root.findtext("./request/agency_responsible") == "甲居民区实践站"


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("request_id", ["999999", "abc", "9" * 19, "9" * 300, "0", "-1"])
def test_unknown_requests_are_404(api: Client, db: None, fmt: str, request_id: str) -> None:
    errors(api.get(f"{BASE}requests/{request_id}.{fmt}"), fmt, 404)


@pytest.mark.django_db
def test_text_that_xml_cannot_carry_is_dropped_from_xml(api: Client, menu: Menu, street: Street) -> None:
    order = Order.objects.create(
        kind=OrderKind.REPORT,
        service_type=menu.wires,
        site=street.station_a,
        status=OrderStatus.REPORTED,
        channel=Channel.SELF,
        description="<b>飞线</b> & \x01充电 \U0001f50c",
        address="]]><!--",
    )
    root = parse(api.get(f"{BASE}requests/{order.pk}.xml"), "xml")
    assert root.findtext("./request/description") == "<b>飞线</b> & 充电 \U0001f50c"
    assert root.findtext("./request/address") == "]]><!--"
    assert parse(api.get(f"{BASE}requests/{order.pk}.json"), "json")[0]["description"] == order.description


@pytest.mark.django_db
def test_located_orders_keep_their_coordinates_private(api: Client, make_order: MakeOrder) -> None:
    order = make_order(latitude=NEAR_A[0], longitude=NEAR_A[1])
    [shown] = data(api.get(f"{BASE}requests/{order.pk}.json"), "json")
    assert (shown["lat"], shown["long"]) == (None, None)
