from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from wenming.api import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("wenming.core.urls")),
    path("", include("wenming.network.urls")),
    path("", include("wenming.activities.urls")),
    path("", include("wenming.activities.staff_urls")),
    path("", include("wenming.bookings.urls")),
    path("", include("wenming.notices.urls")),
    path("", include("wenming.orders.urls")),
    path("", include("wenming.orders.staff_urls")),
    path("open311/v2/", include("wenming.orders.open311_urls")),
    path("accounts/", include("wenming.accounts.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]

if settings.BENCH_BASELINE:
    from wenming.core.views import bench_baseline

    urlpatterns.append(path("bench/baseline", bench_baseline))
