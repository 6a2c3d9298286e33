from django.contrib import admin

from firstring.surveys.models import SurveyAnswer, SurveyRequest


@admin.register(SurveyRequest)
class SurveyRequestAdmin(admin.ModelAdmin):
    list_display = ("pk", "kind", "status", "conversation", "customer", "agent", "channel", "sent_at")
    list_filter = ("kind", "status")
    raw_id_fields = ("conversation", "customer", "agent", "team", "channel", "topic", "message")
    readonly_fields = ("token",)


@admin.register(SurveyAnswer)
class SurveyAnswerAdmin(admin.ModelAdmin):
    list_display = ("pk", "kind", "score", "via", "agent", "channel", "answered_at")
    list_filter = ("kind", "score", "via")
    raw_id_fields = ("request", "channel", "team", "agent", "topic", "follow_up")
