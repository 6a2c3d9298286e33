from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "firstring.insights"
    label = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured

        from firstring.conversations import pipeline
        from firstring.insights.classifiers import available_backends

        if settings.FIRSTRING_TONE_BACKEND not in available_backends():
            raise ImproperlyConfigured(
                f"FIRSTRING_TONE_BACKEND must be one of {', '.join(available_backends())}"
            )
        pipeline.register_step("tone", _tone_step)


def _tone_step(message_ids: list[int]) -> None:
    from firstring.insights.services import message_tone_classify

    for message_id in message_ids:
        message_tone_classify(message_id=message_id)
