"""Forms of the listening pages: the inbox's filters, a mention's assignee and reply, the monitor editor."""

from __future__ import annotations

from django import forms

from firstring.accounts.models import User
from firstring.insights.classifiers import LABELS
from firstring.lib.errors import InvalidInput
from firstring.listening.models import Mention, Monitor
from firstring.listening.query import MAX_QUERY_CHARS, parse_query
from firstring.listening.selectors import REACH_LEVELS
from firstring.listening.services import MAX_EMAILS, languages_clean
from firstring.listening.sources import all_kinds


class MentionFilterForm(forms.Form):
    monitor = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    tone = forms.ChoiceField(required=False, choices=[("", "Any")] + [(t, t.title()) for t in LABELS])
    status = forms.ChoiceField(required=False, choices=[("", "Any"), *Mention.Status.choices])
    source = forms.CharField(required=False, max_length=32)
    reach = forms.ChoiceField(
        required=False, choices=[("", "Any"), *[(k, f"{v:,}+") for k, v in REACH_LEVELS.items() if v]]
    )
    topic = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    urgent = forms.ChoiceField(required=False, choices=[("", "Any"), ("1", "Urgent"), ("0", "Not urgent")])
    cursor = forms.CharField(required=False, max_length=1000)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True), required=False)


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(s, s) for s in (Mention.Status.NEW, Mention.Status.HANDLED, Mention.Status.IGNORED)]
    )


class ReplyForm(forms.Form):
    text = forms.CharField(max_length=5000, strip=True)
    visibility = forms.ChoiceField(choices=[("public", "Public"), ("private", "Private")])


class AnalyticsForm(forms.Form):
    monitor = forms.TypedMultipleChoiceField(required=False, coerce=int, choices=())
    since = forms.DateField(required=False)
    until = forms.DateField(required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["monitor"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = [(m.pk, m.name) for m in Monitor.objects.order_by("name")]


def _items(text: str) -> list[str]:
    """A list typed as words separated by commas, spaces or new lines."""
    return [item for item in text.replace(",", " ").split() if item]


def query_checked(value: object) -> str:
    """A monitor's query as typed, stripped, or a ValidationError saying what is wrong with it."""
    query = str(value).strip()
    try:
        parse_query(query)
    except InvalidInput as error:
        raise forms.ValidationError(str(error)) from None
    return query


class MonitorForm(forms.Form):
    """The monitor editor: checks each field with the services' own rules so errors sit by their field."""

    name = forms.CharField(max_length=100)
    query = forms.CharField(
        max_length=MAX_QUERY_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text='Words, "phrases", #hashtags and @handles; AND, OR, NOT (or -) and parentheses. '
        'Example: (acme OR @acme OR #acmefail) AND (refund OR "money back") -careers',
    )
    languages = forms.CharField(
        required=False, max_length=200, help_text="Language codes such as en, de; empty for every language."
    )
    source_kinds = forms.MultipleChoiceField(
        required=False,
        choices=(),
        widget=forms.CheckboxSelectMultiple,
        label="Sources",
        help_text="None ticked: every source.",
    )
    enabled = forms.BooleanField(required=False, initial=True, label="Listening (untick to pause)")
    alert_webhook_url = forms.URLField(
        required=False, max_length=500, label="Alert webhook (Slack-compatible)", assume_scheme="https"
    )
    alert_emails = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Alert e-mail addresses",
        help_text=f"Separated by commas or new lines; at most {MAX_EMAILS}.",
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["source_kinds"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(kind.kind, kind.label) for kind in all_kinds()]

    @classmethod
    def for_monitor(cls, monitor: Monitor) -> MonitorForm:
        return cls(
            initial={
                "name": monitor.name,
                "query": monitor.query,
                "languages": ", ".join(monitor.languages),
                "source_kinds": monitor.source_kinds,
                "enabled": monitor.enabled,
                "alert_webhook_url": monitor.alert_webhook_url,
                "alert_emails": "\n".join(monitor.alert_emails),
            }
        )

    def clean_query(self) -> str:
        return query_checked(self.cleaned_data["query"])

    def clean_languages(self) -> list[str]:
        try:
            return languages_clean(_items(self.cleaned_data["languages"]))
        except InvalidInput as error:
            raise forms.ValidationError(str(error)) from None

    def clean_alert_emails(self) -> list[str]:
        addresses = _items(self.cleaned_data["alert_emails"])
        if len(addresses) > MAX_EMAILS:
            raise forms.ValidationError(f"At most {MAX_EMAILS} addresses.")
        for address in addresses:
            forms.EmailField().clean(address)
        return addresses


class PreviewForm(MonitorForm):
    """The preview needs only what decides a match; the rest of the editor may still be blank."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for name in ("name", "alert_webhook_url", "alert_emails"):
            self.fields[name].required = False


class PauseForm(forms.Form):
    enabled = forms.TypedChoiceField(choices=[("1", "Resume"), ("0", "Pause")], coerce=lambda v: v == "1")
