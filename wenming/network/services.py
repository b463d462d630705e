"""Every write to the network: sites, venues, brands, projects."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.files import File
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from wenming.accounts import audit
from wenming.accounts import policies as account_policies
from wenming.accounts.models import AuditAction, Role, RoleGrant, User
from wenming.core.errors import Conflict, Invalid, NotAllowed, NotFound
from wenming.core.services import apply_changes
from wenming.lib import images
from wenming.network import policies
from wenming.network.models import PATH_STEP, Brand, Project, Site, SiteKind, SiteLevel, Venue, VenuePhoto

EDITABLE_SITE_FIELDS = (
    "name",
    "kind",
    "address",
    "latitude",
    "longitude",
    "contact_name",
    "contact_phone",
    "opening_hours",
    "description",
    "is_active",
)


def _path_segment(pk: int) -> str:
    return f"{pk:0{PATH_STEP}d}."


def _clean_site_fields(fields: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in fields.items():
        if key not in EDITABLE_SITE_FIELDS:
            raise Invalid(_("不能修改字段：%(field)s") % {"field": key}, code="invalid_field", field=key)
        clean[key] = value.strip() if isinstance(value, str) else value
    if "name" in clean and not clean["name"]:
        raise Invalid(_("请输入阵地名称。"), code="invalid_name", field="name")
    if "kind" in clean and clean["kind"] not in SiteKind.values:
        raise Invalid(_("未知的阵地类型。"), code="invalid_kind", field="kind")
    for key, low, high, label in (("latitude", -90, 90, _("纬度")), ("longitude", -180, 180, _("经度"))):
        if clean.get(key) is not None:
            try:
                clean[key] = float(clean[key])
            except (TypeError, ValueError) as exc:
                raise Invalid(_("%(label)s应为数字。") % {"label": label}, code="invalid_location", field=key) from exc
            if not low <= clean[key] <= high:
                raise Invalid(_("%(label)s超出范围。") % {"label": label}, code="invalid_location", field=key)
    if clean.get("contact_phone"):
        from wenming.accounts.services import clean_phone

        try:
            clean["contact_phone"] = clean_phone(clean["contact_phone"])
        except Invalid:
            # Landlines are fine for a site contact; keep digits and dashes only.
            digits = "".join(ch for ch in clean["contact_phone"] if ch.isdigit() or ch == "-")
            if len(digits) < 7:
                raise Invalid(_("联系电话格式不正确。"), code="invalid_phone", field="contact_phone") from None
            clean["contact_phone"] = digits
    for key, limit in (("name", 100), ("address", 200), ("opening_hours", 200), ("contact_name", 50)):
        if isinstance(clean.get(key), str) and len(clean[key]) > limit:
            raise Invalid(_("内容过长。"), code="too_long", field=key)
    return clean


def create_site(
    *,
    actor: User | None,
    parent: Site | None,
    level: int,
    name: str,
    code: str,
    **fields: Any,
) -> Site:
    """Add a site under ``parent``. ``actor=None`` is for commands run by operators."""
    if level not in SiteLevel.values:
        raise Invalid(_("未知的阵地层级。"), code="invalid_level", field="level")
    if parent is None and level != SiteLevel.CENTRE:
        raise Invalid(_("只有区级中心可以没有上级阵地。"), code="invalid_parent", field="parent")
    if parent is not None and level != parent.level + 1:
        raise Invalid(_("阵地层级必须比上级低一级。"), code="invalid_parent", field="parent")
    if actor is not None and not policies.can_create_site(actor, parent, level):
        raise NotAllowed(_("您没有在此处新建阵地的权限。"))
    clean = _clean_site_fields({"name": name, **fields})
    code = (code or "").strip()
    if not code or len(code) > 40:
        raise Invalid(_("请输入不超过40个字符的阵地编码。"), code="invalid_code", field="code")
    try:
        with transaction.atomic():
            # The path is written twice because it ends with the row's own id.
            site = Site.objects.create(parent=parent, level=level, code=code, path=f"tmp-{code}", **clean)
            prefix = parent.path if parent else ""
            site.path = prefix + _path_segment(site.pk)
            Site.objects.filter(pk=site.pk).update(path=site.path)
    except IntegrityError as exc:
        raise Conflict(_("阵地编码已存在。"), code="code_taken", field="code") from exc
    return site


def update_site(*, actor: User, site: Site, **fields: Any) -> Site:
    if not policies.can_edit_site(actor, site):
        raise NotAllowed(_("您没有修改该阵地的权限。"))
    clean = _clean_site_fields(fields)
    with transaction.atomic():
        for key, value in clean.items():
            setattr(site, key, value)
        site.save(update_fields=list(clean))
    return site


def manager_role(site: Site) -> str:
    """The role a site's manager (负责人) holds on it."""
    return Role.STATION_MANAGER if site.level >= SiteLevel.STATION else Role.SUBCENTRE_ADMIN


def set_site_manager(*, actor: User, site: Site, manager: User | None, request: HttpRequest | None = None) -> Site:
    """Name a site's manager (or none); the manager gets the matching role on the site.

    Only someone who may grant that role there may do it, and only to a
    person they can see; a role already held is kept as it is.
    """
    role = manager_role(site)
    if manager is None:
        if not account_policies.can_grant_role(actor, role, site):
            raise NotAllowed(_("您没有指定该阵地负责人的权限。"))
        Site.objects.filter(pk=site.pk).update(manager=None)
        site.manager = None
        return site
    if not account_policies.can_view_person(actor, manager):
        raise NotFound(_("未找到。"))
    if not account_policies.can_grant_role_to(actor, manager, role, site):
        raise NotAllowed(_("您没有指定该阵地负责人的权限。"))
    with transaction.atomic():
        Site.objects.filter(pk=site.pk).update(manager=manager)
        site.manager = manager
        _grant, created = RoleGrant.objects.get_or_create(
            user=manager, role=role, site=site, defaults={"granted_by": actor}
        )
        if created:
            audit.record(AuditAction.ROLE_GRANTED, actor=actor, target=manager, site=site, request=request, role=role)
    account_policies.forget_grants(manager)
    return site


def _decimal(value: Any, field: str, label: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise Invalid(_("%(label)s应为数字。") % {"label": label}, code="invalid_number", field=field) from exc
    if not number.is_finite() or number <= 0 or number > Decimal("1000000"):
        raise Invalid(_("%(label)s应大于0。") % {"label": label}, code="invalid_number", field=field)
    return number.quantize(Decimal("0.01"))


def create_venue(
    *,
    actor: User | None,
    site: Site,
    name: str,
    area_m2: Any,
    capacity: Any,
    facilities: list[str] | None = None,
    description: str = "",
    is_bookable: bool = True,
) -> Venue:
    venue = Venue(site=site, name=(name or "").strip(), description=description, is_bookable=is_bookable)
    if not venue.name:
        raise Invalid(_("请输入场地名称。"), code="invalid_name", field="name")
    venue.area_m2 = _decimal(area_m2, "area_m2", _("面积"))
    try:
        venue.capacity = int(capacity)
    except (TypeError, ValueError) as exc:
        raise Invalid(_("容纳人数应为整数。"), code="invalid_number", field="capacity") from exc
    if venue.capacity <= 0:
        raise Invalid(_("容纳人数应大于0。"), code="invalid_number", field="capacity")
    venue.facilities = [str(f).strip() for f in (facilities or []) if str(f).strip()]
    if actor is not None and not policies.can_manage_venue(actor, venue):
        raise NotAllowed(_("您没有管理该阵地场地的权限。"))
    try:
        with transaction.atomic():
            venue.save()
    except IntegrityError as exc:
        raise Conflict(_("该阵地已有同名场地。"), code="venue_exists", field="name") from exc
    return venue


def create_brand(*, actor: User | None, site: Site, name: str, theme: str = "", description: str = "") -> Brand:
    name = (name or "").strip()
    if not name:
        raise Invalid(_("请输入品牌名称。"), code="invalid_name", field="name")
    if actor is not None and not policies.can_manage_brands(actor, site):
        raise NotAllowed(_("您没有管理该阵地品牌的权限。"))
    try:
        with transaction.atomic():
            return Brand.objects.create(site=site, name=name, theme=theme, description=description)
    except IntegrityError as exc:
        raise Conflict(_("该阵地已有同名品牌。"), code="brand_exists", field="name") from exc


def create_project(
    *, actor: User | None, brand: Brand, name: str, description: str = "", is_claimable: bool = False
) -> Project:
    name = (name or "").strip()
    if not name:
        raise Invalid(_("请输入项目名称。"), code="invalid_name", field="name")
    if actor is not None and not policies.can_manage_brands(actor, brand.site):
        raise NotAllowed(_("您没有管理该品牌项目的权限。"))
    try:
        with transaction.atomic():
            return Project.objects.create(brand=brand, name=name, description=description, is_claimable=is_claimable)
    except IntegrityError as exc:
        raise Conflict(_("该品牌已有同名项目。"), code="project_exists", field="name") from exc


VENUE_FIELDS = ("name", "area_m2", "capacity", "facilities", "description", "is_bookable", "is_active")
BRAND_FIELDS = ("name", "theme", "description")
PROJECT_FIELDS = ("name", "description", "is_claimable")


def update_venue(*, actor: User, venue: Venue, **changes: Any) -> Venue:
    if not policies.can_manage_venue(actor, venue):
        raise NotAllowed(_("您没有管理该阵地场地的权限。"))
    return apply_changes(venue, changes, allowed=VENUE_FIELDS)


def update_brand(*, actor: User, brand: Brand, **changes: Any) -> Brand:
    if not policies.can_manage_brands(actor, brand.site):
        raise NotAllowed(_("您没有管理该阵地品牌的权限。"))
    return apply_changes(brand, changes, allowed=BRAND_FIELDS)


def update_project(*, actor: User, project: Project, **changes: Any) -> Project:
    if not policies.can_manage_brands(actor, project.brand.site):
        raise NotAllowed(_("您没有管理该品牌项目的权限。"))
    return apply_changes(project, changes, allowed=PROJECT_FIELDS)


PHOTO_MAX_BYTES = images.MAX_BYTES


def add_venue_photo(
    *, actor: User | None, venue: Venue, image: File[Any], caption: str = "", position: int = 0
) -> VenuePhoto:
    """Attach a photo to a venue: a real JPEG, PNG or WebP image of at most 5 MB (``lib.images``)."""
    if actor is not None and not policies.can_manage_venue(actor, venue):
        raise NotAllowed(_("您没有管理该阵地场地的权限。"))
    try:
        extension = images.check_photo(image)
    except images.InvalidImage as exc:
        raise Invalid(exc.message, code=exc.code, field="image") from exc
    caption = (caption or "").strip()[:100]
    with transaction.atomic():
        photo = VenuePhoto(venue=venue, caption=caption, position=max(0, int(position)))
        # The stored name is ours, with the extension of the real format.
        photo.image.save(f"venue-{venue.pk}.{extension}", image, save=False)
        photo.save()
    return photo
