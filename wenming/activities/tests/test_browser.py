"""In a real browser: 王阿姨 signs up on her phone, 张站长 types her short code at the door.

Headless Chromium is Debian's (``/usr/bin/chromium``), driven by Playwright
with ``executable_path``; nothing downloads a browser. The test is skipped
only where that browser is missing and CI is not "true" (in CI it must run).

(b) 张站长 signs in, opens the activity's scanner page, types a short code and sees 签到成功
    (with JavaScript switched off: the code box is a plain form).
(a)+(b) 王阿姨 signs in at /accounts/login/, opens /activities/<id>/, taps 报名, sees the success,
opens /activities/mine/ and reads her short code; 张站长 types that code at the door.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from conftest import BROWSER_MARKS, People, new_page, sign_in
from wenming.activities import services
from wenming.activities.models import Activity, Signup, SignupStatus

pytestmark = BROWSER_MARKS


@pytest.fixture
def activity(make_activity: Any) -> Activity:
    """Published, starting in ten minutes: check-in is open now (it opens half an hour before)."""
    start = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(minutes=10)
    return make_activity(title="防诈骗知识讲座", seats=20, starts_at=start, ends_at=start + dt.timedelta(hours=2))


def type_code_at_the_door(
    browser: Any, base: str, people: People, activity: Activity, code: str, *, javascript: bool = True
) -> Any:
    page = new_page(browser, javascript=javascript)
    scanner = f"/staff/activities/{activity.pk}/scan/"
    sign_in(page, base, people.manager_a.phone, next_path=scanner)
    assert page.url == f"{base}{scanner}"
    page.locator("input[name=code]").fill(code)
    page.locator("#wm-scan-form button[type=submit]").click()
    result = page.locator("#wm-scan-result")
    result.locator("text=签到成功").wait_for()
    return result


def test_manager_types_a_short_code_at_the_door(
    live_server: Any, browser: Any, people: People, activity: Activity
) -> None:
    signup = services.sign_up(actor=people.resident_a, activity=activity)
    # Without JavaScript: the short-code box is a plain form.
    result = type_code_at_the_door(browser, live_server.url, people, activity, signup.code.lower(), javascript=False)
    assert "王阿姨" in result.inner_text()
    assert result.get_attribute("data-outcome") == "ok"
    row = Signup.objects.get(pk=signup.pk)
    assert row.checked_in_at is not None
    assert row.checked_in_by_id == people.manager_a.pk

    # The same code again answers clearly and changes nothing.
    page = result.page
    page.locator("input[name=code]").fill(signup.code)
    page.locator("#wm-scan-form button[type=submit]").click()
    page.locator("#wm-scan-result >> text=已经签到过了").wait_for()
    assert Signup.objects.get(pk=signup.pk).checked_in_at == row.checked_in_at


def test_resident_signs_up_and_shows_her_code_at_the_door(
    live_server: Any, browser: Any, people: People, activity: Activity
) -> None:
    base = live_server.url
    phone = new_page(browser)
    sign_in(phone, base, people.resident_a.phone)
    phone.goto(f"{base}/activities/{activity.pk}/")
    phone.locator(f"form[action='/activities/{activity.pk}/signup/'] button", has_text="报名").first.click()
    phone.wait_for_load_state()
    phone.locator("text=报名成功").first.wait_for()

    phone.goto(f"{base}/activities/mine/")
    code = phone.locator(".wm-code").first.inner_text().strip()
    signup = Signup.objects.get(activity=activity, user=people.resident_a)
    assert signup.status == SignupStatus.CONFIRMED
    assert code == signup.code

    result = type_code_at_the_door(browser, base, people, activity, code)  # with JavaScript (htmx swaps the answer)
    assert "王阿姨" in result.inner_text()
    assert result.page.evaluate("typeof window.htmx") == "object"
    assert result.page.locator("input[name=code]").input_value() == ""  # cleared for the next person
    row = Signup.objects.get(pk=signup.pk)
    assert row.checked_in_at is not None
    assert row.checked_in_by_id == people.manager_a.pk
