"""Sign-in pages and the staff people pages, over the personas."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from conftest import ID_A, ID_B, People, Street
from wenming.accounts.models import AuditAction, AuditLog, Role, RoleGrant, User

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Lock-outs and failure counters live in the cache; each test starts clean.
    cache.clear()
    yield
    cache.clear()


def html(response) -> str:
    return response.content.decode()


def session_user_id(client: Client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value else None


# --- Sign-in -------------------------------------------------------------------------------


def test_login_page_has_both_tabs(client: Client) -> None:
    page = html(client.get(reverse("accounts:login")))
    assert "密码登录" in page
    assert "验证码登录" in page
    assert 'name="password"' in page
    page = html(client.get(reverse("accounts:login"), {"tab": "sms"}))
    assert 'value="send_code"' in page
    assert 'name="code"' in page


def test_password_login_takes_staff_to_the_staff_home(client: Client, people: People) -> None:
    response = client.post(
        reverse("accounts:login"), {"method": "password", "phone": "138 0000 0002", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("core:staff_home")
    assert session_user_id(client) == people.manager_a.pk
    assert AuditLog.objects.filter(action=AuditAction.LOGIN, actor=people.manager_a).count() == 1


def test_password_login_takes_residents_home(client: Client, people: People) -> None:
    response = client.post(
        reverse("accounts:login"), {"method": "password", "phone": "13800000006", "password": PASSWORD}
    )
    assert response["Location"] == reverse("core:home")


def test_login_follows_a_safe_next_only(client: Client, people: People) -> None:
    data = {"method": "password", "phone": "13800000002", "password": PASSWORD}
    response = client.post(reverse("accounts:login") + "?next=/accounts/people/", data)
    assert response["Location"] == "/accounts/people/"
    client.logout()
    response = client.post(reverse("accounts:login") + "?next=https://evil.example.com/", data)
    assert response["Location"] == reverse("core:staff_home")


def test_wrong_password_shows_the_chinese_error(client: Client, people: People) -> None:
    response = client.post(
        reverse("accounts:login"), {"method": "password", "phone": "13800000002", "password": "nope"}
    )
    assert response.status_code == 200
    assert "手机号或密码不正确。" in html(response)
    assert session_user_id(client) is None


def test_bad_phone_is_explained(client: Client, people: People) -> None:
    page = html(client.post(reverse("accounts:login"), {"method": "password", "phone": "12345", "password": "x"}))
    assert "手机号格式不正确" in page
    page = html(client.post(reverse("accounts:login"), {"method": "password", "phone": "", "password": ""}))
    assert "请输入手机号。" in page
    assert "请输入密码。" in page


def test_five_failures_lock_the_account(client: Client, people: People) -> None:
    url = reverse("accounts:login")
    for _ in range(5):
        page = html(client.post(url, {"method": "password", "phone": "13800000002", "password": "wrong"}))
        assert "手机号或密码不正确。" in page
    # Even the right password is refused now, with the lock-out message.
    response = client.post(url, {"method": "password", "phone": "13800000002", "password": PASSWORD})
    page = html(response)
    assert "登录失败次数过多，已暂停登录，请15分钟后再试。" in page
    assert session_user_id(client) is None


def _code_from(outbox: list[tuple[str, str]], phone: str) -> str:
    messages = [text for number, text in outbox if number == phone]
    assert messages, "no SMS sent"
    match = re.search(r"\d{6}", messages[-1])
    assert match
    return match.group(0)


def test_sms_login(
    client: Client, people: People, sms_outbox: list[tuple[str, str]], django_capture_on_commit_callbacks
) -> None:
    url = reverse("accounts:login")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"method": "sms", "action": "send_code", "phone": "13800000006"})
    assert response.status_code == 200
    assert "验证码已发送" in html(response)
    assert "重新获取" in html(response)
    code = _code_from(sms_outbox, "13800000006")

    response = client.post(url, {"method": "sms", "action": "login", "phone": "13800000006", "code": code})
    assert response.status_code == 302
    assert session_user_id(client) == people.resident_a.pk
    # The code works once.
    client.logout()
    page = html(client.post(url, {"method": "sms", "action": "login", "phone": "13800000006", "code": code}))
    assert "验证码不正确或已过期。" in page


def test_sms_login_with_a_wrong_code(
    client: Client, people: People, sms_outbox: list[tuple[str, str]], django_capture_on_commit_callbacks
) -> None:
    url = reverse("accounts:login")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"method": "sms", "action": "send_code", "phone": "13800000006"})
    code = _code_from(sms_outbox, "13800000006")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    page = html(client.post(url, {"method": "sms", "action": "login", "phone": "13800000006", "code": wrong}))
    assert "验证码不正确或已过期。" in page
    assert session_user_id(client) is None


def test_sms_code_resend_too_soon_is_explained(
    client: Client, people: People, sms_outbox: list[tuple[str, str]]
) -> None:
    url = reverse("accounts:login")
    client.post(url, {"method": "sms", "action": "send_code", "phone": "13800000006"})
    page = html(client.post(url, {"method": "sms", "action": "send_code", "phone": "13800000006"}))
    assert "验证码发送太频繁" in page


def test_sms_login_without_a_code(client: Client, people: People) -> None:
    page = html(client.post(reverse("accounts:login"), {"method": "sms", "action": "login", "phone": "13800000006"}))
    assert "请输入短信验证码。" in page


def test_logout_is_post_only(client: Client, people: People) -> None:
    client.force_login(people.manager_a)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert session_user_id(client) == people.manager_a.pk
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert session_user_id(client) is None
    from wenming.accounts.models import AuditLog

    assert AuditLog.objects.filter(action="logout", actor=people.manager_a).count() == 1


# --- Staff pages: who gets in ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["accounts:people_list", "accounts:register"])
def test_anonymous_is_sent_to_login(client: Client, name: str) -> None:
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")


def test_anonymous_is_sent_to_login_for_a_person(client: Client, people: People) -> None:
    response = client.get(reverse("accounts:person_detail", args=[people.resident_a.pk]))
    assert response.status_code == 302
    response = client.post(reverse("accounts:person_reveal", args=[people.resident_a.pk]))
    assert response.status_code == 302
    assert not AuditLog.objects.filter(action=AuditAction.PII_REVEALED).exists()


@pytest.mark.parametrize("persona", ["resident_a", "volunteer_a", "leader_a", "liaison_a"])
def test_non_staff_get_the_403_page(client: Client, people: People, persona: str) -> None:
    client.force_login(getattr(people, persona))
    for url in (reverse("accounts:people_list"), reverse("accounts:register")):
        response = client.get(url)
        assert response.status_code == 403
        assert "无权访问" in html(response)


# --- People list ------------------------------------------------------------------------------


def test_people_list_shows_only_people_in_scope_with_masked_data(client: Client, people: People) -> None:
    client.force_login(people.manager_a)
    response = client.get(reverse("accounts:people_list"))
    assert response.status_code == 200
    page = html(response)
    assert "王阿姨" in page
    assert "刘大爷" not in page  # 乙站
    assert "钱站长" not in page  # another district
    assert "138****0006" in page
    assert "13800000006" not in page
    assert "310109********0025" in page
    assert ID_A not in page
    for person in User.objects.all():
        assert person.phone not in page


def test_people_list_for_the_subcentre_admin_covers_both_stations(client: Client, people: People) -> None:
    client.force_login(people.subcentre_admin)
    page = html(client.get(reverse("accounts:people_list")))
    assert "王阿姨" in page
    assert "刘大爷" in page
    assert "钱站长" not in page
    assert ID_B not in page


def test_people_list_search(client: Client, people: People) -> None:
    client.force_login(people.subcentre_admin)
    page = html(client.get(reverse("accounts:people_list"), {"q": "刘"}))
    assert "刘大爷" in page
    assert "王阿姨" not in page
    page = html(client.get(reverse("accounts:people_list"), {"q": "0006"}))
    assert "王阿姨" in page
    assert "刘大爷" not in page


def test_people_list_query_count_does_not_grow_with_people(
    client: Client, people: People, street: Street, django_assert_max_num_queries
) -> None:
    from wenming.accounts.models import Profile

    for i in range(30):
        person = User.objects.create_user(f"1390000{i:04d}", None, name=f"居民{i}", home_site=street.station_a)
        Profile.objects.create(user=person, id_number_masked="310109********0000")
    client.force_login(people.manager_a)
    client.get(reverse("accounts:people_list"))  # warm the session
    with django_assert_max_num_queries(6):
        response = client.get(reverse("accounts:people_list"))
    assert response.status_code == 200
    assert "居民19" in html(response)


# --- Person page and reveal --------------------------------------------------------------------


def test_person_page_shows_masked_data(client: Client, people: People) -> None:
    client.force_login(people.manager_a)
    response = client.get(reverse("accounts:person_detail", args=[people.resident_a.pk]))
    assert response.status_code == 200
    page = html(response)
    assert "王阿姨" in page
    assert "138****0006" in page
    assert "310109********0025" in page
    assert ID_A not in page
    assert "查看完整身份证号" in page
    assert "no-store" in response["Cache-Control"]


def test_station_manager_gets_404_for_another_stations_resident(client: Client, people: People) -> None:
    client.force_login(people.manager_a)
    assert client.get(reverse("accounts:person_detail", args=[people.resident_b.pk])).status_code == 404
    response = client.post(reverse("accounts:person_reveal", args=[people.resident_b.pk]))
    assert response.status_code == 404
    assert ID_B not in html(response)
    assert not AuditLog.objects.filter(action=AuditAction.PII_REVEALED).exists()


def test_unknown_person_is_404(client: Client, people: People) -> None:
    client.force_login(people.admin)
    assert client.get(reverse("accounts:person_detail", args=[999999])).status_code == 404


def test_reveal_shows_the_id_once_and_audits_it(client: Client, people: People) -> None:
    client.force_login(people.manager_a)
    url = reverse("accounts:person_reveal", args=[people.resident_a.pk])
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 200
    assert ID_A in html(response)
    assert "no-store" in response["Cache-Control"]
    rows = AuditLog.objects.filter(action=AuditAction.PII_REVEALED)
    assert rows.count() == 1
    row = rows.get()
    assert row.actor_id == people.manager_a.pk
    assert row.target_id == str(people.resident_a.pk)
    # The next ordinary visit shows the mask again.
    assert ID_A not in html(client.get(reverse("accounts:person_detail", args=[people.resident_a.pk])))


def test_reveal_without_an_id_number_is_explained(client: Client, people: People) -> None:
    client.force_login(people.manager_a)
    from wenming.accounts.models import Profile

    Profile.objects.create(user=people.volunteer_a)
    response = client.post(reverse("accounts:person_reveal", args=[people.volunteer_a.pk]))
    assert response.status_code == 200
    assert "该居民未登记身份证号。" in html(response)
    assert not AuditLog.objects.filter(action=AuditAction.PII_REVEALED).exists()


# --- 代注册 ---------------------------------------------------------------------------------------


def test_register_offers_only_sites_the_staff_covers(client: Client, people: People, street: Street) -> None:
    client.force_login(people.manager_a)
    response = client.get(reverse("accounts:register"))
    assert response.status_code == 200
    page = html(response)
    assert f'value="{street.station_a.pk}"' in page
    assert f'value="{street.point_a.pk}"' in page
    assert f'value="{street.station_b.pk}"' not in page
    assert f'value="{street.subcentre.pk}"' not in page


def test_register_a_resident(client: Client, people: People, street: Street) -> None:
    client.force_login(people.manager_a)
    response = client.post(
        reverse("accounts:register"),
        {
            "phone": "13911112222",
            "name": "赵奶奶",
            "id_number": "11010519491231002X",
            "address": "甲小区3号楼101",
            "site": street.station_a.pk,
        },
    )
    person = User.objects.get(phone="13911112222")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:person_detail", args=[person.pk])
    assert person.home_site_id == street.station_a.pk
    assert person.registered_by_id == people.manager_a.pk
    assert RoleGrant.objects.filter(user=person, role=Role.RESIDENT, site=street.station_a).exists()
    assert AuditLog.objects.filter(action=AuditAction.USER_REGISTERED, target_id=str(person.pk)).count() == 1
    page = html(client.get(response["Location"]))
    assert "已为赵奶奶完成代注册。" in page
    assert "110105********002X" in page
    assert "11010519491231002X" not in page


def test_register_at_another_station_is_refused(client: Client, people: People, street: Street) -> None:
    client.force_login(people.manager_a)
    response = client.post(
        reverse("accounts:register"),
        {"phone": "13911112222", "name": "赵奶奶", "site": street.station_b.pk},
    )
    assert response.status_code == 200
    assert "您不能在所选阵地代注册居民" in html(response)
    assert not User.objects.filter(phone="13911112222").exists()


def test_register_errors_appear_next_to_their_field(client: Client, people: People, street: Street) -> None:
    client.force_login(people.manager_a)
    url = reverse("accounts:register")
    page = html(client.post(url, {"phone": "13800000006", "name": "王阿姨", "site": street.station_a.pk}))
    assert "该手机号已注册。" in page
    phone_cell = page.index('name="phone"')
    assert phone_cell < page.index("该手机号已注册。") < page.index('name="name"')

    page = html(
        client.post(url, {"phone": "13911112222", "name": "赵奶奶", "id_number": "123", "site": street.station_a.pk})
    )
    assert page.index('name="id_number"') < page.index("身份证号应为18位。") < page.index('name="address"')
    assert not User.objects.filter(phone="13911112222").exists()

    page = html(
        client.post(url, {"phone": "13911112222", "name": "赵奶奶", "id_number": ID_A, "site": street.station_a.pk})
    )
    assert "该身份证号已登记。" in page
    assert not User.objects.filter(phone="13911112222").exists()

    page = html(client.post(url, {"phone": "13911112222", "name": "", "site": ""}))
    assert "请输入姓名。" in page
    assert "请选择所属阵地。" in page
