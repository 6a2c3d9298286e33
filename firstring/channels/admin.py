"""Channels in the Django admin. Secrets are write-only: the form shows which are set, never their values."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from firstring.channels.models import Channel
from firstring.channels.registry import all_kinds, get_kind


class ChannelForm(forms.ModelForm):
    new_secret_name = forms.SlugField(
        required=False, max_length=64, help_text="Set or rotate one secret: its name (e.g. signing_secret)…"
    )
    new_secret_value = forms.CharField(
        required=False,
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="…and its new value. It is stored and never shown again.",
    )
    remove_secrets = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, help_text="Secrets to delete."
    )

    class Meta:
        model = Channel
        fields = ("name", "slug", "kind", "team", "enabled", "config")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = sorted(self.instance.secrets) if self.instance.pk else []
        remove = self.fields["remove_secrets"]
        assert isinstance(remove, forms.MultipleChoiceField)
        remove.choices = [(name, name) for name in names]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        name, value = cleaned.get("new_secret_name"), cleaned.get("new_secret_value")
        if name and not value:
            self.add_error("new_secret_value", "Give the new value of this secret.")
        if value and not name:
            self.add_error("new_secret_name", "Name the secret this value belongs to.")
        return cleaned

    def save(self, commit: bool = True) -> Channel:
        channel: Channel = super().save(commit=False)
        secrets = dict(channel.secrets or {})
        for name in self.cleaned_data.get("remove_secrets") or []:
            secrets.pop(name, None)
        if self.cleaned_data.get("new_secret_name"):
            secrets[self.cleaned_data["new_secret_name"]] = self.cleaned_data["new_secret_value"]
        channel.secrets = secrets
        if commit:
            channel.save()
        return channel


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
        # Names and lengths only: enough to see that a secret is there, nothing to copy.
        if not channel.secrets:
            return "none"
        return format_html_join(
            ", ",
            "{} ({} characters)",
            ((name, len(str(value))) for name, value in sorted(channel.secrets.items())),
        )

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
            ("Secrets", {"fields": ("secrets_set", "new_secret_name", "new_secret_value", "remove_secrets")}),
        ]
