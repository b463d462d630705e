"""POST/GET /api/users, GET /api/users/{id}, POST /api/users/{id}/reveal-id-number, POST /api/role-grants.

Each persona is asked about 王阿姨 (resident of 甲站) and 刘大爷 (resident
of 乙站). Staff see the people of their own subtree; everyone sees
themselves; to everyone else a person they may not see does not exist
(404, the same answer as for an id nobody has). Phone and ID numbers are
always masked, except in the audited reveal.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from conftest import CJK, PERSONAS
from wenming.accounts import services
from wenming.accounts.models import AuditLog, Profile, Role, RoleGrant, User
from wenming.lib import cn_id

pytestmark = pytest.mark.django_db

NEW_ID = "11010519491231002X"
# Which of the two residents each persona may see.
SEES = {
    "admin": {"resident_a", "resident_b"},
    "subcentre_admin": {"resident_a", "resident_b"},
    "manager_a": {"resident_a"},
    "manager_b": {"resident_b"},
    "resident_a": {"resident_a"},
    "resident_b": {"resident_b"},
}
# Who may register a resident at 乙站.
REGISTERS_AT_B = {"admin", "subcentre_admin", "manager_b"}
EVERYONE_AT_A = {"张站长", "赵队长", "小陈", "王阿姨", "孙经理"}
# GET /api/users: the names each persona's list holds.
LISTS = {
    "admin": EVERYONE_AT_A | {"平台管理员", "周主任", "李站长", "刘大爷", "钱站长"},
    "subcentre_admin": EVERYONE_AT_A | {"周主任", "李站长", "刘大爷"},
    "manager_a": EVERYONE_AT_A,
    "manager_b": {"李站长", "刘大爷"},
    "manager_c": {"钱站长"},
    "leader_a": {"赵队长"},
    "resident_a": {"王阿姨"},
    "liaison_a": {"孙经理"},
}


def headers(user: Any) -> dict[str, str]:
    raw, _ = services.issue_api_token(user=user)
    return {"Authorization": f"Bearer {raw}"}


def post(client: Client, url: str, data: Any, caller: Any = None) -> Any:
    """POST JSON as ``caller``: a user (a token is issued now) or headers prepared beforehand."""
    auth = caller if isinstance(caller, dict) or caller is None else headers(caller)
    return client.post(url, data, content_type="application/json", headers=auth)


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert CJK.search(body["message"]), body
    return body


def full_id(person: User) -> str:
    """The ID number the personas were given (conftest), as stored."""
    return Profile.objects.get(user=person).decrypt_id_number()


def counts() -> tuple[int, int, int, int]:
    return User.objects.count(), Profile.objects.count(), RoleGrant.objects.count(), AuditLog.objects.count()


# --- POST /api/users ------------------------------------------------------------------------------


def test_manager_registers_a_resident_and_gets_masked_data(client: Client, people: Any, street: Any) -> None:
    payload = {
        "phone": "139 1111 2222",
        "name": " 陈阿婆 ",
        "site_id": street.station_a.pk,
        "id_number": NEW_ID,
        "address": "甲小区1号楼",
    }
    response = post(client, "/api/users", payload, people.manager_a)
    assert response.status_code == 201, response.content
    body = response.json()
    person = User.objects.get(phone="13911112222")
    assert body == {
        "id": person.pk,
        "name": "陈阿婆",
        "phone": "139****2222",
        "id_number": "110105********002X",
        "site": {"id": street.station_a.pk, "name": "甲居民区实践站"},
    }
    assert NEW_ID not in response.content.decode()
    assert person.registered_by == people.manager_a
    assert person.profile.address == "甲小区1号楼"
    assert RoleGrant.objects.filter(user=person, role=Role.RESIDENT, site=street.station_a).exists()
    assert AuditLog.objects.filter(action="user_registered", target_id=str(person.pk), actor=people.manager_a).exists()


def test_registration_without_id_number(client: Client, people: Any, street: Any) -> None:
    response = post(
        client, "/api/users", {"phone": "13911112222", "name": "陈阿婆", "site_id": street.point_a.pk}, people.manager_a
    )
    assert response.status_code == 201
    assert response.json()["id_number"] == ""


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"phone": "1391111222"}, 400, "invalid_phone", "phone"),
        ({"phone": "23911112222"}, 400, "invalid_phone", "phone"),
        ({"phone": "139-1111-222x"}, 400, "invalid_phone", "phone"),
        ({"id_number": "110105194912310021"}, 400, "invalid_id_number", "id_number"),
        ({"id_number": "11010519491231"}, 400, "invalid_id_number", "id_number"),
        ({"id_number": "110105209912310025"}, 400, "invalid_id_number", "id_number"),
        ({"name": "  "}, 400, "invalid_name", "name"),
        ({"name": "<script>"}, 400, "invalid_name", "name"),
        ({"name": "陈" * 51}, 400, "invalid_name", "name"),
        ({"address": "路" * 201}, 400, "invalid_address", "address"),
        ({"name": "陈" * 10_000}, 422, "invalid", "name"),
        ({"phone": "1" * 10_000}, 422, "invalid", "phone"),
        ({"address": "甲\u0000乙"}, 422, "invalid", "address"),
        ({"name": "陈\u0000"}, 422, "invalid", "name"),
        ({"id_number": "\ud83d"}, 422, "invalid", "id_number"),
        ({"site_id": "abc"}, 422, "invalid", "site_id"),
        ({"site_id": -1}, 422, "invalid", "site_id"),
        ({"site_id": 10**30}, 422, "invalid", "site_id"),
        ({"site_id": 1.5}, 422, "invalid", "site_id"),
        ({"site_id": None}, 422, "invalid", "site_id"),
        ({"phone": None}, 422, "invalid", "phone"),
        ({"idNumber": NEW_ID}, 422, "invalid", "idNumber"),
    ],
)
def test_bad_registrations_are_refused_in_chinese_and_write_nothing(
    client: Client, people: Any, street: Any, change: dict[str, Any], status: int, code: str, field: str
) -> None:
    payload = {"phone": "13911112222", "name": "陈阿婆", "site_id": street.station_a.pk, "id_number": NEW_ID} | change
    auth = headers(people.manager_a)
    before = counts()
    body = assert_error(post(client, "/api/users", payload, auth), status, code)
    assert body["field"] == field
    assert counts() == before


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b'{"phone": "13911112222", "name": ', "application/json", 400, "malformed_json"),
        (b"\x00\x01\x02", "application/json", 400, "malformed_json"),
        (b'{"phone": "13911112222"}', "text/plain", 415, "unsupported_media_type"),
        (b"phone=13911112222&name=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (b"", "application/json", 422, "invalid"),
    ],
)
def test_broken_bodies_write_nothing(
    client: Client, people: Any, body: bytes, content_type: str, status: int, code: str
) -> None:
    auth = headers(people.manager_a)
    before = counts()
    response = client.post("/api/users", body, content_type=content_type, headers=auth)
    assert_error(response, status, code)
    assert counts() == before


def test_duplicates_are_409_and_write_nothing(client: Client, people: Any, street: Any) -> None:
    taken_phone = {"phone": "13800000006", "name": "又一个王阿姨", "site_id": street.station_a.pk}
    auth = headers(people.manager_a)
    before = counts()
    body = assert_error(post(client, "/api/users", taken_phone, auth), 409, "phone_taken")
    assert body["field"] == "phone"
    taken = full_id(people.resident_a).lower()  # the same number, however it is typed
    taken_id = {"phone": "13911112222", "name": "冒名者", "site_id": street.station_a.pk, "id_number": taken}
    body = assert_error(post(client, "/api/users", taken_id, auth), 409, "id_number_taken")
    assert body["field"] == "id_number"
    assert counts() == before


def test_missing_site_is_404_and_outside_scope_is_403(client: Client, people: Any, street: Any) -> None:
    payload = {"phone": "13911112222", "name": "陈阿婆"}
    manager_a, subcentre_admin = headers(people.manager_a), headers(people.subcentre_admin)
    before = counts()
    assert_error(post(client, "/api/users", payload | {"site_id": 999_999}, manager_a), 404, "not_found")
    assert_error(post(client, "/api/users", payload | {"site_id": street.station_b.pk}, manager_a), 403, "forbidden")
    # Residents live at stations and points, not at a sub-centre.
    assert_error(
        post(client, "/api/users", payload | {"site_id": street.subcentre.pk}, subcentre_admin), 403, "forbidden"
    )
    assert counts() == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_register_at_station_b(client: Client, people: Any, street: Any, persona: str) -> None:
    payload = {"phone": "13911112222", "name": "陈阿婆", "site_id": street.station_b.pk}
    response = post(client, "/api/users", payload, getattr(people, persona))
    if persona in REGISTERS_AT_B:
        assert response.status_code == 201, response.content
    else:
        assert_error(response, 403, "forbidden")
        assert not User.objects.filter(phone="13911112222").exists()


def test_registering_needs_signing_in(client: Client, street: Any) -> None:
    payload = {"phone": "13911112222", "name": "陈阿婆", "site_id": street.station_a.pk}
    assert_error(post(client, "/api/users", payload), 401, "unauthorized")
    assert not User.objects.filter(phone="13911112222").exists()


# --- GET /api/users -------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", sorted(LISTS))
def test_list_holds_exactly_the_people_the_caller_may_see(client: Client, people: Any, persona: str) -> None:
    body = client.get("/api/users", {"page_size": 100}, headers=headers(getattr(people, persona))).json()
    assert {p["name"] for p in body["results"]} == LISTS[persona]
    assert body["count"] == len(LISTS[persona])


def test_list_masks_phones_and_id_numbers(client: Client, people: Any) -> None:
    response = client.get("/api/users", {"q": "王阿姨"}, headers=headers(people.manager_a))
    (person,) = response.json()["results"]
    assert person["phone"] == "138****0006"
    assert person["id_number"] == "310109********0025"
    assert full_id(people.resident_a) not in response.content.decode()
    assert "13800000006" not in response.content.decode()


def test_list_filters_by_site_and_text(client: Client, people: Any, street: Any) -> None:
    def names(**params: Any) -> set[str]:
        answer = client.get("/api/users", params, headers=headers(people.subcentre_admin)).json()
        return {p["name"] for p in answer["results"]}

    assert names(site=street.station_b.pk) == {"李站长", "刘大爷"}
    assert names(site=street.station_a.pk, q="王") == {"王阿姨"}
    assert names(q="0007") == {"刘大爷"}  # the last four digits
    assert names(q="13800000007") == {"刘大爷"}  # the whole number
    assert names(q="0000007") == set()  # not any run of digits: masked numbers stay masked
    assert names(site=street.station_c.pk) == set()  # outside the caller's scope: nobody
    assert names(site=999_999) == set()
    assert names(q="%") == set()


def test_list_pages(client: Client, people: Any) -> None:
    auth = headers(people.admin)
    pages = [client.get("/api/users", {"page": n, "page_size": 4}, headers=auth).json() for n in (1, 2, 3, 4)]
    assert [len(p["results"]) for p in pages] == [4, 4, 2, 0]
    assert len({p["id"] for page in pages for p in page["results"]}) == 10
    assert all(p["count"] == 10 for p in pages)


def test_list_query_count_does_not_grow(
    client: Client, people: Any, street: Any, django_assert_num_queries: Any
) -> None:
    auth = headers(people.manager_a)

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            services.register_resident(
                actor=people.manager_a,
                site=street.station_a,
                phone=f"1391111{i:04d}",
                name=f"居民{i}",
                id_number="" if i % 2 else _id_for(i),
            )

    add(20, 0)
    # token, grants, count, page
    with django_assert_num_queries(4):
        assert client.get("/api/users", {"page_size": 100}, headers=auth).json()["count"] == 25
    add(20, 20)
    with django_assert_num_queries(4):
        body = client.get("/api/users", {"page_size": 100}, headers=auth).json()
    assert len(body["results"]) == 45
    assert all("****" in p["phone"] for p in body["results"])


def _id_for(i: int) -> str:
    first17 = f"11010519600101{i:03d}"
    return first17 + cn_id.check_char(first17)


def test_list_needs_signing_in(client: Client, db: None) -> None:
    assert_error(client.get("/api/users"), 401, "unauthorized")


@pytest.mark.parametrize(
    "query", ["site=abc", "site=0", "site=1e5", "page=0", "page_size=1000", "q=%00", "q=" + "王" * 51]
)
def test_list_garbage_is_422(client: Client, people: Any, query: str) -> None:
    assert_error(client.get(f"/api/users?{query}", headers=headers(people.admin)), 422, "invalid")


# --- GET /api/users/{id} and the reveal -----------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("target", ["resident_a", "resident_b"])
def test_reading_a_person_follows_the_policy(client: Client, people: Any, persona: str, target: str) -> None:
    person = getattr(people, target)
    response = client.get(f"/api/users/{person.pk}", headers=headers(getattr(people, persona)))
    if target in SEES.get(persona, set()):
        assert response.status_code == 200
        assert response.json()["name"] == person.name
        assert response.json()["id_number"].count("*") == 8
    else:
        assert_error(response, 404, "not_found")
        nobody = client.get("/api/users/999999", headers=headers(getattr(people, persona)))
        assert response.json() == nobody.json()


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("target", ["resident_a", "resident_b"])
def test_revealing_an_id_number_follows_the_policy_and_is_audited(
    client: Client, people: Any, persona: str, target: str
) -> None:
    person = getattr(people, target)
    actor = getattr(people, persona)
    response = post(client, f"/api/users/{person.pk}/reveal-id-number", {}, actor)
    audited = AuditLog.objects.filter(action="pii_revealed", target_id=str(person.pk), actor=actor)
    if target in SEES.get(persona, set()):
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"
        assert response.json() == {"id": person.pk, "id_number": full_id(person)}
        assert cn_id.is_valid(response.json()["id_number"])
        assert response.json()["id_number"].startswith("310109")
        assert audited.count() == 1
    else:
        assert_error(response, 404, "not_found")
        assert not audited.exists()


def test_manager_a_cannot_read_or_change_station_b(client: Client, people: Any, street: Any) -> None:
    """张站长 of 甲站 against 乙站's private data, through every door of the API."""
    manager_a, resident_b = people.manager_a, people.resident_b
    assert_error(client.get(f"/api/users/{resident_b.pk}", headers=headers(manager_a)), 404, "not_found")
    assert_error(post(client, f"/api/users/{resident_b.pk}/reveal-id-number", {}, manager_a), 404, "not_found")
    payload = {"phone": "13911112222", "name": "陈阿婆", "site_id": street.station_b.pk}
    assert_error(post(client, "/api/users", payload, manager_a), 403, "forbidden")
    assert_error(client.get(f"/api/sites/{street.station_b.pk}/coverage", headers=headers(manager_a)), 404, "not_found")
    site = client.get(f"/api/sites/{street.station_b.pk}", headers=headers(manager_a)).json()
    assert site["contact_phone"] == "139****4321"
    assert site["manager"] is None
    listed = client.get("/api/users", {"page_size": 100}, headers=headers(manager_a)).json()
    assert resident_b.pk not in {p["id"] for p in listed["results"]}
    grant = {"user_id": resident_b.pk, "role": "volunteer", "site_id": street.station_b.pk}
    assert_error(post(client, "/api/role-grants", grant, manager_a), 404, "not_found")  # not visible: not revealed
    assert not AuditLog.objects.filter(action="pii_revealed").exists()


def test_reveal_without_an_id_number_is_400(client: Client, people: Any) -> None:
    assert_error(
        post(client, f"/api/users/{people.manager_a.pk}/reveal-id-number", {}, people.manager_a), 400, "no_id_number"
    )


@pytest.mark.parametrize("path", ["abc", "0", "-3", "99999999999999999999999", "1%00"])
def test_person_ids_that_are_not_ids_are_422(client: Client, people: Any, path: str) -> None:
    auth = headers(people.admin)
    assert_error(client.get(f"/api/users/{path}", headers=auth), 422, "invalid")
    response = client.post(f"/api/users/{path}/reveal-id-number", headers=auth)
    assert_error(response, 422, "invalid")


def test_reading_people_needs_signing_in(client: Client, people: Any) -> None:
    assert_error(client.get(f"/api/users/{people.resident_a.pk}"), 401, "unauthorized")
    assert_error(client.post(f"/api/users/{people.resident_a.pk}/reveal-id-number"), 401, "unauthorized")


# --- POST /api/role-grants ------------------------------------------------------------------------


def test_manager_grants_a_role_in_their_station(client: Client, people: Any, street: Any) -> None:
    payload = {"user_id": people.resident_a.pk, "role": "volunteer", "site_id": street.station_a.pk}
    response = post(client, "/api/role-grants", payload, people.manager_a)
    assert response.status_code == 201, response.content
    body = response.json()
    grant = RoleGrant.objects.get(pk=body["id"])
    assert (grant.user, grant.role, grant.site, grant.granted_by) == (
        people.resident_a,
        "volunteer",
        street.station_a,
        people.manager_a,
    )
    assert body["user"] == {"id": people.resident_a.pk, "name": "王阿姨"}
    assert (body["role"], body["role_label"]) == ("volunteer", "志愿者")
    assert body["site"] == {"id": street.station_a.pk, "name": "甲居民区实践站"}
    assert AuditLog.objects.filter(action="role_granted", target_id=str(people.resident_a.pk)).count() == 1
    assert_error(post(client, "/api/role-grants", payload, people.manager_a), 409, "role_exists")


def test_platform_admin_grants_platform_admin_without_a_site(client: Client, people: Any) -> None:
    payload = {"user_id": people.subcentre_admin.pk, "role": "platform_admin", "site_id": None}
    response = post(client, "/api/role-grants", payload, people.admin)
    assert response.status_code == 201
    assert response.json()["site"] is None


@pytest.mark.parametrize(
    ("actor", "role", "site", "status", "code"),
    [
        ("manager_a", "station_manager", "station_a", 403, "forbidden"),  # not theirs to give
        ("manager_a", "volunteer", "station_b", 403, "forbidden"),  # outside their station
        ("manager_a", "platform_admin", None, 403, "forbidden"),
        ("resident_a", "volunteer", "station_a", 404, "not_found"),  # may not see the person
        ("subcentre_admin", "subcentre_admin", "subcentre", 403, "forbidden"),  # not beside themselves
        ("subcentre_admin", "station_manager", "subcentre", 400, "invalid_site_level"),
        ("subcentre_admin", "resident", None, 400, "invalid_site"),
        ("admin", "platform_admin", "station_a", 400, "invalid_site"),
        ("admin", "mayor", "station_a", 400, "invalid_role"),
    ],
)
def test_grant_refusals(
    client: Client, people: Any, street: Any, actor: str, role: str, site: str | None, status: int, code: str
) -> None:
    payload = {"user_id": people.volunteer_a.pk, "role": role, "site_id": getattr(street, site).pk if site else None}
    auth = headers(getattr(people, actor))
    before = counts()
    assert_error(post(client, "/api/role-grants", payload, auth), status, code)
    assert counts() == before


def test_subcentre_admin_appoints_a_station_manager(client: Client, people: Any, street: Any) -> None:
    payload = {"user_id": people.volunteer_a.pk, "role": "station_manager", "site_id": street.station_b.pk}
    assert post(client, "/api/role-grants", payload, people.subcentre_admin).status_code == 201
    # The new manager now sees 乙站's residents through the API.
    seen = client.get(f"/api/users/{people.resident_b.pk}", headers=headers(people.volunteer_a))
    assert seen.status_code == 200


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"user_id": "x"}, "user_id"),
        ({"user_id": 0}, "user_id"),
        ({"role": 5}, "role"),
        ({"role": "v" * 10_000}, "role"),
        ({"role": "volunteer\u0000"}, "role"),
        ({"site_id": "station"}, "site_id"),
        ({"site_id": 2**64}, "site_id"),
    ],
)
def test_grant_garbage_is_422(client: Client, people: Any, street: Any, change: dict[str, Any], field: str) -> None:
    payload = {"user_id": people.volunteer_a.pk, "role": "volunteer", "site_id": street.station_a.pk} | change
    body = assert_error(post(client, "/api/role-grants", payload, people.manager_a), 422, "invalid")
    assert body["field"] == field


def test_grant_to_missing_user_or_site_is_404(client: Client, people: Any, street: Any) -> None:
    assert_error(
        post(
            client,
            "/api/role-grants",
            {"user_id": 999_999, "role": "volunteer", "site_id": street.station_a.pk},
            people.manager_a,
        ),
        404,
        "not_found",
    )
    assert_error(
        post(
            client,
            "/api/role-grants",
            {"user_id": people.volunteer_a.pk, "role": "volunteer", "site_id": 999_999},
            people.manager_a,
        ),
        404,
        "not_found",
    )


def test_granting_needs_signing_in(client: Client, people: Any, street: Any) -> None:
    payload = {"user_id": people.volunteer_a.pk, "role": "volunteer", "site_id": street.station_a.pk}
    assert_error(post(client, "/api/role-grants", payload), 401, "unauthorized")
