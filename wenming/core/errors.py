"""Domain errors: a stable code for machines, a Chinese message for people.

Services raise these; the API turns them into JSON ``{"code", "message"}``
with ``status``, and pages show ``message``. Nothing a user types should
end anywhere else.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = str(message)
        if code:
            self.code = code
        if status:
            self.status = status
        self.extra = extra


class Invalid(DomainError):
    status = 400
    code = "invalid"


class NotAllowed(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class TooMany(DomainError):
    status = 429
    code = "rate_limited"
