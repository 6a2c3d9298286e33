"""Channels in the Django admin. Secrets are write-only: the form shows which are set, never their values."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from firstring.channels.models import Channel
from firstring.channels.registry import all_kinds, get_kind
from firstring.lib.admin_secrets import SECRET_FIELDS, SecretsForm, secrets_summary


class ChannelForm(SecretsForm):
    class Meta:
        model = Channel
        fields = ("name", "slug", "kind", "team", "enabled", "config")


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    form = ChannelForm
    list_display = ("name", "slug", "kind", "team", "enabled", "created_at")
    list_filter = ("kind", "enabled", "team")
    search_fields = ("name", "slug")
    readonly_fields = ("how_to_connect", "secrets_set", "state", "created_at")
    prepopulated_fields = {"slug": ("name",)}

    @admin.display(description="Secrets set")
    def secrets_set(self, channel: Channel) -> str:
        return secrets_summary(channel)

    @admin.display(description="How to connect")
    def how_to_connect(self, channel: Channel) -> str:
        # The kind's own instructions; for a new channel, every installed kind's.
        kinds = [get_kind(channel.kind)] if channel.pk else all_kinds()
        general = format_html_join(
            "",
            "<p><strong>{}</strong></p><pre style='white-space: pre-wrap'>{}</pre>",
            (
                (kind.label, kind.setup_help or format_html("No instructions for {}.", kind.label))
                for kind in kinds
            ),
        )
        details = kinds[0].setup_details if channel.pk else None
        if details is None:
            return general
        return format_html(
            "{}<p><strong>This channel</strong></p><pre style='white-space: pre-wrap'>{}</pre>",
            general,
            details(channel),
        )

    def get_fieldsets(self, request: HttpRequest, obj: Channel | None = None) -> Any:
        return [
            (None, {"fields": ("name", "slug", "kind", "team", "enabled", "config", "created_at")}),
            ("Setup", {"fields": ("how_to_connect", "state")}),
            ("Secrets", {"fields": SECRET_FIELDS}),
        ]
