from django.urls import path

from wenming.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("signup/", views.signup, name="signup"),
    path("people/", views.people_list, name="people_list"),
    path("people/export.xlsx", views.people_export, name="people_export"),
    path("people/register/", views.register, name="register"),
    path("people/<int:pk>/", views.person_detail, name="person_detail"),
    path("people/<int:pk>/reveal/", views.person_reveal, name="person_reveal"),
]
