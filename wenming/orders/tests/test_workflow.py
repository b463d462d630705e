"""The order loop through the services: 点单 → 审单 → 派单 → 接单 → 服务 → 评单, and 随手拍.

Each move is checked for what it writes (status, history, ledger), whom it
tells, and what it refuses: the wrong person gets 404 or 403, the wrong
moment a Conflict, bad input an Invalid with a Chinese message, and a
refusal changes nothing.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from conftest import People, Street
from wenming.core.errors import Conflict, Invalid, NotAllowed, NotFound
from wenming.orders import services
from wenming.orders.models import Channel, DispatchMode, DispatchRule, Order, OrderEvent, OrderServer, OrderStatus
from wenming.orders.tests.conftest import NEAR_A, MakeOrder, Menu
from wenming.volunteers.models import ServiceRecord, Volunteer

pytestmark = pytest.mark.django_db


def png_upload(name: str = "wires.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 80, 40)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def actions(order: Order) -> list[str]:
    return list(OrderEvent.objects.filter(order=order).order_by("at", "id").values_list("action", flat=True))


# --- 点单 ---------------------------------------------------------------------------------


def test_a_resident_orders_and_the_nearest_station_gets_it(
    people: People, street: Street, menu: Menu, inbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        order = services.place_order(
            actor=people.resident_b,  # lives at 乙站, but asks for help at a place next to 甲站
            service_type=menu.repair,
            description="冰箱不制冷了",
            latitude=NEAR_A[0],
            longitude=NEAR_A[1],
        )
    assert order.site == street.station_a
    assert order.status == OrderStatus.PENDING
    assert order.channel == Channel.SELF
    assert (order.contact_name, order.contact_phone) == ("刘大爷", people.resident_b.phone)
    assert order.accept_by is not None
    assert order.accept_by - order.created_at == dt.timedelta(hours=4)
    assert actions(order) == ["create"]
    assert inbox(people.manager_a) == ["新的点单：家电维修"]
    assert inbox(people.manager_b) == []


def test_without_a_location_the_home_station_gets_it(people: People, street: Street, menu: Menu) -> None:
    order = services.place_order(actor=people.resident_b, service_type=menu.repair, description="电视没有信号")
    assert order.site == street.station_b


def test_free_text_is_classified_and_the_evidence_kept(people: People, menu: Menu) -> None:
    order = services.place_order(actor=people.resident_a, description="家里的洗衣机坏了，想请人来修一下")
    assert order.service_type == menu.repair
    assert order.classification["type"] == menu.repair.pk
    assert "洗衣机" in order.classification["words"]
    assert 0.35 <= order.classification["confidence"] <= 1
    assert OrderEvent.objects.get(order=order).note == "自动分类：家电维修"


def test_text_that_names_no_service_is_refused_and_nothing_is_written(people: People, menu: Menu) -> None:
    with pytest.raises(Invalid) as caught:
        services.place_order(actor=people.resident_a, description="今天天气不错")
    assert caught.value.code == "unclassified"
    assert "请选择" in caught.value.message
    assert not Order.objects.exists()


def test_staff_correct_the_type(people: People, menu: Menu) -> None:
    order = services.place_order(actor=people.resident_a, description="家里的洗衣机坏了")
    services.override_type(actor=people.manager_a, order=order, service_type=menu.haircut, note="其实是想理发")
    order.refresh_from_db()
    assert order.service_type == menu.haircut
    event = OrderEvent.objects.filter(order=order, action="retype").get()
    assert event.note == "服务类型由“家电维修”改为“爱心理发”：其实是想理发"
    with pytest.raises(NotFound):
        services.override_type(actor=people.manager_b, order=order, service_type=menu.repair)
    with pytest.raises(Invalid):
        services.override_type(actor=people.manager_a, order=order, service_type=menu.wires)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"description": "  "}, "missing_description"),
        ({"description": "修" * 2001}, "invalid_description"),
        ({"latitude": "abc", "longitude": "1"}, "invalid_location"),
        ({"latitude": 91, "longitude": 121}, "invalid_location"),
        ({"contact_phone": "12345"}, "invalid_phone"),
        ({"contact_email": "not-an-email"}, "invalid_email"),
        ({"answers": {"colour": "red"}}, "unknown_attribute"),
    ],
)
def test_bad_input_is_refused_in_chinese(people: People, menu: Menu, fields: dict[str, Any], code: str) -> None:
    values: dict[str, Any] = {"description": "洗衣机坏了"}
    values.update(fields)
    with pytest.raises(Invalid) as caught:
        services.place_order(actor=people.resident_a, service_type=menu.repair, **values)
    assert caught.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.message)
    assert not Order.objects.exists()


def test_a_landline_is_a_contact_phone(people: People, menu: Menu) -> None:
    order = services.place_order(
        actor=people.resident_a, service_type=menu.repair, description="洗衣机坏了", contact_phone="021-62345678"
    )
    assert order.contact_phone == "021-62345678"


def test_extra_questions_are_checked(people: People, menu: Menu) -> None:
    with pytest.raises(Invalid) as caught:
        services.place_order(actor=people.resident_a, service_type=menu.escort, description="下周三去医院复查")
    assert caught.value.code == "missing_attribute"
    assert "就诊医院" in caught.value.message
    with pytest.raises(Invalid) as caught:
        services.place_order(
            actor=people.resident_a,
            service_type=menu.escort,
            description="下周三去医院复查",
            answers={"hospital": "瑞金医院", "mobility": "fly"},
        )
    assert caught.value.code == "invalid_attribute"
    order = services.place_order(
        actor=people.resident_a,
        service_type=menu.escort,
        description="下周三去医院复查",
        answers={"hospital": "瑞金医院", "mobility": "wheelchair"},
    )
    assert order.answers == {"hospital": "瑞金医院", "mobility": "wheelchair"}


def test_staff_order_for_a_resident_of_their_subtree_only(people: People, street: Street, menu: Menu) -> None:
    order = services.place_order(
        actor=people.manager_a,
        requester=people.resident_a,
        service_type=menu.repair,
        description="电话代点单：洗衣机坏了",
    )
    assert order.channel == Channel.STAFF
    assert order.requester == people.resident_a
    assert order.created_by == people.manager_a
    with pytest.raises(NotAllowed):
        services.place_order(
            actor=people.manager_a, requester=people.resident_b, service_type=menu.repair, description="洗衣机坏了"
        )
    assert Order.objects.count() == 1


# --- 审单 ---------------------------------------------------------------------------------


def test_an_order_that_needs_review_waits_and_can_be_rejected_with_a_reason(
    people: People, menu: Menu, inbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order = services.place_order(
        actor=people.resident_a, service_type=menu.escort, description="去医院复查", answers={"hospital": "瑞金医院"}
    )
    assert order.status == OrderStatus.REVIEWING
    assert order.accept_by is None
    with pytest.raises(NotFound):
        services.reject_order(actor=people.manager_b, order=order, reason="不在辖区")
    with pytest.raises(Invalid):
        services.reject_order(actor=people.manager_a, order=order, reason=" ")
    with django_capture_on_commit_callbacks(execute=True):
        services.reject_order(actor=people.manager_a, order=order, reason="该时段没有可陪诊的志愿者，请改约时间")
    order.refresh_from_db()
    assert order.status == OrderStatus.REJECTED
    assert order.status_note == "该时段没有可陪诊的志愿者，请改约时间"
    assert order.closed_at is not None
    assert inbox(people.resident_a) == ["您的点单未被受理"]


def test_approval_starts_the_accept_clock(people: People, menu: Menu) -> None:
    order = services.place_order(
        actor=people.resident_a, service_type=menu.escort, description="去医院复查", answers={"hospital": "瑞金医院"}
    )
    services.approve_order(actor=people.manager_a, order=order)
    assert order.status == OrderStatus.PENDING
    assert order.accept_by is not None
    with pytest.raises(Conflict):
        services.approve_order(actor=people.manager_a, order=order)


# --- 派单 and 接单 -------------------------------------------------------------------------


def test_dispatch_accept_start_complete_rate(
    people: People, menu: Menu, chen: Volunteer, make_order: MakeOrder, inbox: Any
) -> None:
    order = make_order(OrderStatus.CLOSED)
    assert actions(order) == ["create", "dispatch", "accept", "start", "complete", "rate"]
    assert order.accepted_by == chen
    assert order.rating == 5
    assert order.closed_at is not None
    served = OrderServer.objects.get(order=order)
    assert served.hours == Decimal("1.50")
    record = ServiceRecord.objects.get(pk=served.record_id)
    assert (record.volunteer, record.source, record.source_ref) == (chen, "order", f"order:{order.pk}")
    assert record.description == "点单服务：家电维修"
    assert record.site == order.site


def test_only_the_assignee_may_accept(
    people: People, menu: Menu, chen: Volunteer, zhao: Volunteer, make_order: MakeOrder
) -> None:
    order = make_order(OrderStatus.DISPATCHED)  # to 小陈
    with pytest.raises(NotFound):
        services.accept_order(actor=people.resident_b, order=order)
    with pytest.raises((NotAllowed, NotFound)):
        services.accept_order(actor=people.leader_a, order=order)
    services.accept_order(actor=people.volunteer_a, order=order)
    with pytest.raises(Conflict) as caught:
        services.accept_order(actor=people.volunteer_a, order=order)
    assert caught.value.code == "already_accepted"


def test_a_team_member_accepts_an_order_dispatched_to_the_team(
    people: People, menu: Menu, chen: Volunteer, zhao: Volunteer
) -> None:
    order = services.place_order(actor=people.resident_a, service_type=menu.haircut, description="想请人上门理发")
    services.dispatch_order(actor=people.manager_a, order=order, team=menu.barbers)
    services.accept_order(actor=people.leader_a, order=order)
    order.refresh_from_db()
    assert order.accepted_by == zhao
    with pytest.raises(Conflict) as caught:
        services.accept_order(actor=people.volunteer_a, order=order)
    assert caught.value.code == "taken"


def test_decline_with_a_reason_goes_back_to_the_station(
    people: People, chen: Volunteer, make_order: MakeOrder, inbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order = make_order(OrderStatus.DISPATCHED)
    with pytest.raises(Invalid):
        services.decline_order(actor=people.volunteer_a, order=order, reason="")
    with django_capture_on_commit_callbacks(execute=True):
        services.decline_order(actor=people.volunteer_a, order=order, reason="这周出差")
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert order.assigned_volunteer is None
    event = OrderEvent.objects.get(order=order, action="decline")
    assert (event.volunteer, event.note) == (chen, "这周出差")
    assert inbox(people.manager_a)[-1] == "拒单：家电维修"


def test_redispatch_moves_the_order_and_tells_both(
    people: People,
    street: Street,
    menu: Menu,
    chen: Volunteer,
    zhao: Volunteer,
    make_order: MakeOrder,
    inbox: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    order = make_order(OrderStatus.ACCEPTED)
    zhao.skills.add(menu.repair_skill)
    with django_capture_on_commit_callbacks(execute=True):
        services.dispatch_order(actor=people.manager_a, order=order, volunteer=zhao, note="小陈临时有事")
    order.refresh_from_db()
    assert order.status == OrderStatus.DISPATCHED
    assert (order.assigned_volunteer, order.accepted_by) == (zhao, None)
    assert actions(order)[-1] == "redispatch"
    assert inbox(people.volunteer_a)[-1] == "订单已改派：家电维修"
    assert inbox(people.leader_a)[-1] == "新派单：家电维修"


def test_dispatch_only_within_the_subtree(people: People, street: Street, menu: Menu, make_order: MakeOrder) -> None:
    from wenming.volunteers import services as volunteer_services

    outsider = volunteer_services.register_volunteer(
        actor=people.manager_b, user=people.resident_b, site=street.station_b
    )
    order = make_order()
    with pytest.raises(Invalid) as caught:
        services.dispatch_order(actor=people.manager_a, order=order, volunteer=outsider)
    assert caught.value.code == "invalid_assignee"
    with pytest.raises(NotFound):
        services.dispatch_order(actor=people.manager_b, order=order, volunteer=outsider)
    with pytest.raises(Invalid):
        services.dispatch_order(actor=people.manager_a, order=order)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_open_grab_lets_qualified_volunteers_take_it(
    people: People, menu: Menu, chen: Volunteer, zhao: Volunteer, make_order: MakeOrder
) -> None:
    order = make_order()
    services.open_grab(actor=people.manager_a, order=order)
    with pytest.raises(NotFound):  # 赵队长 has not the skill 家电维修: he does not see it
        services.accept_order(actor=people.leader_a, order=order)
    accepted = services.accept_order(actor=people.volunteer_a, order=order)
    assert accepted.accepted_by == chen
    assert actions(order)[-1] == "grab"


def test_a_site_rule_dispatches_by_itself(people: People, street: Street, menu: Menu, chen: Volunteer) -> None:
    DispatchRule.objects.create(site=street.subcentre, mode=DispatchMode.GRAB)
    order = services.place_order(actor=people.resident_a, service_type=menu.repair, description="洗衣机坏了")
    assert order.status == OrderStatus.GRABBING
    DispatchRule.objects.create(site=street.station_a, mode=DispatchMode.AUTO)  # the nearer rule wins
    order = services.place_order(actor=people.resident_a, service_type=menu.repair, description="冰箱坏了")
    assert order.status == OrderStatus.DISPATCHED
    assert order.assigned_volunteer == chen
    assert OrderEvent.objects.filter(order=order, action="dispatch").get().actor_label == "系统自动派单"


def test_cancel_before_acceptance_only(people: People, make_order: MakeOrder) -> None:
    order = make_order(OrderStatus.DISPATCHED)
    with pytest.raises(NotFound):
        services.cancel_order(actor=people.resident_b, order=order)
    services.cancel_order(actor=people.resident_a, order=order, reason="自己修好了")
    assert order.status == OrderStatus.CANCELLED
    accepted = make_order(OrderStatus.ACCEPTED)
    with pytest.raises(Conflict):
        services.cancel_order(actor=people.resident_a, order=accepted)


def test_release_returns_an_accepted_order(people: People, make_order: MakeOrder) -> None:
    order = make_order(OrderStatus.ACCEPTED)
    services.release_order(actor=people.volunteer_a, order=order, reason="身体不适")
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert order.accepted_by is None
    assert order.accept_by is not None


# --- 服务 ----------------------------------------------------------------------------------


def test_hours_are_capped_by_the_time_served(people: People, chen: Volunteer, make_order: MakeOrder) -> None:
    order = make_order(OrderStatus.IN_SERVICE)  # started two hours ago
    with pytest.raises(Invalid) as caught:
        services.complete_order(actor=people.volunteer_a, order=order, servers=[services.Served(chen, "2.5")])
    assert caught.value.code == "invalid_hours"
    with pytest.raises(Invalid) as caught:
        services.complete_order(actor=people.volunteer_a, order=order, servers=[])
    assert caught.value.code == "missing_server"
    with pytest.raises(Invalid):
        services.complete_order(actor=people.volunteer_a, order=order, servers=[services.Served(chen, "abc")])
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_SERVICE
    assert not ServiceRecord.objects.filter(source="order").exists()


def test_several_volunteers_served_each_get_an_entry(
    people: People, menu: Menu, chen: Volunteer, zhao: Volunteer, make_order: MakeOrder
) -> None:
    order = make_order(OrderStatus.IN_SERVICE)
    services.complete_order(
        actor=people.volunteer_a,
        order=order,
        servers=[services.Served(chen, "1.5"), services.Served(zhao, "1")],
        beneficiaries=2,
        note="更换了排水泵",
    )
    assert sorted(ServiceRecord.objects.filter(source="order").values_list("hours", flat=True)) == [
        Decimal("1.00"),
        Decimal("1.50"),
    ]
    assert order.beneficiaries == 2


def test_completing_twice_writes_no_second_entry(people: People, chen: Volunteer, make_order: MakeOrder) -> None:
    order = make_order(OrderStatus.COMPLETED)
    with pytest.raises(Conflict):
        services.complete_order(actor=people.volunteer_a, order=order, servers=[services.Served(chen, "1")])
    assert ServiceRecord.objects.filter(source="order").count() == 1


# --- 评单 ---------------------------------------------------------------------------------


def test_a_low_rating_opens_a_review(
    people: People, make_order: MakeOrder, inbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order = make_order(OrderStatus.COMPLETED)
    with pytest.raises(NotFound):
        services.rate_order(actor=people.resident_b, order=order, rating=1, comment="差")
    with pytest.raises(Invalid) as caught:
        services.rate_order(actor=people.resident_a, order=order, rating=2)
    assert caught.value.code == "missing_comment"
    for bad in (0, 6, True, "5"):
        with pytest.raises(Invalid):
            services.rate_order(actor=people.resident_a, order=order, rating=bad)  # type: ignore[arg-type]
    with django_capture_on_commit_callbacks(execute=True):
        services.rate_order(actor=people.resident_a, order=order, rating=2, comment="迟到了一个小时")
    assert order.status == OrderStatus.COMPLAINT
    assert inbox(people.manager_a)[-1] == "差评待复核：家电维修"
    with pytest.raises(Conflict):
        services.rate_order(actor=people.resident_a, order=order, rating=5)
    services.review_complaint(actor=people.manager_a, order=order, note="已与志愿者沟通，下次提前联系")
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED
    assert order.review_note == "已与志愿者沟通，下次提前联系"


def test_unrated_orders_close_after_the_sites_days(people: People, street: Street, make_order: MakeOrder) -> None:
    DispatchRule.objects.create(site=street.station_a, rate_within_days=3)
    order = make_order(OrderStatus.COMPLETED)
    assert services.close_unrated(now=timezone.now() + dt.timedelta(days=2)) == 0
    assert services.close_unrated(now=timezone.now() + dt.timedelta(days=3, minutes=1)) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED
    assert order.rating is None
    event = OrderEvent.objects.filter(order=order).last()
    assert event is not None
    assert (event.actor, event.actor_label, event.note) == (None, "系统", "3天内未评价，自动办结")


# --- 随手拍 --------------------------------------------------------------------------------


def test_a_civility_report_is_persuaded_followed_up_and_rectified(
    people: People, street: Street, menu: Menu, inbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with pytest.raises(Invalid) as caught:
        services.place_order(actor=people.volunteer_a, service_type=menu.wires, description="楼道里有飞线")
    assert caught.value.code == "missing_photo"
    report = services.place_order(
        actor=people.volunteer_a,
        service_type=menu.wires,
        description="3号楼楼道里有人拉飞线给电瓶车充电",
        latitude=NEAR_A[0],
        longitude=NEAR_A[1],
        photos=[png_upload()],
    )
    assert report.photos.count() == 1
    assert (report.kind, report.status, report.site) == ("report", OrderStatus.REPORTED, street.station_a)
    with pytest.raises(Conflict):
        services.dispatch_order(actor=people.manager_a, order=report, volunteer=None)
    with django_capture_on_commit_callbacks(execute=True):
        services.persuade_report(actor=people.manager_a, order=report, note="已上门劝导，住户答应改正")
    follow_up = timezone.localdate() + dt.timedelta(days=7)
    with pytest.raises(Invalid):
        services.mark_not_rectified(actor=people.manager_a, order=report, follow_up_on=timezone.localdate())
    services.mark_not_rectified(actor=people.manager_a, order=report, follow_up_on=follow_up)
    assert (report.status, report.follow_up_on) == (OrderStatus.UNRECTIFIED, follow_up)
    services.persuade_report(actor=people.manager_a, order=report, note="复查仍未整改，再次劝导")
    services.mark_rectified(actor=people.manager_a, order=report, note="飞线已拆除")
    report.refresh_from_db()
    assert report.status == OrderStatus.RECTIFIED
    assert report.follow_up_on is None
    assert actions(report) == ["create", "persuade", "not_rectified", "persuade", "rectify"]
    assert inbox(people.volunteer_a) == ["您反映的问题已劝导"]
    with pytest.raises(NotFound):
        services.persuade_report(actor=people.manager_b, order=report, note="x")


def test_a_report_needs_a_category(people: People, menu: Menu) -> None:
    with pytest.raises(Invalid):
        services.place_order(actor=people.resident_a, kind="report", description="有人乱扔垃圾")


# --- Races in one thread: a stale copy loses ---------------------------------------------


def test_a_stale_copy_cannot_move(people: People, chen: Volunteer, make_order: MakeOrder) -> None:
    order = make_order(OrderStatus.DISPATCHED)
    stale = Order.objects.get(pk=order.pk)
    services.cancel_order(actor=people.resident_a, order=order)
    with pytest.raises(Conflict):
        services.accept_order(actor=people.volunteer_a, order=stale)
    stale.refresh_from_db()
    assert stale.accepted_by is None


def test_the_clock_is_the_services_clock(people: People, menu: Menu) -> None:
    with time_machine.travel(dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC), tick=False):
        order = services.place_order(actor=people.resident_a, service_type=menu.repair, description="空调坏了")
    assert order.created_at == dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)
