from django.urls import path

from wenming.network import views

app_name = "network"
urlpatterns = [
    path("sites/", views.site_list, name="site_list"),
    path("sites/<int:pk>/", views.site_detail, name="site_detail"),
    path("venues/photos/<int:pk>", views.venue_photo, name="venue_photo"),
    path("near/", views.near, name="near"),
    path("staff/sites/<int:pk>/coverage/", views.coverage, name="coverage"),
]
