from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "firstring.web"
    label = "web"
    verbose_name = "Agents' web app"
