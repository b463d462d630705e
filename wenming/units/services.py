"""Every write about partner units and their liaisons."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from wenming.accounts import policies as account_policies
from wenming.accounts import services as account_services
from wenming.accounts.models import Role, User
from wenming.core.errors import Conflict, Invalid, NotAllowed, NotFound
from wenming.core.services import apply_changes
from wenming.network.models import Site
from wenming.units import policies
from wenming.units.models import Liaison, Organization, OrganizationKind


def create_organization(
    *, actor: User | None, site: Site, name: str, kind: str, address: str = "", is_council_member: bool = False
) -> Organization:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise Invalid(_("请输入不超过100个字的单位名称。"), code="invalid_name", field="name")
    if kind not in OrganizationKind.values:
        raise Invalid(_("未知的单位类型。"), code="invalid_kind", field="kind")
    if actor is not None and not account_policies.staff_scope(actor).covers(site):
        raise NotAllowed(_("您没有在该阵地登记共建单位的权限。"))
    try:
        with transaction.atomic():
            return Organization.objects.create(
                site=site, name=name, kind=kind, address=address.strip(), is_council_member=is_council_member
            )
    except IntegrityError as exc:
        raise Conflict(_("该阵地已登记同名单位。"), code="organization_exists", field="name") from exc


def add_liaison(*, actor: User | None, organization: Organization, user: User, title: str = "") -> Liaison:
    if actor is not None and not policies.can_manage_liaisons(actor, organization):
        raise NotAllowed(_("您没有管理该单位联络员的权限。"))
    if actor is not None and not account_policies.can_view_person(actor, user):
        raise NotFound(_("未找到。"))
    try:
        with transaction.atomic():
            liaison = Liaison.objects.create(organization=organization, user=user, title=title.strip()[:50])
            account_services.ensure_role(actor=actor, user=user, role=Role.UNIT_LIAISON, site=organization.site)
    except IntegrityError as exc:
        raise Conflict(_("此人已是该单位的联络员。"), code="liaison_exists") from exc
    account_policies.forget_grants(user)
    return liaison


ORGANIZATION_FIELDS = ("name", "kind", "address", "is_council_member", "joined_at", "description")


def update_organization(*, actor: User, organization: Organization, **changes: Any) -> Organization:
    if not policies.can_edit_organization(actor, organization):
        raise NotAllowed(_("您没有修改该单位信息的权限。"))
    return apply_changes(organization, changes, allowed=ORGANIZATION_FIELDS)
