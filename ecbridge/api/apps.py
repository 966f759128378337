from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "ecbridge.api"
    label = "api"
