from django.apps import AppConfig


class VoiceConfig(AppConfig):
    name = "firstring.voice"
    label = "voice"
    verbose_name = "Voice"

    def ready(self) -> None:
        # The dashboards count calls as the phone page does.
        from firstring.insights.rollup import rollup_source_register
        from firstring.voice.selectors import call_rollup_rows

        rollup_source_register("voice.calls", call_rollup_rows)
