"""Recap photos (活动回顾的照片) and publishing a recap together with its photos.

``services.publish_recap`` writes the text; the photos are real JPEG, PNG
or WebP images (``wenming.lib.images.check_photo``, as for venue and
activity photos), stored under a name of ours with the extension of their
real format.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.files import File
from django.db import transaction
from django.utils.translation import gettext as _

from wenming.accounts.models import User
from wenming.activities import policies, services
from wenming.activities.models import Activity, Recap, RecapPhoto
from wenming.core.errors import Invalid, NotFound
from wenming.lib import images

PHOTO_MAX_BYTES = images.MAX_BYTES
MAX_PHOTOS = 20


def _check_image(image: File[Any]) -> str:
    """The extension of the image's real format, or refuse it."""
    try:
        return images.check_photo(image)
    except images.InvalidImage as exc:
        raise Invalid(exc.message, code=exc.code, field="photos") from exc


def add_recap_photo(
    *, actor: User, recap: Recap, image: File[Any], caption: str = "", position: int | None = None
) -> RecapPhoto:
    """Attach one photo to a recap (at most MAX_PHOTOS per recap)."""
    if not policies.can_publish_recap(actor, recap.activity):
        raise NotFound(_("未找到。"))
    extension = _check_image(image)
    caption = (caption or "").strip()[:100]
    with transaction.atomic():
        # Lock the recap: two uploads at once cannot both take the last place.
        Recap.objects.select_for_update().filter(pk=recap.pk).exists()
        count = RecapPhoto.objects.filter(recap=recap).count()
        if count >= MAX_PHOTOS:
            raise Invalid(
                _("每篇回顾最多%(limit)d张照片。") % {"limit": MAX_PHOTOS}, code="too_many_photos", field="photos"
            )
        photo = RecapPhoto(recap=recap, caption=caption, position=count if position is None else max(0, int(position)))
        photo.image.save(f"recap-{recap.pk}.{extension}", image, save=False)
        photo.save()
    return photo


def publish_recap_with_photos(
    *, actor: User, activity: Activity, title: str, body: str, images: Sequence[File[Any]] = ()
) -> Recap:
    """Publish a recap and its photos at once: a refused photo leaves no recap behind."""
    if len(images) > MAX_PHOTOS:
        raise Invalid(
            _("每篇回顾最多%(limit)d张照片。") % {"limit": MAX_PHOTOS}, code="too_many_photos", field="photos"
        )
    for image in images:
        _check_image(image)
    with transaction.atomic():
        recap = services.publish_recap(actor=actor, activity=activity, title=title, body=body)
        for image in images:
            add_recap_photo(actor=actor, recap=recap, image=image)
    return recap


def add_recap_photos(*, actor: User, recap: Recap, images: Sequence[File[Any]], caption: str = "") -> list[RecapPhoto]:
    """Attach several photos at once: all of them, or (when one is refused) none."""
    if not policies.can_publish_recap(actor, recap.activity):
        raise NotFound(_("未找到。"))
    for image in images:
        _check_image(image)
    with transaction.atomic():
        return [add_recap_photo(actor=actor, recap=recap, image=image, caption=caption) for image in images]
