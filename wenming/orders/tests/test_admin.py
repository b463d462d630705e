"""The admin: the menu kept by platform admins through the services, Open311 keys shown once."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import People, Street
from wenming.orders import services
from wenming.orders.models import Open311Client, Question, ServiceType
from wenming.orders.tests.conftest import MakeOrder, Menu

pytestmark = pytest.mark.django_db


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_a_platform_admin_adds_a_service_type_with_a_question(people: People, menu: Menu) -> None:
    client = signed_in(people.admin)
    answer = client.post(
        "/admin/orders/servicetype/add/",
        {
            "code": "bath",
            "kind": "service",
            "name": "助浴",
            "description": "为失能老人上门助浴。",
            "group": "生活服务",
            "keywords": '["洗澡", "助浴"]',
            "audience": "elderly",
            "accept_within_hours": "12",
            "finish_within_days": "3",
            "is_active": "on",
            "position": "5",
            "questions-TOTAL_FORMS": "1",
            "questions-INITIAL_FORMS": "0",
            "questions-0-position": "0",
            "questions-0-code": "floor",
            "questions-0-prompt": "住几楼",
            "questions-0-datatype": "singlevaluelist",
            "questions-0-choices": '[{"key": "low", "name": "三楼以下"}, {"key": "high", "name": "四楼以上"}]',
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    bath = ServiceType.objects.get(code="bath")
    assert bath.keywords == ["洗澡", "助浴"]
    assert Question.objects.get(service_type=bath).prompt == "住几楼"


def test_a_list_question_without_choices_is_refused_and_nothing_saved(people: People, menu: Menu) -> None:
    client = signed_in(people.admin)
    answer = client.post(
        f"/admin/orders/servicetype/{menu.repair.pk}/change/",
        {
            "code": "repair",
            "kind": "service",
            "name": "家电维修",
            "keywords": '["洗衣机"]',
            "audience": "all",
            "accept_within_hours": "4",
            "finish_within_days": "2",
            "is_active": "on",
            "position": "0",
            "skills": [str(menu.repair_skill.pk)],
            "questions-TOTAL_FORMS": "1",
            "questions-INITIAL_FORMS": "0",
            "questions-0-position": "0",
            "questions-0-code": "kind",
            "questions-0-prompt": "电器类型",
            "questions-0-datatype": "singlevaluelist",
            "questions-0-choices": "[]",
        },
    )
    assert answer.status_code == 200
    assert "单选、多选题请填写选项" in answer.content.decode()
    assert not Question.objects.filter(service_type=menu.repair).exists()
    menu.repair.refresh_from_db()
    assert menu.repair.keywords != ["洗衣机"]


def test_a_station_manager_cannot_change_the_menu(people: People, menu: Menu) -> None:
    client = signed_in(people.manager_a)
    assert client.get("/admin/orders/servicetype/add/").status_code in {302, 403}
    assert client.get("/admin/orders/open311client/").status_code in {302, 403}


def test_an_open311_key_is_shown_once_and_works(people: People, street: Street) -> None:
    client = signed_in(people.admin)
    answer = client.post(
        "/admin/orders/open311client/add/",
        {"name": "12345热线", "site": str(street.subcentre.pk), "contact": "热线办", "is_active": "on"},
        follow=True,
    )
    assert answer.status_code == 200
    text = answer.content.decode()
    assert "只显示这一次" in text
    saved = Open311Client.objects.get(name="12345热线")
    key = text.split("请妥善转交）：", 1)[1].split("<", 1)[0].strip()
    assert services.client_for_key(key) == saved
    assert saved.key_digest != key


def test_orders_are_read_only_with_masked_phones(people: People, make_order: MakeOrder) -> None:
    order = make_order()
    client = signed_in(people.admin)
    listing = client.get("/admin/orders/order/").content.decode()
    assert "138****0006" in listing
    assert people.resident_a.phone not in listing
    assert client.post(f"/admin/orders/order/{order.pk}/change/", {}).status_code == 403


def test_switching_a_client_off_goes_through_the_service(people: People, street: Street) -> None:
    client_row = Open311Client(name="小程序", site=street.subcentre)
    key = services.issue_open311_key(actor=None, client=client_row)
    client = signed_in(people.admin)
    answer = client.post(
        f"/admin/orders/open311client/{client_row.pk}/change/",
        {"name": "小程序", "site": str(street.subcentre.pk), "contact": ""},
    )
    assert answer.status_code == 302, answer.content.decode()[:1000]
    client_row.refresh_from_db()
    assert client_row.is_active is False
    assert services.client_for_key(key) is None
