"""Sign-in by mobile number and password."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from wenming.accounts.models import User
from wenming.lib import phone as phones


class PhonePasswordBackend(ModelBackend):
    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        raw = username or kwargs.get("phone") or ""
        if not password:
            return None
        try:
            number = phones.normalize(raw)
        except phones.InvalidPhone:
            return None
        user = User.objects.filter(phone=number).first()
        if user is None:
            # Spend the same time as a real check so that timing does not
            # tell which numbers have accounts.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
