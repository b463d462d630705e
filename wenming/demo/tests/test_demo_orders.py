"""The demo street's service menu, orders and civility reports (wenming/demo/orders.py).

The demo is loaded once for the module, on a fixed Tuesday morning, inside a
transaction that is rolled back at the end; every test reads it (each in a
savepoint of its own, so the ones that move an order leave no trace).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from io import StringIO
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection, transaction

from wenming.accounts.models import AuditAction, AuditLog, User
from wenming.accounts.policies import staff_scope
from wenming.demo import orders as demo_orders
from wenming.demo import street
from wenming.network.models import Site, SiteLevel
from wenming.orders import policies, services
from wenming.orders.classify import classify
from wenming.orders.models import (
    AWAITING_ACCEPT,
    FINAL_STATUSES,
    LOW_RATING,
    REPORT_STATUSES,
    SERVICE_STATUSES,
    TRANSITIONS,
    Channel,
    Datatype,
    DispatchMode,
    DispatchRule,
    Open311Client,
    Order,
    OrderEvent,
    OrderKind,
    OrderServer,
    OrderStatus,
    PhotoStage,
    ServiceType,
)
from wenming.volunteers.models import ServiceRecord, ServiceSource, Volunteer
from wenming.volunteers.policies import can_record_hours

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 17, 10, 30, tzinfo=SHANGHAI)  # a Tuesday
S = OrderStatus

QUEUED: dict[str, int] = {}


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock(), time_machine.travel(NOW, tick=False), transaction.atomic():
        out = StringIO()
        before = len(connection.run_on_commit)
        call_command("load_demo", stdout=out)
        QUEUED["after_load"] = len(connection.run_on_commit) - before
        yield out.getvalue()
        transaction.set_rollback(True)


def subcentre() -> Site:
    return Site.objects.get(code=street.SUBCENTRE_CODE)


def street_orders() -> Any:
    return Order.objects.filter(site__path__startswith=subcentre().path)


def history(order: Order) -> list[OrderEvent]:
    return list(order.history.order_by("at", "id"))


def persona(phone: str) -> User:
    return User.objects.get(phone=phone)


def test_the_load_reports_what_it_made_and_sends_nobody_anything(demo):
    for word in ("服务菜单", "服务订单", "随手拍", "订单评价"):
        assert word in demo
    assert QUEUED["after_load"] == 0


def test_the_menu_has_the_services_and_categories_with_who_can_serve_them(demo):
    services_ = {t.name: t for t in ServiceType.objects.filter(kind=OrderKind.SERVICE)}
    for name in ("爱心理发", "心理辅导", "法律援助", "健康义诊", "家电维修", "助餐", "陪诊", "代购", "卫生清洁"):
        assert name in services_
    reports = set(ServiceType.objects.filter(kind=OrderKind.REPORT).values_list("name", flat=True))
    assert reports == {"飞线充电", "不文明养犬", "乱搭乱建", "垃圾分类", "其他不文明行为"}
    assert {t.group for t in services_.values()} == {"生活服务", "健康服务", "法律服务", "心理服务"}
    street_volunteers = Volunteer.objects.filter(site__path__startswith=subcentre().path)
    for service_type in services_.values():
        assert service_type.description
        assert service_type.keywords
        assert service_type.skills.exists() or service_type.teams.exists(), service_type
        # The recommender has candidates: the demo volunteers have these skills or are in these teams.
        assert street_volunteers.filter(policies.qualified_q(service_type)).distinct().count() >= 10, service_type
    escort = services_["陪诊"]
    assert escort.needs_review
    questions = {q.code: q for q in escort.questions.all()}
    assert questions["hospital"].prompt == "就诊医院"
    assert questions["hospital"].datatype == Datatype.STRING
    assert questions["hospital"].required
    assert questions["mobility"].prompt == "行动情况"
    assert questions["mobility"].datatype == Datatype.SINGLE
    assert questions["mobility"].choices
    assert services_["家电维修"].questions.get(prompt="电器类型").datatype == Datatype.SINGLE
    assert services_["助餐"].questions.get(prompt="份数").datatype == Datatype.NUMBER


def test_the_classifier_reads_the_demo_menu(demo):
    repair = ServiceType.objects.get(name="家电维修")
    result = classify("家里洗衣机坏了")
    assert result.best is not None
    assert result.best.key == repair.pk
    haircut = classify("想请人上门帮老伴理个发")
    assert haircut.best is not None
    assert haircut.best.key == ServiceType.objects.get(name="爱心理发").pk


def test_some_residents_left_the_type_to_the_classifier_and_staff_corrected_one(demo):
    guessed = list(street_orders().exclude(classification={}))
    assert len(guessed) >= 2
    for order in guessed:
        create = order.history.get(action="create")
        assert create.note.startswith("自动分类：")
        assert order.classification["words"]
        assert 0 < order.classification["confidence"] <= 1
    retyped = OrderEvent.objects.filter(order__in=guessed, action="retype").select_related("order", "actor")
    assert retyped.exists()
    for event in retyped:
        assert event.actor is not None
        assert policies.can_review_order(event.actor, event.order)
        assert event.order.classification["type"] != event.order.service_type_id


def test_the_open311_client_signs_in_with_the_demo_key(demo):
    client = services.client_for_key(settings.DEMO_OPEN311_KEY)
    assert client is not None
    assert client.name == demo_orders.CLIENT_NAME
    assert client.site == subcentre()
    assert services.client_for_key(settings.DEMO_OPEN311_KEY + "x") is None
    hotline = street_orders().filter(channel=Channel.OPEN311)
    assert hotline.count() >= 10
    assert not hotline.exclude(client=client).exists()


def test_every_status_of_both_kinds_is_there(demo):
    service = Counter(street_orders().filter(kind=OrderKind.SERVICE).values_list("status", flat=True))
    reports = Counter(street_orders().filter(kind=OrderKind.REPORT).values_list("status", flat=True))
    assert set(service) == set(SERVICE_STATUSES)
    assert set(reports) == set(REPORT_STATUSES)
    assert 150 <= sum(service.values()) <= 300
    assert 40 <= sum(reports.values()) <= 80
    # The older ones are mostly closed; every live status has more than a token order.
    assert service[S.CLOSED] > sum(service.values()) / 3
    for status in (S.PENDING, S.DISPATCHED, S.GRABBING, S.ACCEPTED, S.IN_SERVICE, S.COMPLETED):
        assert service[status] >= 5, status
    first = street_orders().order_by("created_at").first()
    assert first is not None
    assert NOW - first.created_at >= dt.timedelta(days=60)


def test_every_history_runs_from_create_to_the_current_status(demo):
    events: dict[int, list[OrderEvent]] = {}
    for event in OrderEvent.objects.filter(order__in=street_orders()).order_by("order_id", "at", "id"):
        events.setdefault(event.order_id, []).append(event)
    orders = list(street_orders())
    assert len(events) == len(orders)
    for order in orders:
        chain = events[order.pk]
        first, last = chain[0], chain[-1]
        assert first.action == "create", order
        assert first.from_status == ""
        assert first.at == order.created_at
        assert last.to_status == order.status, (order, [e.action for e in chain])
        assert last.at == order.updated_at <= NOW
        assert order.revision == len(chain) - 1
        for before, after in pairwise(chain):
            assert after.from_status == before.to_status, (order, before.action, after.action)
            assert before.at <= after.at
            if after.action in {"escalate", "retype"}:
                assert after.from_status == after.to_status
            else:
                assert TRANSITIONS[(order.kind, after.from_status, after.to_status)] == after.action, (
                    order,
                    after.action,
                )


def test_the_fields_agree_with_the_status(demo):
    for order in street_orders():
        status = order.status
        assert (order.closed_at is not None) == (status in FINAL_STATUSES), order
        if status in {S.ACCEPTED, S.IN_SERVICE, S.COMPLETED, S.COMPLAINT, S.CLOSED}:
            assert order.accepted_by_id is not None, order
            assert order.accepted_at is not None
            assert order.finish_by == order.accepted_at + dt.timedelta(days=order.service_type.finish_within_days)
            assert order.accept_by is None
        if status in {S.IN_SERVICE, S.COMPLETED, S.COMPLAINT, S.CLOSED}:
            assert order.started_at is not None
            assert order.started_at >= order.accepted_at
        if status in {S.COMPLETED, S.COMPLAINT, S.CLOSED}:
            assert order.completed_at is not None
            assert order.completed_at > order.started_at
            assert order.beneficiaries is not None
            assert order.beneficiaries >= 1
        if status == S.DISPATCHED:
            assert (order.assigned_volunteer_id is None) != (order.assigned_team_id is None)
            assert order.dispatched_at is not None
        if status == S.GRABBING:
            assert order.assigned_volunteer_id is None
            assert order.assigned_team_id is None
        if status in {S.PENDING, S.REVIEWING}:
            assert order.assigned_volunteer_id is None
            assert order.assigned_team_id is None
            assert order.accepted_by_id is None
        if status == S.REVIEWING:
            assert order.service_type.needs_review
            assert order.accept_by is None
        if status == S.UNRECTIFIED:
            assert order.follow_up_on is not None
        else:
            assert order.follow_up_on is None, order
        if order.kind == OrderKind.REPORT:
            assert order.accept_by is None
            assert order.accepted_by_id is None


def test_the_clock_has_nothing_left_to_do(demo):
    # escalate_overdue runs every five minutes and close_unrated every hour: by then they had seen it all.
    assert services.escalate_overdue(now=NOW - dt.timedelta(minutes=5)) == 0
    assert not street_orders().filter(status__in=AWAITING_ACCEPT, accept_by__lte=NOW - dt.timedelta(minutes=5))
    assert services.close_unrated(now=NOW - dt.timedelta(hours=1)) == 0


def test_waiting_orders_count_down_around_now_and_some_went_up_to_the_subcentre(demo):
    waiting = list(street_orders().filter(status__in=AWAITING_ACCEPT, accept_by__isnull=False))
    assert len(waiting) >= 20
    assert any(o.accept_by < NOW for o in waiting), "a few are just overdue"
    assert sum(o.accept_by > NOW for o in waiting) >= 15
    assert all(o.accept_by - NOW <= dt.timedelta(hours=48) for o in waiting)
    sub = subcentre()
    escalated = street_orders().filter(escalated_to=sub)
    assert escalated.filter(status__in=AWAITING_ACCEPT).exists()
    assert escalated.filter(status=S.CLOSED).exists()
    for order in street_orders().filter(escalated_to__isnull=False):
        ups = [e for e in history(order) if e.action == "escalate"]
        assert sum("已上报" in e.note for e in ups) == order.escalations >= 1, order
        assert all(e.actor_id is None and e.actor_label == "系统" for e in ups)
    # Going further than the sub-centre is rare.
    assert street_orders().filter(escalations__gte=2).count() <= street_orders().filter(escalations=1).count() / 2


def test_dispatch_rules_show_every_mode(demo):
    rules = {r.site.code: r.mode for r in DispatchRule.objects.select_related("site")}
    assert set(rules.values()) == {DispatchMode.GRAB, DispatchMode.AUTO}
    grab_site = Site.objects.get(code=next(code for code, mode in rules.items() if mode == DispatchMode.GRAB))
    auto_site = Site.objects.get(code=next(code for code, mode in rules.items() if mode == DispatchMode.AUTO))
    assert services.rule_for(Site.objects.get(code="HP-JH-R01")).mode == DispatchMode.MANUAL
    opened = OrderEvent.objects.filter(order__site=grab_site, action="open_grab", actor__isnull=True)
    assert opened.exists()
    assert all(e.actor_label == "系统" for e in opened)
    auto = OrderEvent.objects.filter(order__site=auto_site, action="dispatch", actor__isnull=True)
    assert auto.exists()
    assert all(e.actor_label == "系统自动派单" and e.volunteer_id for e in auto)
    # Staff open grabs at other stations too, and volunteers take them.
    assert OrderEvent.objects.filter(action="grab").exclude(order__site=grab_site).exists()
    assert OrderEvent.objects.filter(action="decline").exists()
    assert OrderEvent.objects.filter(action="release").exists()


def test_orders_come_from_residents_staff_and_the_hotline_near_their_station(demo):
    orders = street_orders().select_related("site", "requester", "created_by", "client")
    assert set(orders.values_list("channel", flat=True)) == {Channel.SELF, Channel.STAFF, Channel.OPEN311}
    for order in orders:
        create = order.history.get(action="create")
        assert order.contact_name
        assert order.contact_phone
        if order.channel == Channel.SELF:
            assert order.requester is not None
            assert order.created_by == order.requester == create.actor
            assert order.contact_phone == order.requester.phone
        elif order.channel == Channel.STAFF:
            assert order.requester is not None
            assert order.created_by is not None
            assert order.created_by != order.requester
            assert policies.can_order_for_others(order.created_by, order.site)
            assert create.actor == order.created_by
        else:
            assert order.requester is None
            assert order.client is not None
            assert create.actor is None
            assert create.actor_label == order.client.name
        if order.latitude is not None and order.longitude is not None:
            assert services.find_station(order.latitude, order.longitude, None) == order.site, order
        elif order.channel == Channel.OPEN311:
            assert order.site == order.client.site
        else:  # no location: the requester's own station
            assert order.requester is not None
            assert order.site_id == order.requester.home_site_id
        if order.kind == OrderKind.SERVICE and not order.history.filter(action="retype").exists():
            assert services.clean_answers(order.service_type, order.answers) == order.answers, order


def test_served_orders_have_their_volunteers_and_ledger_entries(demo):
    served = street_orders().filter(status__in=[S.COMPLETED, S.COMPLAINT, S.CLOSED])
    assert served.count() >= 100
    assert not OrderServer.objects.filter(order__in=street_orders()).exclude(order__in=served).exists()
    for order in served.select_related("accepted_by", "site", "escalated_to"):
        servers = list(OrderServer.objects.filter(order=order).select_related("record", "volunteer__site"))
        assert order.accepted_by_id in {s.volunteer_id for s in servers}, order
        assert order.completed_at is not None
        assert order.started_at is not None
        elapsed = Decimal((order.completed_at - order.started_at).total_seconds()) / 3600
        complete = order.history.get(action="complete")
        for server in servers:
            # The station records only its own volunteers (those of the site it went up to, if it did).
            where = server.volunteer.site
            assert where.is_within(policies.responsible_site(order)) or where.is_within(order.site), order
            record = server.record
            assert record.volunteer_id == server.volunteer_id
            assert record.source == ServiceSource.ORDER
            assert record.source_ref == f"order:{order.pk}"
            assert record.hours == server.hours
            assert Decimal(0) < record.hours <= elapsed
            assert (record.started_at, record.ended_at) == (order.started_at, order.completed_at)
            assert record.recorder == complete.actor
            assert can_record_hours(record.recorder, record.volunteer, record.site)
            assert record.site_id == order.site_id
    records = ServiceRecord.objects.filter(source_ref__startswith="order:")
    audited = set(
        AuditLog.objects.filter(action=AuditAction.LEDGER_ENTRY, target_type="volunteers.servicerecord").values_list(
            "target_id", flat=True
        )
    )
    assert records.count() == OrderServer.objects.filter(order__in=street_orders()).count()
    assert {str(pk) for pk in records.values_list("pk", flat=True)} <= audited


def test_ratings_are_mostly_good_and_the_low_ones_are_reviewed(demo):
    rated = street_orders().filter(rating__isnull=False)
    ratings = Counter(rated.values_list("rating", flat=True))
    assert set(ratings) <= {1, 2, 3, 4, 5}
    assert rated.count() >= 60
    assert (ratings[4] + ratings[5]) / rated.count() >= 0.7
    assert ratings[1] + ratings[2] >= 3
    for order in street_orders().filter(status=S.COMPLAINT):
        assert order.rating is not None
        assert order.rating <= LOW_RATING
        assert order.rating_comment
        assert order.closed_at is None
    for order in rated.filter(status=S.CLOSED, rating__lte=LOW_RATING):
        assert order.review_note
        assert [e.action for e in history(order)][-2:] == ["rate", "review"]
    # Some nobody rated: the clock closed them when the rating period ran out.
    unrated = street_orders().filter(status=S.CLOSED, rating__isnull=True)
    assert unrated.exists()
    for order in unrated:
        last = history(order)[-1]
        assert (last.action, last.actor_id, last.actor_label) == ("rate", None, "系统")
        assert order.completed_at is not None
        days = services.rule_for(order.site).rate_within_days
        assert dt.timedelta(days=days) <= last.at - order.completed_at <= dt.timedelta(days=days, hours=1)
    # Only the requester, or staff for an order they placed by phone, rates.
    for order in rated.select_related("requester"):
        rate = next(e for e in history(order) if e.action == "rate")
        assert rate.actor is not None
        assert policies.can_rate(rate.actor, order)


def test_civility_reports_are_persuaded_rectified_or_followed_up_with_their_photos(demo):
    reports = street_orders().filter(kind=OrderKind.REPORT)
    today = NOW.date()
    for order in reports.filter(status=S.UNRECTIFIED):
        assert order.follow_up_on is not None
        assert today < order.follow_up_on <= today + dt.timedelta(days=7)
    for order in reports.filter(channel=Channel.SELF):
        photos = list(order.photos.filter(stage=PhotoStage.REQUEST))
        assert photos, order
        assert all(default_storage.exists(p.image.name) for p in photos)
    assert reports.filter(photos__stage=PhotoStage.FOLLOW_UP, status=S.RECTIFIED).exists()
    # Staff of the station act on them.
    for event in OrderEvent.objects.filter(order__in=reports).exclude(action="create").select_related("order"):
        assert event.actor is not None
        assert policies.can_review_order(event.actor, event.order)


def test_the_personas_find_their_orders(demo):
    wang = persona("13800000006")
    mine = Counter(Order.objects.filter(requester=wang).values_list("status", flat=True))
    assert mine[S.COMPLETED] >= 1  # one to rate
    assert mine[S.REVIEWING] >= 1
    assert mine[S.CLOSED] >= 1
    assert Order.objects.filter(requester=wang, kind=OrderKind.REPORT).exists()
    liu = persona("13800000007")
    assert Order.objects.filter(requester=liu, channel=Channel.STAFF, status=S.IN_SERVICE).exists()
    chen = Volunteer.objects.get(user__phone="13800000005")
    assert Order.objects.filter(assigned_volunteer=chen, status=S.DISPATCHED).exists()
    assert policies.open_grabs_for(chen).exists()
    zhao = Volunteer.objects.get(user__phone="13800000004")
    teams = zhao.memberships.filter(is_leader=True).values_list("team_id", flat=True)
    assert Order.objects.filter(assigned_team__in=teams, status=S.DISPATCHED).exists()
    # The station managers' boards have work on them.
    manager = persona("13800000002")
    board = Order.objects.filter(policies.staff_orders_q(manager))
    assert board.filter(status__in=AWAITING_ACCEPT).exists()
    assert staff_scope(manager).covers(Site.objects.get(code="HP-JH-R01"))


def test_the_services_carry_on_from_the_demo(demo):
    # 小陈 accepts what was sent to her, and 王阿姨 rates her haircut: the demo is a state the services accept.
    chen = Volunteer.objects.get(user__phone="13800000005")
    task = Order.objects.filter(assigned_volunteer=chen, status=S.DISPATCHED).first()
    assert task is not None
    services.accept_order(actor=chen.user, order=task)
    assert task.status == S.ACCEPTED
    wang = persona("13800000006")
    to_rate = Order.objects.filter(requester=wang, status=S.COMPLETED).first()
    assert to_rate is not None
    services.rate_order(actor=wang, order=to_rate, rating=5, comment="很满意")
    assert to_rate.status == S.CLOSED
    reviewing = Order.objects.filter(status=S.REVIEWING, site__manager__isnull=False).select_related("site").first()
    assert reviewing is not None
    assert reviewing.site.manager is not None
    services.approve_order(actor=reviewing.site.manager, order=reviewing)
    assert reviewing.status in {S.PENDING, S.DISPATCHED, S.GRABBING}


def test_the_pages_show_the_demo(demo, client):
    wang = persona("13800000006")
    client.force_login(wang)
    page = client.get("/orders/mine/")
    assert page.status_code == 200
    assert "爱心理发" in page.content.decode() or "陪诊" in page.content.decode()
    chen = persona("13800000005")
    client.force_login(chen)
    assert client.get("/orders/tasks/").status_code == 200
    client.force_login(persona("13800000002"))
    board = client.get("/staff/orders/")
    assert board.status_code == 200


def test_no_order_is_outside_the_street_or_at_a_point(demo):
    assert Order.objects.count() == street_orders().count()
    levels = set(street_orders().values_list("site__level", flat=True))
    assert levels <= {SiteLevel.SUBCENTRE, SiteLevel.STATION}
    ups = set(street_orders().filter(escalated_to__isnull=False).values_list("escalated_to__level", flat=True))
    assert ups <= {SiteLevel.CENTRE, SiteLevel.SUBCENTRE}
    assert Open311Client.objects.count() == 1


def test_the_database_constraints_hold(demo):
    connection.check_constraints()
