from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "firstring.conversations"
    label = "conversations"
    verbose_name = "Conversations"
