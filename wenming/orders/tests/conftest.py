"""Fixtures for the orders tests.

The personas come from the root conftest (王阿姨 lives at 甲站, 张站长 runs
it, 周主任 the sub-centre above it; 李站长 runs 乙站, 钱站长 丙站 in another
district). Here:

- ``menu``: a small service menu: 家电维修 (needs the skill 家电维修),
  爱心理发 (served by the 甲站理发队), 陪诊 (reviewed before dispatch, with a
  required question), and the civility category 飞线充电;
- ``chen``: 小陈, a volunteer of 甲站 with the skill 家电维修;
- ``zhao``: 赵队长, leader of the 甲站理发队, of which 小陈 is also a member;
- ``make_order``: an order placed by 王阿姨 at 甲站 (through the services),
  moved on to the status asked for by the people who would move it;
- ``inbox``: the titles of the in-site messages a person received.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

import pytest
import time_machine
from django.utils import timezone

from conftest import People, Street
from wenming.accounts.models import User
from wenming.notices.models import Message
from wenming.orders import services
from wenming.orders.models import Datatype, Order, OrderKind, OrderStatus, Question, ServiceType
from wenming.volunteers import services as volunteer_services
from wenming.volunteers.models import Skill, Team, TeamMembership, Volunteer

# Near 甲站 (31.2110, 121.4910), far from 乙站.
NEAR_A = (31.2112, 121.4912)


@dataclass
class Menu:
    repair: ServiceType
    haircut: ServiceType
    escort: ServiceType
    wires: ServiceType
    repair_skill: Skill
    barbers: Team


@pytest.fixture
def menu(street: Street) -> Menu:
    repair_skill = Skill.objects.create(name="家电维修", category="生活服务")
    barbers = Team.objects.create(site=street.station_a, name="甲站理发队")
    repair = ServiceType.objects.create(
        code="repair",
        name="家电维修",
        description="上门检修洗衣机、电视、冰箱等家用电器。",
        keywords=["洗衣机", "冰箱", "电视", "空调", "修理", "维修", "坏了"],
        accept_within_hours=4,
        finish_within_days=2,
    )
    repair.skills.add(repair_skill)
    haircut = ServiceType.objects.create(
        code="haircut",
        name="爱心理发",
        description="为行动不便的老人上门理发。",
        keywords=["理发", "剪头发", "剪发"],
    )
    haircut.teams.add(barbers)
    escort = ServiceType.objects.create(
        code="escort",
        name="陪诊",
        description="陪同老人就医、取药。",
        keywords=["医院", "看病", "陪同", "复查"],
        needs_review=True,
    )
    Question.objects.create(
        service_type=escort,
        code="hospital",
        prompt="就诊医院",
        datatype=Datatype.STRING,
        required=True,
    )
    Question.objects.create(
        service_type=escort,
        code="mobility",
        prompt="行动情况",
        datatype=Datatype.SINGLE,
        choices=[{"key": "walk", "name": "能自己走"}, {"key": "wheelchair", "name": "需要轮椅"}],
    )
    wires = ServiceType.objects.create(
        code="wires", kind=OrderKind.REPORT, name="飞线充电", keywords=["飞线", "充电", "电瓶车"]
    )
    return Menu(repair, haircut, escort, wires, repair_skill, barbers)


@pytest.fixture
def chen(people: People, street: Street, menu: Menu) -> Volunteer:
    volunteer = volunteer_services.register_volunteer(
        actor=people.manager_a, user=people.volunteer_a, site=street.station_a, skills=[menu.repair_skill]
    )
    TeamMembership.objects.create(team=menu.barbers, volunteer=volunteer)
    return volunteer


@pytest.fixture
def zhao(people: People, street: Street, menu: Menu, chen: Volunteer) -> Volunteer:
    volunteer = volunteer_services.register_volunteer(
        actor=people.manager_a, user=people.leader_a, site=street.station_a
    )
    TeamMembership.objects.create(team=menu.barbers, volunteer=volunteer, is_leader=True)
    return volunteer


STEPS: list[str] = [
    OrderStatus.PENDING,
    OrderStatus.DISPATCHED,
    OrderStatus.ACCEPTED,
    OrderStatus.IN_SERVICE,
    OrderStatus.COMPLETED,
    OrderStatus.CLOSED,
]


class MakeOrder(Protocol):
    def __call__(self, status: str = ..., *, service_type: ServiceType | None = ..., **fields: Any) -> Order: ...


@pytest.fixture
def make_order(people: People, street: Street, menu: Menu, chen: Volunteer) -> MakeOrder:
    """王阿姨 orders 家电维修 at 甲站; the order is moved on to ``status`` (dispatched to 小陈 on the way)."""

    def make(status: str = OrderStatus.PENDING, *, service_type: ServiceType | None = None, **fields: Any) -> Order:
        values: dict[str, Any] = {
            "description": "家里洗衣机不转了，请师傅上门看看",
            "latitude": NEAR_A[0],
            "longitude": NEAR_A[1],
            "address": "甲小区3号楼201",
        }
        values.update(fields)
        # Placed, dispatched and accepted three hours ago; started two hours ago; completed now.
        started = timezone.now()
        with time_machine.travel(started - dt.timedelta(hours=3), tick=True):
            order = services.place_order(actor=people.resident_a, service_type=service_type or menu.repair, **values)
            _advance(order, status, min(steps_to(status), 2))
        _advance(order, status, steps_to(status), start=started - dt.timedelta(hours=2), done=2)
        order.refresh_from_db()
        assert order.status == status, (order.status, status)
        return order

    def steps_to(status: str) -> int:
        return STEPS.index(status) if status in STEPS else 0

    def _advance(order: Order, status: str, target: int, *, start: dt.datetime | None = None, done: int = 0) -> None:
        if done < 1 <= target:
            services.dispatch_order(actor=people.manager_a, order=order, volunteer=chen)
        if done < 2 <= target:
            services.accept_order(actor=people.volunteer_a, order=order)
        if target >= 3:
            services.start_order(actor=people.volunteer_a, order=order, now=start)
        if target >= 4:
            services.complete_order(
                actor=people.volunteer_a, order=order, servers=[services.Served(chen, "1.5")], beneficiaries=1
            )
        if target >= 5:
            services.rate_order(actor=people.resident_a, order=order, rating=5, comment="师傅很耐心")

    return make


@pytest.fixture
def inbox() -> Any:
    def titles(user: User) -> list[str]:
        return list(Message.objects.filter(recipient=user).order_by("id").values_list("title", flat=True))

    return titles
