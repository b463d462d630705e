"""load_demo on an empty database: the password it sets, and refusing to take over a phone in use."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from wenming.accounts.models import User
from wenming.accounts.services import login_with_password
from wenming.network.models import Site

pytestmark = pytest.mark.django_db


def load() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_the_demo_password_comes_from_settings(settings):
    settings.DEMO_PASSWORD = "another-demo-secret"
    out = load()
    assert "another-demo-secret" in out
    assert login_with_password(phone="13800000000", password="another-demo-secret")


def test_refuses_to_load_over_someone_elses_staff_phone():
    User.objects.create_user("13800000000", "correct-horse-battery", name="已有管理员")
    with pytest.raises(CommandError, match="13800000000"):
        load()
    assert not Site.objects.exists()
