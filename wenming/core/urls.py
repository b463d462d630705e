from django.urls import path

from wenming.core.health import healthz

app_name = "core"
urlpatterns = [
    path("healthz", healthz, name="healthz"),
]
