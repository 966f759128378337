from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiLogConfig(AppConfig):
    name = "ecbridge.apilog"
    label = "apilog"
    verbose_name = _("Platform API logs")
