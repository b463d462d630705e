"""Existing Open311 clients, unchanged, against /open311/v2/ over real HTTP.

``georeport`` (the one Python client that runs on Python 3) reads services, definitions and requests
in JSON and XML with its own parsers (``requests`` and ``xmltodict``). It cannot POST, so the POSTs
replay, with plain ``requests``, exactly what the other clients send: ``three`` (form body with
``api_key`` and first/last name, or multipart with a ``media`` file), FixMyStreet (XML, ``jurisdiction_id``
and ``api_key`` in the body) and ``open311`` (``api_key`` and an empty ``jurisdiction_id`` in the query
string). The server is pytest-django's ``live_server`` on the test database.
"""

from __future__ import annotations

import datetime as dt
import io
import xml.etree.ElementTree as ET
from typing import Any

import pytest
import requests
from django.utils import timezone
from georeport import GeoReport
from PIL import Image

from conftest import People, Street
from wenming.orders import services
from wenming.orders.models import Channel, Open311Client, Order, OrderPhoto, OrderStatus
from wenming.orders.tests.conftest import MakeOrder, Menu

pytestmark = pytest.mark.django_db(transaction=True)

JURISDICTION = "wenming"
TIMEOUT = 30


@pytest.fixture
def base(live_server: Any) -> str:
    return f"{live_server.url}/open311/v2/"


@pytest.fixture
def key(street: Street) -> str:
    return services.issue_open311_key(actor=None, client=Open311Client(name="12345市民热线", site=street.station_a))


def as_list(value: Any) -> list[Any]:
    """xmltodict gives one child as a dict and several as a list."""
    return value if isinstance(value, list) else [value]


def xml_request(response: requests.Response) -> ET.Element:
    """The one ``<request>`` of a POST answer, read as FixMyStreet reads it."""
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    root = ET.fromstring(response.content)  # noqa: S314 - our own answer
    assert root.tag == "service_requests"
    [request] = root.findall("request")
    return request


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_reads_services_and_definitions(base: str, menu: Menu, fmt: str) -> None:
    client = GeoReport(base, jurisdiction=JURISDICTION, output_format=fmt)
    listed = as_list(client.get_service_list())
    by_code = {s["service_code"]: s for s in listed}
    assert list(by_code) == ["repair", "haircut", "escort", "wires"]
    assert by_code["repair"]["service_name"] == "家电维修"
    assert by_code["escort"]["metadata"] in (True, "true")
    assert by_code["repair"]["metadata"] in (False, "false")
    assert by_code["wires"]["type"] == "realtime"

    definition = client.get_service_definition("escort")
    assert definition["service_code"] == "escort"
    attributes = definition["attributes"] if fmt == "json" else as_list(definition["attributes"]["attribute"])
    assert [a["code"] for a in attributes] == ["hospital", "mobility"]
    assert [str(a["order"]) for a in attributes] == ["1", "2"]
    values = attributes[1]["values"] if fmt == "json" else attributes[1]["values"]["value"]
    assert [(v["key"], v["name"]) for v in values] == [("walk", "能自己走"), ("wheelchair", "需要轮椅")]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_reads_requests(base: str, make_order: MakeOrder, fmt: str) -> None:
    pending, closed = make_order(), make_order(OrderStatus.CLOSED)
    client = GeoReport(base, jurisdiction=JURISDICTION, output_format=fmt)

    both = as_list(client.get_service_requests(service_request_id=f"{pending.pk},{closed.pk}"))
    assert sorted(r["service_request_id"] for r in both) == sorted([str(pending.pk), str(closed.pk)])
    [open_one] = as_list(client.get_service_requests(status="open"))
    assert open_one["service_request_id"] == str(pending.pk)
    since = (timezone.localtime() - dt.timedelta(days=1)).replace(microsecond=0).isoformat()
    found = as_list(client.get_service_requests(service_code="repair", start_date=since, status="open,closed"))
    assert len(found) == 2

    one = client.get_service_request(str(closed.pk))
    assert one["service_request_id"] == str(closed.pk)
    assert one["status"] == "closed"
    assert one["service_name"] == "家电维修"
    assert one["agency_responsible"] == "甲居民区实践站"

    with pytest.raises(requests.HTTPError) as missing:
        client.get_service_request("999999")
    assert missing.value.response is not None
    assert missing.value.response.status_code == 404
    with pytest.raises(requests.HTTPError) as foreign:
        GeoReport(base, jurisdiction="elsewhere", output_format=fmt).get_service_list()
    assert foreign.value.response is not None
    assert foreign.value.response.status_code == 404
    with pytest.raises(requests.HTTPError) as bad:
        client.get_service_requests(start_date="2026-01-01")
    assert bad.value.response is not None
    assert bad.value.response.status_code == 400


def test_three_posts_a_form_and_reads_it_back(base: str, menu: Menu, key: str, people: People) -> None:
    """three's body, byte for byte in its field order: api_key in the body, name split in two."""
    body = (
        "description=%E9%9C%80%E8%A6%81%E9%99%AA%E8%AF%8A&attribute%5Bhospital%5D=%E7%91%9E%E9%87%91%E5%8C%BB%E9%99%A2"
        f"&service_code=escort&jurisdiction_id={JURISDICTION}&address_string=%E7%94%B2%E5%B0%8F%E5%8C%BA5%E5%8F%B7%E6%A5%BC"
        f"&first_name=Li&last_name=Lei&api_key={key}"
    )
    response = requests.post(
        f"{base}requests.json",
        data=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    [created] = response.json()
    request_id = created["service_request_id"]
    order = Order.objects.get(pk=request_id)
    assert (order.channel, order.contact_name, order.answers) == (Channel.OPEN311, "Li Lei", {"hospital": "瑞金医院"})

    reader = GeoReport(base, jurisdiction=JURISDICTION)
    assert reader.get_service_request(request_id)["status"] == "open"
    assert request_id in [r["service_request_id"] for r in reader.get_service_requests(status="open")]
    services.reject_order(actor=people.manager_a, order=order, reason="请改约时间")
    for fmt in ("json", "xml"):
        shown = GeoReport(base, jurisdiction=JURISDICTION, output_format=fmt).get_service_request(request_id)
        assert (shown["status"], shown["status_notes"]) == ("closed", "请改约时间")
        assert "Li" not in str(shown)


def test_three_posts_multipart_with_media(base: str, menu: Menu, key: str, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    fields = {
        "description": "楼道飞线充电",
        "service_code": "wires",
        "jurisdiction_id": JURISDICTION,
        "address_string": "甲小区3号楼",
        "first_name": "Li",
        "last_name": "Lei",
        "api_key": key,
    }
    response = requests.post(
        f"{base}requests.json", data=fields, files={"media": ("wires.png", png(), "image/png")}, timeout=TIMEOUT
    )
    assert response.status_code == 200, response.text
    order = Order.objects.get(pk=response.json()[0]["service_request_id"])
    assert OrderPhoto.objects.filter(order=order).count() == 1

    bad = requests.post(
        f"{base}requests.json",
        data=fields,
        files={"media": ("wires.png", b"not a picture", "image/png")},
        timeout=TIMEOUT,
    )
    assert bad.status_code == 400
    assert bad.json()[0]["code"] == 400


def test_fixmystreet_posts_xml_and_reads_errors(base: str, menu: Menu, key: str) -> None:
    """FixMyStreet: XML only, jurisdiction_id and api_key in the body, attribute[name], media_url."""
    fields = {
        "jurisdiction_id": JURISDICTION,
        "api_key": key,
        "lat": "31.2112",
        "long": "121.4912",
        "email": "li.lei@example.com",
        "description": "楼道里有人飞线充电",
        "service_code": "wires",
        "first_name": "Lei",
        "last_name": "Li",
        "phone": "13912340000",
        "media_url": "https://fms.example.com/photo/1.jpeg",
        "attribute[fixmystreet_id]": "1",
    }
    request = xml_request(requests.post(f"{base}requests.xml", data=fields, timeout=TIMEOUT))
    request_id = request.findtext("service_request_id")
    assert request_id
    assert request.findtext("service_notice")
    order = Order.objects.get(pk=request_id)
    assert (order.latitude, order.longitude, order.contact_email) == (31.2112, 121.4912, "li.lei@example.com")

    listed = requests.get(
        f"{base}requests.xml",
        params={"jurisdiction_id": JURISDICTION, "service_request_id": f"{request_id},1234567"},
        timeout=TIMEOUT,
    )
    root = ET.fromstring(listed.content)  # noqa: S314
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [request_id]
    assert root.findtext("./request/lat") == "31.2112"

    token = requests.get(f"{base}tokens/{order.token}.xml", params={"jurisdiction_id": JURISDICTION}, timeout=TIMEOUT)
    assert ET.fromstring(token.content).findtext("./request/service_request_id") == request_id  # noqa: S314

    refused = requests.post(f"{base}requests.xml", data={**fields, "api_key": "wrong"}, timeout=TIMEOUT)
    assert refused.status_code == 403
    root = ET.fromstring(refused.content)  # noqa: S314
    assert root.tag == "errors"
    assert root.findtext("./error/code") == "403"
    assert root.findtext("./error/description")


def test_open311_puts_key_and_empty_jurisdiction_in_the_query(base: str, menu: Menu, key: str) -> None:
    response = requests.post(
        f"{base}requests.xml?jurisdiction_id=&api_key={key}",
        data={"service_code": "escort", "address_string": "甲小区5号楼", "attribute[hospital]": "瑞金医院"},
        timeout=TIMEOUT,
    )
    request_id = xml_request(response).findtext("service_request_id") or ""
    assert Order.objects.get(pk=request_id).description == "陪诊"


def test_discovery_where_three_looks(base: str) -> None:
    response = requests.get(f"{base}discovery.json", params={"jurisdiction_id": JURISDICTION}, timeout=TIMEOUT)
    assert response.status_code == 200
    [endpoint] = response.json()["endpoints"]
    assert endpoint["url"] == base.rstrip("/")
    assert "application/json" in endpoint["formats"]
