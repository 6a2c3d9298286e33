from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "firstring.knowledge"
    label = "knowledge"
    verbose_name = "Knowledge base"
