"""Help centers are set up in the Django admin; articles are written in the agents' app (/kb/)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib import admin
from django.http.request import validate_host
from django.urls import Resolver404, resolve

from firstring.knowledge.models import (
    DOMAIN_RE,
    RESERVED_PREFIXES,
    HelpCenter,
    SearchMiss,
    SuggestionOpen,
)


class HelpCenterForm(forms.ModelForm):
    class Meta:
        model = HelpCenter
        exclude = ("created_at",)  # noqa: DJ006 (every other field of a help center is set up here)

    def clean_prefix(self) -> str:
        prefix = str(self.cleaned_data["prefix"]).lower()
        try:
            taken = resolve(f"/{prefix}/").namespace != "help"
        except Resolver404:
            taken = False
        if prefix in RESERVED_PREFIXES or taken:
            raise forms.ValidationError(f"/{prefix}/ is used by Firstring itself")
        return prefix

    def clean_domain(self) -> str:
        domain = str(self.cleaned_data["domain"]).strip().lower().rstrip(".")
        if not domain:
            return ""
        if not DOMAIN_RE.match(domain):
            raise forms.ValidationError("A host name such as help.example.com (no scheme, port or path).")
        if domain == urlsplit(settings.SITE_URL).hostname:
            raise forms.ValidationError("This is the installation's own address (SITE_URL).")
        # Django refuses requests for hosts it does not know before any help center could answer.
        if not validate_host(domain, settings.ALLOWED_HOSTS):
            raise forms.ValidationError(f"Add {domain} to ALLOWED_HOSTS first (the server's environment).")
        return domain

    def clean_languages(self) -> list[str]:
        value = self.cleaned_data["languages"] or []
        if not isinstance(value, list) or not all(isinstance(v, str) and 2 <= len(v) <= 16 for v in value):
            raise forms.ValidationError('A list of language codes, e.g. ["de", "fr"].')
        return [v.lower() for v in value]


@admin.register(HelpCenter)
class HelpCenterAdmin(admin.ModelAdmin):
    form = HelpCenterForm
    list_display = ("name", "prefix", "default_language", "domain")
    filter_horizontal = ("contact_channels",)


@admin.register(SearchMiss)
class SearchMissAdmin(admin.ModelAdmin):
    list_display = ("query", "language", "count", "last_seen", "help_center")
    list_filter = ("help_center", "language")


@admin.register(SuggestionOpen)
class SuggestionOpenAdmin(admin.ModelAdmin):
    """Articles the chat widget suggested that visitors opened, per day: answers found before an agent."""

    list_display = ("translation", "day", "count")
    list_filter = ("day",)
    list_select_related = ("translation",)
