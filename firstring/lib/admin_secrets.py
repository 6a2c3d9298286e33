"""Write-only secrets in the Django admin, for any model with a `secrets` JSON field (channels, sources).

The form sets or rotates one secret at a time and deletes chosen ones; the admin shows names and
lengths only (`secrets_summary`), never the values.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django.utils.html import format_html_join

SECRET_FIELDS = ("secrets_set", "new_secret_name", "new_secret_value", "remove_secrets")


class SecretsForm(forms.ModelForm):  # type: ignore[type-arg]
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

    def save(self, commit: bool = True) -> Any:
        instance = super().save(commit=False)
        secrets = dict(instance.secrets or {})
        for name in self.cleaned_data.get("remove_secrets") or []:
            secrets.pop(name, None)
        if self.cleaned_data.get("new_secret_name"):
            secrets[self.cleaned_data["new_secret_name"]] = self.cleaned_data["new_secret_value"]
        instance.secrets = secrets
        if commit:
            instance.save()
        return instance


def secrets_summary(instance: models.Model) -> str:
    # Names and lengths only: enough to see that a secret is there, nothing to copy.
    secrets = getattr(instance, "secrets", None) or {}
    if not secrets:
        return "none"
    return format_html_join(
        ", ", "{} ({} characters)", ((name, len(str(value))) for name, value in sorted(secrets.items()))
    )
