from django.apps import AppConfig


class ListeningConfig(AppConfig):
    name = "firstring.listening"
    label = "listening"
    verbose_name = "Social listening"
    default_auto_field = "django.db.models.BigAutoField"
