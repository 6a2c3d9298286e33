from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "firstring.insights"
    label = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        from firstring.conversations import pipeline

        pipeline.register_step("tone", _tone_step)


def _tone_step(message_id: int) -> None:
    from firstring.insights.services import message_tone_classify

    message_tone_classify(message_id=message_id)
