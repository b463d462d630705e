from django.urls import path

from wenming.core import views
from wenming.core.health import healthz

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("staff/", views.staff_home, name="staff_home"),
    path("healthz", healthz, name="healthz"),
]
