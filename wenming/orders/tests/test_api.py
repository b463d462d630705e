"""/api/service-types and /api/orders…: the menu, 点单, the three lists, each move, and the candidates.

Callers use bearer tokens (``accounts.services.issue_api_token``), or the session of a signed-in
page. An order the caller may not see is a 404, as one nobody has: 刘大爷 does not see 王阿姨's
order, 李站长 (乙站) cannot dispatch 甲站's. Contact details are whole only for the requester, the
station and the volunteer who holds the order.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any, get_args

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, settings
from PIL import Image

from conftest import CJK, People, Street
from tests.test_api_fuzz import (
    CHECKS,
    _error_contract,
    _requests_keep_the_test_connection,  # noqa: F401 - a fixture, used by name
    schema,
)
from wenming.accounts import services as account_services
from wenming.orders import api as orders_api
from wenming.orders import services
from wenming.orders.models import Order, OrderEvent, OrderPhoto, OrderServer, OrderStatus, ServiceType
from wenming.orders.tests.conftest import NEAR_A, MakeOrder, Menu
from wenming.volunteers import services as volunteer_services
from wenming.volunteers.models import ServiceRecord, Volunteer

pytestmark = pytest.mark.django_db

TOKENS: dict[int, str] = {}


def auth(user: Any) -> dict[str, str]:
    if user.pk not in TOKENS:
        raw, _token = account_services.issue_api_token(user=user)
        TOKENS[user.pk] = raw
    return {"Authorization": f"Bearer {TOKENS[user.pk]}"}


@pytest.fixture(autouse=True)
def _fresh_tokens() -> None:
    TOKENS.clear()


def get(client: Client, url: str, user: Any = None, **params: Any) -> Any:
    return client.get(url, params, headers=auth(user) if user is not None else {})


def post(client: Client, url: str, data: Any = None, user: Any = None) -> Any:
    """A JSON POST; without ``data``, an empty body (as a client sends for a move that takes none)."""
    headers = auth(user) if user is not None else {}
    if data is None:
        return client.post(url, content_type="application/json", headers=headers)
    return client.post(url, data, content_type="application/json", headers=headers)


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json()


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert CJK.search(body["message"]), body
    return body


def ids(response: Any) -> list[int]:
    return [row["id"] for row in ok(response)["results"]]


def url(order: Order, move: str = "") -> str:
    return f"/api/orders/{order.pk}/{move}" if move else f"/api/orders/{order.pk}"


# --- The menu -------------------------------------------------------------------------------------


def test_the_menu_lists_active_types_with_their_questions(client: Client, menu: Menu) -> None:
    ServiceType.objects.create(code="old", name="旧服务", is_active=False)
    rows = ok(client.get("/api/service-types"))  # no sign-in needed
    assert [t["code"] for t in rows] == ["wires", "repair", "haircut", "escort"]  # reports, then services
    escort = rows[3]
    assert (escort["name"], escort["kind"], escort["kind_label"], escort["needs_review"]) == (
        "陪诊",
        "service",
        "服务点单",
        True,
    )
    assert [(q["code"], q["datatype"], q["required"]) for q in escort["questions"]] == [
        ("hospital", "string", True),
        ("mobility", "singlevaluelist", False),
    ]
    assert escort["questions"][1]["choices"] == [
        {"key": "walk", "name": "能自己走"},
        {"key": "wheelchair", "name": "需要轮椅"},
    ]
    repair = rows[1]
    assert (repair["accept_within_hours"], repair["finish_within_days"], repair["audience_label"]) == (4, 2, "全体居民")
    assert [t["code"] for t in ok(client.get("/api/service-types", {"kind": "report"}))] == ["wires"]
    assert_error(client.get("/api/service-types", {"kind": "other"}), 422, "invalid")


def test_one_type_by_code(client: Client, menu: Menu) -> None:
    body = ok(client.get("/api/service-types/escort"))
    assert body["id"] == menu.escort.pk
    assert len(body["questions"]) == 2
    assert_error(client.get("/api/service-types/nothing"), 404, "not_found")
    ServiceType.objects.filter(code="escort").update(is_active=False)
    assert_error(client.get("/api/service-types/escort"), 404, "not_found")


# --- Classifying ----------------------------------------------------------------------------------


def test_classify_shows_the_type_the_words_and_the_confidence(client: Client, people: People, menu: Menu) -> None:
    body = ok(post(client, "/api/orders/classify", {"text": "家里洗衣机坏了，不转了"}, people.resident_a))
    assert body["service_type"] == {"id": menu.repair.pk, "code": "repair", "name": "家电维修", "kind": "service"}
    assert body["confidence"] > 0.9
    assert "洗衣机" in body["words"]
    assert "洗衣机" in body["explanation"]
    assert body["ranked"][0]["service_type"]["code"] == "repair"
    # Staff may ask too; words that name no service give no suggestion.
    unclear = ok(post(client, "/api/orders/classify", {"text": "您好，请问一下"}, people.manager_a))
    assert (unclear["service_type"], unclear["confidence"], unclear["words"]) == (None, 0.0, [])
    assert CJK.search(unclear["explanation"])


def test_classify_needs_signing_in_and_text(client: Client, people: People, menu: Menu) -> None:
    assert_error(post(client, "/api/orders/classify", {"text": "洗衣机坏了"}), 401, "unauthorized")
    assert_error(post(client, "/api/orders/classify", {"text": ""}, people.resident_a), 422, "invalid")
    assert_error(post(client, "/api/orders/classify", {"words": "x"}, people.resident_a), 422, "invalid")


# --- 点单 -----------------------------------------------------------------------------------------


def order_payload(**extra: Any) -> dict[str, Any]:
    return {
        "service_type": "repair",
        "description": "冰箱不制冷了",
        "latitude": NEAR_A[0],
        "longitude": NEAR_A[1],
        "address": "甲小区3号楼201",
        **extra,
    }


def test_a_resident_orders_for_herself(
    client: Client, people: People, street: Street, menu: Menu, django_capture_on_commit_callbacks: Any, inbox: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        body = ok(post(client, "/api/orders", order_payload(), people.resident_a), 201)
    order = Order.objects.get(pk=body["id"])
    assert (order.requester, order.channel, order.site, order.status) == (
        people.resident_a,
        "self",
        street.station_a,
        "pending",
    )
    assert (body["status"], body["status_label"], body["channel"]) == ("pending", "待派单", "self")
    assert body["site"] == {"id": street.station_a.pk, "name": "甲居民区实践站"}
    assert body["service_type"]["code"] == "repair"
    assert (body["contact_name"], body["contact_phone"], body["contact_masked"]) == ("王阿姨", "13800000006", False)
    assert body["requester"] == {"id": people.resident_a.pk, "name": "王阿姨"}
    assert [(e["action"], e["action_label"], e["to_status"], e["actor"]) for e in body["history"]] == [
        ("create", "提交", "pending", "王阿姨")
    ]
    assert body["actions"] == ["cancel"]
    assert body["accept_by"].endswith("+08:00")
    assert inbox(people.manager_a) == ["新的点单：家电维修"]


def test_without_a_type_the_words_decide_and_the_evidence_is_shown(client: Client, people: People, menu: Menu) -> None:
    body = ok(
        post(client, "/api/orders", order_payload(service_type=None, description="电视坏了"), people.resident_a), 201
    )
    assert body["service_type"]["code"] == "repair"
    assert body["classification"]["service_type"]["code"] == "repair"
    assert body["classification"]["confidence"] > 0.5
    assert "电视" in body["classification"]["words"]
    assert body["history"][0]["note"] == "自动分类：家电维修"
    # Chosen types carry no classification.
    assert ok(post(client, "/api/orders", order_payload(), people.resident_a), 201)["classification"] is None


def test_staff_order_for_a_resident_of_their_subtree(
    client: Client, people: People, street: Street, menu: Menu
) -> None:
    payload = order_payload(requester_id=people.resident_a.pk, latitude=None, longitude=None)
    body = ok(post(client, "/api/orders", payload, people.manager_a), 201)
    assert (body["channel"], body["requester"]["name"], body["site"]["id"]) == ("staff", "王阿姨", street.station_a.pk)
    assert body["history"][0]["actor"] == "张站长"
    # 李站长 runs 乙站: 王阿姨 is not his to order for; a resident cannot order for someone else either.
    assert_error(post(client, "/api/orders", payload, people.manager_b), 403, "out_of_scope")
    payload_b = order_payload(requester_id=people.resident_b.pk, latitude=None, longitude=None)
    assert_error(post(client, "/api/orders", payload_b, people.resident_a), 403, "out_of_scope")
    # Ids nobody has are a 400 that says which.
    body = assert_error(
        post(client, "/api/orders", order_payload(requester_id=999_999), people.manager_a), 400, "invalid_requester"
    )
    assert body["field"] == "requester_id"
    body = assert_error(
        post(client, "/api/orders", order_payload(site_id=999_999), people.manager_a), 400, "invalid_site"
    )
    assert body["field"] == "site_id"


def test_extra_questions_and_review(client: Client, people: People, menu: Menu) -> None:
    payload = order_payload(service_type="escort", description="下周去医院复查，需要人陪同")
    body = assert_error(post(client, "/api/orders", payload, people.resident_a), 400, "missing_attribute")
    assert body["field"] == "hospital"
    payload["answers"] = {"hospital": "第一人民医院", "mobility": "wheelchair"}
    body = ok(post(client, "/api/orders", payload, people.resident_a), 201)
    assert body["status"] == "reviewing"
    assert body["answers"] == [
        {"code": "hospital", "prompt": "就诊医院", "value": "第一人民医院"},
        {"code": "mobility", "prompt": "行动情况", "value": "wheelchair"},
    ]
    payload["answers"] = {"mobility": "flying", "hospital": "x"}
    assert_error(post(client, "/api/orders", payload, people.resident_a), 400, "invalid_attribute")
    payload["answers"] = {"hospital": "x", "floor": "3"}
    assert_error(post(client, "/api/orders", payload, people.resident_a), 400, "unknown_attribute")


def png(name: str = "wires.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 80, 40)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def report_form(**extra: Any) -> dict[str, Any]:
    return {
        "service_type": "wires",
        "kind": "report",
        "description": "3号楼有人从窗口拉电线给电瓶车充电",
        "latitude": str(NEAR_A[0]),
        "longitude": str(NEAR_A[1]),
        **extra,
    }


def test_a_civility_report_comes_with_a_photo(client: Client, people: People, menu: Menu) -> None:
    response = client.post("/api/orders/with-photos", report_form(photos=[png()]), headers=auth(people.volunteer_a))
    body = ok(response, 201)
    assert (body["kind"], body["kind_label"], body["status"], body["status_label"]) == (
        "report",
        "随手拍",
        "reported",
        "待处理",
    )
    [photo] = body["photos"]
    assert (photo["stage"], photo["stage_label"]) == ("request", "点单照片")
    assert photo["url"] == f"/orders/photos/{photo['id']}"
    assert client.get(photo["url"]).status_code in {302, 403, 404}  # the photo is not public
    client.force_login(people.volunteer_a)
    assert client.get(photo["url"])["Content-Type"] == "image/png"


def test_a_report_without_a_photo_is_refused(client: Client, people: People, menu: Menu) -> None:
    json_report = order_payload(service_type="wires", kind="report")
    assert_error(post(client, "/api/orders", json_report, people.resident_a), 400, "missing_photo")
    headers = auth(people.resident_a)
    assert_error(client.post("/api/orders/with-photos", report_form(), headers=headers), 400, "missing_photo")
    missing = order_payload(service_type=None, kind="report")
    assert_error(post(client, "/api/orders", missing, people.volunteer_a), 400, "missing_service_type")
    # Staff taking a report by phone need none.
    on_behalf = order_payload(service_type="wires", kind="report", requester_id=people.resident_a.pk)
    assert ok(post(client, "/api/orders", on_behalf, people.manager_a), 201)["photos"] == []
    assert Order.objects.count() == 1


def test_photos_are_checked(client: Client, people: People, menu: Menu) -> None:
    headers = auth(people.resident_a)
    text = SimpleUploadedFile("wires.jpg", b"not a picture", content_type="image/jpeg")
    assert_error(
        client.post("/api/orders/with-photos", report_form(photos=[text]), headers=headers), 400, "invalid_photo"
    )
    seven = [png(f"{i}.png") for i in range(7)]
    assert_error(
        client.post("/api/orders/with-photos", report_form(photos=seven), headers=headers), 400, "too_many_photos"
    )
    assert not Order.objects.exists()


def test_an_order_with_photos_and_answers_as_a_form(client: Client, people: People, menu: Menu) -> None:
    headers = auth(people.resident_a)

    def form(**extra: Any) -> dict[str, Any]:
        return {
            "service_type": "escort",
            "description": "下周去医院复查，需要人陪同",
            "address": "甲小区3号楼201",
            "answers": '{"hospital": "第一人民医院", "mobility": "walk"}',
            "photos": [png("a.png"), png("b.png")],
            **extra,
        }

    body = ok(client.post("/api/orders/with-photos", form(), headers=headers), 201)
    assert (body["status"], len(body["photos"])) == ("reviewing", 2)
    assert [a["value"] for a in body["answers"]] == ["第一人民医院", "walk"]
    assert_error(client.post("/api/orders/with-photos", form(answers="{not json"), headers=headers), 422, "invalid")
    body = assert_error(client.post("/api/orders/with-photos", form(colour="red"), headers=headers), 422, "invalid")
    assert body["errors"] == [{"field": "colour", "message": "不认识的字段。"}]
    assert_error(client.post("/api/orders/with-photos", form()), 401, "unauthorized")
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"service_type": "nothing"}, 400, "invalid_service_type"),
        ({"service_type": None, "description": "您好，请问一下"}, 400, "unclassified"),
        ({"contact_phone": "12345"}, 400, "invalid_phone"),
        ({"contact_email": "not-an-email"}, 400, "invalid_email"),
        ({"preferred_at": "2020-01-01T10:00:00+08:00"}, 400, "invalid_time"),
        ({"preferred_at": 1_900_000_000}, 422, "invalid"),  # a Unix timestamp is not ISO 8601
        ({"preferred_at": "0001-01-01T00:00:00+14:00"}, 422, "invalid"),
        ({"preferred_at": "2027-01-01T10:00:00"}, 422, "invalid"),  # no offset
        ({"latitude": 91}, 422, "invalid"),
        ({"description": ""}, 422, "invalid"),
        ({"description": "洗衣机\u0000坏了"}, 422, "invalid"),
        ({"answers": {"hospital": {"nested": 1}}}, 422, "invalid"),
        ({"requestor_id": 1}, 422, "invalid"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    client: Client, people: People, menu: Menu, fields: dict[str, Any], status: int, code: str
) -> None:
    assert_error(post(client, "/api/orders", order_payload(**fields), people.resident_a), status, code)
    assert not Order.objects.exists()


def test_placing_needs_signing_in_and_json(client: Client, people: People, menu: Menu) -> None:
    assert_error(post(client, "/api/orders", order_payload()), 401, "unauthorized")
    assert_error(
        client.post("/api/orders", order_payload(), headers=auth(people.resident_a)), 415, "unsupported_media_type"
    )


def test_a_session_works_and_writes_need_the_csrf_token(client: Client, people: People, menu: Menu) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(people.resident_a)
    assert ok(strict.get("/api/orders"))["count"] == 0
    assert_error(strict.post("/api/orders", order_payload(), content_type="application/json"), 403, "csrf_failed")
    client.force_login(people.resident_a)  # the test client passes the CSRF check, as a page with the token would
    assert ok(client.post("/api/orders", order_payload(), content_type="application/json"), 201)["channel"] == "self"


# --- One order ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("resident_a", True),  # the requester
        ("manager_a", True),  # her station
        ("subcentre_admin", True),
        ("admin", True),
        ("resident_b", False),  # 刘大爷
        ("manager_b", False),  # 乙站
        ("manager_c", False),
        ("volunteer_a", False),  # not dispatched to 小陈 (yet)
        ("leader_a", False),
    ],
)
def test_who_sees_an_order(client: Client, people: People, make_order: MakeOrder, persona: str, visible: bool) -> None:
    order = make_order()
    response = get(client, url(order), getattr(people, persona))
    if visible:
        assert ok(response)["id"] == order.pk
    else:
        assert_error(response, 404, "not_found")


def test_an_id_nobody_has_and_bad_ids(client: Client, people: People, menu: Menu) -> None:
    assert_error(get(client, "/api/orders/999999", people.admin), 404, "not_found")
    assert_error(get(client, "/api/orders/0", people.admin), 422, "invalid")
    assert_error(get(client, "/api/orders/1"), 401, "unauthorized")


def test_contact_is_masked_for_the_volunteer_until_he_accepts(
    client: Client, people: People, chen: Volunteer, make_order: MakeOrder
) -> None:
    order = make_order(OrderStatus.DISPATCHED, contact_email="wang@example.com")
    before = ok(get(client, url(order), people.volunteer_a))
    assert (before["contact_name"], before["contact_phone"], before["contact_email"]) == (
        "王**",
        "138****0006",
        "w***@example.com",
    )
    assert before["contact_masked"] is True
    assert before["requester"]["name"] == "王**"
    assert before["history"][0]["actor"] == "王**"  # the requester's own step, masked as her name is
    assert before["history"][1]["actor"] == "张站长"
    assert before["assigned_volunteer"] == {"id": chen.pk, "name": "小陈"}
    assert before["actions"] == ["accept", "decline"]
    # The same in the task list.
    row = ok(get(client, "/api/orders", people.volunteer_a, scope="tasks"))["results"][0]
    assert (row["contact_name"], row["contact_phone"], row["contact_masked"]) == ("王**", "138****0006", True)
    after = ok(post(client, url(order, "accept"), user=people.volunteer_a))
    assert (after["contact_name"], after["contact_phone"], after["contact_email"]) == (
        "王阿姨",
        "13800000006",
        "wang@example.com",
    )
    assert after["contact_masked"] is False
    assert after["actions"] == ["release", "start"]
    # The station always sees it whole.
    assert ok(get(client, url(order), people.manager_a))["contact_masked"] is False


def test_the_detail_shows_the_whole_history(
    client: Client, people: People, chen: Volunteer, make_order: MakeOrder
) -> None:
    order = make_order(OrderStatus.CLOSED)
    body = ok(get(client, url(order), people.resident_a))
    assert [(e["action"], e["from_status"], e["to_status"]) for e in body["history"]] == [
        ("create", "", "pending"),
        ("dispatch", "pending", "dispatched"),
        ("accept", "dispatched", "accepted"),
        ("start", "accepted", "in_service"),
        ("complete", "in_service", "completed"),
        ("rate", "completed", "closed"),
    ]
    dispatch = body["history"][1]
    assert (dispatch["action_label"], dispatch["to_status_label"], dispatch["volunteer"]) == (
        "派单",
        "待接单",
        {"id": chen.pk, "name": "小陈"},
    )
    assert body["servers"] == [{"volunteer": {"id": chen.pk, "name": "小陈"}, "hours": 1.5}]
    assert (body["rating"], body["rating_comment"], body["beneficiaries"]) == (5, "师傅很耐心", 1)
    assert body["accepted_by"] == {"id": chen.pk, "name": "小陈"}
    assert body["closed_at"] is not None
    assert body["actions"] == []


def test_the_detail_costs_the_same_queries_however_long_the_history(
    client: Client, people: People, make_order: MakeOrder
) -> None:
    short = make_order()
    long = make_order(OrderStatus.CLOSED)

    def queries(order: Order) -> int:
        headers = auth(people.manager_a)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(order), headers=headers).status_code == 200
        return len(captured)

    assert queries(short) == queries(long)


# --- The lists ------------------------------------------------------------------------------------


@pytest.fixture
def spread(
    people: People, street: Street, menu: Menu, chen: Volunteer, zhao: Volunteer, make_order: MakeOrder
) -> dict[str, Order]:
    """Orders in several states, for 王阿姨, 刘大爷 and a report."""
    orders = {
        "pending": make_order(),
        "dispatched": make_order(OrderStatus.DISPATCHED),
        "accepted": make_order(OrderStatus.ACCEPTED),
        "closed": make_order(OrderStatus.CLOSED),
    }
    grab = make_order()
    services.open_grab(actor=people.manager_a, order=grab)
    orders["grab"] = grab
    haircut = services.place_order(actor=people.resident_a, service_type=menu.haircut, description="想请人上门理发")
    services.dispatch_order(actor=people.manager_a, order=haircut, team=menu.barbers)
    orders["team"] = haircut
    haircut_grab = services.place_order(actor=people.resident_a, service_type=menu.haircut, description="理发")
    services.open_grab(actor=people.manager_a, order=haircut_grab)
    orders["team_grab"] = haircut_grab
    orders["b"] = services.place_order(actor=people.resident_b, service_type=menu.repair, description="电视没有信号")
    orders["report"] = services.place_order(
        actor=people.resident_a,
        service_type=menu.wires,
        description="楼道里飞线充电",
        latitude=NEAR_A[0],
        longitude=NEAR_A[1],
        photos=[png()],
    )
    return orders


def keys(spread: dict[str, Order], response: Any) -> set[str]:
    by_id = {o.pk: k for k, o in spread.items()}
    return {by_id[i] for i in ids(response)}


ALL_A = {"pending", "dispatched", "accepted", "closed", "grab", "team", "team_grab", "report"}


def test_mine_is_the_requesters(client: Client, people: People, spread: dict[str, Order]) -> None:
    assert keys(spread, get(client, "/api/orders", people.resident_a)) == ALL_A  # scope=mine by default
    assert keys(spread, get(client, "/api/orders", people.resident_b, scope="mine")) == {"b"}
    assert keys(spread, get(client, "/api/orders", people.manager_a, scope="mine")) == set()


def test_tasks_are_the_volunteers(client: Client, people: People, spread: dict[str, Order]) -> None:
    # 小陈 (家电维修, 理发队): dispatched to him or his team, accepted by him, open grabs he qualifies for.
    assert keys(spread, get(client, "/api/orders", people.volunteer_a, scope="tasks")) == {
        "dispatched",
        "accepted",
        "closed",
        "grab",
        "team",
        "team_grab",
    }
    # 赵队长 has no repair skill: only the barbers' orders.
    assert keys(spread, get(client, "/api/orders", people.leader_a, scope="tasks")) == {"team", "team_grab"}
    # Someone who is no volunteer has no tasks.
    assert keys(spread, get(client, "/api/orders", people.resident_a, scope="tasks")) == set()
    # Every task is one the volunteer may open.
    for order_id in ids(get(client, "/api/orders", people.volunteer_a, scope="tasks")):
        assert get(client, f"/api/orders/{order_id}", people.volunteer_a).status_code == 200


def test_tasks_follow_the_order_when_it_moves_on(client: Client, people: People, spread: dict[str, Order]) -> None:
    ok(post(client, url(spread["team"], "accept"), user=people.leader_a))
    assert "team" not in keys(spread, get(client, "/api/orders", people.volunteer_a, scope="tasks"))
    assert "team" in keys(spread, get(client, "/api/orders", people.leader_a, scope="tasks"))


def test_the_board_is_the_stations(client: Client, people: People, spread: dict[str, Order]) -> None:
    assert keys(spread, get(client, "/api/orders", people.manager_a, scope="board")) == ALL_A
    assert keys(spread, get(client, "/api/orders", people.manager_b, scope="board")) == {"b"}
    assert keys(spread, get(client, "/api/orders", people.subcentre_admin, scope="board")) == ALL_A | {"b"}
    assert keys(spread, get(client, "/api/orders", people.manager_c, scope="board")) == set()
    assert keys(spread, get(client, "/api/orders", people.resident_a, scope="board")) == set()


def test_a_row_names_the_site_an_order_was_escalated_to(
    client: Client, people: People, street: Street, spread: dict[str, Order]
) -> None:
    Order.objects.filter(pk=spread["b"].pk).update(escalated_to=street.subcentre)
    rows = ok(get(client, "/api/orders", people.subcentre_admin, scope="board", site=street.station_b.pk))["results"]
    assert [r["escalated_to"] for r in rows] == [{"id": street.subcentre.pk, "name": street.subcentre.name}]


def test_list_filters(client: Client, people: People, street: Street, spread: dict[str, Order]) -> None:
    board = {"scope": "board"}
    admin = people.admin
    assert keys(spread, get(client, "/api/orders", admin, **board, status="grabbing")) == {"grab", "team_grab"}
    assert keys(spread, get(client, "/api/orders", admin, **board, kind="report")) == {"report"}
    assert keys(spread, get(client, "/api/orders", admin, **board, service_type="haircut")) == {"team", "team_grab"}
    assert keys(spread, get(client, "/api/orders", admin, **board, site=street.station_b.pk)) == {"b"}
    assert keys(spread, get(client, "/api/orders", admin, **board, site=street.subcentre.pk)) == ALL_A | {"b"}
    assert keys(spread, get(client, "/api/orders", admin, **board, site=999_999)) == set()
    assert_error(get(client, "/api/orders", admin, status="lost"), 422, "invalid")
    assert_error(get(client, "/api/orders", admin, scope="all"), 422, "invalid")


def test_from_and_to_take_iso_dates_and_moments_only(client: Client, people: People, spread: dict[str, Order]) -> None:
    board = {"scope": "board"}
    newest = Order.objects.order_by("-created_at", "-id").first()
    assert newest is not None
    moment = timezone.localtime(newest.created_at)
    assert ids(get(client, "/api/orders", people.admin, **board, **{"from": moment.isoformat()})) == [newest.pk]
    assert newest.pk not in ids(get(client, "/api/orders", people.admin, **board, to=moment.isoformat()))
    today = moment.date().isoformat()
    assert newest.pk in ids(get(client, "/api/orders", people.admin, **board, to=today))  # the whole day
    tomorrow = (moment.date() + dt.timedelta(days=1)).isoformat()
    assert len(ids(get(client, "/api/orders", people.admin, **board, to=tomorrow))) == len(spread)
    assert ids(get(client, "/api/orders", people.admin, **board, **{"from": tomorrow})) == []
    body = assert_error(get(client, "/api/orders", people.admin, **{"from": "1900-01-01"}), 422, "invalid")
    assert body["errors"] == [{"field": "from", "message": "日期应在1970年至2100年之间。"}]
    body = assert_error(get(client, "/api/orders", people.admin, to="1700000000"), 422, "invalid")
    assert body["errors"] == [
        {"field": "to", "message": "请填写日期（如2026-03-01）或带时区的时刻（如2026-03-01T09:00:00+08:00）。"}
    ]
    # A moment in UTC reads the same as in Beijing time.
    utc = newest.created_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    assert ids(get(client, "/api/orders", people.admin, **board, **{"from": utc})) == [newest.pk]
    for bad in ("0", "yesterday", "2026-13-01", "2026-03-01T09:00:00", "0001-01-01T00:00:00+14:00", "9999-12-31"):
        assert_error(get(client, "/api/orders", people.admin, **{"from": bad}), 422, "invalid")
        assert_error(get(client, "/api/orders", people.admin, to=bad), 422, "invalid")


def test_pages(client: Client, people: People, spread: dict[str, Order]) -> None:
    first = ok(get(client, "/api/orders", people.resident_a, page_size=3))
    second = ok(get(client, "/api/orders", people.resident_a, page_size=3, page=2))
    beyond = ok(get(client, "/api/orders", people.resident_a, page_size=3, page=9))
    assert (first["count"], first["page"], first["page_size"]) == (8, 1, 3)
    newest_first = list(
        Order.objects.filter(requester=people.resident_a).order_by("-created_at", "-id").values_list("pk", flat=True)
    )
    assert [r["id"] for r in first["results"] + second["results"]] == newest_first[:6]
    assert (beyond["count"], beyond["results"]) == (8, [])
    assert_error(get(client, "/api/orders", people.resident_a, page_size=101), 422, "invalid")
    assert_error(get(client, "/api/orders"), 401, "unauthorized")


# The token, the count and the page; the role grants where masking asks whether the caller is staff; the
# volunteer behind a task list, and their teams.
@pytest.mark.parametrize(
    ("persona", "scope", "most"), [("resident_a", "mine", 3), ("volunteer_a", "tasks", 6), ("manager_a", "board", 4)]
)
def test_a_list_costs_the_same_queries_for_few_or_many_orders(
    client: Client,
    people: People,
    menu: Menu,
    make_order: MakeOrder,
    django_assert_max_num_queries: Any,
    persona: str,
    scope: str,
    most: int,
) -> None:
    person = getattr(people, persona)

    def make(count: int) -> None:
        for i in range(count):
            make_order([OrderStatus.DISPATCHED, OrderStatus.ACCEPTED, OrderStatus.PENDING][i % 3])

    def queries() -> int:
        headers = auth(person)
        params: dict[str, Any] = {"scope": scope, "page_size": 50}
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/api/orders", params, headers=headers)
        assert response.status_code == 200
        return len(captured)

    make(3)
    few = queries()
    make(15)
    assert len(ids(get(client, "/api/orders", person, scope=scope, page_size=50))) >= 12
    with django_assert_max_num_queries(most):
        many = queries()
    assert few == many


# --- Candidates -----------------------------------------------------------------------------------


def test_candidates_are_ranked_with_their_reasons(
    client: Client, people: People, street: Street, menu: Menu, chen: Volunteer, zhao: Volunteer, make_order: MakeOrder
) -> None:
    far = volunteer_services.register_volunteer(
        actor=people.manager_a, user=people.liaison_a, site=street.point_a, skills=[menu.repair_skill]
    )
    order = make_order()
    body = ok(get(client, url(order, "candidates"), people.manager_a))
    assert body["order_id"] == order.pk
    results = body["results"]
    # 赵队长 lacks the skill 家电维修: he is no candidate for a repair.
    assert {r["volunteer"]["id"] for r in results} == {chen.pk, far.pk}
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    by_id = {r["volunteer"]["id"]: r for r in results}
    mine = by_id[chen.pk]
    assert mine["volunteer"]["name"] == "小陈"
    assert mine["site"] == {"id": street.station_a.pk, "name": "甲居民区实践站"}
    assert mine["distance_m"] is not None
    assert mine["distance_m"] < 100
    factors = {r["factor"]: r for r in mine["reasons"]}
    assert {"skill", "distance", "load", "rating", "fairness"} <= set(factors)
    assert "家电维修" in factors["skill"]["text"]
    assert all(CJK.search(r["text"]) for r in mine["reasons"])
    assert mine["score"] == pytest.approx(sum(r["points"] for r in mine["reasons"]), abs=0.1)
    assert len(ok(get(client, url(order, "candidates"), people.manager_a, limit=1))["results"]) == 1
    assert_error(get(client, url(order, "candidates"), people.manager_a, limit=0), 422, "invalid")
    assert_error(get(client, url(order, "candidates"), people.manager_a, limit=51), 422, "invalid")


def test_candidates_are_for_the_station_only(
    client: Client, people: People, chen: Volunteer, make_order: MakeOrder
) -> None:
    order = make_order(OrderStatus.DISPATCHED)
    assert ok(get(client, url(order, "candidates"), people.subcentre_admin))["results"]
    for persona in ("resident_a", "volunteer_a", "manager_b", "resident_b"):
        assert_error(get(client, url(order, "candidates"), getattr(people, persona)), 404, "not_found")
    assert_error(get(client, "/api/orders/999999/candidates", people.admin), 404, "not_found")


# --- Review, type, cancel -------------------------------------------------------------------------


@pytest.fixture
def escort(people: People, menu: Menu, chen: Volunteer) -> Order:
    return services.place_order(
        actor=people.resident_a,
        service_type=menu.escort,
        description="下周去医院复查，需要人陪同",
        latitude=NEAR_A[0],
        longitude=NEAR_A[1],
        answers={"hospital": "第一人民医院"},
    )


def test_approve(client: Client, people: People, escort: Order) -> None:
    assert ok(get(client, url(escort), people.manager_a))["actions"] == ["approve", "reject", "cancel", "type"]
    assert_error(post(client, url(escort, "approve"), {}, people.manager_b), 404, "not_found")
    assert_error(post(client, url(escort, "approve"), {}, people.resident_a), 404, "not_found")
    body = ok(post(client, url(escort, "approve"), {"note": "已电话核实"}, people.manager_a))
    assert (body["status"], body["status_note"]) == ("pending", "已电话核实")
    assert body["history"][-1]["action"] == "approve"
    assert body["accept_by"] is not None
    assert_error(post(client, url(escort, "approve"), user=people.manager_a), 409, "invalid_transition")


def test_reject_needs_a_reason_the_requester_reads(client: Client, people: People, escort: Order) -> None:
    assert_error(post(client, url(escort, "reject"), {"reason": " "}, people.manager_a), 400, "missing_reason")
    assert_error(post(client, url(escort, "reject"), user=people.manager_a), 422, "invalid")
    ok(post(client, url(escort, "reject"), {"reason": "该时段无陪诊志愿者"}, people.manager_a))
    body = ok(get(client, url(escort), people.resident_a))
    assert (body["status"], body["status_label"], body["status_note"]) == ("rejected", "未受理", "该时段无陪诊志愿者")


def test_cancel_before_anyone_accepts(client: Client, people: People, make_order: MakeOrder) -> None:
    order = make_order(OrderStatus.DISPATCHED)
    assert_error(post(client, url(order, "cancel"), user=people.resident_b), 404, "not_found")
    body = ok(post(client, url(order, "cancel"), user=people.resident_a))  # no body: no reason
    assert (body["status"], body["status_note"]) == ("cancelled", "已撤销")
    accepted = make_order(OrderStatus.ACCEPTED)
    assert_error(
        post(client, url(accepted, "cancel"), {"reason": "不用了"}, people.resident_a), 409, "invalid_transition"
    )


def test_staff_override_the_type(client: Client, people: People, menu: Menu, make_order: MakeOrder) -> None:
    order = make_order()
    assert_error(post(client, url(order, "type"), {"service_type": "haircut"}, people.resident_a), 404, "not_found")
    assert_error(post(client, url(order, "type"), {"service_type": "haircut"}, people.manager_b), 404, "not_found")
    assert_error(
        post(client, url(order, "type"), {"service_type": "nothing"}, people.manager_a), 400, "invalid_service_type"
    )
    assert_error(
        post(client, url(order, "type"), {"service_type": "wires"}, people.manager_a), 400, "invalid_service_type"
    )
    body = ok(post(client, url(order, "type"), {"service_type": "haircut", "note": "其实是想理发"}, people.manager_a))
    assert body["service_type"]["code"] == "haircut"
    assert body["history"][-1]["action"] == "retype"
    assert body["history"][-1]["note"] == "服务类型由“家电维修”改为“爱心理发”：其实是想理发"
    dispatched = make_order(OrderStatus.DISPATCHED)
    assert_error(
        post(client, url(dispatched, "type"), {"service_type": "haircut"}, people.manager_a), 409, "invalid_transition"
    )


# --- Dispatch and grab ----------------------------------------------------------------------------


def test_dispatch_to_a_volunteer_or_a_team(
    client: Client, people: People, menu: Menu, chen: Volunteer, zhao: Volunteer, make_order: MakeOrder
) -> None:
    order = make_order()
    body = ok(post(client, url(order, "dispatch"), {"volunteer_id": chen.pk, "note": "离得最近"}, people.manager_a))
    assert (body["status"], body["assigned_volunteer"], body["assigned_team"]) == (
        "dispatched",
        {"id": chen.pk, "name": "小陈"},
        None,
    )
    assert body["history"][-1]["note"] == "离得最近"
    assert_error(
        post(client, url(order, "dispatch"), {"volunteer_id": chen.pk}, people.manager_a), 409, "already_dispatched"
    )
    body = ok(post(client, url(order, "dispatch"), {"team_id": menu.barbers.pk}, people.manager_a))  # 改派
    assert (body["assigned_volunteer"], body["assigned_team"]) == (None, {"id": menu.barbers.pk, "name": "甲站理发队"})
    assert body["history"][-1]["action"] == "redispatch"


def test_dispatch_refusals(
    client: Client, people: People, street: Street, menu: Menu, chen: Volunteer, make_order: MakeOrder
) -> None:
    order = make_order()
    # 李站长 runs 乙站: 甲站's order does not exist for him, whatever he sends.
    assert_error(post(client, url(order, "dispatch"), {"volunteer_id": chen.pk}, people.manager_b), 404, "not_found")
    assert_error(post(client, url(order, "dispatch"), {"volunteer_id": 999_999}, people.manager_b), 404, "not_found")
    assert_error(post(client, url(order, "dispatch"), {"volunteer_id": chen.pk}, people.resident_a), 404, "not_found")
    body = assert_error(
        post(client, url(order, "dispatch"), {"volunteer_id": 999_999}, people.manager_a), 400, "invalid_assignee"
    )
    assert (body["field"], body["message"]) == ("volunteer_id", "所选的志愿者不存在。")
    body = assert_error(
        post(client, url(order, "dispatch"), {"team_id": 999_999}, people.manager_a), 400, "invalid_assignee"
    )
    assert (body["field"], body["message"]) == ("team_id", "所选的队伍不存在。")
    both = {"volunteer_id": chen.pk, "team_id": menu.barbers.pk}
    assert_error(post(client, url(order, "dispatch"), both, people.manager_a), 400, "missing_assignee")
    assert_error(post(client, url(order, "dispatch"), {}, people.manager_a), 400, "missing_assignee")
    outsider = volunteer_services.register_volunteer(
        actor=people.manager_b, user=people.resident_b, site=street.station_b
    )
    assert_error(
        post(client, url(order, "dispatch"), {"volunteer_id": outsider.pk}, people.manager_a), 400, "invalid_assignee"
    )
    assert_error(post(client, url(order, "dispatch"), {"volunteer_id": "x"}, people.manager_a), 422, "invalid")
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_open_grab_and_grab(
    client: Client, people: People, chen: Volunteer, zhao: Volunteer, make_order: MakeOrder
) -> None:
    order = make_order()
    assert_error(post(client, url(order, "grab-open"), user=people.manager_b), 404, "not_found")
    body = ok(post(client, url(order, "grab-open"), user=people.manager_a))
    assert body["status"] == "grabbing"
    # 赵队长 has not the skill: the grab does not exist for him.
    assert_error(post(client, url(order, "accept"), user=people.leader_a), 404, "not_found")
    assert ok(get(client, url(order), people.volunteer_a))["actions"] == ["accept"]
    body = ok(post(client, url(order, "accept"), user=people.volunteer_a))
    assert (body["status"], body["accepted_by"]["id"], body["history"][-1]["action"]) == ("accepted", chen.pk, "grab")
    assert_error(post(client, url(order, "grab-open"), user=people.manager_a), 409, "invalid_transition")


# --- Accept, decline, release ---------------------------------------------------------------------


def test_exactly_one_acceptance_wins(
    client: Client, people: People, menu: Menu, chen: Volunteer, zhao: Volunteer
) -> None:
    order = services.place_order(actor=people.resident_a, service_type=menu.haircut, description="想请人上门理发")
    services.dispatch_order(actor=people.manager_a, order=order, team=menu.barbers)
    assert ok(post(client, url(order, "accept"), user=people.leader_a))["accepted_by"]["id"] == zhao.pk
    assert_error(post(client, url(order, "accept"), user=people.volunteer_a), 409, "taken")
    assert_error(post(client, url(order, "accept"), user=people.leader_a), 409, "already_accepted")
    assert OrderEvent.objects.filter(order=order, action="accept").count() == 1


def test_a_grab_taken_is_taken_for_those_who_could_have_had_it(
    client: Client, people: People, street: Street, menu: Menu, chen: Volunteer, zhao: Volunteer, make_order: MakeOrder
) -> None:
    volunteer_services.register_volunteer(
        actor=people.manager_a, user=people.liaison_a, site=street.station_a, skills=[menu.repair_skill]
    )
    order = make_order()
    services.open_grab(actor=people.manager_a, order=order)
    ok(post(client, url(order, "accept"), user=people.volunteer_a))
    # 孙经理 qualified and saw the grab: he is told he was too late. 赵队长 never could: for him it does not exist.
    assert_error(post(client, url(order, "accept"), user=people.liaison_a), 409, "taken")
    assert_error(post(client, url(order, "accept"), user=people.leader_a), 404, "not_found")
    assert_error(post(client, "/api/orders/999999/accept", user=people.liaison_a), 404, "not_found")


def test_only_the_assignee_accepts(
    client: Client, people: People, street: Street, chen: Volunteer, zhao: Volunteer, make_order: MakeOrder
) -> None:
    order = make_order(OrderStatus.DISPATCHED)  # to 小陈
    # 张站长 is also a volunteer: he sees the order as its station, but it is not dispatched to him.
    volunteer_services.register_volunteer(actor=people.manager_a, user=people.manager_a, site=street.station_a)
    assert_error(post(client, url(order, "accept"), user=people.manager_a), 403, "not_assigned")
    assert_error(post(client, url(order, "decline"), {"reason": "没空"}, people.manager_a), 403, "not_assigned")
    # 赵队长 is a volunteer who does not see it at all.
    assert_error(post(client, url(order, "accept"), user=people.leader_a), 404, "not_found")
    assert_error(post(client, url(order, "accept"), user=people.resident_b), 404, "not_found")
    order.refresh_from_db()
    assert order.status == OrderStatus.DISPATCHED


def test_decline_with_a_reason(client: Client, people: People, chen: Volunteer, make_order: MakeOrder) -> None:
    order = make_order(OrderStatus.DISPATCHED)
    assert_error(post(client, url(order, "decline"), {"reason": ""}, people.volunteer_a), 400, "missing_reason")
    body = ok(post(client, url(order, "decline"), {"reason": "这周出差"}, people.volunteer_a))
    assert (body["status"], body["assigned_volunteer"]) == ("pending", None)
    assert body["history"][-1]["note"] == "这周出差"
    # No longer his: the answer is masked, and the order is gone from his tasks and from his reach.
    assert body["contact_masked"] is True
    assert body["actions"] == []
    assert_error(get(client, url(order), people.volunteer_a), 404, "not_found")


def test_release_an_accepted_order(client: Client, people: People, chen: Volunteer, make_order: MakeOrder) -> None:
    order = make_order(OrderStatus.ACCEPTED)
    assert_error(post(client, url(order, "release"), {"reason": "没空"}, people.resident_a), 404, "not_found")
    assert_error(post(client, url(order, "release"), {"reason": ""}, people.volunteer_a), 400, "missing_reason")
    body = ok(post(client, url(order, "release"), {"reason": "临时住院"}, people.manager_a))  # staff on his behalf
    assert (body["status"], body["accepted_by"], body["history"][-1]["action"]) == ("pending", None, "release")


# --- Start, complete, rate ------------------------------------------------------------------------


def test_start(client: Client, people: People, chen: Volunteer, make_order: MakeOrder) -> None:
    order = make_order(OrderStatus.ACCEPTED)
    assert_error(post(client, url(order, "start"), user=people.resident_a), 404, "not_found")
    body = ok(post(client, url(order, "start"), user=people.volunteer_a))
    assert (body["status"], body["status_label"]) == ("in_service", "服务中")
    assert body["started_at"] is not None
    assert body["actions"] == ["complete"]
    assert_error(post(client, url(order, "start"), user=people.volunteer_a), 409, "invalid_transition")
    pending = make_order()
    assert_error(post(client, url(pending, "start"), user=people.manager_a), 409, "invalid_transition")


def test_complete_records_who_served_and_their_hours(
    client: Client, people: People, chen: Volunteer, zhao: Volunteer, make_order: MakeOrder
) -> None:
    order = make_order(OrderStatus.IN_SERVICE)  # started two hours ago
    payload = {
        "servers": [{"volunteer_id": chen.pk, "hours": 1.5}, {"volunteer_id": zhao.pk, "hours": 1}],
        "beneficiaries": 2,
        "note": "洗衣机排水泵堵了，已清理",
    }
    body = ok(post(client, url(order, "complete"), payload, people.volunteer_a))
    assert (body["status"], body["beneficiaries"], body["completion_note"]) == (
        "completed",
        2,
        "洗衣机排水泵堵了，已清理",
    )
    assert body["servers"] == [
        {"volunteer": {"id": chen.pk, "name": "小陈"}, "hours": 1.5},
        {"volunteer": {"id": zhao.pk, "name": "赵队长"}, "hours": 1.0},
    ]
    assert sorted(ServiceRecord.objects.filter(source_ref=f"order:{order.pk}").values_list("hours", flat=True)) == [
        Decimal("1.00"),
        Decimal("1.50"),
    ]
    assert ok(get(client, url(order), people.resident_a))["actions"] == ["rate"]


@pytest.mark.parametrize(
    ("servers", "extra", "status", "code"),
    [
        ([{"volunteer_id": 999_999, "hours": 1}], {}, 400, "invalid_server"),
        ("zhao", {}, 400, "missing_server"),
        ([{"volunteer_id": "chen", "hours": 5}], {}, 400, "invalid_hours"),  # more than the two hours served
        ("twice", {}, 400, "duplicate_server"),
        ([{"volunteer_id": "chen", "hours": 1}], {"started_at": "2020-01-01T08:00:00+08:00"}, 400, "invalid_time"),
        ([{"volunteer_id": "chen", "hours": 0}], {}, 422, "invalid"),
        ([{"volunteer_id": "chen", "hours": 1}], {"beneficiaries": 0}, 422, "invalid"),
        ([{"volunteer_id": "chen", "hours": 1}], {"started_at": 1_700_000_000}, 422, "invalid"),
        ([], {}, 422, "invalid"),
    ],
)
def test_complete_refusals_write_nothing(
    client: Client,
    people: People,
    chen: Volunteer,
    zhao: Volunteer,
    make_order: MakeOrder,
    servers: Any,
    extra: dict[str, Any],
    status: int,
    code: str,
) -> None:
    order = make_order(OrderStatus.IN_SERVICE)
    if servers == "zhao":
        servers = [{"volunteer_id": zhao.pk, "hours": 1}]
    elif servers == "twice":
        servers = [{"volunteer_id": chen.pk, "hours": 1}, {"volunteer_id": chen.pk, "hours": 1}]
    else:
        servers = [
            {**s, "volunteer_id": chen.pk if s["volunteer_id"] == "chen" else s["volunteer_id"]} for s in servers
        ]
    assert_error(post(client, url(order, "complete"), {"servers": servers, **extra}, people.volunteer_a), status, code)
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_SERVICE
    assert not OrderServer.objects.filter(order=order).exists()


def test_rate_and_review_a_low_rating(client: Client, people: People, chen: Volunteer, make_order: MakeOrder) -> None:
    order = make_order(OrderStatus.COMPLETED)
    assert_error(post(client, url(order, "rate"), {"rating": 5}, people.volunteer_a), 404, "not_found")
    assert_error(post(client, url(order, "rate"), {"rating": 2}, people.resident_a), 400, "missing_comment")
    assert_error(post(client, url(order, "rate"), {"rating": 6}, people.resident_a), 422, "invalid")
    body = ok(post(client, url(order, "rate"), {"rating": 2, "comment": "来晚了一个小时"}, people.resident_a))
    assert (body["status"], body["rating"], body["rating_comment"]) == ("complaint", 2, "来晚了一个小时")
    assert_error(post(client, url(order, "rate"), {"rating": 4}, people.resident_a), 409, "already_rated")
    assert ok(get(client, url(order), people.manager_a))["actions"] == ["review"]
    assert_error(post(client, url(order, "review"), {"note": "已处理"}, people.manager_b), 404, "not_found")
    assert_error(post(client, url(order, "review"), {"note": ""}, people.manager_a), 400, "missing_note")
    body = ok(post(client, url(order, "review"), {"note": "已与志愿者沟通，下次提前联系"}, people.manager_a))
    assert (body["status"], body["review_note"]) == ("closed", "已与志愿者沟通，下次提前联系")


def test_a_good_rating_closes_the_order(client: Client, people: People, make_order: MakeOrder) -> None:
    order = make_order(OrderStatus.COMPLETED)
    body = ok(post(client, url(order, "rate"), {"rating": 5, "comment": "很好"}, people.resident_a))
    assert (body["status"], body["status_label"]) == ("closed", "已办结")
    assert body["rated_at"] is not None


# --- 随手拍 ---------------------------------------------------------------------------------------


@pytest.fixture
def report(people: People, menu: Menu) -> Order:
    return services.place_order(
        actor=people.resident_a,
        service_type=menu.wires,
        description="楼道里飞线充电",
        latitude=NEAR_A[0],
        longitude=NEAR_A[1],
        photos=[png()],
    )


def test_a_report_is_persuaded_followed_up_and_rectified(client: Client, people: People, report: Order) -> None:
    assert ok(get(client, url(report), people.manager_a))["actions"] == ["reject", "persuade", "rectify", "type"]
    assert_error(post(client, url(report, "persuade"), {"note": "已劝导"}, people.manager_b), 404, "not_found")
    assert_error(post(client, url(report, "persuade"), {"note": ""}, people.manager_a), 400, "missing_note")
    body = ok(post(client, url(report, "persuade"), {"note": "已上门劝导，住户答应拆除"}, people.manager_a))
    assert (body["status"], body["status_label"]) == ("persuaded", "已劝导")
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    for bad in (
        (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
        (tomorrow + dt.timedelta(days=100)).isoformat(),
    ):
        assert_error(
            post(client, url(report, "not-rectified"), {"follow_up_on": bad}, people.manager_a),
            400,
            "invalid_follow_up",
        )
    assert_error(
        post(client, url(report, "not-rectified"), {"follow_up_on": 20270101}, people.manager_a), 422, "invalid"
    )
    body = ok(post(client, url(report, "not-rectified"), {"follow_up_on": tomorrow.isoformat()}, people.manager_a))
    assert (body["status"], body["follow_up_on"]) == ("unrectified", tomorrow.isoformat())
    body = ok(post(client, url(report, "rectify"), user=people.manager_a))
    assert (body["status"], body["status_note"], body["follow_up_on"]) == ("rectified", "已整改", None)
    assert [e["action"] for e in body["history"]] == ["create", "persuade", "not_rectified", "rectify"]
    assert_error(post(client, url(report, "rectify"), {"note": "again"}, people.manager_a), 409, "invalid_transition")


def test_a_report_not_taken_up(client: Client, people: People, report: Order) -> None:
    assert_error(post(client, url(report, "approve"), user=people.manager_a), 409, "invalid_transition")
    body = ok(post(client, url(report, "reject"), {"reason": "经核实不属实"}, people.manager_a))
    assert body["status"] == "rejected"


# --- The schema -----------------------------------------------------------------------------------

OPERATIONS = {
    ("get", "/api/service-types"),
    ("get", "/api/service-types/{code}"),
    ("post", "/api/orders/classify"),
    ("post", "/api/orders"),
    ("get", "/api/orders"),
    ("get", "/api/orders/{order_id}"),
    ("get", "/api/orders/{order_id}/candidates"),
    *(
        ("post", f"/api/orders/{{order_id}}/{move}")
        for move in (
            "approve",
            "reject",
            "cancel",
            "type",
            "dispatch",
            "grab-open",
            "accept",
            "decline",
            "release",
            "start",
            "complete",
            "rate",
            "review",
            "persuade",
            "rectify",
            "not-rectified",
        )
    ),
}


def test_the_schema_has_every_operation_with_its_errors(client: Client) -> None:
    schema = ok(client.get("/api/openapi.json"))
    found = {(m, p) for p, item in schema["paths"].items() for m in item if m in {"get", "post"}}
    assert found >= OPERATIONS, OPERATIONS - found
    accept = schema["paths"]["/api/orders/{order_id}/accept"]["post"]
    assert accept["tags"] == ["点单服务"]
    assert "not_assigned" in accept["responses"]["403"]["description"]
    assert "taken" in accept["responses"]["409"]["description"]
    assert accept["security"] == [{"BearerToken": []}, {"SessionCookie": []}]
    assert "security" not in schema["paths"]["/api/service-types"]["get"]
    assert "CandidateList" in schema["components"]["schemas"]


def test_every_move_the_table_knows_has_an_endpoint() -> None:
    from wenming.orders.models import TRANSITIONS

    covered = {action for acts, _allowed in orders_api.MOVES.values() for action in acts}
    assert set(TRANSITIONS.values()) <= covered
    assert set(get_args(orders_api.StatusCode)) == set(OrderStatus.values)


# --- Fuzzing the operations on real orders --------------------------------------------------------
#
# tests/test_api_fuzz.py fuzzes every operation on an empty database, where an order id finds nothing.
# Here the same checks run on the orders operations with orders in every state: generated order and
# volunteer ids are mapped onto ones that exist, so the moves really run, and every answer they give
# must be documented (status, code, schema), never a 5xx.

ORDERS_SCHEMA = schema.include(path_regex=r"^/api/(orders|service-types)")


@pytest.fixture
def stock(people: People, menu: Menu, chen: Volunteer, zhao: Volunteer, make_order: MakeOrder) -> dict[str, list[int]]:
    orders = [make_order(status) for status in ("pending", "dispatched", "accepted", "in_service", "completed")]
    orders.append(
        services.place_order(
            actor=people.resident_a,
            service_type=menu.escort,
            description="陪同去医院",
            latitude=NEAR_A[0],
            longitude=NEAR_A[1],
            answers={"hospital": "第一人民医院"},
        )
    )
    orders.append(
        services.place_order(
            actor=people.resident_a,
            service_type=menu.wires,
            description="飞线充电",
            latitude=NEAR_A[0],
            longitude=NEAR_A[1],
            photos=[png()],
        )
    )
    grab = make_order()
    services.open_grab(actor=people.manager_a, order=grab)
    orders.append(grab)
    return {"order_id": [o.pk for o in orders], "volunteer_id": [chen.pk, zhao.pk], "team_id": [menu.barbers.pk]}


def _existing(value: Any, pool: list[int]) -> Any:
    """A generated positive id, mapped onto one that exists; anything else (0, text, huge) stays as generated."""
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 2**63 - 1:
        return pool[value % len(pool)]
    return value


@pytest.fixture
def caller(request: pytest.FixtureRequest, people: People) -> dict[str, str]:
    """The persona's name and a valid token of theirs."""
    name = str(request.param)
    raw, _token = account_services.issue_api_token(user=getattr(people, name))
    return {"name": name, "Authorization": f"Bearer {raw}"}


@pytest.mark.slow
@ORDERS_SCHEMA.parametrize()
@pytest.mark.parametrize("caller", ["manager_a", "volunteer_a", "resident_a"], indirect=True)
@pytest.mark.usefixtures("_requests_keep_the_test_connection")
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_orders_operations_keep_the_contract_on_real_orders(
    case: Any, caller: dict[str, str], stock: dict[str, list[int]]
) -> None:
    if case.path_parameters and "order_id" in case.path_parameters:
        case.path_parameters["order_id"] = _existing(case.path_parameters["order_id"], stock["order_id"])
    if isinstance(case.body, dict):
        for key in ("volunteer_id", "team_id"):
            if key in case.body:
                case.body[key] = _existing(case.body[key], stock[key])
        servers = case.body.get("servers")
        if isinstance(servers, list):
            for server in servers:
                if isinstance(server, dict) and "volunteer_id" in server:
                    server["volunteer_id"] = _existing(server["volunteer_id"], stock["volunteer_id"])
    headers = {"Authorization": caller["Authorization"]}
    response = case.call(headers=headers)
    case.validate_response(response, checks=CHECKS, headers=headers)
    problems = _error_contract(case, response, caller)
    assert not problems, (
        f"{case.operation.label} as {caller['name']}: " + "; ".join(problems) + "\n\n"
        f"{response.status_code} {response.text[:500]}\n\n"
        f"Reproduce with:\n    {case.as_curl_command(headers=headers)}"
    )


def test_satisfaction_per_volunteer_team_and_station(people: Any, street: Any, chen: Any, make_order: Any) -> None:
    from wenming.orders import services as order_services

    for rating, comment in ((5, ""), (2, "迟到")):
        order = make_order(OrderStatus.COMPLETED)
        order_services.rate_order(actor=people.resident_a, order=order, rating=rating, comment=comment)
    client = Client()
    client.force_login(people.subcentre_admin)
    answer = client.get(f"/api/sites/{street.subcentre.pk}/satisfaction", {"by": "volunteer"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["overall"] == {"rated": 2, "average": 3.5, "satisfied": 1, "low": 1, "satisfied_share": 50.0}
    assert [(r["id"], r["name"], r["rated"]) for r in body["results"]] == [(chen.pk, "小陈", 2)]
    stations = client.get(f"/api/sites/{street.subcentre.pk}/satisfaction", {"by": "station"}).json()
    assert [r["name"] for r in stations["results"]] == [street.station_a.name]
    later = client.get(f"/api/sites/{street.subcentre.pk}/satisfaction", {"from": "2100-01-01"}).json()
    assert later["overall"]["rated"] == 0
    client.force_login(people.manager_b)
    assert client.get(f"/api/sites/{street.station_a.pk}/satisfaction").status_code == 404
    client.force_login(people.resident_a)
    assert client.get(f"/api/sites/{street.station_a.pk}/satisfaction").status_code == 404


def test_photos_are_added_by_who_may_at_the_time(people: Any, chen: Any, make_order: Any) -> None:
    order = make_order(OrderStatus.DISPATCHED)
    client = Client()
    client.force_login(people.resident_a)
    url = f"/api/orders/{order.pk}/photos"
    answer = client.post(url, {"photos": [png("a.png"), png("b.png")]})
    assert answer.status_code == 200, answer.content
    assert [p["stage"] for p in answer.json()["photos"]] == ["request", "request"]
    assert client.post(url, {}).json()["code"] == "missing_photo"
    too_many = client.post(url, {"photos": [png(f"{i}.png") for i in range(5)]})
    assert (too_many.status_code, too_many.json()["code"]) == (400, "too_many_photos")
    bad = client.post(url, {"photos": [SimpleUploadedFile("x.jpg", b"not a picture", content_type="image/jpeg")]})
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_photo")
    client.force_login(people.volunteer_a)  # dispatched to 小陈, not yet started: nothing to add
    assert client.post(url, {"photos": [png()]}).json()["code"] == "photos_closed"
    client.force_login(people.resident_b)
    assert client.post(url, {"photos": [png()]}).status_code == 404
    assert OrderPhoto.objects.filter(order=order).count() == 2


def test_the_volunteer_adds_service_photos_once_started(people: Any, make_order: Any) -> None:
    order = make_order(OrderStatus.IN_SERVICE)
    client = Client()
    client.force_login(people.volunteer_a)
    answer = client.post(f"/api/orders/{order.pk}/photos", {"photos": [png()]})
    assert answer.status_code == 200, answer.content
    assert OrderPhoto.objects.get(order=order).stage == "completion"
