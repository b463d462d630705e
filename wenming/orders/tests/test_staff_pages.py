"""The staff pages of the order loop: 派单台, one order's page with its action forms, 代点单.

Personas: 张站长 runs 甲站 (where 王阿姨 orders), 李站长 runs 乙站 (where 刘大爷
orders) and must find nothing of 甲站's, 周主任 runs the sub-centre above both
and also sees what was escalated to it. Every move is made by posting the
page's form; a refused move shows the service's Chinese message and changes
nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from django.utils import timezone
from PIL import Image

from conftest import People, Street
from wenming.accounts.models import User
from wenming.orders import services
from wenming.orders.models import Channel, Order, OrderEvent, OrderKind, OrderPhoto, OrderStatus, PhotoStage
from wenming.orders.staff import countdown_text, span_text
from wenming.orders.tests.conftest import NEAR_A, MakeOrder, Menu
from wenming.volunteers.models import ServiceRecord, Volunteer

pytestmark = pytest.mark.django_db

NEAR_B = (31.2301, 121.5101)
T0 = dt.datetime(2025, 5, 12, 9, 0, tzinfo=dt.UTC)  # a Monday, 17:00 in Shanghai
BOARD = "/staff/orders/"


def page(response: Any) -> str:
    return response.content.decode()


def text_of(response: Any) -> str:
    """The page's visible text, roughly: tags dropped, whitespace squeezed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page(response)))


def piece(response: Any, pattern: str) -> str:
    """The part of the page the pattern matches (it must match)."""
    found = re.search(pattern, page(response), re.S)
    assert found is not None, pattern
    return found.group(0)


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def board_rows(response: Any) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr data-order="(\d+)"', page(response))]


def url(order: Order, action: str = "") -> str:
    return (
        reverse(f"orders_staff:{action}", args=[order.pk])
        if action
        else reverse("orders_staff:detail", args=[order.pk])
    )


def at_b(people: People, menu: Menu, description: str = "乙站的电视没有信号了") -> Order:
    """刘大爷 orders 家电维修 at 乙站."""
    return services.place_order(
        actor=people.resident_b,
        service_type=menu.repair,
        description=description,
        latitude=NEAR_B[0],
        longitude=NEAR_B[1],
    )


def png(name: str = "after.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 20, 20)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def media(settings: Any, tmp_path: Any) -> Any:
    """Uploaded photos go to a fresh folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def report(people: People, menu: Menu) -> Order:
    """王阿姨 reports 飞线充电 next to 甲站, with her photo (``media`` must be in use)."""
    return services.place_order(
        actor=people.resident_a,
        service_type=menu.wires,
        description="楼道里有人从窗口拉电线给电瓶车充电",
        latitude=NEAR_A[0],
        longitude=NEAR_A[1],
        photos=[png("wires.png")],
    )


# --- The paths notifications carry -----------------------------------------------------------------------


def test_the_link_in_notifications_is_the_detail_page(make_order: MakeOrder) -> None:
    order = make_order()
    assert services.staff_link(order) == url(order)
    match = resolve(services.staff_link(order))
    assert (match.namespace, match.url_name, match.kwargs) == ("orders_staff", "detail", {"pk": order.pk})
    assert reverse("orders_staff:board") == BOARD


# --- Who sees what ---------------------------------------------------------------------------------------


def test_each_manager_sees_the_orders_of_their_own_station(
    client: Client, people: People, menu: Menu, make_order: MakeOrder
) -> None:
    mine = make_order()
    theirs = at_b(people, menu)

    response = signed_in(client, people.manager_a).get(BOARD)
    assert response.status_code == 200
    assert board_rows(response) == [mine.pk]
    assert "家里洗衣机不转了" in page(response)
    assert "乙站的电视" not in page(response)
    assert client.get(url(mine)).status_code == 200
    assert client.get(url(theirs)).status_code == 404
    assert client.post(url(theirs, "grab")).status_code == 404
    assert Order.objects.get(pk=theirs.pk).status == OrderStatus.PENDING

    other = Client()
    assert board_rows(signed_in(other, people.manager_b).get(BOARD)) == [theirs.pk]
    assert other.get(url(mine)).status_code == 404


def test_the_subcentre_sees_both_stations_and_what_was_escalated(
    client: Client, people: People, street: Street, menu: Menu, make_order: MakeOrder
) -> None:
    mine = make_order()
    theirs = at_b(people, menu)
    assert mine.accept_by is not None
    services.escalate_overdue(now=mine.accept_by + dt.timedelta(minutes=1))
    mine.refresh_from_db()
    assert mine.escalated_to == street.subcentre

    response = signed_in(client, people.subcentre_admin).get(BOARD)
    assert sorted(board_rows(response)) == sorted([mine.pk, theirs.pk])
    row = piece(response, rf'<tr data-order="{mine.pk}">.*?</tr>')
    assert "已上报" in row
    assert "甲居民区实践站" in row
    assert street.subcentre.name in row
    # Only the escalated ones, when asked.
    assert board_rows(client.get(BOARD, {"escalated": "on"})) == [mine.pk]
    # Its page, and the right to dispatch it, are the sub-centre's too.
    assert client.get(url(mine)).status_code == 200

    # 丙站's manager, in another district, sees nothing at all.
    assert board_rows(signed_in(Client(), people.manager_c).get(BOARD)) == []


def test_residents_and_volunteers_get_no_board(client: Client, people: People, make_order: MakeOrder) -> None:
    order = make_order()
    for person in (people.resident_a, people.volunteer_a):
        signed_in(client, person)
        assert client.get(BOARD).status_code == 403
        assert client.get(url(order)).status_code == 403
        assert client.post(url(order, "grab")).status_code == 403
    client.logout()
    response = client.get(BOARD)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_unknown_orders_and_actions_are_404(client: Client, people: People, make_order: MakeOrder) -> None:
    order = make_order()
    signed_in(client, people.manager_a)
    assert client.get("/staff/orders/999999/").status_code == 404
    assert client.post(f"/staff/orders/{order.pk}/explode/").status_code == 404
    assert client.get(url(order, "grab")).status_code == 405


# --- Queues, filters, order --------------------------------------------------------------------------------


def test_queues_hold_the_orders_of_their_stage(
    client: Client, people: People, menu: Menu, make_order: MakeOrder, media: Any
) -> None:
    pending = make_order()
    dispatched = make_order(OrderStatus.DISPATCHED)
    serving = make_order(OrderStatus.IN_SERVICE)
    reviewing = services.place_order(
        actor=people.resident_a,
        service_type=menu.escort,
        description="周三去医院复查",
        answers={"hospital": "瑞金医院"},
    )
    completed = make_order(OrderStatus.COMPLETED)
    complaint = services.rate_order(actor=people.resident_a, order=completed, rating=1, comment="迟到了一个小时")
    closed = make_order(OrderStatus.CLOSED)
    civility = report(people, menu)

    signed_in(client, people.manager_a)
    expected = {
        "review": [reviewing.pk],
        "pending": [pending.pk],
        "waiting": [dispatched.pk],
        "serving": [serving.pk],
        "complaint": [complaint.pk],
        "reports": [civility.pk],
        "done": [closed.pk],
    }
    for queue, pks in expected.items():
        response = client.get(BOARD, {"queue": queue})
        assert board_rows(response) == pks, queue
    everything_open = board_rows(client.get(BOARD))
    assert closed.pk not in everything_open
    assert set(everything_open) == {pending.pk, dispatched.pk, serving.pk, reviewing.pk, complaint.pk, civility.pk}
    # Each tab shows its count.
    tabs = dict(re.findall(r'data-queue="(\w+)">[^<]*<span class="wm-count">(\d+)</span>', page(client.get(BOARD))))
    assert tabs == {
        "open": "6",
        "review": "1",
        "pending": "1",
        "waiting": "1",
        "serving": "1",
        "complaint": "1",
        "reports": "1",
        "done": "1",
    }


def test_the_most_urgent_deadline_comes_first(client: Client, people: People, menu: Menu) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        later = services.place_order(actor=people.resident_a, service_type=menu.haircut, description="想理个发")  # 24h
        clock.move_to(T0 + dt.timedelta(hours=1))
        sooner = services.place_order(actor=people.resident_a, service_type=menu.repair, description="冰箱不制冷")  # 4h
        no_deadline = services.place_order(
            actor=people.resident_a,
            service_type=menu.escort,
            description="陪我去医院",
            answers={"hospital": "华山医院"},
        )
        response = signed_in(client, people.manager_a).get(BOARD)
    assert board_rows(response) == [sooner.pk, later.pk, no_deadline.pk]


def test_filters_by_station_type_and_words(
    client: Client, people: People, street: Street, menu: Menu, make_order: MakeOrder
) -> None:
    washer = make_order()
    haircut = make_order(service_type=menu.haircut, description="给我家老伴理个发")
    at_b_order = at_b(people, menu)
    signed_in(client, people.subcentre_admin)
    assert board_rows(client.get(BOARD, {"station": street.station_b.pk})) == [at_b_order.pk]
    assert sorted(board_rows(client.get(BOARD, {"station": street.station_a.pk}))) == sorted([washer.pk, haircut.pk])
    assert board_rows(client.get(BOARD, {"service_type": menu.haircut.pk})) == [haircut.pk]
    assert board_rows(client.get(BOARD, {"q": "老伴"})) == [haircut.pk]
    assert board_rows(client.get(BOARD, {"q": f"#{washer.pk}"})) == [washer.pk]
    # A station outside the scope is refused, not silently widened to it.
    response = signed_in(Client(), people.manager_a).get(BOARD, {"station": street.station_b.pk})
    assert "请选择您负责的阵地。" in page(response)


def test_the_board_takes_the_same_queries_for_3_or_30_orders(
    client: Client, people: People, menu: Menu, make_order: MakeOrder, django_assert_max_num_queries: Any
) -> None:
    make_order(OrderStatus.ACCEPTED)
    make_order(OrderStatus.DISPATCHED)
    make_order()
    signed_in(client, people.manager_a)
    client.get(BOARD)  # warm the session
    with CaptureQueriesContext(connection) as few:
        response = client.get(BOARD)
    assert len(board_rows(response)) == 3
    chen = Volunteer.objects.get(user=people.volunteer_a)
    for i in range(27):
        order = services.place_order(
            actor=people.resident_a, service_type=menu.repair, description=f"第{i}台洗衣机坏了"
        )
        if i % 3 == 0:  # some dispatched, so that the rows name their volunteer
            services.dispatch_order(actor=people.manager_a, order=order, volunteer=chen)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(BOARD)
    assert len(board_rows(response)) == 30
    # The 31st goes to a second page.
    services.place_order(actor=people.resident_a, service_type=menu.haircut, description="想理个发")
    assert len(board_rows(client.get(BOARD))) == 30
    second = client.get(BOARD, {"page": 2})
    assert len(board_rows(second)) == 1
    assert "第 2 / 2 页" in text_of(second)


# --- Countdowns --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [(0, "不到1分"), (35, "35分"), (60, "1小时"), (135, "2小时15分"), (24 * 60, "1天"), (27 * 60 + 5, "1天3小时")],
)
def test_spans_read_as_staff_say_them(minutes: int, expected: str) -> None:
    assert span_text(minutes) == expected


def test_countdown_text_before_and_after_the_deadline() -> None:
    deadline = T0 + dt.timedelta(hours=4)
    assert countdown_text(deadline, T0 + dt.timedelta(hours=1, minutes=45)) == ("还剩2小时15分", False)
    assert countdown_text(deadline, T0 + dt.timedelta(hours=4, minutes=35, seconds=20)) == ("已超时35分", True)


def test_the_board_counts_down_to_the_accept_and_finish_limits(
    client: Client, people: People, menu: Menu, chen: Volunteer
) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        order = services.place_order(actor=people.resident_a, service_type=menu.repair, description="冰箱不制冷")
        signed_in(client, people.manager_a)

        clock.move_to(T0 + dt.timedelta(hours=1, minutes=45))
        row = piece(client.get(BOARD), rf'<tr data-order="{order.pk}">.*?</tr>')
        assert "还剩2小时15分" in row
        assert "wm-overdue" not in row

        clock.move_to(T0 + dt.timedelta(hours=4, minutes=35))
        response = client.get(BOARD)
        assert re.search(r'class="wm-countdown wm-overdue"[^>]*>已超时35分<', page(response))
        assert "已超时35分" in text_of(client.get(url(order)))

        # Once accepted, the finish limit (2 days for 家电维修) runs instead.
        services.dispatch_order(actor=people.manager_a, order=order, volunteer=chen)
        services.accept_order(actor=people.volunteer_a, order=order)
        clock.move_to(T0 + dt.timedelta(hours=5, minutes=35))
        response = client.get(BOARD, {"queue": "serving"})
        assert board_rows(response) == [order.pk]
        assert "办结" in text_of(response)
        assert "还剩1天23小时" in text_of(response)


# --- One order's page --------------------------------------------------------------------------------------


def test_the_order_page_shows_everything_staff_need(
    client: Client, people: People, menu: Menu, chen: Volunteer
) -> None:
    order = services.place_order(
        actor=people.resident_a,
        description="家里的洗衣机坏了，想请人来修一下",
        latitude=NEAR_A[0],
        longitude=NEAR_A[1],
        address="甲小区3号楼201",
        contact_phone="13912340000",
    )
    assert order.classification
    response = signed_in(client, people.manager_a).get(url(order))
    text = text_of(response)
    assert "13912340000" in text  # unmasked for staff
    assert "王阿姨" in text
    assert "甲小区3号楼201" in text
    assert "自动分类" in text
    assert "洗衣机" in piece(response, r'id="wm-classification".*?</section>')
    assert f"{round(order.classification['confidence'] * 100)}%" in text
    # The recommender's candidates, each with a score and its reasons.
    candidates = piece(response, r'<table class="wm-table" id="wm-candidates">.*?</table>')
    assert f'data-volunteer="{chen.pk}"' in candidates
    assert "具备技能：家电维修" in candidates
    assert "派给小陈" in candidates
    assert re.search(r'class="wm-score">\d+\.\d<', candidates)
    # The history.
    assert "点单" in piece(response, r'id="wm-history".*?</ul>')


def test_answers_to_the_extra_questions_are_shown_in_words(client: Client, people: People, menu: Menu) -> None:
    order = services.place_order(
        actor=people.resident_a,
        service_type=menu.escort,
        description="周三去医院复查",
        answers={"hospital": "瑞金医院", "mobility": "wheelchair"},
    )
    text = text_of(signed_in(client, people.manager_a).get(url(order)))
    assert "就诊医院 瑞金医院" in text
    assert "行动情况 需要轮椅" in text


# --- 审单 ---------------------------------------------------------------------------------------------------


def test_approve_then_dispatch_from_the_candidates(client: Client, people: People, menu: Menu, chen: Volunteer) -> None:
    order = services.place_order(
        actor=people.resident_a,
        service_type=menu.escort,
        description="周三去医院复查",
        answers={"hospital": "瑞金医院"},
    )
    signed_in(client, people.manager_a)
    response = client.post(url(order, "approve"), {"approve-note": "情况属实"})
    assert response.status_code == 302
    assert response["Location"] == url(order)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert order.accept_by is not None
    assert "已通过审核" in page(client.get(url(order)))

    response = client.post(url(order, "dispatch"), {"dispatch-volunteer": chen.pk})
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.assigned_volunteer_id) == (OrderStatus.DISPATCHED, chen.pk)
    assert "已派给小陈。" in page(client.get(url(order)))


def test_approving_twice_says_why_and_changes_nothing(client: Client, people: People, make_order: MakeOrder) -> None:
    order = make_order()  # already 待派单
    before = OrderEvent.objects.filter(order=order).count()
    response = signed_in(client, people.manager_a).post(url(order, "approve"), {"approve-note": ""})
    assert response.status_code == 409
    assert "“待派单”的订单不能通过审核。" in page(response)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert OrderEvent.objects.filter(order=order).count() == before


def test_reject_needs_a_reason_the_requester_will_read(client: Client, people: People, menu: Menu) -> None:
    order = services.place_order(
        actor=people.resident_a, service_type=menu.escort, description="陪我去医院", answers={"hospital": "华山医院"}
    )
    signed_in(client, people.manager_a)
    response = client.post(url(order, "reject"), {"reject-reason": "  "})
    assert response.status_code == 400
    assert "请填写不予受理的原因。" in page(response)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REVIEWING

    response = client.post(url(order, "reject"), {"reject-reason": "本站暂无陪诊志愿者，已转介社区卫生服务中心"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.REJECTED
    assert order.status_note == "本站暂无陪诊志愿者，已转介社区卫生服务中心"


def test_override_the_classifiers_type(client: Client, people: People, menu: Menu) -> None:
    order = services.place_order(
        actor=people.resident_a, description="家里的洗衣机坏了，想请人来修一下", latitude=NEAR_A[0], longitude=NEAR_A[1]
    )
    assert order.service_type == menu.repair
    signed_in(client, people.manager_a)
    # A report category is not a service: refused with the form's message.
    response = client.post(url(order, "retype"), {"retype-service_type": menu.wires.pk})
    assert response.status_code == 400
    assert "请选择同类的、在受理中的服务类型。" in page(response)

    response = client.post(url(order, "retype"), {"retype-service_type": menu.haircut.pk, "retype-note": "其实是理发"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.service_type == menu.haircut
    text = text_of(client.get(url(order)))
    assert "服务类型由“家电维修”改为“爱心理发”：其实是理发" in text
    assert "已人工更改" in text


# --- 派单 ---------------------------------------------------------------------------------------------------


def test_redispatch_to_a_team_or_by_phone(
    client: Client, people: People, menu: Menu, make_order: MakeOrder, zhao: Volunteer
) -> None:
    order = make_order(OrderStatus.DISPATCHED)
    signed_in(client, people.manager_a)
    assert "改派" in page(client.get(url(order)))
    # The one it is already with is refused, with the service's message.
    response = client.post(url(order, "dispatch"), {"dispatch-volunteer": order.assigned_volunteer_id})
    assert response.status_code == 409
    assert "已经派给这位志愿者了。" in page(response)

    response = client.post(url(order, "dispatch"), {"dispatch-team": menu.barbers.pk})
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.assigned_team_id, order.assigned_volunteer_id) == (menu.barbers.pk, None)
    assert OrderEvent.objects.filter(order=order, action="redispatch", team=menu.barbers).exists()

    response = client.post(url(order, "dispatch"), {"dispatch-phone": "13800000099"})
    assert response.status_code == 400
    assert "在本辖区没有找到这个手机号的在册志愿者。" in page(response)
    response = client.post(url(order, "dispatch"), {"dispatch-phone": people.leader_a.phone, "dispatch-note": "辛苦"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.assigned_volunteer_id == zhao.pk
    assert order.status_note == "辛苦"


def test_dispatch_without_anyone_chosen_is_refused(client: Client, people: People, make_order: MakeOrder) -> None:
    order = make_order()
    response = signed_in(client, people.manager_a).post(url(order, "dispatch"), {})
    assert response.status_code == 400
    assert "请选择一位志愿者或一支队伍。" in page(response)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING


def test_a_volunteer_of_another_station_cannot_be_chosen(
    client: Client, people: People, street: Street, make_order: MakeOrder
) -> None:
    from wenming.volunteers import services as volunteer_services

    stranger = volunteer_services.register_volunteer(
        actor=people.manager_b, user=people.resident_b, site=street.station_b
    )
    order = make_order()
    response = signed_in(client, people.manager_a).post(url(order, "dispatch"), {"dispatch-volunteer": stranger.pk})
    assert response.status_code == 400
    assert "只能派给本辖区在册的志愿者。" in page(response)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING


def test_open_grab(client: Client, people: People, make_order: MakeOrder) -> None:
    order = make_order()
    signed_in(client, people.manager_a)
    assert client.post(url(order, "grab")).status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.GRABBING
    response = client.get(BOARD, {"queue": "waiting"})
    assert board_rows(response) == [order.pk]
    assert "抢单中" in text_of(response)
    # Not twice.
    response = client.post(url(order, "grab"))
    assert response.status_code == 409
    assert "“抢单中”的订单不能开放抢单。" in page(response)


def test_cancel(client: Client, people: People, make_order: MakeOrder) -> None:
    order = make_order(OrderStatus.DISPATCHED)
    response = signed_in(client, people.manager_a).post(url(order, "cancel"), {"cancel-reason": "居民已自行修好"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert "撤销订单" not in page(client.get(url(order)))


# --- On the volunteer's behalf -------------------------------------------------------------------------------


def test_start_and_complete_on_the_volunteers_behalf(
    client: Client, people: People, make_order: MakeOrder, chen: Volunteer
) -> None:
    order = make_order(OrderStatus.ACCEPTED)
    signed_in(client, people.manager_a)
    assert client.post(url(order, "start")).status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_SERVICE

    # Just started: two hours cannot have been served yet.
    response = client.post(url(order, "complete"), {"complete-hours": "2", "complete-beneficiaries": "1"})
    assert response.status_code == 400
    assert re.search(r'name="complete-hours".*?时长不能超过实际服务时间', page(response), re.S)
    assert not ServiceRecord.objects.filter(volunteer=chen).exists()

    assert order.accepted_at is not None
    began = timezone.localtime(order.accepted_at + dt.timedelta(minutes=5))
    response = client.post(
        url(order, "complete"),
        {
            "complete-hours": "1.5",
            "complete-beneficiaries": "2",
            "complete-started_at": began.strftime("%Y-%m-%dT%H:%M"),
            "complete-note": "更换了排水泵",
        },
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert order.beneficiaries == 2
    record = ServiceRecord.objects.get(volunteer=chen)
    assert record.hours == Decimal("1.50")
    assert record.recorder_id == people.manager_a.pk


# --- 评单 and the low-rating review ---------------------------------------------------------------------------


def test_a_low_rating_is_reviewed_by_the_manager(client: Client, people: People, make_order: MakeOrder) -> None:
    order = make_order(OrderStatus.COMPLETED)
    services.rate_order(actor=people.resident_a, order=order, rating=1, comment="师傅迟到了一个小时")
    signed_in(client, people.manager_a)
    response = client.get(BOARD, {"queue": "complaint"})
    assert board_rows(response) == [order.pk]
    detail = text_of(client.get(url(order)))
    assert "差评 1 分：师傅迟到了一个小时" in detail

    response = client.post(url(order, "review"), {"review-note": ""})
    assert response.status_code == 400
    assert "请填写复核意见。" in page(response)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.COMPLAINT

    response = client.post(url(order, "review"), {"review-note": "已电话回访，志愿者当面致歉"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.review_note) == (OrderStatus.CLOSED, "已电话回访，志愿者当面致歉")
    # Residents rate their own orders: no rating form for an order they placed themselves.
    assert 'action="{}"'.format(url(order, "rate")) not in page(client.get(url(order)))


# --- 随手拍 ---------------------------------------------------------------------------------------------------


def test_report_persuaded_then_not_rectified_then_rectified_with_a_photo(
    client: Client, people: People, menu: Menu, media: Any
) -> None:
    civility = report(people, menu)
    assert civility.kind == OrderKind.REPORT
    signed_in(client, people.manager_a)
    response = client.get(BOARD, {"queue": "reports"})
    assert board_rows(response) == [civility.pk]
    detail = page(client.get(url(civility)))
    assert "记录劝导" in detail
    assert "派单" not in re.sub(r"<nav.*?</nav>", "", detail, flags=re.S)  # reports are not dispatched

    response = client.post(url(civility, "persuade"), {"persuade-note": ""})
    assert response.status_code == 400
    assert "请填写劝导情况。" in page(response)
    response = client.post(url(civility, "persuade"), {"persuade-note": "已上门提醒，住户答应拆除"})
    assert response.status_code == 302
    civility.refresh_from_db()
    assert civility.status == OrderStatus.PERSUADED

    today = timezone.localdate()
    response = client.post(url(civility, "not_rectified"), {"not_rectified-follow_up_on": today.isoformat()})
    assert response.status_code == 400
    assert "复查日期应在今后90天内。" in page(response)
    assert Order.objects.get(pk=civility.pk).status == OrderStatus.PERSUADED
    follow_up = today + dt.timedelta(days=3)
    response = client.post(
        url(civility, "not_rectified"),
        {"not_rectified-follow_up_on": follow_up.isoformat(), "not_rectified-note": "电线仍在"},
    )
    assert response.status_code == 302
    civility.refresh_from_db()
    assert (civility.status, civility.follow_up_on) == (OrderStatus.UNRECTIFIED, follow_up)

    # On the follow-up day the board flags it (a new day, a new sign-in: sessions last 12 hours).
    with time_machine.travel(timezone.make_aware(dt.datetime.combine(follow_up, dt.time(10, 0))), tick=False):
        response = signed_in(Client(), people.manager_a).get(BOARD, {"queue": "reports", "status": "due"})
        assert board_rows(response) == [civility.pk]
        assert "已到期" in text_of(response)
    assert board_rows(client.get(BOARD, {"queue": "reports", "status": "due"})) == []

    response = client.post(url(civility, "rectify"), {"rectify-note": "电线已拆除", "rectify-photos": [png()]})
    assert response.status_code == 302
    civility.refresh_from_db()
    assert civility.status == OrderStatus.RECTIFIED
    photo = OrderPhoto.objects.get(order=civility, stage=PhotoStage.FOLLOW_UP)
    detail = page(client.get(url(civility)))
    assert f'<img src="/orders/photos/{photo.pk}"' in detail
    assert client.get(f"/orders/photos/{photo.pk}").status_code == 200
    assert board_rows(client.get(BOARD, {"queue": "reports", "status": OrderStatus.RECTIFIED})) == [civility.pk]


def test_a_bad_photo_is_refused_and_the_report_stays_open(
    client: Client, people: People, menu: Menu, media: Any
) -> None:
    civility = report(people, menu)
    bogus = SimpleUploadedFile("after.png", b"not an image at all", content_type="image/png")
    response = signed_in(client, people.manager_a).post(url(civility, "rectify"), {"rectify-photos": [bogus]})
    assert response.status_code == 400
    civility.refresh_from_db()
    assert civility.status == OrderStatus.REPORTED
    assert not OrderPhoto.objects.filter(order=civility, stage=PhotoStage.FOLLOW_UP).exists()


# --- 代点单 ---------------------------------------------------------------------------------------------------


def test_staff_order_for_a_resident_found_by_phone(
    client: Client, people: People, street: Street, menu: Menu, chen: Volunteer
) -> None:
    signed_in(client, people.manager_a)
    form = page(client.get(reverse("orders_staff:new")))
    assert 'name="phone"' in form
    assert f'name="q-{menu.escort.pk}-hospital"' in form

    response = client.post(
        reverse("orders_staff:new"),
        {
            "phone": people.resident_a.phone,
            "service_type": menu.escort.pk,
            "description": "周三上午去瑞金医院复查",
            f"q-{menu.escort.pk}-hospital": "瑞金医院",
            f"q-{menu.escort.pk}-mobility": "wheelchair",
        },
    )
    assert response.status_code == 302
    order = Order.objects.get()
    assert response["Location"] == url(order)
    assert (order.requester, order.created_by, order.channel) == (people.resident_a, people.manager_a, Channel.STAFF)
    assert order.site == street.station_a
    assert order.status == OrderStatus.REVIEWING
    assert order.answers == {"hospital": "瑞金医院", "mobility": "wheelchair"}
    assert "已为王阿姨代点单“陪诊”（待审核）。" in page(client.get(response["Location"]))


def test_staff_order_errors_are_shown_and_nothing_is_written(
    client: Client, people: People, menu: Menu, chen: Volunteer
) -> None:
    signed_in(client, people.manager_a)
    new = reverse("orders_staff:new")
    response = client.post(new, {"phone": "13800000099", "service_type": menu.repair.pk, "description": "修冰箱"})
    assert response.status_code == 400
    assert "在您负责的阵地没有找到这个手机号的居民" in page(response)
    # 刘大爷 lives at 乙站: 张站长 cannot find him.
    response = client.post(new, {"phone": people.resident_b.phone, "service_type": menu.repair.pk, "description": "修"})
    assert "在您负责的阵地没有找到这个手机号的居民" in page(response)
    # The service's own checks.
    response = client.post(new, {"phone": people.resident_a.phone, "service_type": menu.repair.pk, "description": ""})
    assert response.status_code == 400
    assert "请描述您的需求。" in page(response)
    response = client.post(
        new, {"phone": people.resident_a.phone, "service_type": menu.escort.pk, "description": "陪诊"}
    )
    assert re.search(rf'name="q-{menu.escort.pk}-hospital".*?请回答“就诊医院”。', page(response), re.S)
    assert not Order.objects.exists()


def test_staff_record_a_phoned_in_rating_for_an_order_they_placed(
    client: Client, people: People, menu: Menu, chen: Volunteer
) -> None:
    with time_machine.travel(T0, tick=True):
        order = services.place_order(
            actor=people.manager_a, requester=people.resident_a, service_type=menu.repair, description="电视没信号"
        )
        services.dispatch_order(actor=people.manager_a, order=order, volunteer=chen)
        services.accept_order(actor=people.volunteer_a, order=order)
        services.start_order(actor=people.volunteer_a, order=order)
    services.complete_order(actor=people.volunteer_a, order=order, servers=[services.Served(chen, "1")])
    signed_in(client, people.manager_a)
    assert "代录评价" in page(client.get(url(order)))
    response = client.post(url(order, "rate"), {"rate-rating": "5", "rate-comment": "王阿姨电话里说很满意"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.rating) == (OrderStatus.CLOSED, 5)
