from django.apps import AppConfig


class VoiceConfig(AppConfig):
    name = "firstring.voice"
    label = "voice"
    verbose_name = "Voice"
