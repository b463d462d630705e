"""Residents' order pages: 我要点单, 随手拍, 我的点单 with rating, and one order's page.

王阿姨 (resident_a) orders for herself: from the menu, in her own words (the classifier picks the type
and says why), or for 陪诊, whose required question she must answer. She reports 飞线充电 with a photo,
follows her orders in plain Chinese and rates them. 刘大爷 (resident_b) sees none of it: her orders and
their photos do not exist for him.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from wenming.accounts.models import Profile
from wenming.orders import services
from wenming.orders.models import Channel, Order, OrderEvent, OrderKind, OrderPhoto, OrderStatus, PhotoStage
from wenming.orders.tests.conftest import NEAR_A

if TYPE_CHECKING:
    from conftest import People, Street
    from wenming.orders.tests.conftest import MakeOrder, Menu
    from wenming.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def png(name: str = "photo.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 22, 29)).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def page(response: Any) -> str:
    return response.content.decode()


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def detail(order: Order) -> str:
    return reverse("orders:detail", args=[order.pk])


@pytest.fixture
def wang(client: Client, people: People) -> Client:
    client.force_login(people.resident_a)
    return client


@pytest.fixture
def liu(people: People) -> Client:
    other = Client()
    other.force_login(people.resident_b)
    return other


def order_form(**fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "description": "家里洗衣机不转了，请师傅上门看看",
        "service_type": "",
        "address": "甲小区3号楼201",
        "latitude": "",
        "longitude": "",
        "preferred_at": "",
        "contact_name": "王阿姨",
        "contact_phone": "13800000006",
    }
    values.update(fields)
    return values


# --- Who sees the pages ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["new", "new_report", "mine", "tasks"])
def test_pages_ask_to_sign_in(client: Client, db: None, name: str) -> None:
    response = client.get(reverse(f"orders:{name}"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_the_menu_is_grouped_with_descriptions(wang: Client, menu: Menu) -> None:
    menu.repair.group = "生活服务"
    menu.repair.save()
    menu.haircut.group = "生活服务"
    menu.haircut.save()
    text = page(wang.get(reverse("orders:new")))
    assert "我要点单" in text
    assert '<div class="wm-choice-group" aria-hidden="true">生活服务</div>' in text
    assert "上门检修洗衣机、电视、冰箱等家用电器。" in text
    assert "为行动不便的老人上门理发。" in text
    assert "就诊医院" in text  # 陪诊's question, shown under it when it is chosen
    assert "提交后由工作人员审核" in text  # 陪诊 needs review
    assert "飞线充电" not in text  # a report category is not on the service menu
    assert 'id="type-auto" checked' in text
    assert 'name="csrfmiddlewaretoken"' in text
    assert 'value="13800000006"' in text  # contact prefilled from the account
    assert "使用我的位置" in text
    assert 'hx-get="/orders/new/suggest/"' in text


def test_a_menu_link_preselects_the_type_and_the_profile_gives_the_address(
    wang: Client, people: People, menu: Menu
) -> None:
    Profile.objects.filter(user=people.resident_a).update(address="甲小区5号楼302")
    text = page(wang.get(reverse("orders:new") + f"?type={menu.haircut.pk}"))
    assert f'id="type-{menu.haircut.pk}" checked' in text
    assert 'id="type-auto" checked' not in text
    assert 'value="甲小区5号楼302"' in text


def test_the_form_posts_with_csrf(people: People, menu: Menu) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(people.resident_a)
    response = strict.post(reverse("orders:new"), order_form(service_type=menu.repair.pk))
    assert response.status_code == 403
    assert not Order.objects.exists()


# --- 点单 ----------------------------------------------------------------------------------------


def test_ordering_a_chosen_type_with_a_photo(wang: Client, people: People, street: Street, menu: Menu) -> None:
    when = (timezone.localtime() + dt.timedelta(days=2)).replace(hour=9, minute=30, second=0, microsecond=0)
    response = wang.post(
        reverse("orders:new"),
        order_form(
            service_type=menu.repair.pk,
            latitude=str(NEAR_A[0]),
            longitude=str(NEAR_A[1]),
            preferred_at=when.strftime("%Y-%m-%dT%H:%M"),
            photos=[png()],
        ),
    )
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail(order)
    assert order.requester == people.resident_a
    assert order.channel == Channel.SELF
    assert order.service_type == menu.repair
    assert order.site == street.station_a
    assert order.status == OrderStatus.PENDING
    assert order.preferred_at == when
    assert order.latitude == pytest.approx(NEAR_A[0])
    assert order.classification == {}  # chosen, not guessed
    assert order.photos.get().stage == PhotoStage.REQUEST

    shown = wang.get(response["Location"])
    assert "已提交！我们会尽快为您安排志愿者。" in messages_of(shown)
    text = page(shown)
    assert "已收到，正在安排志愿者。" in text
    assert "13800000006" in text  # her own phone, in full
    photo = order.photos.get()
    assert reverse("orders:photo", args=[photo.pk]) in text


def test_free_words_are_classified_by_the_service(wang: Client, menu: Menu) -> None:
    response = wang.post(reverse("orders:new"), order_form(description="洗衣机坏了，不转了"))
    order = Order.objects.get()
    assert response.status_code == 302
    assert order.service_type == menu.repair
    assert order.classification["type"] == menu.repair.pk
    assert "洗衣机" in order.classification["words"]
    assert OrderEvent.objects.get(order=order, action="create").note == "自动分类：家电维修"


def test_the_suggestion_shows_before_submitting_without_js(wang: Client, menu: Menu) -> None:
    response = wang.post(reverse("orders:new"), order_form(description="洗衣机坏了，不转了", suggest="1"))
    assert response.status_code == 200
    text = page(response)
    found = re.search(r"根据“([^”]+)”判断为家电维修（置信度(\d+)%），可以修改。", text)
    assert found is not None, text
    assert "洗衣机" in found.group(1)
    assert 50 <= int(found.group(2)) <= 100
    assert f'id="type-{menu.repair.pk}" checked' in text  # checked for her, she may change it
    assert not Order.objects.exists()


def test_the_suggestion_follows_the_words_with_htmx(wang: Client, menu: Menu) -> None:
    response = wang.get(reverse("orders:suggest"), {"description": "想请人上门剪头发"}, HTTP_HX_REQUEST="true")
    text = page(response)
    assert response.status_code == 200
    assert text.strip().startswith('<div id="wm-suggestion"')
    assert "判断为爱心理发" in text
    assert "<html" not in text
    empty = page(wang.get(reverse("orders:suggest"), {"description": "  "}))
    assert "判断为" not in empty


def test_words_the_classifier_cannot_place_bring_back_the_menu(wang: Client, menu: Menu) -> None:
    response = wang.post(reverse("orders:new"), order_form(description="你好你好"))
    assert response.status_code == 200
    text = page(response)
    assert "没能从描述中判断服务类型，请选择一个服务类型。" in text
    assert f'id="type-{menu.repair.pk}"' in text  # the menu to choose from
    assert "你好你好" in text  # what she wrote is kept
    assert not Order.objects.exists()


def test_a_required_question_left_empty_is_asked_for(wang: Client, menu: Menu) -> None:
    response = wang.post(reverse("orders:new"), order_form(description="下周要去医院复查", service_type=menu.escort.pk))
    assert response.status_code == 200
    text = page(response)
    assert "请回答“就诊医院”。" in text
    assert f'id="type-{menu.escort.pk}" checked' in text
    assert not Order.objects.exists()

    field = f"q{menu.escort.pk}_"
    response = wang.post(
        reverse("orders:new"),
        order_form(
            description="下周要去医院复查",
            service_type=menu.escort.pk,
            **{f"{field}hospital": "第一人民医院", f"{field}mobility": "wheelchair"},
        ),
    )
    order = Order.objects.get()
    assert response.status_code == 302
    assert order.answers == {"hospital": "第一人民医院", "mobility": "wheelchair"}
    assert order.status == OrderStatus.REVIEWING
    text = page(wang.get(detail(order)))
    assert "已收到，工作人员正在审核。" in text
    assert "需要轮椅" in text  # the choice's name, not its key


def test_a_guessed_type_with_a_required_question_opens_it(wang: Client, menu: Menu) -> None:
    """No type chosen, the words point to 陪诊: its question comes up under it, nothing is placed."""
    response = wang.post(reverse("orders:new"), order_form(description="要去医院看病复查，想找人陪同"))
    text = page(response)
    assert "请回答“就诊医院”。" in text
    assert f'id="type-{menu.escort.pk}" checked' in text
    assert not Order.objects.exists()


def test_a_bad_phone_is_the_services_message(wang: Client, menu: Menu) -> None:
    response = wang.post(reverse("orders:new"), order_form(service_type=menu.repair.pk, contact_phone="12345"))
    assert response.status_code == 200
    assert "联系电话格式不正确，请填写手机号或带区号的座机号。" in page(response)
    assert not Order.objects.exists()


def test_too_many_photos_place_nothing(wang: Client, menu: Menu, media: Path) -> None:
    response = wang.post(
        reverse("orders:new"), order_form(service_type=menu.repair.pk, photos=[png(f"{i}.png") for i in range(7)])
    )
    assert "最多上传6张照片。" in page(response)
    assert not Order.objects.exists()
    assert not OrderPhoto.objects.exists()


# --- 随手拍 ---------------------------------------------------------------------------------------


def test_a_report_with_a_photo(wang: Client, people: People, street: Street, menu: Menu) -> None:
    text = page(wang.get(reverse("orders:new_report")))
    assert "飞线充电" in text
    assert "家电维修" not in text
    response = wang.post(
        reverse("orders:new_report"),
        {
            "service_type": menu.wires.pk,
            "description": "3号楼楼道有人拉电线给电瓶车充电",
            "address": "甲小区3号楼",
            "latitude": str(NEAR_A[0]),
            "longitude": str(NEAR_A[1]),
            "photos": [png()],
        },
    )
    report = Order.objects.get()
    assert response.status_code == 302
    assert report.kind == OrderKind.REPORT
    assert report.status == OrderStatus.REPORTED
    assert report.site == street.station_a
    assert report.photos.count() == 1
    text = page(wang.get(detail(report)))
    assert "已收到，实践站会尽快处理。" in text
    assert "随手拍" in text


def test_a_report_needs_a_photo_and_a_category(wang: Client, menu: Menu) -> None:
    response = wang.post(reverse("orders:new_report"), {"description": "有人飞线充电", "address": "甲小区"})
    text = page(response)
    assert response.status_code == 200
    assert "请至少拍一张照片。" in text
    assert "请选择问题类别。" in text
    assert not Order.objects.exists()


def test_a_report_refuses_a_file_that_is_not_a_photo(wang: Client, menu: Menu) -> None:
    fake = SimpleUploadedFile("现场.jpg", "不是照片".encode(), content_type="image/jpeg")
    response = wang.post(
        reverse("orders:new_report"),
        {"service_type": menu.wires.pk, "description": "有人飞线充电", "address": "甲小区", "photos": [fake]},
    )
    assert "请上传JPG、PNG或WebP格式的照片。" in page(response)
    assert not Order.objects.exists()


# --- 我的点单 -------------------------------------------------------------------------------------


def test_my_orders_newest_first_in_plain_chinese(
    wang: Client, liu: Client, people: People, menu: Menu, make_order: MakeOrder
) -> None:
    accepted = make_order(OrderStatus.ACCEPTED)
    completed = make_order(OrderStatus.COMPLETED)
    pending = make_order(OrderStatus.PENDING)
    text = page(wang.get(reverse("orders:mine")))
    assert text.index(f'id="order-{pending.pk}"') < text.index(f'id="order-{completed.pk}"')
    assert text.index(f'id="order-{completed.pk}"') < text.index(f'id="order-{accepted.pk}"')
    assert "已收到，正在安排志愿者。" in text
    assert accepted.finish_by is not None
    finish = timezone.localtime(accepted.finish_by)
    assert f"志愿者小陈已接单，将于{finish.month}月{finish.day}日前完成。" in text
    assert "服务已完成，请您评价。" in text
    assert reverse("orders:rate", args=[completed.pk]) in text
    assert reverse("orders:rate", args=[accepted.pk]) not in text
    assert 'type="radio" name="rating" value="5"' in text

    other = page(liu.get(reverse("orders:mine")))
    assert "您还没有点过服务。" in other
    assert f'id="order-{pending.pk}"' not in other


def test_my_orders_page_is_not_n_plus_one(
    wang: Client, people: People, chen: Volunteer, menu: Menu, django_assert_max_num_queries: Any
) -> None:
    def place(n: int) -> None:
        for i in range(n):
            order = services.place_order(
                actor=people.resident_a,
                service_type=menu.repair,
                description=f"第{i}台洗衣机坏了",
                latitude=NEAR_A[0],
                longitude=NEAR_A[1],
            )
            if i % 2:
                services.dispatch_order(actor=people.manager_a, order=order, volunteer=chen)
                services.accept_order(actor=people.volunteer_a, order=order)

    place(3)
    wang.get(reverse("orders:mine"))  # warm the session
    with CaptureQueriesContext(connection) as few:
        assert wang.get(reverse("orders:mine")).status_code == 200
    place(17)
    with django_assert_max_num_queries(len(few.captured_queries)):
        text = page(wang.get(reverse("orders:mine")))
    assert text.count('class="wm-ticket"') == 20


# --- One order ------------------------------------------------------------------------------------


def test_an_order_and_its_photos_are_404_to_others(
    wang: Client, liu: Client, people: People, menu: Menu, make_order: MakeOrder, media: Path
) -> None:
    order = make_order(OrderStatus.PENDING, photos=[png()])
    photo = order.photos.get()
    assert wang.get(detail(order)).status_code == 200
    served = wang.get(reverse("orders:photo", args=[photo.pk]))
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served["Cache-Control"].startswith("private")
    assert liu.get(detail(order)).status_code == 404
    assert liu.get(reverse("orders:photo", args=[photo.pk])).status_code == 404
    assert Client().get(reverse("orders:photo", args=[photo.pk])).status_code == 404
    assert liu.post(reverse("orders:cancel", args=[order.pk])).status_code == 404
    assert wang.get(reverse("orders:detail", args=[order.pk + 1000])).status_code == 404


def test_the_history_reads_in_chinese(wang: Client, make_order: MakeOrder) -> None:
    order = make_order(OrderStatus.IN_SERVICE)
    text = page(wang.get(detail(order)))
    for label in ("提交", "派单", "接单", "开始服务"):
        assert f"<b>{label}</b>" in text
    assert "志愿者小陈正在为您服务。" in text
    assert text.index("<b>派单</b>") < text.index("<b>开始服务</b>")


def test_cancelling_before_acceptance(wang: Client, make_order: MakeOrder) -> None:
    order = make_order(OrderStatus.DISPATCHED)
    assert reverse("orders:cancel", args=[order.pk]) in page(wang.get(detail(order)))
    response = wang.post(reverse("orders:cancel", args=[order.pk]), {"cancel-reason": "已经修好了"}, follow=True)
    assert "已撤销。" in messages_of(response)
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.status_note == "已经修好了"


def test_no_cancel_once_accepted(wang: Client, make_order: MakeOrder) -> None:
    order = make_order(OrderStatus.ACCEPTED)
    assert reverse("orders:cancel", args=[order.pk]) not in page(wang.get(detail(order)))
    response = wang.post(reverse("orders:cancel", args=[order.pk]))
    assert response.status_code == 409
    assert "“已接单”的订单不能撤销。" in page(response)
    order.refresh_from_db()
    assert order.status == OrderStatus.ACCEPTED


# --- 评单 ----------------------------------------------------------------------------------------


def test_five_stars_close_the_order(wang: Client, make_order: MakeOrder) -> None:
    order = make_order(OrderStatus.COMPLETED)
    response = wang.post(
        reverse("orders:rate", args=[order.pk]), {"rating": "5", "comment": "很及时", "next": "/orders/mine/"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:mine")
    order.refresh_from_db()
    assert (order.status, order.rating, order.rating_comment) == (OrderStatus.CLOSED, 5, "很及时")
    text = page(wang.get(reverse("orders:mine")))
    assert "已办结，感谢您的评价。" in text
    assert "您的评分：5分" in text


def test_two_stars_need_a_comment(wang: Client, make_order: MakeOrder) -> None:
    order = make_order(OrderStatus.COMPLETED)
    response = wang.post(reverse("orders:rate", args=[order.pk]), {"rating": "2", "comment": ""})
    assert response.status_code == 400
    text = page(response)
    assert "请说说哪里不满意，便于我们改进。" in text
    assert re.search(r'<input type="radio" name="rating" value="2"[^>]*checked', text)  # her choice is kept
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert order.rating is None


def test_two_stars_with_a_comment_open_a_review(
    wang: Client, people: People, make_order: MakeOrder, inbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order = make_order(OrderStatus.COMPLETED)
    with django_capture_on_commit_callbacks(execute=True):
        response = wang.post(reverse("orders:rate", args=[order.pk]), {"rating": "2", "comment": "迟到了一小时"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLAINT
    assert "差评待复核：家电维修" in inbox(people.manager_a)
    text = page(wang.get(detail(order)))
    assert "您的意见已转站长复核，我们会尽快回复您。" in text


def test_no_rating_picked_is_a_message(wang: Client, make_order: MakeOrder) -> None:
    order = make_order(OrderStatus.COMPLETED)
    response = wang.post(reverse("orders:rate", args=[order.pk]), {"comment": "还行"})
    assert response.status_code == 400
    assert "请选择评分。" in page(response)


def test_rating_twice_is_a_message(wang: Client, make_order: MakeOrder) -> None:
    order = make_order(OrderStatus.CLOSED)
    response = wang.post(reverse("orders:rate", args=[order.pk]), {"rating": "4"})
    assert response.status_code == 409
    assert "您已评价过该订单。" in page(response)


def test_the_requester_reads_no_decline_reason(people: Any, chen: Any, make_order: Any) -> None:
    from wenming.orders import services as order_services

    order = make_order(OrderStatus.DISPATCHED)
    order_services.decline_order(actor=people.volunteer_a, order=order, reason="今天在外地")
    client = Client()
    client.force_login(people.resident_a)
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert "今天在外地" not in page
    client.force_login(people.manager_a)
    assert "今天在外地" in client.get(f"/staff/orders/{order.pk}/").content.decode()
