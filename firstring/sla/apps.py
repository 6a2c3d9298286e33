from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "firstring.sla"
    label = "sla"
    verbose_name = "Service levels"
