"""Forms that validate what agents type before a service sees it. Bad input is a 422, never a 500."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from firstring.accounts.models import Skill, Team
from firstring.conversations.models import Conversation, Tone
from firstring.conversations.selectors import SORTS, VIEWS, InboxFilter
from firstring.lib.errors import InvalidInput
from firstring.routing.models import AgentState, RoutingRule

SORT_LABELS = {
    "recent": "Most recent",
    "priority": "Priority",
    "waiting": "Waiting longest",
    "sla": "SLA due",
}


def _blank(choices: Any, label: str = "Any") -> list[tuple[Any, str]]:
    return [("", label), *choices]


class InboxForm(forms.Form):
    view = forms.ChoiceField(choices=list(VIEWS.items()), required=False)
    q = forms.CharField(max_length=200, required=False, strip=True)
    channel = forms.CharField(max_length=64, required=False)
    status = forms.ChoiceField(choices=_blank(Conversation.Status.choices), required=False)
    priority = forms.TypedChoiceField(
        choices=_blank(Conversation.Priority.choices), coerce=int, empty_value=None, required=False
    )
    tone = forms.ChoiceField(choices=_blank(Tone.choices), required=False)
    tag = forms.CharField(max_length=64, required=False, strip=True)
    language = forms.CharField(max_length=16, required=False, strip=True)
    team = forms.IntegerField(min_value=1, required=False)
    sort = forms.ChoiceField(choices=[(key, SORT_LABELS.get(key, key)) for key in SORTS], required=False)
    cursor = forms.CharField(max_length=1000, required=False)

    def to_filter(self) -> InboxFilter:
        if not self.is_valid():
            raise InvalidInput(form_errors(self))
        data = self.cleaned_data
        return InboxFilter(
            view=data["view"] or "all_open",
            channel=data["channel"],
            status=data["status"],
            priority=data["priority"],
            tone=data["tone"],
            tag=data["tag"],
            language=data["language"],
            team=data["team"],
            q=data["q"],
            sort=data["sort"] or "recent",
        )


class ReplyForm(forms.Form):
    # Blank with files attached (bound with request.FILES, field "files"): the files are the reply.
    text = forms.CharField(max_length=100_000, strip=False, required=False)
    target = forms.CharField(max_length=64, required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("text", "").strip() and not self.files.getlist("files"):
            raise ValidationError("Write something or attach a file.")
        return cleaned


class NoteForm(forms.Form):
    text = forms.CharField(max_length=100_000, strip=False)

    def clean_text(self) -> str:
        text: str = self.cleaned_data["text"]
        if not text.strip():
            raise ValidationError("Write something first.")
        return text


class AssignForm(forms.Form):
    # Blank: nobody.
    assignee = forms.IntegerField(min_value=1, required=False)


class TeamForm(forms.Form):
    team = forms.IntegerField(min_value=1, required=False)


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Conversation.Status.choices)
    snoozed_until = forms.DateTimeField(required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("status") == Conversation.Status.SNOOZED and not data.get("snoozed_until"):
            raise ValidationError("Choose until when to snooze.")
        return data


class PresenceForm(forms.Form):
    presence = forms.ChoiceField(choices=AgentState.Presence.choices)


class PriorityForm(forms.Form):
    priority = forms.TypedChoiceField(choices=Conversation.Priority.choices, coerce=int)


class TagsForm(forms.Form):
    tags = forms.CharField(max_length=2000, required=False, help_text="Comma-separated")

    def names(self) -> list[str]:
        return [name for name in self.cleaned_data["tags"].split(",") if name.strip()]


class CustomerForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)
    company = forms.CharField(max_length=200, required=False)
    language = forms.CharField(max_length=16, required=False)
    notes = forms.CharField(max_length=20_000, required=False, widget=forms.Textarea(attrs={"rows": 4}))


class MergeForm(forms.Form):
    other = forms.IntegerField(min_value=1, label="Customer number to merge into this one")


class SplitForm(forms.Form):
    name = forms.CharField(max_length=200, required=False, label="Name of the new customer")


class CustomerSearchForm(forms.Form):
    q = forms.CharField(max_length=200, required=False, strip=True)


def form_errors(form: forms.Form) -> str:
    """All of a form's errors as one readable sentence."""
    parts = []
    for field, errors in form.errors.items():
        label = form.fields[field].label or field.replace("_", " ") if field in form.fields else ""
        text = " ".join(str(e) for e in errors)
        parts.append(f"{label}: {text}" if label else text)
    return " ".join(parts) or "The form is not valid."


def valid(form: forms.Form) -> dict[str, Any]:
    """The cleaned data, or InvalidInput with the form's errors."""
    if not form.is_valid():
        raise InvalidInput(form_errors(form))
    return form.cleaned_data


class EscalateForm(forms.Form):
    reason = forms.CharField(max_length=2000)
    # Blank: the manager on duty.
    manager = forms.IntegerField(min_value=1, required=False)


class EscalationResolveForm(forms.Form):
    outcome = forms.CharField(max_length=2000)
    lesson_title = forms.CharField(max_length=200, required=False)
    lesson_text = forms.CharField(max_length=20_000, required=False)


class LessonForm(forms.Form):
    title = forms.CharField(max_length=200)
    text = forms.CharField(max_length=20_000)


class LessonSearchForm(forms.Form):
    q = forms.CharField(max_length=200, required=False, strip=True)


def _words(text: str) -> list[str]:
    return [word.strip() for word in text.split(",") if word.strip()]


class RoutingRuleForm(forms.Form):
    name = forms.CharField(max_length=100)
    position = forms.IntegerField(min_value=0, max_value=100_000, initial=100)
    active = forms.BooleanField(required=False, initial=True)
    channel_kinds = forms.CharField(max_length=1000, required=False, help_text="e.g. email, chat")
    languages = forms.CharField(max_length=1000, required=False, help_text="e.g. es, de")
    tones = forms.MultipleChoiceField(
        choices=Tone.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    tags = forms.CharField(max_length=2000, required=False)
    customer_tiers = forms.CharField(max_length=1000, required=False, help_text="e.g. vip")
    keywords = forms.CharField(max_length=2000, required=False, help_text="e.g. refund, cancel")
    min_priority = forms.TypedChoiceField(
        choices=_blank(Conversation.Priority.choices), coerce=int, empty_value=None, required=False
    )
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False)
    skills = forms.ModelMultipleChoiceField(queryset=Skill.objects.all(), required=False)
    skill_level = forms.IntegerField(min_value=1, max_value=5, initial=3)
    set_priority = forms.TypedChoiceField(
        choices=_blank(Conversation.Priority.choices, "Keep"), coerce=int, empty_value=None, required=False
    )

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for field in ("channel_kinds", "languages", "tags", "customer_tiers", "keywords"):
            data[field] = _words(data[field])
        return data

    @classmethod
    def for_rule(cls, rule: RoutingRule) -> RoutingRuleForm:
        return cls(
            initial={
                "name": rule.name,
                "position": rule.position,
                "active": rule.active,
                "channel_kinds": ", ".join(rule.channel_kinds),
                "languages": ", ".join(rule.languages),
                "tones": rule.tones,
                "tags": ", ".join(rule.tags),
                "customer_tiers": ", ".join(rule.customer_tiers),
                "keywords": ", ".join(rule.keywords),
                "min_priority": rule.min_priority,
                "team": rule.team_id,
                "skills": [skill.pk for skill in rule.skills.all()],
                "skill_level": rule.skill_level,
                "set_priority": rule.set_priority,
            }
        )
