"""Forms of the listening inbox: its filters, the assignee of a mention, a reply to it."""

from __future__ import annotations

from django import forms

from firstring.accounts.models import User
from firstring.insights.classifiers import LABELS
from firstring.listening.models import Mention, Monitor
from firstring.listening.selectors import REACH_LEVELS


class MentionFilterForm(forms.Form):
    monitor = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    tone = forms.ChoiceField(required=False, choices=[("", "Any")] + [(t, t.title()) for t in LABELS])
    status = forms.ChoiceField(required=False, choices=[("", "Any"), *Mention.Status.choices])
    source = forms.CharField(required=False, max_length=32)
    reach = forms.ChoiceField(
        required=False, choices=[("", "Any"), *[(k, f"{v:,}+") for k, v in REACH_LEVELS.items() if v]]
    )
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
    days = forms.IntegerField(required=False, min_value=1, max_value=90)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["monitor"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = [(m.pk, m.name) for m in Monitor.objects.order_by("name")]
