from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "firstring.ops"
    label = "ops"
    verbose_name = "Operations"
