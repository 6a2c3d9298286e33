from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone

from firstring.insights.models import Topic


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("name", "description", "active", "updated_at")
    list_filter = ("active",)
    search_fields = ("name", "description")
    fields = ("name", "description", "examples", "active")

    def save_model(self, request: HttpRequest, obj: Topic, form: Any, change: bool) -> None:
        # The classifiers rebuild when a topic's updated_at moves.
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)
