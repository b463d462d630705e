"""Uploaded photos: real JPEG, PNG or WebP images of bounded size, whatever their file name says.

Pillow reads the file's header and verifies it; the format it finds decides the extension the photo
is stored under, so a text file renamed ``.jpg`` is refused and a PNG called ``photo.exe`` is stored
as ``.png``. Nothing is decoded in full: a photo's pixels are limited before they are ever loaded.

Callers turn ``InvalidImage`` into their domain error with the field it belongs to (venue photos,
recap photos and activity photos all do). ``photo_response`` serves a stored photo back.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from django.core.files import File
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

MAX_BYTES = 5 * 1024 * 1024
# Above any phone camera's ordinary photo, and below Pillow's own decompression-bomb warning (~89 MP).
MAX_PIXELS = 50_000_000
# Pillow's format name → the extension the photo is stored under.
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


class InvalidImage(ValueError):
    """Raised with a message a person can read and a stable ``code``."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def check_photo(image: File[Any]) -> str:
    """The extension of the photo's real format (``jpg``, ``png`` or ``webp``), or raise ``InvalidImage``.

    Leaves the file at its start, ready to be stored.
    """
    from PIL import Image, UnidentifiedImageError

    if image.size is None or image.size > MAX_BYTES:
        raise InvalidImage(_("照片不能超过5MB。"), code="photo_too_large")
    not_a_photo = InvalidImage(_("请上传JPG、PNG或WebP格式的照片。"), code="invalid_photo")
    try:
        image.seek(0)
        with Image.open(image) as picture:
            kind = picture.format or ""
            width, height = picture.size
            picture.verify()
    except Image.DecompressionBombError as exc:
        raise InvalidImage(_("照片尺寸过大，请缩小后再上传。"), code="photo_too_large") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise not_a_photo from exc
    finally:
        image.seek(0)
    if kind not in EXTENSIONS:
        raise not_a_photo
    if width * height > MAX_PIXELS:
        raise InvalidImage(_("照片尺寸过大，请缩小后再上传。"), code="photo_too_large")
    return EXTENSIONS[kind]


def photo_response(image: FieldFile, *, cache_control: str) -> FileResponse:
    """A stored photo as a response (404 when its file is gone), typed by its name, never sniffed."""
    try:
        handle = image.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=mimetypes.guess_type(str(image.name))[0] or "image/jpeg")
    response["Cache-Control"] = cache_control
    response["X-Content-Type-Options"] = "nosniff"
    return response
