"""Exporting the people list: masked, scoped, audited."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from conftest import ID_A
from wenming.accounts.models import AuditLog

pytestmark = pytest.mark.django_db


def _rows(response: Any) -> list[tuple[Any, ...]]:
    book = load_workbook(io.BytesIO(response.content))
    return list(book.active.iter_rows(values_only=True))


def test_manager_exports_own_people_masked(client: Client, people: Any) -> None:
    client.force_login(people.manager_a)
    response = client.get(reverse("accounts:people_export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = _rows(response)
    assert rows[0] == ("姓名", "手机号", "身份证号", "所属阵地", "注册时间")
    names = {r[0] for r in rows[1:]}
    assert "王阿姨" in names
    assert "刘大爷" not in names  # 乙站's resident
    flat = " ".join(str(c) for r in rows for c in r)
    assert "13800000006" not in flat
    assert "138****0006" in flat
    assert ID_A not in flat
    assert ID_A[:6] + "********" + ID_A[-4:] in flat
    entry = AuditLog.objects.get(action="export")
    assert entry.actor_id == people.manager_a.pk
    assert entry.detail["rows"] == len(rows) - 1


def test_export_follows_the_search(client: Client, people: Any) -> None:
    client.force_login(people.manager_a)
    rows = _rows(client.get(reverse("accounts:people_export"), {"q": "王阿姨"}))
    assert [r[0] for r in rows[1:]] == ["王阿姨"]


def test_formula_like_names_are_neutralised(client: Client, people: Any) -> None:
    people.resident_a.name = "=HYPERLINK(1)"
    people.resident_a.save()
    client.force_login(people.manager_a)
    rows = _rows(client.get(reverse("accounts:people_export")))
    assert "'=HYPERLINK(1)" in {r[0] for r in rows[1:]}


@pytest.mark.parametrize("persona", ["resident_a", "volunteer_a", "leader_a", "liaison_a"])
def test_non_staff_cannot_export(client: Client, people: Any, persona: str) -> None:
    client.force_login(getattr(people, persona))
    assert client.get(reverse("accounts:people_export")).status_code == 403
    assert not AuditLog.objects.filter(action="export").exists()


def test_anonymous_is_sent_to_login(client: Client, db: None) -> None:
    response = client.get(reverse("accounts:people_export"))
    assert response.status_code == 302
