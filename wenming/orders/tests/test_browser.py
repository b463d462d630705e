"""In a real browser, the whole loop: 点单 → 派单 → 接单 → 评单.

王阿姨 orders 家电维修 on her phone and finds it in 我的点单; 张站长 opens the
dispatch board, opens the order and dispatches it to 小陈 from the
recommender's candidates; 小陈 accepts on 我的任务, starts and completes it
with his hours; 王阿姨 rates it 5 and reads that it is closed.

Headless Chromium is Debian's (``/usr/bin/chromium``), driven by Playwright
with ``executable_path``, as in ``activities/tests/test_browser.py``; the test
is skipped only where that browser is missing and CI is not "true".
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import time_machine
from django.utils import timezone

from conftest import BROWSER_MARKS, People, new_page, sign_in
from wenming.orders.models import Order, OrderStatus
from wenming.orders.tests.conftest import Menu
from wenming.volunteers.models import ServiceRecord, Volunteer

pytestmark = BROWSER_MARKS


def submit(locator: Any) -> None:
    """Click a submit button and wait for the page it leads to."""
    with locator.page.expect_navigation():
        locator.click()


def test_an_order_goes_from_the_residents_phone_through_dispatch_and_acceptance_to_rating(
    live_server: Any, browser: Any, people: People, menu: Menu, chen: Volunteer
) -> None:
    base = live_server.url

    # 王阿姨 orders 家电维修 on her phone.
    resident = new_page(browser, mobile=True)
    sign_in(resident, base, people.resident_a.phone, next_path="/orders/new/")
    assert resident.url == f"{base}/orders/new/"
    resident.locator("textarea[name=description]").fill("家里洗衣机不转了，请师傅上门看看")
    resident.locator(f"label[for=type-{menu.repair.pk}]").click()
    resident.locator("input[name=address]").fill("甲小区3号楼201")
    submit(resident.locator("button[type=submit]", has_text="提交点单"))
    order = Order.objects.get()
    assert (order.requester_id, order.service_type_id, order.status) == (
        people.resident_a.pk,
        menu.repair.pk,
        OrderStatus.PENDING,
    )
    resident.goto(f"{base}/orders/mine/")
    ticket = resident.locator(f"#order-{order.pk}")
    assert "家电维修" in ticket.inner_text()
    assert "家里洗衣机不转了" in ticket.inner_text()

    # 张站长 finds it on the dispatch board and dispatches it to 小陈 from the candidates.
    manager = new_page(browser)
    manager.clock.install()  # the page's own clock, so that the countdown's ticking can be watched
    sign_in(manager, base, people.manager_a.phone, next_path="/staff/orders/")
    assert manager.url == f"{base}/staff/orders/"
    row = manager.locator(f"#wm-board tr[data-order='{order.pk}']")
    assert re.search(
        r"还剩3小时5\d分", row.inner_text()
    )  # the accept countdown (4 hours for 家电维修), from the server
    # The script ticks it: two hours and a quarter ahead of the page's clock, then the next tick.
    countdown = row.locator(".wm-countdown")
    countdown.evaluate("el => el.setAttribute('data-deadline', String(Date.now() / 1000 + 8140))")
    manager.clock.run_for(31_000)
    assert countdown.inner_text() == "还剩2小时15分"
    with manager.expect_navigation():
        row.locator("a", has_text=f"#{order.pk}").click()
    assert manager.url == f"{base}/staff/orders/{order.pk}/"
    candidate = manager.locator(f"#wm-candidates tr[data-volunteer='{chen.pk}']")
    assert "具备技能：家电维修" in candidate.inner_text()
    submit(candidate.locator("button", has_text="派给小陈"))
    manager.locator("text=已派给小陈。").wait_for()
    assert manager.locator("#wm-order-status").inner_text() == "待接单"
    order.refresh_from_db()
    assert (order.status, order.assigned_volunteer_id) == (OrderStatus.DISPATCHED, chen.pk)

    # 小陈 accepts it on 我的任务 and starts.
    volunteer = new_page(browser, mobile=True)
    sign_in(volunteer, base, people.volunteer_a.phone, next_path="/orders/tasks/")
    assert volunteer.url == f"{base}/orders/tasks/"
    submit(volunteer.locator(f"#task-{order.pk} button", has_text="接单"))
    order.refresh_from_db()
    assert (order.status, order.accepted_by_id) == (OrderStatus.ACCEPTED, chen.pk)
    submit(volunteer.locator(f"#task-{order.pk} button", has_text="开始服务"))
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_SERVICE

    # Forty minutes later (the clock moves, for the server too) he records half an hour.
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=40), tick=True):
        volunteer.goto(f"{base}/orders/{order.pk}/")
        complete = volunteer.locator("form#complete")
        complete.locator("input[name=complete-hours]").fill("0.5")
        complete.locator("input[name=complete-beneficiaries]").fill("1")
        complete.locator("textarea[name=complete-note]").fill("更换了排水泵，试机正常")
        submit(complete.locator("button[type=submit]"))
        order.refresh_from_db()
        assert order.status == OrderStatus.COMPLETED
        assert ServiceRecord.objects.get(volunteer=chen).hours == order.servers.get().hours

        # 王阿姨 rates it 5 and reads that it is closed.
        resident.goto(f"{base}/orders/mine/")
        rate = resident.locator(f"#rate-{order.pk}")
        five = rate.locator("input[name$=rating][value='5']")
        rate.locator(f"label[for='{five.get_attribute('id')}']").click()
        assert five.is_checked()
        submit(rate.locator("button[type=submit]", has_text="提交评价"))
        order.refresh_from_db()
        assert (order.status, order.rating) == (OrderStatus.CLOSED, 5)
        resident.goto(f"{base}/orders/mine/")
        ticket = resident.locator(f"#order-{order.pk}")
        assert "已办结" in ticket.inner_text()

        # And the board files it under 已办结.
        manager.goto(f"{base}/staff/orders/?queue=done")
        assert manager.locator(f"#wm-board tr[data-order='{order.pk}']").count() == 1
