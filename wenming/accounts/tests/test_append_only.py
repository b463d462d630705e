import pytest
from django.db import DatabaseError, transaction

from wenming.accounts.models import AuditLog


@pytest.mark.django_db
def test_audit_log_refuses_update_and_delete():
    entry = AuditLog.objects.create(action="login")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditLog.objects.filter(pk=entry.pk).update(action="logout")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditLog.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.action == "login"
