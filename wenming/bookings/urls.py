from django.urls import path

from wenming.bookings import views

app_name = "bookings"
urlpatterns = [
    path("venues/<int:pk>/book/", views.venue_book, name="venue_book"),
    path("bookings/mine/", views.my_bookings, name="mine"),
    path("bookings/series/<int:pk>/", views.series_detail, name="series"),
    path("bookings/<int:pk>/cancel/", views.booking_cancel, name="cancel"),
    path("bookings/<int:pk>/check-in/", views.booking_check_in, name="check_in"),
    path("staff/bookings/", views.staff_bookings, name="staff_bookings"),
    path("staff/bookings/<int:pk>/approve/", views.staff_approve, name="staff_approve"),
    path("staff/bookings/<int:pk>/reject/", views.staff_reject, name="staff_reject"),
    path("staff/venues/<int:pk>/calendar/", views.staff_venue_calendar, name="staff_calendar"),
]
