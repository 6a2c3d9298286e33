from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "firstring.api"
    label = "api"
    verbose_name = "REST API"
