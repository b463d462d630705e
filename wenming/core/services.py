"""The one generic write: applying checked field changes to a row.

Domain services decide who may change what; this validates the result with
the model's own rules (field validators and database constraints) and saves
only the changed fields, or refuses with a DomainError and saves nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from wenming.core.errors import Conflict, Invalid


def apply_changes[M: models.Model](instance: M, changes: Mapping[str, Any], *, allowed: Iterable[str]) -> M:
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise Invalid(_("不能修改字段：%(field)s") % {"field": unknown[0]}, code="invalid_field", field=unknown[0])
    changed = [name for name, value in changes.items() if getattr(instance, name) != value]
    if not changed:
        return instance
    previous = {name: getattr(instance, name) for name in changed}
    for name in changed:
        setattr(instance, name, changes[name])
    try:
        instance.full_clean(validate_unique=True, validate_constraints=True)
        with transaction.atomic():
            instance.save(update_fields=changed)
    except ValidationError as exc:
        for name, value in previous.items():
            setattr(instance, name, value)
        field, messages = next(iter(exc.message_dict.items()))
        codes = {error.code for errors in exc.error_dict.values() for error in errors}
        kind = Conflict if codes & {"unique", "unique_together"} else Invalid
        raise kind(" ".join(messages), field=None if field == "__all__" else field) from exc
    except IntegrityError as exc:
        for name, value in previous.items():
            setattr(instance, name, value)
        raise Conflict(_("与已有记录冲突，未保存。"), code="conflict") from exc
    return instance
