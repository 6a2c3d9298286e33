"""Conversations in the Django admin: read-only.

Every change to a conversation must record an event and notify open screens, which only the services
do; the admin is for looking things up. Agents work in the web app, integrations through the API.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from firstring.conversations.models import Attachment, Conversation, ConversationEvent, Message


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EventInline(ReadOnlyInline):
    model = ConversationEvent
    fields = ("created_at", "kind", "actor", "data")


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = (
        "id", "__str__", "customer", "channel", "status", "priority", "assignee", "team", "message_count",
        "last_message_at",
    )  # fmt: skip
    list_display_links = ("id", "__str__")
    list_filter = ("status", "priority", "channel", "team", "tone_latest", "tags")
    search_fields = ("subject", "customer__name", "customer__identities__value", "external_thread")
    list_select_related = ("customer", "channel", "assignee", "team")
    date_hierarchy = "last_message_at"
    inlines = [EventInline]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "conversation_id", "direction", "channel", "delivery_status", "created_at")
    list_filter = ("direction", "delivery_status", "channel", "tone")
    search_fields = ("text", "external_id")
    list_select_related = ("channel",)
    exclude = ("html",)


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ("filename", "content_type", "size", "inline", "message_id")
    search_fields = ("filename",)


@admin.register(ConversationEvent)
class ConversationEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "conversation_id", "actor")
    list_filter = ("kind",)
    list_select_related = ("actor",)
