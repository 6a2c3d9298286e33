from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "firstring.surveys"
    label = "surveys"
    verbose_name = "Surveys"

    def ready(self) -> None:
        # A resolved conversation asks its customer how it went; a score texted back is an answer.
        from firstring.channels.registry import register_answer_taker, register_survey_asker
        from firstring.conversations import hooks
        from firstring.surveys.services import csat_on_status, reply_taker, session_asker

        hooks.on_status_change("csat", csat_on_status)
        register_answer_taker("surveys", reply_taker)
        register_survey_asker("surveys", session_asker)
