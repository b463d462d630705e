from django.urls import path

from wenming.notices import views

app_name = "notices"
urlpatterns = [
    path("messages/", views.inbox, name="inbox"),
    path("messages/read-all/", views.mark_all_read, name="read_all"),
    path("messages/<int:pk>/read/", views.mark_read, name="read"),
    path("messages/<int:pk>/open/", views.open_message, name="open"),
]
