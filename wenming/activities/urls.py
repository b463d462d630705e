from django.urls import path

from wenming.activities import views

app_name = "activities"
urlpatterns = [
    path("sites/<int:pk>/week/", views.week, name="week"),
    path("sites/<int:pk>/week/poster.pdf", views.poster, name="poster"),
    path("sites/<int:pk>/activities.ics", views.calendar, name="calendar"),
    path("activities/mine/", views.my_signups, name="mine"),
    path("activities/<int:pk>/", views.activity_detail, name="detail"),
    path("activities/photos/<int:pk>", views.activity_photo, name="photo"),
    path("activities/<int:pk>/signup/", views.sign_up, name="sign_up"),
    path("activities/signups/<int:pk>/cancel/", views.cancel_signup, name="cancel_signup"),
]
