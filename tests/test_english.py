"""The English interface: a complete catalogue, and pages with no Chinese left in them.

Wenming's msgids are Simplified Chinese (docs/decisions/0002-chinese-msgids.md),
so any string that is not wrapped in gettext, or whose English translation is
missing, shows up on an English page as Han characters. These tests check the
catalogue itself, that the compiled catalogue Django loads matches it, and
that pages and API errors rendered in English contain no Han characters
except user data (site and person names) and the language switcher's own
name for Chinese.

Django's LocaleMiddleware takes the language from the ``django_language``
cookie first and the ``Accept-Language`` header second; both are exercised.
"""

from __future__ import annotations

import json
import re
import string
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from django.conf import settings
from django.test import Client
from django.utils import translation

if TYPE_CHECKING:
    from conftest import People, Street

PO_PATH = Path(settings.BASE_DIR) / "wenming" / "locale" / "en" / "LC_MESSAGES" / "django.po"
HAN = re.compile(r"[\u4e00-\u9fff]")
# printf-style placeholders: %(name)s, %d, %.1f ... and the literal %%.
PERCENT = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<kind>[diouxXeEfFgGcrsa%])"
)
# The language switcher names every language in itself (Django's name_local): this Chinese is intended.
LANGUAGE_OPTION_ZH = re.compile(r'<option value="zh-hans"[^>]*>简体中文</option>')


# --- helpers --------------------------------------------------------------------------------------


def han_snippets(text: str, *, allowed: Iterable[str] = (), width: int = 40) -> list[str]:
    """Every run of Han characters in ``text`` with ``width`` characters around it.

    Occurrences of the ``allowed`` strings (user data) are removed first.
    """
    for known in sorted(allowed, key=len, reverse=True):
        text = text.replace(known, "")
    text = LANGUAGE_OPTION_ZH.sub("", text)
    snippets = []
    for match in re.finditer(r"[\u4e00-\u9fff]+", text):
        start, end = max(0, match.start() - width), min(len(text), match.end() + width)
        snippets.append(f"{match.group()!r} in …{text[start:end]!r}…")
    return snippets


def assert_no_han(text: str, *, where: str, allowed: Iterable[str] = ()) -> None:
    found = han_snippets(text, allowed=allowed)
    assert not found, f"untranslated Chinese on {where}:\n  " + "\n  ".join(found)


def percent_placeholders(text: str) -> Counter[str]:
    return Counter(m.group() for m in PERCENT.finditer(text) if m.group("kind") != "%")


def brace_fields(text: str) -> Counter[str]:
    try:
        return Counter(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)
    except ValueError:
        return Counter()


@dataclass(frozen=True)
class Entry:
    """One message of the catalogue: its msgid (and msgid_plural) and its translation(s)."""

    ids: tuple[str, ...]
    strings: tuple[str, ...]
    flags: frozenset[str]
    fuzzy: bool

    @property
    def msgid(self) -> str:
        return self.ids[0]


def catalogue() -> Catalog:
    with PO_PATH.open("rb") as f:
        return read_po(f, locale="en")


def entries() -> list[Entry]:
    def texts(value: object) -> tuple[str, ...]:
        return tuple(str(v or "") for v in value) if isinstance(value, (tuple, list)) else (str(value or ""),)

    return [
        Entry(texts(m.id), texts(m.string), frozenset(m.flags), m.fuzzy)
        for m in catalogue()
        if m.id  # the header
    ]


# --- the catalogue --------------------------------------------------------------------------------


def test_catalogue_header() -> None:
    catalog = catalogue()
    assert not catalog.fuzzy, "the header is still marked fuzzy"
    assert str(catalog.locale) == "en"
    assert catalog.charset.lower() == "utf-8"
    assert catalog.num_plurals == 2
    assert catalog.plural_expr.replace(" ", "") == "(n!=1)"
    assert len(entries()) > 400


def test_every_message_is_translated_and_not_fuzzy() -> None:
    untranslated = [e.msgid for e in entries() if not all(s.strip() for s in e.strings)]
    fuzzy = [e.msgid for e in entries() if e.fuzzy]
    assert not untranslated, f"{len(untranslated)} messages without English: {untranslated}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy messages: {fuzzy}"


def test_plural_messages_have_both_forms() -> None:
    plurals = [e for e in entries() if len(e.ids) == 2]
    assert plurals
    wrong = [e.msgid for e in plurals if len(e.strings) != 2]
    assert not wrong, f"plural messages without exactly two forms: {wrong}"


def test_translations_are_english() -> None:
    chinese = [(e.msgid, s) for e in entries() for s in e.strings if HAN.search(s)]
    assert not chinese, f"translations containing Chinese: {chinese}"


def test_placeholders_are_kept() -> None:
    """%(name)s, %d ... and {name} come back exactly, in every form of every message."""
    wrong = []
    for entry in entries():
        expected = percent_placeholders(entry.msgid)
        assert all(percent_placeholders(other) == expected for other in entry.ids[1:]), entry.ids
        for text in entry.strings:
            if percent_placeholders(text) != expected:
                wrong.append(f"{entry.msgid!r} → {text!r}: {dict(expected)} ≠ {dict(percent_placeholders(text))}")
            if "python-brace-format" in entry.flags and brace_fields(text) != brace_fields(entry.msgid):
                wrong.append(f"{entry.msgid!r} → {text!r}: {{}} fields differ")
    assert not wrong, "placeholders changed:\n  " + "\n  ".join(wrong)


def test_python_format_flags_match_the_placeholders() -> None:
    """A message with %(name)s is flagged python-format, so msgfmt --check compares its placeholders too."""
    unflagged = [e.msgid for e in entries() if percent_placeholders(e.msgid) and "python-format" not in e.flags]
    assert not unflagged, f"placeholders without the python-format flag: {unflagged}"


def test_compiled_catalogue_matches_the_po_file() -> None:
    """Django serves what the .po says: catches a .mo not recompiled after an edit (pybabel compile)."""
    stale = []
    with translation.override("en"):
        for entry in entries():
            if len(entry.ids) == 2:
                singular, plural = entry.ids
                got: tuple[str, ...] = (
                    translation.ngettext(singular, plural, 1),
                    translation.ngettext(singular, plural, 2),
                )
            else:
                got = (translation.gettext(entry.msgid),)
            if got != entry.strings:
                stale.append((entry.msgid, got))
    assert not stale, f"{len(stale)} messages differ from the compiled catalogue, first: {stale[:5]}"


# --- pages in English -----------------------------------------------------------------------------


@pytest.fixture(params=["accept-language", "cookie"])
def english(request: pytest.FixtureRequest) -> Client:
    """A client asking for English, the way a browser does or the way the language switcher does."""
    if request.param == "cookie":
        client = Client()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    else:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
    return client


def english_page(client: Client, url: str, params: dict[str, str] | None = None, *, status: int = 200) -> str:
    response = client.get(url, params or {})
    assert response.status_code == status, (url, response.status_code)
    assert response["Content-Language"] == "en"
    page = response.content.decode()
    assert '<html lang="en">' in page
    return page


def platform_admin() -> Any:
    """A platform admin with a Latin name, in a network with no sites at all."""
    from wenming.accounts.models import Role, RoleGrant, User

    admin = User.objects.create_user("13800000000", "correct-horse-battery", name="Admin", is_staff=True)
    RoleGrant.objects.create(user=admin, role=Role.PLATFORM_ADMIN, site=None)
    return admin


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/", {}),
        ("/accounts/login/", {}),
        ("/accounts/login/", {"tab": "sms"}),
        ("/sites/", {}),
        ("/sites/", {"q": "nothing-matches"}),
        ("/near/", {}),
        ("/near/", {"lat": "31.2304", "lng": "121.4737", "radius_m": "1500"}),
    ],
)
def test_public_pages_are_in_english(english: Client, url: str, params: dict[str, str]) -> None:
    assert_no_han(english_page(english, url, params), where=f"{url} {params}")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        {"lat": "abc", "lng": "121.4737"},
        {"lat": "31.2304"},
        {"lat": "95", "lng": "121.4737"},
        {"station": "999999"},
        {"station": "abc"},
        {"station": ""},
        {"lat": "31.2304", "lng": "121.4737", "radius_m": "1"},
    ],
)
def test_near_form_errors_are_in_english(english: Client, params: dict[str, str]) -> None:
    page = english_page(english, "/near/", params)
    assert "wm-error" in page, "expected a form error"
    assert_no_han(page, where=f"/near/ {params}")


@pytest.mark.django_db
def test_login_errors_are_in_english(english: Client) -> None:
    response = english.post("/accounts/login/", {"method": "password", "phone": "13800000000", "password": "nope"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Incorrect mobile number or password." in page
    assert_no_han(page, where="/accounts/login/ after a wrong password")

    response = english.post("/accounts/login/", {"method": "password", "phone": "", "password": ""})
    assert_no_han(response.content.decode(), where="/accounts/login/ with empty fields")


@pytest.mark.django_db
def test_staff_pages_for_a_platform_admin_with_no_sites(english: Client) -> None:
    english.force_login(platform_admin())
    staff = english_page(english, "/staff/")
    assert "You do not manage any sites yet." in staff
    assert "Platform admin" in staff
    assert_no_han(staff, where="/staff/")
    assert_no_han(english_page(english, "/accounts/people/"), where="/accounts/people/")
    assert_no_han(english_page(english, "/accounts/people/register/"), where="/accounts/people/register/")
    assert_no_han(english_page(english, "/", status=200), where="/ signed in")


@pytest.mark.django_db
def test_error_pages_are_in_english(english: Client) -> None:
    assert_no_han(english_page(english, "/sites/999999/", status=404), where="404 page")
    from wenming.accounts.models import User

    nobody = User.objects.create_user("13800000006", "correct-horse-battery", name="Nobody")
    english.force_login(nobody)
    assert_no_han(english_page(english, "/staff/", status=403), where="403 page")


def user_data() -> list[str]:
    """Every string people typed in: the names, addresses and descriptions a page may show as they are."""
    from wenming.accounts.models import User
    from wenming.network.models import Brand, Project, Site, Venue

    data: list[str] = []
    for site in Site.objects.all():
        data += [site.name, site.address, site.opening_hours, site.contact_name, site.description]
    for venue in Venue.objects.all():
        data += [venue.name, venue.description, *venue.facilities]
    for brand in Brand.objects.all():
        data += [brand.name, brand.theme, brand.description]
    data += [project.name for project in Project.objects.all()]
    data += [user.name for user in User.objects.all()]
    return [d for d in data if d]


@pytest.mark.django_db
def test_pages_with_data_are_in_english(english: Client, street: Street, people: People) -> None:
    """A sub-centre admin's pages in a furnished street: only the data itself stays Chinese."""
    from wenming.network import services

    services.create_venue(
        actor=None, site=street.station_a, name="一号活动室", area_m2=60, capacity=20, facilities=["投影仪", "音响"]
    )
    brand = services.create_brand(actor=None, site=street.station_a, name="甲站睦邻", theme="邻里互助")
    services.create_project(actor=None, brand=brand, name="四点半课堂", is_claimable=True)
    english.force_login(people.subcentre_admin)
    a = street.station_a.pk
    pages: list[tuple[str, dict[str, str]]] = [
        ("/staff/", {}),
        ("/sites/", {}),
        ("/sites/", {"q": "实践站"}),
        (f"/sites/{a}/", {}),
        (f"/sites/{street.subcentre.pk}/", {}),
        (f"/staff/sites/{a}/coverage/", {"distance_m": "1000"}),
        (f"/staff/sites/{street.subcentre.pk}/coverage/", {"distance_m": "50"}),
        ("/near/", {"station": str(a), "radius_m": "2000"}),
        ("/accounts/people/", {}),
        (f"/accounts/people/{people.resident_a.pk}/", {}),
        ("/accounts/people/register/", {}),
    ]
    allowed = user_data()
    for url, params in pages:
        page = english_page(english, url, params)
        assert_no_han(page, where=f"{url} {params}", allowed=[*allowed, *params.values()])
    register = english.post("/accounts/people/register/", {"name": "", "phone": "123", "id_number": "1"})
    assert register.status_code == 200
    assert_no_han(register.content.decode(), where="/accounts/people/register/ with errors", allowed=allowed)


@pytest.mark.django_db
def test_admin_is_in_english(english: Client) -> None:
    """The scoped admin: Django's own English, with Wenming's verbose names, help texts and headers translated."""
    from django.contrib import admin
    from django.urls import reverse

    english.force_login(platform_admin())
    urls = ["/admin/"]
    for model in admin.site._registry:
        info = f"{model._meta.app_label}_{model._meta.model_name}"
        urls += [reverse(f"admin:{info}_changelist"), reverse(f"admin:{info}_add")]
    for url in urls:
        response = english.get(url)
        assert response.status_code in (200, 403), (url, response.status_code)
        assert_no_han(response.content.decode(), where=url)
    response = english.post("/admin/network/site/add/", {})
    assert response.status_code == 200
    assert_no_han(response.content.decode(), where="/admin/network/site/add/ with errors")


# --- the API in English ---------------------------------------------------------------------------


def assert_english_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["message"], body
    assert_no_han(json.dumps(body, ensure_ascii=False), where=f"{response.request['PATH_INFO']} → {body}")
    return body


@pytest.mark.django_db
def test_api_not_found_is_in_english(english: Client) -> None:
    body = assert_english_error(english.get("/api/sites/999999"), 404)
    assert body["message"] == "Not found."


@pytest.mark.django_db
def test_api_bad_json_is_in_english(english: Client) -> None:
    response = english.post("/api/auth/token", "{not json", content_type="application/json")
    body = assert_english_error(response, 400)
    assert body["message"] == "The request body is not valid JSON."


@pytest.mark.django_db
def test_api_validation_errors_are_in_english(english: Client) -> None:
    assert_english_error(english.post("/api/auth/token", {"phone": "123"}, content_type="application/json"), 422)
    assert_english_error(english.get("/api/sites/nearby", {"lat": "x"}), 422)
    assert_english_error(english.get("/api/me"), 401)


@pytest.mark.django_db
def test_api_wrong_password_is_in_english(english: Client) -> None:
    response = english.post(
        "/api/auth/token", {"phone": "13800000000", "password": "nope"}, content_type="application/json"
    )
    body = assert_english_error(response, 401)
    assert body["message"] == "Incorrect mobile number or password."


def test_han_snippets_reports_context_and_skips_user_data() -> None:
    text = "<p>Hello</p><h1>甲居民区实践站</h1><p>未翻译 here</p>"
    found = han_snippets(text, allowed=["甲居民区实践站"], width=5)
    assert found == ["'未翻译' in …'1><p>未翻译 here'…"]


# --- known gaps -----------------------------------------------------------------------------------
# strict: when the gap is closed the test passes, the xfail fails, and the marker should go.


@pytest.mark.django_db
def test_api_docs_page_is_in_english(english: Client) -> None:
    response = english.get("/api/docs")
    assert response.status_code == 200
    assert_no_han(response.content.decode(), where="/api/docs")


@pytest.mark.django_db
def test_openapi_schema_is_in_english(english: Client) -> None:
    response = english.get("/api/openapi.json")
    assert response.status_code == 200
    assert_no_han(json.dumps(response.json(), ensure_ascii=False), where="/api/openapi.json")


def activity_data() -> list[str]:
    """What staff and residents typed about activities and bookings: shown as typed."""
    from wenming.activities.models import Activity, Post, Recap
    from wenming.bookings.models import Booking

    data: list[str] = []
    for activity in Activity.objects.all():
        data += [activity.title, activity.description, activity.location, activity.cancel_reason]
    data += [post.name for post in Post.objects.all()]
    for recap in Recap.objects.all():
        data += [recap.title, recap.body]
    data += [booking.purpose for booking in Booking.objects.all()]
    return [d for d in data if d]


@pytest.mark.django_db
def test_activity_and_booking_pages_are_in_english(english: Client, street: Street, people: People) -> None:
    """The weekly preview, an activity, sign-ups, the scanner, bookings and messages, in English."""
    import datetime as dt

    from django.utils import timezone

    from wenming.activities import services as activities
    from wenming.bookings import services as bookings
    from wenming.network import services as network
    from wenming.volunteers import services as volunteers

    venue = network.create_venue(actor=None, site=street.station_a, name="多功能厅", area_m2=80, capacity=40)
    start = timezone.localtime() + dt.timedelta(days=3)
    start = start.replace(hour=9, minute=0, second=0, microsecond=0)
    activity = activities.create_activity(
        actor=people.manager_a,
        site=street.station_a,
        title="重阳节包饺子",
        description="欢迎居民参加",
        platform="culture",
        audience="elderly",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        venue=venue,
        seats=1,
        waitlist_limit=5,
        posts=[{"name": "引导", "headcount": 2}],
    )
    activities.submit_activity(actor=people.manager_a, activity=activity)
    activities.approve_activity(actor=people.subcentre_admin, activity=activity)
    activities.sign_up(actor=people.resident_a, activity=activity)
    activities.sign_up(actor=people.resident_b, activity=activity)  # waitlisted
    volunteers.register_volunteer(actor=people.manager_a, user=people.volunteer_a, site=street.station_a)
    activities.sign_up(actor=people.volunteer_a, activity=activity, post=activity.posts.get())
    draft = activities.create_activity(
        actor=people.manager_a,
        site=street.station_a,
        title="草稿活动",
        platform="theory",
        lecture_format="bench",
        starts_at=start + dt.timedelta(days=1),
        ends_at=start + dt.timedelta(days=1, hours=1),
    )
    activities.submit_activity(actor=people.manager_a, activity=draft)
    slot = start + dt.timedelta(days=2, hours=5)
    bookings.request_booking(
        actor=people.resident_a, venue=venue, starts_at=slot, ends_at=slot + dt.timedelta(hours=1), purpose="合唱排练"
    )
    allowed = [*user_data(), *activity_data()]
    a, v = activity.pk, venue.pk

    def check(pages: list[str]) -> None:
        for url in pages:
            assert_no_han(english_page(english, url), where=url, allowed=allowed)

    check([f"/sites/{street.station_a.pk}/week/", f"/activities/{a}/", f"/sites/{street.station_a.pk}/news/"])
    english.force_login(people.resident_a)
    check(["/activities/mine/", f"/venues/{v}/book/", "/bookings/mine/", "/messages/"])
    english.force_login(people.subcentre_admin)
    check(
        [
            "/staff/",
            "/staff/activities/",
            "/staff/activities/new/",
            "/staff/activities/series/new/",
            "/staff/activities/approvals/",
            f"/staff/activities/{a}/",
            f"/staff/activities/{a}/edit/",
            f"/staff/activities/{a}/signups/",
            f"/staff/activities/{a}/scan/",
            f"/staff/activities/{a}/onsite-qr/",
            f"/staff/activities/{draft.pk}/",
            "/staff/scan/",
            "/staff/corrections/",
            "/staff/bookings/",
            f"/staff/venues/{v}/calendar/",
        ]
    )
    # A scan's answer, and a refused form, in English too.
    scan = english.post(f"/staff/activities/{a}/scan/", {"code": "NOPE42", "mode": "checkin"})
    assert_no_han(scan.content.decode(), where="scan with a wrong code", allowed=allowed)


def order_data() -> list[str]:
    """What the menu and the people typed about orders: shown as typed (types, questions, notes, words)."""
    from wenming.lib.masking import mask_name
    from wenming.orders.models import Order, OrderEvent, Question, ServiceType
    from wenming.volunteers.models import Skill, Team

    data: list[str] = []
    for service_type in ServiceType.objects.all():
        data += [service_type.name, service_type.description, service_type.group, *service_type.keywords]
    for question in Question.objects.all():
        data += [question.prompt, question.help_text, *(str(c.get("name", "")) for c in question.choices)]
    for order in Order.objects.all():
        data += [order.description, order.address, order.contact_name, mask_name(order.contact_name)]
        data += [order.status_note, order.completion_note]
        data += [order.rating_comment, order.review_note, *(str(v) for v in order.answers.values())]
        data += [str(w) for w in order.classification.get("words", [])]
    data += [event.note for event in OrderEvent.objects.all()]
    data += [*Skill.objects.values_list("name", flat=True), *Team.objects.values_list("name", flat=True)]
    return [d for d in data if d]


@pytest.mark.django_db
def test_order_pages_are_in_english(english: Client, street: Street, people: People) -> None:
    """点单 → 派单 → 接单 → 评单 and 随手拍, on every page that shows them, in English."""
    from wenming.orders import services as orders
    from wenming.orders.models import OrderKind, Question, ServiceType
    from wenming.volunteers import services as volunteers
    from wenming.volunteers.models import Skill

    skill = Skill.objects.create(name="家电维修")
    repair = ServiceType.objects.create(code="repair", name="家电维修", keywords=["洗衣机", "维修"])
    repair.skills.add(skill)
    Question.objects.create(
        service_type=repair,
        code="kind",
        prompt="电器类型",
        datatype="singlevaluelist",
        choices=[{"key": "washer", "name": "洗衣机"}],
    )
    wires = ServiceType.objects.create(code="wires", kind=OrderKind.REPORT, name="飞线充电")
    chen = volunteers.register_volunteer(
        actor=people.manager_a, user=people.volunteer_a, site=street.station_a, skills=[skill]
    )
    waiting = orders.place_order(actor=people.resident_a, description="家里洗衣机坏了，请人来修")
    dispatched = orders.place_order(actor=people.resident_a, service_type=repair, description="冰箱不制冷")
    orders.dispatch_order(actor=people.manager_a, order=dispatched, volunteer=chen)
    grabbing = orders.place_order(actor=people.resident_a, service_type=repair, description="电视没信号")
    orders.open_grab(actor=people.manager_a, order=grabbing)
    report = orders.place_order(
        actor=people.manager_a, requester=people.resident_a, service_type=wires, description="楼道飞线"
    )
    orders.persuade_report(actor=people.manager_a, order=report, note="已劝导")
    allowed = [*user_data(), *order_data()]

    def check(pages: list[str]) -> None:
        for url in pages:
            assert_no_han(english_page(english, url), where=url, allowed=allowed)

    english.force_login(people.resident_a)
    check(["/orders/new/", "/reports/new/", "/orders/mine/", f"/orders/{waiting.pk}/", f"/orders/{report.pk}/"])
    refused = english.post("/orders/new/", {"description": "今天天气不错"})
    assert_no_han(refused.content.decode(), where="an order the words cannot place", allowed=[*allowed, "今天天气不错"])
    english.force_login(people.volunteer_a)
    check(["/orders/tasks/", f"/orders/{dispatched.pk}/", f"/orders/{grabbing.pk}/"])
    english.force_login(people.manager_a)
    check(
        [
            "/staff/",
            "/staff/orders/",
            "/staff/orders/?queue=reports",
            "/staff/orders/new/",
            f"/staff/orders/{waiting.pk}/",
            f"/staff/orders/{dispatched.pk}/",
            f"/staff/orders/{report.pk}/",
        ]
    )
    # Open311 answers the same signed in or not (the client keeps its language cookie).
    for url in ["/open311/v2/services.json", "/open311/v2/services/nope.xml", "/open311/v2/requests.json?status=x"]:
        assert_no_han(english.get(url).content.decode(), where=url, allowed=allowed)
    posted = english.post("/open311/v2/requests.json", {"service_code": "repair"})
    assert_no_han(posted.content.decode(), where="an Open311 POST without a key", allowed=allowed)
