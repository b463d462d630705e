"""Staff pages of service orders and civility reports (/staff/orders/...).

``/staff/orders/<id>/`` is the link notifications carry (``services.staff_link``); keep it.
"""

from django.urls import path

from wenming.orders import staff

app_name = "orders_staff"
urlpatterns = [
    path("staff/orders/", staff.board, name="board"),
    path("staff/orders/new/", staff.order_new, name="new"),
    path("staff/orders/<int:pk>/", staff.order_detail, name="detail"),
    *[
        path(f"staff/orders/<int:pk>/{action.replace('_', '-')}/", staff.order_move, {"action": action}, name=action)
        for action in staff.MOVES
    ],
]
