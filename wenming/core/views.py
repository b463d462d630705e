"""The landing page and the staff home (工作台)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from wenming.accounts import policies
from wenming.accounts.models import RoleGrant, User
from wenming.network import policies as network_policies
from wenming.network.models import Site, SiteLevel, Venue
from wenming.volunteers.models import Volunteer


def bench_baseline(request: HttpRequest) -> JsonResponse:
    """The benchmarks' baseline: a bare Django JSON view, served like the rest."""
    return JsonResponse({"status": "ok"})


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")


@dataclass(frozen=True)
class ManagedSite:
    """One site a staff member manages, with the counts of its subtree."""

    site: Site
    child_sites: int
    venues: int
    people: int
    volunteers: int
    can_view_coverage: bool


def _managed(site: Site, user: User) -> ManagedSite:
    prefix = site.path
    return ManagedSite(
        site=site,
        child_sites=Site.objects.filter(path__startswith=prefix, is_active=True).exclude(pk=site.pk).count(),
        venues=Venue.objects.filter(site__path__startswith=prefix, is_active=True).count(),
        people=User.objects.filter(home_site__path__startswith=prefix, is_active=True).count(),
        volunteers=Volunteer.objects.filter(site__path__startswith=prefix, is_active=True).count(),
        can_view_coverage=site.level <= SiteLevel.STATION and network_policies.can_view_coverage(user, site),
    )


@login_required
@require_GET
def staff_home(request: HttpRequest) -> HttpResponse:
    """工作台: the sites a staff member manages and where to go from here."""
    user = request.user
    if not isinstance(user, User) or not policies.is_staff_anywhere(user):
        raise PermissionDenied(_("工作台仅供阵地工作人员使用。如需开通，请联系所在阵地的管理员。"))
    scope = policies.staff_scope(user)
    if scope.everything:
        roots = list(Site.objects.filter(level=SiteLevel.CENTRE, is_active=True).order_by("path"))
    else:
        roots = sorted(scope.roots, key=lambda s: s.path)
    grants = RoleGrant.objects.filter(user=user).select_related("site").order_by("site__path", "role")
    return render(
        request,
        "core/staff_home.html",
        {
            "managed": [_managed(site, user) for site in roots],
            "grants": grants,
            "can_use_admin": policies.can_use_admin(user),
            "can_approve": not policies.admin_scope(user).is_empty,
        },
    )
