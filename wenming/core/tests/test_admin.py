"""The admin: who gets in, what each admin sees, and writes going through services."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse

from conftest import ID_A, People, Street
from wenming.accounts.models import AuditAction, AuditLog, Role, RoleGrant
from wenming.network.models import Brand, Project, Site, SiteKind, SiteLevel, Venue
from wenming.volunteers.models import ServiceRecord

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


# --- Who gets in -----------------------------------------------------------------------------


def test_anonymous_is_sent_to_admin_login_then_the_site_login(client: Client) -> None:
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"
    response = client.get(response["Location"])
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next=/admin/"


@pytest.mark.parametrize("persona", ["resident_a", "manager_a", "volunteer_a", "liaison_a"])
def test_users_without_an_admin_scope_are_sent_to_admin_login(client: Client, people: People, persona: str) -> None:
    client.force_login(getattr(people, persona))
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"
    response = client.get(reverse("admin:network_site_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_site_login_page_explains_a_missing_admin_right(client: Client, people: People) -> None:
    client.force_login(people.resident_a)
    page = html(client.get(reverse("accounts:login"), {"next": "/admin/"}))
    assert "您已登录为王阿姨" in page
    assert "当前账号无权访问所请求的页面" in page


@pytest.mark.parametrize("persona", ["admin", "subcentre_admin"])
def test_admins_get_the_themed_chinese_admin(client: Client, people: People, persona: str) -> None:
    client.force_login(getattr(people, persona))
    response = client.get("/admin/")
    assert response.status_code == 200
    page = html(response)
    assert "文明实践 管理后台" in page
    assert "/static/css/admin.css" in page
    assert "阵地" in page


def test_admin_login_url_sends_admins_to_the_index(client: Client, people: People) -> None:
    client.force_login(people.subcentre_admin)
    response = client.get("/admin/login/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_groups_are_not_in_the_admin() -> None:
    from django.contrib.auth.models import Group

    assert not admin.site.is_registered(Group)


# --- Scope ----------------------------------------------------------------------------------------


def test_subcentre_admin_sees_only_their_subtree(client: Client, people: People, street: Street) -> None:
    client.force_login(people.subcentre_admin)
    page = html(client.get(reverse("admin:network_site_changelist")))
    for site in (street.subcentre, street.station_a, street.station_b, street.point_a):
        assert site.name in page
    for site in (street.district, street.other_district, street.station_c):
        assert site.name not in page
    # Objects outside the subtree do not open either.
    response = client.get(reverse("admin:network_site_change", args=[street.station_c.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_platform_admin_sees_everything(client: Client, people: People, street: Street) -> None:
    client.force_login(people.admin)
    page = html(client.get(reverse("admin:network_site_changelist")))
    for site in (street.district, street.other_district, street.station_c, street.point_a):
        assert site.name in page


def test_scoped_lists_for_venues_brands_and_people(client: Client, people: People, street: Street) -> None:
    from wenming.network import services

    services.create_venue(actor=None, site=street.station_a, name="甲站活动室", area_m2=50, capacity=30)
    services.create_venue(actor=None, site=street.station_c, name="丙站活动室", area_m2=50, capacity=30)
    services.create_brand(actor=None, site=street.station_a, name="甲站品牌")
    services.create_brand(actor=None, site=street.station_c, name="丙站品牌")
    client.force_login(people.subcentre_admin)
    page = html(client.get(reverse("admin:network_venue_changelist")))
    assert "甲站活动室" in page
    assert "丙站活动室" not in page
    page = html(client.get(reverse("admin:network_brand_changelist")))
    assert "甲站品牌" in page
    assert "丙站品牌" not in page
    page = html(client.get(reverse("admin:accounts_user_changelist")))
    assert "王阿姨" in page
    assert "刘大爷" in page
    assert "钱站长" not in page


def test_user_admin_masks_phone_and_id(client: Client, people: People) -> None:
    client.force_login(people.admin)
    page = html(client.get(reverse("admin:accounts_user_changelist")))
    assert "138****0006" in page
    assert "13800000006" not in page
    page = html(client.get(reverse("admin:accounts_user_change", args=[people.resident_a.pk])))
    assert "310109********0025" in page
    assert ID_A not in page
    assert "13800000006" not in page
    assert 'name="phone"' not in page
    assert "password/" in page  # Django's own password form is the only way to change it
    assert client.get(reverse("admin:accounts_user_add")).status_code == 403


def test_foreign_key_choices_are_scoped(client: Client, people: People, street: Street) -> None:
    client.force_login(people.subcentre_admin)
    page = html(client.get(reverse("admin:network_venue_add")))
    assert f'value="{street.station_a.pk}"' in page
    assert f'value="{street.station_c.pk}"' not in page


# --- Read-only tables --------------------------------------------------------------------------------


def test_audit_log_has_no_add_change_or_delete(client: Client, people: People) -> None:
    entry = AuditLog.objects.create(action=AuditAction.EXPORT, actor=people.admin)
    model_admin = admin.site._registry[AuditLog]
    request = RequestFactory().get("/admin/")
    request.user = people.admin
    assert model_admin.has_view_permission(request, entry)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)
    assert not model_admin.get_actions(request)

    client.force_login(people.admin)
    assert client.get(reverse("admin:accounts_auditlog_changelist")).status_code == 200
    assert client.get(reverse("admin:accounts_auditlog_add")).status_code == 403
    assert client.post(reverse("admin:accounts_auditlog_add"), {"action": "login"}).status_code == 403
    change_url = reverse("admin:accounts_auditlog_change", args=[entry.pk])
    page = html(client.get(change_url))
    assert 'name="_save"' not in page  # the view page, not a form
    assert client.post(change_url, {"action": "login"}).status_code == 403
    assert client.post(reverse("admin:accounts_auditlog_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.action == AuditAction.EXPORT


def test_subcentre_admin_sees_audit_rows_of_their_subtree_only(client: Client, people: People, street: Street) -> None:
    AuditLog.objects.create(action=AuditAction.EXPORT, site=street.station_a, target_id="in-scope")
    AuditLog.objects.create(action=AuditAction.EXPORT, site=street.station_c, target_id="out-of-scope")
    client.force_login(people.subcentre_admin)
    page = html(client.get(reverse("admin:accounts_auditlog_changelist")))
    assert "in-scope" in page
    assert "out-of-scope" not in page


def test_ledger_is_read_only(people: People) -> None:
    model_admin = admin.site._registry[ServiceRecord]
    request = RequestFactory().get("/admin/")
    request.user = people.admin
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


# --- Writes through services ---------------------------------------------------------------------------


def _site_form(**values: object) -> dict[str, object]:
    data: dict[str, object] = {
        "kind": SiteKind.BUILDING,
        "address": "",
        "latitude": "",
        "longitude": "",
        "contact_name": "",
        "contact_phone": "",
        "opening_hours": "",
        "description": "",
        "is_active": "on",
    }
    data.update(values)
    return data


def test_adding_a_site_goes_through_the_service(client: Client, people: People, street: Street) -> None:
    client.force_login(people.subcentre_admin)
    response = client.post(
        reverse("admin:network_site_add"),
        _site_form(
            level=SiteLevel.POINT,
            parent=street.station_b.pk,
            name="乙站社区花园",
            code="HP-JH-B-1",
            latitude="31.2301",
            longitude="121.5101",
        ),
    )
    assert response.status_code == 302, html(response)
    site = Site.objects.get(code="HP-JH-B-1")
    assert site.path.startswith(street.station_b.path)
    assert site.path == f"{street.station_b.path}{site.pk:010d}."
    assert site.parent_id == street.station_b.pk


def test_a_refused_site_shows_the_service_message_and_saves_nothing(
    client: Client, people: People, street: Street
) -> None:
    client.force_login(people.subcentre_admin)
    response = client.post(
        reverse("admin:network_site_add"),
        _site_form(level=SiteLevel.POINT, parent=street.subcentre.pk, name="跳级的点", code="HP-JH-X"),
    )
    assert response.status_code == 200
    assert "阵地层级必须比上级低一级。" in html(response)
    assert not Site.objects.filter(code="HP-JH-X").exists()


def test_subcentre_admin_cannot_add_under_another_district(client: Client, people: People, street: Street) -> None:
    client.force_login(people.subcentre_admin)
    response = client.post(
        reverse("admin:network_site_add"),
        _site_form(level=SiteLevel.POINT, parent=street.station_c.pk, name="越界的点", code="DC-DS-C-1"),
    )
    assert response.status_code == 200
    assert not Site.objects.filter(code="DC-DS-C-1").exists()


def test_changing_a_site_goes_through_the_service(client: Client, people: People, street: Street) -> None:
    client.force_login(people.subcentre_admin)
    url = reverse("admin:network_site_change", args=[street.station_a.pk])
    page = html(client.get(url))
    assert 'name="code"' not in page  # place in the tree is fixed
    response = client.post(
        url,
        _site_form(
            name="甲居民区新时代文明实践站",
            kind=SiteKind.RESIDENTIAL,
            contact_phone="021-63451234",
            latitude="31.2110",
            longitude="121.4910",
        ),
    )
    assert response.status_code == 302, html(response)
    street.station_a.refresh_from_db()
    assert street.station_a.name == "甲居民区新时代文明实践站"
    assert street.station_a.contact_phone == "021-63451234"

    response = client.post(url, _site_form(name="甲站", kind=SiteKind.RESIDENTIAL, contact_phone="12"))
    assert response.status_code == 200
    assert "联系电话格式不正确。" in html(response)


def test_naming_a_manager_grants_the_role_through_the_service(client: Client, people: People, street: Street) -> None:
    from wenming.accounts.models import AuditLog, Role, RoleGrant

    client.force_login(people.subcentre_admin)
    url = reverse("admin:network_site_change", args=[street.station_a.pk])
    form = _site_form(name=street.station_a.name, kind=SiteKind.RESIDENTIAL, latitude="31.2110", longitude="121.4910")
    response = client.post(url, {**form, "manager": people.volunteer_a.pk})
    assert response.status_code == 302, html(response)
    street.station_a.refresh_from_db()
    assert street.station_a.manager == people.volunteer_a
    assert RoleGrant.objects.filter(user=people.volunteer_a, role=Role.STATION_MANAGER, site=street.station_a).exists()
    assert AuditLog.objects.filter(action="role_granted", target_id=str(people.volunteer_a.pk)).exists()
    # Someone from another district is not offered, and not accepted.
    response = client.post(url, {**form, "manager": people.manager_c.pk})
    assert response.status_code == 200
    street.station_a.refresh_from_db()
    assert street.station_a.manager == people.volunteer_a


def test_venue_brand_and_project_are_created_through_services(client: Client, people: People, street: Street) -> None:
    client.force_login(people.subcentre_admin)
    response = client.post(
        reverse("admin:network_venue_add"),
        {
            "site": street.station_a.pk,
            "name": "多功能厅",
            "area_m2": "80",
            "capacity": "50",
            "facilities": "投影仪、音响，茶水",
            "description": "",
            "is_bookable": "on",
            "photos-TOTAL_FORMS": "0",
            "photos-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, html(response)
    venue = Venue.objects.get(name="多功能厅")
    assert venue.facilities == ["投影仪", "音响", "茶水"]

    response = client.post(
        reverse("admin:network_brand_add"),
        {
            "site": street.station_a.pk,
            "name": "甲站益家",
            "theme": "",
            "description": "",
            "projects-TOTAL_FORMS": "1",
            "projects-INITIAL_FORMS": "0",
            "projects-0-name": "长者食堂",
            "projects-0-description": "",
            "projects-0-is_claimable": "on",
        },
    )
    assert response.status_code == 302, html(response)
    brand = Brand.objects.get(name="甲站益家")
    assert list(Project.objects.filter(brand=brand).values_list("name", "is_claimable")) == [("长者食堂", True)]

    response = client.post(
        reverse("admin:network_venue_add"),
        {
            "site": street.station_a.pk,
            "name": "负面积",
            "area_m2": "-1",
            "capacity": "5",
            "photos-TOTAL_FORMS": "0",
            "photos-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert not Venue.objects.filter(name="负面积").exists()


def test_role_grant_goes_through_the_service_and_is_audited(client: Client, people: People, street: Street) -> None:
    client.force_login(people.subcentre_admin)
    response = client.post(
        reverse("admin:accounts_rolegrant_add"),
        {"user": people.resident_a.pk, "role": Role.VOLUNTEER, "site": street.station_a.pk},
    )
    assert response.status_code == 302, html(response)
    assert RoleGrant.objects.filter(user=people.resident_a, role=Role.VOLUNTEER, site=street.station_a).exists()
    assert AuditLog.objects.filter(action=AuditAction.ROLE_GRANTED, target_id=str(people.resident_a.pk)).count() == 1

    # A role the sub-centre admin may not hand out is refused with the service's message.
    response = client.post(
        reverse("admin:accounts_rolegrant_add"),
        {"user": people.resident_a.pk, "role": Role.SUBCENTRE_ADMIN, "site": street.subcentre.pk},
    )
    assert response.status_code == 200
    assert "您没有授予该角色的权限。" in html(response)
    assert not RoleGrant.objects.filter(user=people.resident_a, role=Role.SUBCENTRE_ADMIN).exists()


def test_revoking_a_role_goes_through_the_service(client: Client, people: People, street: Street) -> None:
    grant = RoleGrant.objects.get(user=people.volunteer_a, role=Role.VOLUNTEER)
    client.force_login(people.subcentre_admin)
    response = client.post(reverse("admin:accounts_rolegrant_delete", args=[grant.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not RoleGrant.objects.filter(pk=grant.pk).exists()
    assert AuditLog.objects.filter(action=AuditAction.ROLE_REVOKED, target_id=str(people.volunteer_a.pk)).count() == 1
    # Grants are never edited in place.
    other = RoleGrant.objects.get(user=people.manager_a)
    page = html(client.get(reverse("admin:accounts_rolegrant_change", args=[other.pk])))
    assert 'name="_save"' not in page
