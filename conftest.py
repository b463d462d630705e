"""Personas shared by every test.

The street: 和平区中心 (district) → 嘉禾路分中心 (sub-centre) → 甲站 and 乙站
(stations), with 甲站一号楼 a point under 甲站. A second district, 东城区,
stands apart with its own station 丙站.

- 平台管理员 (admin): the platform admin, 13800000000
- 周主任 (subcentre_admin): sub-centre admin of 嘉禾路分中心
- 张站长 (manager_a): station manager of 甲站
- 李站长 (manager_b): station manager of 乙站
- 赵队长 (leader_a): team leader at 甲站
- 小陈 (volunteer_a): volunteer at 甲站
- 王阿姨 (resident_a): resident of 甲站, with an ID number
- 刘大爷 (resident_b): resident of 乙站, with an ID number
- 孙经理 (liaison_a): liaison of a unit at 甲站
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from wenming.lib import cn_id

if TYPE_CHECKING:
    from wenming.accounts.models import User
    from wenming.network.models import Site

CJK = re.compile(r"[\u4e00-\u9fff]")
ID_A = "310109195506120025"
ID_B = "310109194811030013"


def pytest_report_header(config: pytest.Config) -> str:
    from django.conf import settings

    return f"database: {settings.DATABASES['default']['ENGINE']} ({'CI' if os.environ.get('CI') else 'local'})"


@dataclass
class Street:
    district: Site
    subcentre: Site
    station_a: Site
    station_b: Site
    point_a: Site
    other_district: Site
    station_c: Site


@pytest.fixture
def street(db: None) -> Street:
    from wenming.network.models import SiteKind, SiteLevel
    from wenming.network.services import create_site

    district = create_site(
        actor=None,
        parent=None,
        level=SiteLevel.CENTRE,
        name="和平区新时代文明实践中心",
        code="HP",
        kind=SiteKind.DISTRICT,
        latitude=31.20,
        longitude=121.48,
    )
    sub = create_site(
        actor=None,
        parent=district,
        level=SiteLevel.SUBCENTRE,
        name="嘉禾路街道新时代文明实践分中心",
        code="HP-JH",
        kind=SiteKind.STREET,
        latitude=31.2100,
        longitude=121.4900,
        address="嘉禾路216号",
    )
    a = create_site(
        actor=None,
        parent=sub,
        level=SiteLevel.STATION,
        name="甲居民区实践站",
        code="HP-JH-A",
        kind=SiteKind.RESIDENTIAL,
        latitude=31.2110,
        longitude=121.4910,
        contact_phone="13912345678",
    )
    b = create_site(
        actor=None,
        parent=sub,
        level=SiteLevel.STATION,
        name="乙居民区实践站",
        code="HP-JH-B",
        kind=SiteKind.RESIDENTIAL,
        latitude=31.2300,
        longitude=121.5100,
        contact_phone="13987654321",
    )
    pa = create_site(
        actor=None,
        parent=a,
        level=SiteLevel.POINT,
        name="甲站一号楼实践点",
        code="HP-JH-A-1",
        kind=SiteKind.BUILDING,
        latitude=31.2115,
        longitude=121.4915,
    )
    other = create_site(
        actor=None,
        parent=None,
        level=SiteLevel.CENTRE,
        name="东城区新时代文明实践中心",
        code="DC",
        kind=SiteKind.DISTRICT,
        latitude=39.92,
        longitude=116.41,
    )
    other_sub = create_site(
        actor=None,
        parent=other,
        level=SiteLevel.SUBCENTRE,
        name="东四街道分中心",
        code="DC-DS",
        kind=SiteKind.STREET,
        latitude=39.93,
        longitude=116.42,
    )
    c = create_site(
        actor=None,
        parent=other_sub,
        level=SiteLevel.STATION,
        name="丙居民区实践站",
        code="DC-DS-C",
        kind=SiteKind.RESIDENTIAL,
        latitude=39.931,
        longitude=116.421,
    )
    return Street(district, sub, a, b, pa, other, c)


PERSONA_PASSWORD = "correct-horse-battery"  # noqa: S105 - every persona's password, in tests only


def _user(phone: str, name: str, **extra: object):
    from wenming.accounts.models import User

    return User.objects.create_user(phone, PERSONA_PASSWORD, name=name, **extra)


def _grant(user, role: str, site) -> None:
    from wenming.accounts.models import RoleGrant

    RoleGrant.objects.create(user=user, role=role, site=site)


@dataclass
class People:
    admin: User
    subcentre_admin: User
    manager_a: User
    manager_b: User
    leader_a: User
    volunteer_a: User
    resident_a: User
    resident_b: User
    liaison_a: User
    manager_c: User


PERSONAS = [f.name for f in fields(People)]


@pytest.fixture
def people(street: Street) -> People:
    from wenming.accounts.models import Profile, Role

    admin = _user("13800000000", "平台管理员", is_staff=True)
    _grant(admin, Role.PLATFORM_ADMIN, None)
    sub_admin = _user("13800000001", "周主任", is_staff=True)
    _grant(sub_admin, Role.SUBCENTRE_ADMIN, street.subcentre)
    manager_a = _user("13800000002", "张站长", home_site=street.station_a)
    _grant(manager_a, Role.STATION_MANAGER, street.station_a)
    manager_b = _user("13800000003", "李站长", home_site=street.station_b)
    _grant(manager_b, Role.STATION_MANAGER, street.station_b)
    leader_a = _user("13800000004", "赵队长", home_site=street.station_a)
    _grant(leader_a, Role.TEAM_LEADER, street.station_a)
    volunteer_a = _user("13800000005", "小陈", home_site=street.station_a)
    _grant(volunteer_a, Role.VOLUNTEER, street.station_a)
    resident_a = _user("13800000006", "王阿姨", home_site=street.station_a)
    _grant(resident_a, Role.RESIDENT, street.station_a)
    resident_b = _user("13800000007", "刘大爷", home_site=street.station_b)
    _grant(resident_b, Role.RESIDENT, street.station_b)
    liaison_a = _user("13800000008", "孙经理", home_site=street.station_a)
    _grant(liaison_a, Role.UNIT_LIAISON, street.station_a)
    manager_c = _user("13800000009", "钱站长", home_site=street.station_c)
    _grant(manager_c, Role.STATION_MANAGER, street.station_c)
    for person, number in ((resident_a, ID_A), (resident_b, ID_B)):
        profile = Profile(user=person)
        ident = cn_id.parse(number)
        profile.set_id_number(ident.value)
        profile.gender, profile.birth_date = ident.gender, ident.birth_date
        profile.save()
    return People(
        admin, sub_admin, manager_a, manager_b, leader_a, volunteer_a, resident_a, resident_b, liaison_a, manager_c
    )


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Every test starts in Chinese: a request in English leaves its language active in the thread."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Rate limits and lock-outs live in the cache: no test inherits another's."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _append_only_around_flush(request: pytest.FixtureRequest) -> Iterator[None]:
    """Let Django empty the append-only tables after a transactional test on SQLite.

    Django empties the database after such a test with DELETE on SQLite
    (TRUNCATE on PostgreSQL, which the triggers allow), so the triggers are
    lifted just before that and put back before the next test that uses the
    database.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or bool(marker and marker.kwargs.get("transaction"))
    uses_db = transactional or marker is not None or "db" in request.fixturenames
    sqlite = False
    if uses_db:
        from django.db import connection

        from wenming.lib import append_only

        request.getfixturevalue("transactional_db" if transactional else "db")
        sqlite = connection.vendor == "sqlite"
        if sqlite:
            for table in append_only.TABLES:
                append_only.install(connection, table)
    yield
    if transactional and sqlite:
        for table in append_only.TABLES:
            append_only.uninstall(connection, table)


@pytest.fixture
def sms_outbox():
    from wenming.accounts import sms

    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


@pytest.fixture
def postgres_only(settings) -> None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


# --- A real server, for races over HTTP ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _database_url() -> str:
    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    return f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"


@pytest.fixture(scope="module")
def served(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """gunicorn serving the test database, with the suite's settings (tasks run at once): its base URL.

    For races over real HTTP (``activities/tests/test_rush.py``, ``orders/tests/test_accept_race.py``).
    """
    with django_db_blocker.unblock():
        url = _database_url()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DEBUG"}}
    env.update(
        DJANGO_SETTINGS_MODULE="wenming.test_settings",
        DATABASE_URL=url,
        WENMING_VAR_DIR=str(tmp_path_factory.mktemp("rush")),
        PORT=str(port),
        WEB_WORKERS="2",
        WEB_THREADS="8",
        WEB_ACCESS_LOG="",
        LOG_LEVEL="ERROR",
    )
    log = (tmp_path_factory.mktemp("rush-log") / "gunicorn.log").open("w+b")
    # A file, not a pipe: a full pipe nobody reads would block the server.
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"],
        env=env,
        cwd=Path(__file__).resolve().parent,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=5) as answer:  # noqa: S310 - loopback
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"gunicorn did not come up: {log.read().decode(errors='replace')[-2000:]}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


# --- A real browser, for the flows people click through --------------------------------------------------

CHROMIUM = "/usr/bin/chromium"  # Debian's; nothing downloads a browser
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
]
BROWSER_TIMEOUT_MS = 15_000
# A browser test module's pytestmark: skipped only where Chromium is missing and CI is not "true".
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and os.environ.get("CI") != "true",
        reason=f"{CHROMIUM} is not installed (apt-get install chromium); required when CI=true",
    ),
]


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Headless Chromium driven by Playwright with ``executable_path``."""
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
            # ORM calls made while Playwright's loop runs get connections of their own (asgiref's Local
            # follows the loop's context); close them here, or PostgreSQL cannot drop the test database.
            connections.close_all()


def new_page(browser: Any, *, mobile: bool = False, javascript: bool = True) -> Any:
    """A page in a fresh context that asks for Chinese (a phone's viewport when ``mobile``)."""
    options: dict[str, Any] = {
        "locale": "zh-CN",
        "extra_http_headers": {"Accept-Language": "zh-CN,zh;q=0.9"},
        "java_script_enabled": javascript,
    }
    if mobile:
        options["viewport"] = {"width": 390, "height": 844}
    context = browser.new_context(**options)
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    return context.new_page()


def sign_in(page: Any, base: str, phone: str, next_path: str = "") -> None:
    """Sign a persona in through the real login page (password form)."""
    page.goto(f"{base}/accounts/login/" + (f"?next={next_path}" if next_path else ""))
    form = page.locator("form:has(input[name=method][value=password])")
    form.locator("input[name=phone]").fill(phone)
    form.locator("input[name=password]").fill(PERSONA_PASSWORD)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
