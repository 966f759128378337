from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "ecbridge.core"
    label = "core"
