"""Monitors and sources in the Django admin; queries are checked as the API checks them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from firstring.accounts.access import signed_in_user
from firstring.lib.admin_secrets import SECRET_FIELDS, SecretsForm, secrets_summary
from firstring.lib.errors import InvalidInput
from firstring.listening import services
from firstring.listening.forms import query_checked
from firstring.listening.models import Alert, Monitor, Source
from firstring.listening.services import alerts_clean, languages_clean
from firstring.listening.sources import all_kinds


class MonitorForm(forms.ModelForm):
    class Meta:
        model = Monitor
        fields = (
            "name",
            "query",
            "languages",
            "source_kinds",
            "enabled",
            "alert_webhook_url",
            "alert_emails",
        )
        help_texts = {
            "query": 'Terms, "phrases", #hashtags and @handles with AND, OR, NOT (or -) and parentheses.',
            "languages": 'A JSON list of language codes, e.g. ["en", "de"]; [] for all.',
            "source_kinds": 'A JSON list of source kinds, e.g. ["bluesky"]; [] for all.',
            "alert_emails": 'A JSON list of addresses for spike alerts, e.g. ["brand@example.com"].',
        }

    def clean_query(self) -> str:
        return query_checked(self.cleaned_data["query"])

    def clean_languages(self) -> list[str]:
        value = self.cleaned_data["languages"] or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise forms.ValidationError('Give a list of language codes, like ["en", "de"].')
        try:
            return languages_clean(value)
        except InvalidInput as error:
            raise forms.ValidationError(str(error)) from None

    def clean_source_kinds(self) -> list[str]:
        value = self.cleaned_data["source_kinds"] or []
        known = {k.kind for k in all_kinds()}
        if not isinstance(value, list) or not all(isinstance(v, str) and v in known for v in value):
            raise forms.ValidationError(f"Give a list of source kinds among: {', '.join(sorted(known))}.")
        return sorted(set(value))

    def clean_alert_emails(self) -> list[str]:
        value = self.cleaned_data["alert_emails"] or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise forms.ValidationError('Give a list of e-mail addresses, like ["brand@example.com"].')
        for address in value:
            forms.EmailField().clean(address)
        return sorted({v.strip().lower() for v in value})

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "alert_webhook_url" in cleaned and "alert_emails" in cleaned:
            try:
                alerts_clean(cleaned["alert_webhook_url"] or "", cleaned["alert_emails"])
            except InvalidInput as error:
                raise forms.ValidationError(str(error)) from None
        return cleaned


@admin.register(Monitor)
class MonitorAdmin(admin.ModelAdmin[Monitor]):
    form = MonitorForm
    list_display = ("name", "query", "enabled", "version", "updated_at")
    list_filter = ("enabled",)
    search_fields = ("name", "query")

    def save_model(self, request: HttpRequest, obj: Monitor, form: Any, change: bool) -> None:
        # Through the services the editor and the API use: they alone bump the version that running
        # listeners reload on, so an edit here applies from then on like any other.
        fields = {name: form.cleaned_data[name] for name in MonitorForm.Meta.fields}
        fields["alert_webhook_url"] = fields["alert_webhook_url"] or ""
        if change:
            saved = services.monitor_update(monitor_id=obj.pk, **fields)
        else:
            saved = services.monitor_create(actor=signed_in_user(request), **fields)
        obj.pk = saved.pk
        obj.refresh_from_db()


class SourceForm(SecretsForm):
    kind = forms.ChoiceField(choices=())

    class Meta:
        model = Source
        fields = ("name", "slug", "kind", "enabled", "config")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = [(k.kind, f"{k.label} ({k.help})") for k in all_kinds()]


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin[Source]):
    form = SourceForm
    list_display = ("name", "kind", "enabled", "cursor")
    readonly_fields = ("cursor", "state", "secrets_set")

    @admin.display(description="Secrets set")
    def secrets_set(self, source: Source) -> str:
        return secrets_summary(source)

    def get_fieldsets(self, request: HttpRequest, obj: Source | None = None) -> Any:
        return [
            (None, {"fields": ("name", "slug", "kind", "enabled", "config", "cursor", "state")}),
            ("Secrets (API tokens)", {"fields": SECRET_FIELDS}),
        ]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin[Alert]):
    list_display = ("monitor", "status", "opened_at", "closed_at", "count", "z_score")
    list_filter = ("status",)
    readonly_fields = [f.name for f in Alert._meta.fields]
