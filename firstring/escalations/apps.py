from django.apps import AppConfig


class EscalationsConfig(AppConfig):
    name = "firstring.escalations"
    label = "escalations"
    verbose_name = "Escalations"
