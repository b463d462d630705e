from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingsConfig(AppConfig):
    name = "wenming.bookings"
    verbose_name = _("场地预约")
