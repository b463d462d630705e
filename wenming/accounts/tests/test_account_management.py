"""Who may change whose sign-in, and what it leaves behind."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from wenming.accounts import policies, services
from wenming.accounts.models import ApiToken, AuditLog, Role, RoleGrant
from wenming.core.errors import NotAllowed

pytestmark = pytest.mark.django_db


def test_nobody_takes_over_an_account_holding_more_than_they_may_grant(people: Any, street: Any) -> None:
    # 李站长 lives in 乙站 but also holds a sub-centre admin grant at the district.
    RoleGrant.objects.create(user=people.manager_b, role=Role.SUBCENTRE_ADMIN, site=street.district)
    assert not policies.can_manage_account(people.subcentre_admin, people.manager_b)
    with pytest.raises(NotAllowed):
        services.set_password(actor=people.subcentre_admin, person=people.manager_b, password="a-new-long-passphrase")
    with pytest.raises(NotAllowed):
        services.update_account(actor=people.subcentre_admin, person=people.manager_b, is_active=False)
    # The platform admin may; a resident of the street may be managed by its admin.
    assert policies.can_manage_account(people.admin, people.manager_b)
    assert policies.can_manage_account(people.subcentre_admin, people.resident_a)
    assert not policies.can_manage_account(people.manager_a, people.resident_b)
    assert not policies.can_manage_account(people.subcentre_admin, people.admin)


def test_password_change_is_audited_and_ends_tokens(people: Any) -> None:
    raw, _token = services.issue_api_token(user=people.resident_a)
    services.set_password(actor=people.subcentre_admin, person=people.resident_a, password="a-new-long-passphrase")
    assert services.user_for_token(raw) is None
    assert not ApiToken.objects.filter(user=people.resident_a).exists()
    assert AuditLog.objects.filter(action="password_set", target_id=str(people.resident_a.pk)).count() == 1
    assert services.login_with_password(phone=people.resident_a.phone, password="a-new-long-passphrase")


def test_deactivation_is_audited_and_ends_tokens(people: Any) -> None:
    raw, _token = services.issue_api_token(user=people.resident_a)
    services.update_account(actor=people.manager_a, person=people.resident_a, is_active=False)
    assert services.user_for_token(raw) is None
    assert AuditLog.objects.filter(action="account_updated").count() == 1


def test_admin_password_form_uses_the_service(client: Client, people: Any, street: Any) -> None:
    RoleGrant.objects.create(user=people.manager_b, role=Role.SUBCENTRE_ADMIN, site=street.district)
    client.force_login(people.subcentre_admin)
    url = reverse("admin:auth_user_password_change", args=[people.manager_b.pk])
    response = client.post(url, {"password1": "a-new-long-passphrase", "password2": "a-new-long-passphrase"})
    assert response.status_code == 403
    url = reverse("admin:auth_user_password_change", args=[people.resident_a.pk])
    response = client.post(url, {"password1": "a-new-long-passphrase", "password2": "a-new-long-passphrase"})
    assert response.status_code == 302
    assert AuditLog.objects.filter(action="password_set", target_id=str(people.resident_a.pk)).exists()
