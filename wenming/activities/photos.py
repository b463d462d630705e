"""Activity photos (活动照片): the staff who run an activity add photos to it; its public page shows them.

- ``add_activity_photo`` / ``add_activity_photos``: real JPEG, PNG or WebP images only
  (``wenming.lib.images.check_photo``, as for venue and recap photos), stored under a name of ours with
  the extension of their real format; at most ``MAX_PHOTOS`` per activity; several at once are all
  stored or none is.
- ``remove_activity_photo``: the row goes at once, the file once the transaction has committed.
- ``move_activity_photo``: one place earlier or later in the order the pages show.

Positions are 0…n−1 in the order shown. Every write locks the activity's row first, so two uploads at
once cannot both take the last place, and a removal and a move cannot interleave.

Who may: the staff who run the activity (``policies.can_edit_activity``); to anyone else it does not
exist (404). Who sees the photos: whoever may see the activity (``policies.can_view_activity``), at
``/activities/photos/<id>`` (``views.activity_photo``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from django.core.files import File
from django.core.files.storage import Storage
from django.db import transaction
from django.utils.translation import gettext as _

from wenming.accounts.models import User
from wenming.activities import policies
from wenming.activities.models import Activity, ActivityPhoto
from wenming.core.errors import Invalid, NotFound
from wenming.lib import images as image_checks

MAX_PHOTOS = 20
CAPTION_MAX_LENGTH = 100


def _allowed(actor: User, activity: Activity) -> None:
    if not policies.can_manage_photos(actor, activity):
        raise NotFound(_("未找到。"))


def _too_many() -> Invalid:
    return Invalid(_("每场活动最多%(limit)d张照片。") % {"limit": MAX_PHOTOS}, code="too_many_photos", field="photos")


def _extension(image: File[Any]) -> str:
    try:
        return image_checks.check_photo(image)
    except image_checks.InvalidImage as exc:
        raise Invalid(exc.message, code=exc.code, field="photos") from exc


def _caption(raw: str) -> str:
    # Control characters (a NUL above all) have no place in a caption, and PostgreSQL refuses a NUL.
    caption = "".join(ch for ch in raw or "" if ch.isprintable()).strip()
    if len(caption) > CAPTION_MAX_LENGTH:
        raise Invalid(
            _("照片说明不能超过%(limit)d个字。") % {"limit": CAPTION_MAX_LENGTH},
            code="caption_too_long",
            field="caption",
        )
    return caption


def _lock(activity: Activity) -> list[ActivityPhoto]:
    """Lock the activity's row; its photos in the order shown."""
    if not Activity.objects.select_for_update().filter(pk=activity.pk).values_list("pk", flat=True):
        raise NotFound(_("未找到。"))
    return list(ActivityPhoto.objects.filter(activity_id=activity.pk).order_by("position", "id"))


def _renumber(photos: Sequence[ActivityPhoto]) -> None:
    """Store positions 0…n−1 in the order given (one UPDATE, and only when something moved)."""
    changed = []
    for position, photo in enumerate(photos):
        if photo.position != position:
            photo.position = position
            changed.append(photo)
    if changed:
        ActivityPhoto.objects.bulk_update(changed, ["position"])


def _delete_file(storage: Storage, name: str) -> None:
    """Best effort: a file left behind costs disk space, never a failed request."""
    with contextlib.suppress(OSError):
        storage.delete(name)


def add_activity_photos(
    *, actor: User, activity: Activity, images: Sequence[File[Any]], caption: str = ""
) -> list[ActivityPhoto]:
    """Attach photos to an activity, after the ones it has: all of them, or (when one is refused) none."""
    _allowed(actor, activity)
    if not images:
        raise Invalid(_("请选择照片。"), code="no_photos", field="photos")
    if len(images) > MAX_PHOTOS:
        raise _too_many()
    extensions = [_extension(image) for image in images]
    caption = _caption(caption)
    stored: list[tuple[Storage, str]] = []  # (storage, name) of every file written, to delete on failure
    try:
        with transaction.atomic():
            count = len(_lock(activity))
            if count + len(images) > MAX_PHOTOS:
                raise _too_many()
            added = []
            for offset, (image, extension) in enumerate(zip(images, extensions, strict=True)):
                photo = ActivityPhoto(activity=activity, caption=caption, position=count + offset)
                photo.image.save(f"activity-{activity.pk}.{extension}", image, save=False)
                stored.append((photo.image.storage, str(photo.image.name)))
                photo.save()
                added.append(photo)
    except BaseException:
        for storage, name in stored:
            _delete_file(storage, name)
        raise
    return added


def add_activity_photo(*, actor: User, activity: Activity, image: File[Any], caption: str = "") -> ActivityPhoto:
    """Attach one photo to an activity, after the ones it has."""
    return add_activity_photos(actor=actor, activity=activity, images=[image], caption=caption)[0]


def remove_activity_photo(*, actor: User, photo: ActivityPhoto) -> None:
    """Take a photo off its activity; the file is deleted from the storage once this has committed."""
    activity = photo.activity
    _allowed(actor, activity)
    with transaction.atomic():
        rest = [p for p in _lock(activity) if p.pk != photo.pk]
        deleted, _counts = ActivityPhoto.objects.filter(pk=photo.pk, activity_id=activity.pk).delete()
        if not deleted:
            raise NotFound(_("该照片已删除。"), code="photo_gone")
        _renumber(rest)
        storage, name = photo.image.storage, str(photo.image.name or "")
        if name:
            transaction.on_commit(lambda: _delete_file(storage, name))


def move_activity_photo(*, actor: User, photo: ActivityPhoto, by: int) -> ActivityPhoto:
    """Move a photo ``by`` places (−1: one earlier, 1: one later); at either end it stays where it is."""
    activity = photo.activity
    _allowed(actor, activity)
    with transaction.atomic():
        order = _lock(activity)
        index = next((i for i, p in enumerate(order) if p.pk == photo.pk), None)
        if index is None:
            raise NotFound(_("该照片已删除。"), code="photo_gone")
        target = min(max(index + by, 0), len(order) - 1)
        order.insert(target, order.pop(index))
        _renumber(order)
        photo.position = target
    return photo
