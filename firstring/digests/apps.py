from django.apps import AppConfig


class DigestsConfig(AppConfig):
    name = "firstring.digests"
    label = "digests"
    verbose_name = "Digests"
