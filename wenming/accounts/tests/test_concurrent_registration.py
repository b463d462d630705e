"""Registering the same person twice at the same instant creates one account.

Real threads, each with its own database connection, line up on a barrier
and POST /api/users together, each as 张站长 with a bearer token. The
database decides (unique constraints; IMMEDIATE transactions on SQLite):
exactly one 201, every other answer a 409 with the right code, never a
5xx, and nothing half-written by the refused ones. Run on SQLite and on
PostgreSQL (DATABASE_URL).
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from django.db import DatabaseError, connections, transaction
from django.test import Client

from wenming.accounts import services
from wenming.accounts.models import AuditLog, Profile, Role, RoleGrant, User
from wenming.lib import cn_id, crypto

THREADS = 16
PHONE = "13911112222"
ID_NUMBER = "11010519491231002X"


def _race(token: str, payloads: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """POST every payload at once, one thread and one connection each."""
    barrier = threading.Barrier(len(payloads))
    answers: list[tuple[int, dict[str, Any]]] = [(0, {})] * len(payloads)

    def register(index: int, payload: dict[str, Any]) -> None:
        try:
            client = Client(raise_request_exception=False)
            barrier.wait(timeout=30)
            response = client.post(
                "/api/users", payload, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
            )
            answers[index] = (response.status_code, response.json())
        except Exception as exc:  # any failure is a result to report, never a lost thread
            answers[index] = (599, {"code": "thread_failed", "message": repr(exc)})
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register, args=(i, p)) for i, p in enumerate(payloads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a registration hung"
    return answers


def _counts() -> tuple[int, int, int, int]:
    return User.objects.count(), Profile.objects.count(), RoleGrant.objects.count(), AuditLog.objects.count()


def _token(people: Any) -> str:
    raw, _ = services.issue_api_token(user=people.manager_a)
    return raw


@pytest.mark.django_db(transaction=True)
def test_same_phone_at_once_creates_one_account(people: Any, street: Any) -> None:
    token = _token(people)
    before = _counts()
    payload = {"phone": PHONE, "name": "陈阿婆", "site_id": street.station_a.pk}
    answers = _race(token, [payload] * THREADS)

    statuses = Counter(status for status, _ in answers)
    assert statuses == {201: 1, 409: THREADS - 1}, answers
    assert {body["code"] for status, body in answers if status == 409} == {"phone_taken"}
    person = User.objects.get(phone=PHONE)
    assert Profile.objects.filter(user=person).count() == 1
    assert RoleGrant.objects.filter(user=person, role=Role.RESIDENT).count() == 1
    assert AuditLog.objects.filter(action="user_registered", target_id=str(person.pk)).count() == 1
    # The refused requests left nothing behind: exactly one person's rows were added.
    assert _counts() == tuple(n + 1 for n in before)


@pytest.mark.django_db(transaction=True)
def test_same_id_number_with_different_phones_at_once_creates_one_account(people: Any, street: Any) -> None:
    token = _token(people)
    before = _counts()
    payloads = [
        {"phone": f"1391111{i:04d}", "name": f"陈阿婆{i}", "site_id": street.station_a.pk, "id_number": ID_NUMBER}
        for i in range(THREADS)
    ]
    answers = _race(token, payloads)

    statuses = Counter(status for status, _ in answers)
    assert statuses == {201: 1, 409: THREADS - 1}, answers
    assert {body["code"] for status, body in answers if status == 409} == {"id_number_taken"}
    hashes = crypto.lookup_hashes(cn_id.parse(ID_NUMBER).value)
    assert Profile.objects.filter(id_number_hash__in=hashes).count() == 1
    assert User.objects.filter(phone__startswith="1391111").count() == 1
    winner = next(body for status, body in answers if status == 201)
    assert RoleGrant.objects.filter(user_id=winner["id"], role=Role.RESIDENT).count() == 1
    assert _counts() == tuple(n + 1 for n in before)


@pytest.mark.django_db(transaction=True)
def test_refused_requests_in_a_crowd_write_nothing(people: Any, street: Any) -> None:
    """Half the crowd sends a malformed ID number: those get 400, the rest race for the phone."""
    token = _token(people)
    before = _counts()
    good = {"phone": PHONE, "name": "陈阿婆", "site_id": street.station_a.pk, "id_number": ID_NUMBER}
    bad = good | {"id_number": "110105194912310021"}  # wrong check character
    answers = _race(token, [good, bad] * (THREADS // 2))

    statuses = Counter(status for status, _ in answers)
    assert statuses == {201: 1, 409: THREADS // 2 - 1, 400: THREADS // 2}, answers
    assert {body["code"] for status, body in answers if status == 400} == {"invalid_id_number"}
    assert all("校验位" in body["message"] for status, body in answers if status == 400)
    assert _counts() == tuple(n + 1 for n in before)


@pytest.mark.django_db(transaction=True)
def test_a_refused_registration_writes_nothing(people: Any, street: Any) -> None:
    token = _token(people)
    before = _counts()
    response = Client().post(
        "/api/users",
        {"phone": PHONE, "name": "陈阿婆", "site_id": street.station_a.pk, "id_number": "11010519491231"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_id_number"
    assert _counts() == before


@pytest.mark.django_db
def test_append_only_tables_are_append_only_again_after_the_flush(db: None) -> None:
    """Runs after the transactional tests above, whose flush lifts the triggers for a moment: they are back."""
    entry = AuditLog.objects.create(action="login")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditLog.objects.filter(pk=entry.pk).update(action="logout")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditLog.objects.filter(pk=entry.pk).delete()
