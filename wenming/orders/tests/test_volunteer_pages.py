"""Volunteers' order pages: 我的任务 and the moves on an order's page.

小陈 (volunteer_a, 甲站, skill 家电维修, member of 甲站理发队) accepts, declines with a reason, starts,
completes (the hours go into his ledger) and gives an order back. Open grabs show to the volunteers who
qualify: 小陈 for 家电维修, 赵队长 (no repair skill) only for the barbers' 爱心理发; a volunteer of
another district sees neither. 王阿姨 is not a volunteer: the page tells her so.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from wenming.accounts.models import Role, RoleGrant, User
from wenming.orders import policies, services
from wenming.orders.models import Order, OrderEvent, OrderServer, OrderStatus, PhotoStage
from wenming.orders.tests.conftest import NEAR_A
from wenming.orders.views import duration_text
from wenming.volunteers import services as volunteer_services
from wenming.volunteers.models import ServiceRecord, ServiceSource, Volunteer

if TYPE_CHECKING:
    from conftest import People, Street
    from wenming.orders.tests.conftest import MakeOrder, Menu

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def png(name: str = "done.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 120, 20)).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def page(response: Any) -> str:
    return response.content.decode()


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def detail(order: Order) -> str:
    return reverse("orders:detail", args=[order.pk])


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def xiaochen(people: People, chen: Volunteer) -> Client:
    return as_user(people.volunteer_a)


def place(people: People, menu: Menu, **fields: Any) -> Order:
    values: dict[str, Any] = {
        "service_type": menu.repair,
        "description": "冰箱不制冷了",
        "latitude": NEAR_A[0],
        "longitude": NEAR_A[1],
        "address": "甲小区3号楼201",
    }
    values.update(fields)
    return services.place_order(actor=people.resident_a, **values)


@pytest.fixture
def outsider(people: People, street: Street, menu: Menu) -> User:
    """A volunteer of 丙站 (another district) with the repair skill."""
    user = User.objects.create_user("13800000010", "correct-horse-battery", name="孙师傅", home_site=street.station_c)
    RoleGrant.objects.create(user=user, role=Role.VOLUNTEER, site=street.station_c)
    volunteer_services.register_volunteer(
        actor=people.manager_c, user=user, site=street.station_c, skills=[menu.repair_skill]
    )
    return user


# --- Who sees what --------------------------------------------------------------------------------


def test_a_resident_is_told_she_is_not_a_volunteer(people: People, chen: Volunteer) -> None:
    response = as_user(people.resident_a).get(reverse("orders:tasks"))
    assert response.status_code == 200
    assert "您还不是注册志愿者，这里暂时没有您的任务。" in page(response)


def test_dispatched_orders_show_with_the_time_left_to_accept(
    xiaochen: Client, people: People, menu: Menu, chen: Volunteer
) -> None:
    order = place(people, menu)
    services.dispatch_order(actor=people.manager_a, order=order, volunteer=chen)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=61), tick=False):
        text = page(xiaochen.get(reverse("orders:tasks")))
    assert f'id="task-{order.pk}"' in text
    assert "还剩2小时59分钟接单" in text  # 家电维修 is to be accepted within 4 hours
    assert "甲小区3号楼201" in text
    assert reverse("orders:accept", args=[order.pk]) in text
    with time_machine.travel(timezone.now() + dt.timedelta(hours=5), tick=False):
        late = page(xiaochen.get(reverse("orders:tasks")))
    assert "已超过接单时限1小时" in late
    assert "wm-countdown_overdue" in late


def test_duration_words() -> None:
    assert duration_text(59) == "1分钟"
    assert duration_text(3 * 3600) == "3小时"
    assert duration_text(3 * 3600 + 20 * 60) == "3小时20分钟"
    assert duration_text(30 * 3600 + 20 * 60) == "30小时"
    assert duration_text(3 * 86400 + 5) == "3天"


def test_an_order_dispatched_to_the_team_shows_to_its_members(
    people: People, menu: Menu, zhao: Volunteer, chen: Volunteer
) -> None:
    order = place(people, menu, service_type=menu.haircut, description="想请人上门理发")
    services.dispatch_order(actor=people.manager_a, order=order, team=menu.barbers)
    for user in (people.volunteer_a, people.leader_a):
        text = page(as_user(user).get(reverse("orders:tasks")))
        assert f'id="task-{order.pk}"' in text
        assert "派给甲站理发队" in text


def test_the_order_page_masks_the_contact_until_accepted(
    xiaochen: Client, people: People, menu: Menu, chen: Volunteer
) -> None:
    order = place(people, menu, contact_phone="13912340006")
    services.dispatch_order(actor=people.manager_a, order=order, volunteer=chen)
    text = page(xiaochen.get(detail(order)))
    assert "139****0006" in text
    assert "13912340006" not in text
    assert "王**" in text
    assert "接单后可见完整联系方式" in text
    xiaochen.post(reverse("orders:accept", args=[order.pk]))
    text = page(xiaochen.get(detail(order)))
    assert 'href="tel:13912340006"' in text
    assert "王阿姨" in text


def test_others_do_not_see_an_order_dispatched_to_chen(
    people: People, menu: Menu, chen: Volunteer, zhao: Volunteer
) -> None:
    order = place(people, menu)
    services.dispatch_order(actor=people.manager_a, order=order, volunteer=chen)
    for user in (people.resident_b, people.leader_a):
        client = as_user(user)
        assert client.get(detail(order)).status_code == 404
        assert client.post(reverse("orders:accept", args=[order.pk])).status_code == 404
        assert f'id="task-{order.pk}"' not in page(client.get(reverse("orders:tasks")))
    order.refresh_from_db()
    assert order.status == OrderStatus.DISPATCHED


# --- Accept, decline, start, complete, release ----------------------------------------------------


def test_accepting_from_the_tasks_page(
    xiaochen: Client, people: People, menu: Menu, chen: Volunteer, inbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order = place(people, menu)
    services.dispatch_order(actor=people.manager_a, order=order, volunteer=chen)
    with django_capture_on_commit_callbacks(execute=True):
        response = xiaochen.post(reverse("orders:accept", args=[order.pk]), {"next": reverse("orders:tasks")})
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:tasks")
    order.refresh_from_db()
    assert order.status == OrderStatus.ACCEPTED
    assert order.accepted_by == chen
    assert "志愿者已接单" in inbox(people.resident_a)
    text = page(xiaochen.get(reverse("orders:tasks")))
    assert "还剩2天完成" in text or "还剩47小时" in text
    assert reverse("orders:start", args=[order.pk]) in text
    # A second tap is a message, not an error page.
    again = xiaochen.post(reverse("orders:accept", args=[order.pk]))
    assert again.status_code == 409
    assert "您已接下该订单。" in page(again)


def test_declining_needs_a_reason(xiaochen: Client, people: People, menu: Menu, chen: Volunteer) -> None:
    order = place(people, menu)
    services.dispatch_order(actor=people.manager_a, order=order, volunteer=chen)
    assert "接不了？拒单并说明原因" in page(xiaochen.get(detail(order)))
    response = xiaochen.post(reverse("orders:decline", args=[order.pk]), {"decline-reason": ""})
    assert response.status_code == 400
    text = page(response)
    assert "请填写拒单原因。" in text
    assert "<details open>" in text
    order.refresh_from_db()
    assert order.status == OrderStatus.DISPATCHED

    response = xiaochen.post(reverse("orders:decline", args=[order.pk]), {"decline-reason": "今天在外地"}, follow=True)
    assert "已拒单，订单已退回实践站重新安排。" in messages_of(response)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert OrderEvent.objects.get(order=order, action="decline").note == "今天在外地"
    # Back to his tasks: the order is no longer his to see.
    assert response.redirect_chain == [(reverse("orders:tasks"), 302)]
    assert f'id="task-{order.pk}"' not in page(response)
    assert xiaochen.get(detail(order)).status_code == 404


def test_start_then_complete_writes_the_ledger(
    xiaochen: Client, people: People, chen: Volunteer, make_order: MakeOrder, media: Path
) -> None:
    order = make_order(OrderStatus.ACCEPTED)
    text = page(xiaochen.get(detail(order)))
    assert reverse("orders:start", args=[order.pk]) in text
    assert reverse("orders:release", args=[order.pk]) in text
    started = timezone.now()
    response = xiaochen.post(reverse("orders:start", args=[order.pk]), follow=True)
    assert "已开始服务。完成后请在这里登记。" in messages_of(response)
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_SERVICE

    with time_machine.travel(started + dt.timedelta(hours=2), tick=False):
        form = page(xiaochen.get(detail(order)))
        assert 'id="complete"' in form
        assert 'name="complete-hours"' in form
        too_long = xiaochen.post(
            reverse("orders:complete", args=[order.pk]), {"complete-hours": "5", "complete-beneficiaries": "1"}
        )
        assert too_long.status_code == 400
        assert "时长不能超过实际服务时间" in page(too_long)
        assert not ServiceRecord.objects.filter(volunteer=chen).exists()

        response = xiaochen.post(
            reverse("orders:complete", args=[order.pk]),
            {
                "complete-hours": "1.5",
                "complete-beneficiaries": "2",
                "complete-note": "更换了洗衣机皮带",
                "complete-photos": [png()],
            },
            follow=True,
        )
    assert "服务已完成，服务时长已记入您的志愿服务记录。" in messages_of(response)
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert (order.beneficiaries, order.completion_note) == (2, "更换了洗衣机皮带")
    record = ServiceRecord.objects.get(volunteer=chen, source=ServiceSource.ORDER)
    assert record.hours == Decimal("1.50")
    assert OrderServer.objects.get(order=order).record == record
    assert order.photos.filter(stage=PhotoStage.COMPLETION).count() == 1
    text = page(response)
    assert "1.5小时" in text
    assert "更换了洗衣机皮带" in text
    assert "服务照片" in text


def test_giving_an_order_back(xiaochen: Client, people: People, make_order: MakeOrder) -> None:
    order = make_order(OrderStatus.ACCEPTED)
    response = xiaochen.post(reverse("orders:release", args=[order.pk]), {"release-reason": ""})
    assert "请填写退回原因。" in page(response)
    response = xiaochen.post(
        reverse("orders:release", args=[order.pk]),
        {"release-reason": "临时住院", "next": reverse("orders:tasks")},
    )
    assert response["Location"] == reverse("orders:tasks")
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert order.accepted_by is None


def test_a_resident_gets_no_volunteer_moves(people: People, make_order: MakeOrder) -> None:
    order = make_order(OrderStatus.ACCEPTED)
    wang = as_user(people.resident_a)
    text = page(wang.get(detail(order)))
    assert reverse("orders:start", args=[order.pk]) not in text
    response = wang.post(reverse("orders:start", args=[order.pk]))
    assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.ACCEPTED


# --- 抢单 ----------------------------------------------------------------------------------------


def test_an_open_grab_shows_to_qualified_volunteers_only(
    xiaochen: Client, people: People, menu: Menu, chen: Volunteer, zhao: Volunteer, outsider: User
) -> None:
    repair = place(people, menu)
    services.open_grab(actor=people.manager_a, order=repair)
    haircut = place(people, menu, service_type=menu.haircut, description="上门理发")
    services.open_grab(actor=people.manager_a, order=haircut)

    text = page(xiaochen.get(reverse("orders:tasks")))
    assert f'id="task-{repair.pk}"' in text
    assert f'id="task-{haircut.pk}"' in text  # a member of the barbers
    assert "抢单" in text

    zhao_page = page(as_user(people.leader_a).get(reverse("orders:tasks")))
    assert f'id="task-{repair.pk}"' not in zhao_page  # no repair skill
    assert f'id="task-{haircut.pk}"' in zhao_page

    far = page(as_user(outsider).get(reverse("orders:tasks")))
    assert f'id="task-{repair.pk}"' not in far
    assert f'id="task-{haircut.pk}"' not in far

    # The page's one query agrees with the policy, both ways.
    for user in (people.volunteer_a, people.leader_a, outsider):
        volunteer = policies.volunteer_of(user)
        assert volunteer is not None
        teams = list(volunteer.memberships.values_list("team_id", flat=True))
        listed = set(policies.open_grabs_for(volunteer, teams).values_list("pk", flat=True))
        assert listed == {o.pk for o in (repair, haircut) if policies.can_accept(user, o)}


def test_the_first_to_grab_gets_it(xiaochen: Client, people: People, menu: Menu, chen: Volunteer) -> None:
    order = place(people, menu, service_type=menu.haircut, description="上门理发")
    services.open_grab(actor=people.manager_a, order=order)
    zhao = volunteer_services.register_volunteer(actor=people.manager_a, user=people.leader_a, site=chen.site)
    zhao.memberships.create(team=menu.barbers)
    assert "抢单" in page(xiaochen.get(detail(order)))
    response = xiaochen.post(reverse("orders:accept", args=[order.pk]), {"next": reverse("orders:tasks")})
    assert response["Location"] == reverse("orders:tasks")
    order.refresh_from_db()
    assert order.status == OrderStatus.ACCEPTED
    assert order.accepted_by == chen
    assert OrderEvent.objects.filter(order=order, action="grab").count() == 1

    late = as_user(people.leader_a).post(reverse("orders:accept", args=[order.pk]), follow=True)
    assert "手慢了，该订单已被其他志愿者接走。" in messages_of(late)
    assert late.redirect_chain[-1][0] == reverse("orders:tasks")


# --- Query counts ---------------------------------------------------------------------------------


def test_the_tasks_page_is_not_n_plus_one(
    xiaochen: Client, people: People, menu: Menu, chen: Volunteer, django_assert_max_num_queries: Any
) -> None:
    def make(n: int) -> None:
        for i in range(n):
            order = place(people, menu, description=f"第{i}台冰箱不制冷")
            if i % 3 == 0:
                services.dispatch_order(actor=people.manager_a, order=order, volunteer=chen)
            elif i % 3 == 1:
                services.dispatch_order(actor=people.manager_a, order=order, team=menu.barbers)
                services.accept_order(actor=people.volunteer_a, order=order)
            else:
                services.open_grab(actor=people.manager_a, order=order)

    make(3)
    xiaochen.get(reverse("orders:tasks"))
    with CaptureQueriesContext(connection) as few:
        assert xiaochen.get(reverse("orders:tasks")).status_code == 200
    make(17)
    with django_assert_max_num_queries(len(few.captured_queries)):
        text = page(xiaochen.get(reverse("orders:tasks")))
    assert text.count('class="wm-ticket"') == 20
