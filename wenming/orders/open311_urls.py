"""Open311 GeoReport v2, mounted at /open311/v2/ (see wenming/orders/open311.py)."""

from django.urls import URLPattern, URLResolver, re_path

from wenming.orders import open311

app_name = "open311"

FMT = r"\.(?P<fmt>json|xml)$"
NAME = r"[A-Za-z0-9_-]+"

urlpatterns: list[URLPattern | URLResolver] = [
    re_path(rf"^discovery{FMT}", open311.discovery, name="discovery"),
    re_path(rf"^services{FMT}", open311.service_list, name="services"),
    re_path(rf"^services/(?P<code>{NAME}){FMT}", open311.service_definition, name="service"),
    re_path(rf"^requests{FMT}", open311.service_requests, name="requests"),
    re_path(rf"^requests/(?P<request_id>{NAME}){FMT}", open311.service_request, name="request"),
    re_path(rf"^tokens/(?P<token>{NAME}){FMT}", open311.token, name="token"),
    # Anything else here (no suffix, another suffix, another path) is an Open311 404, not the site's page.
    re_path(r"^(?P<path>.*)$", open311.not_found, name="not_found"),
]
