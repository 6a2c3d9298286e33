from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "firstring.insights"
    label = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured

        from firstring.conversations import hooks, pipeline
        from firstring.insights.classifiers import available_backends
        from firstring.insights.topics import available_encoders

        if settings.FIRSTRING_TONE_BACKEND not in available_backends():
            raise ImproperlyConfigured(
                f"FIRSTRING_TONE_BACKEND must be one of {', '.join(available_backends())}"
            )
        if settings.FIRSTRING_TOPIC_BACKEND not in available_encoders():
            raise ImproperlyConfigured(
                f"FIRSTRING_TOPIC_BACKEND must be one of {', '.join(available_encoders())}"
            )
        # Named "tone" still: routing runs after it and reads what it stored.
        pipeline.register_step("tone", _insights_step, warm_up=_insights_warm_up)
        # A first reply or a status change alters the service levels counted on the conversation's day.
        hooks.on_first_response("insights", _service_changed)
        hooks.on_status_change(
            "insights", lambda conversation_id, _before, _after: _service_changed(conversation_id)
        )


def _service_changed(conversation_id: int) -> None:
    from firstring.insights.rollup import rollup_mark_conversation_stale

    rollup_mark_conversation_stale(conversation_id)


def _insights_step(message_ids: list[int]) -> None:
    """Tone, topics, language and urgency of a received batch, each classifier called once."""
    from firstring.insights.analysis import messages_analyse

    messages_analyse(message_ids=message_ids)


def _insights_warm_up() -> None:
    from firstring.insights.analysis import classifiers_warm_up

    classifiers_warm_up()
