from django.urls import path

from wenming.orders import views

app_name = "orders"
urlpatterns = [
    path("orders/new/", views.new_order, name="new"),
    path("orders/new/suggest/", views.suggest_type, name="suggest"),
    path("reports/new/", views.new_report, name="new_report"),
    path("orders/mine/", views.my_orders, name="mine"),
    path("orders/tasks/", views.tasks, name="tasks"),
    path("orders/<int:pk>/", views.order_detail, name="detail"),
    path("orders/photos/<int:pk>", views.order_photo, name="photo"),
    path("orders/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("orders/<int:pk>/rate/", views.rate, name="rate"),
    path("orders/<int:pk>/accept/", views.accept, name="accept"),
    path("orders/<int:pk>/decline/", views.decline, name="decline"),
    path("orders/<int:pk>/start/", views.start, name="start"),
    path("orders/<int:pk>/complete/", views.complete, name="complete"),
    path("orders/<int:pk>/release/", views.release, name="release"),
]
