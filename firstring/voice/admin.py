"""The phone in the Django admin: agents' lines and numbers' menus are edited here; calls are read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from firstring.accounts.models import Skill, Team
from firstring.customers.identities import InvalidIdentity, normalize_phone
from firstring.lib.errors import InvalidInput
from firstring.voice.menu import menu_validate
from firstring.voice.models import AgentLine, Call, CallEvent, PhoneMenu
from firstring.voice.phone.sip.message import SipParseError, parse_uri


class AgentLineForm(forms.ModelForm):
    class Meta:
        model = AgentLine
        fields = ("user", "number", "client", "sip_uri")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("number") and not data.get("client") and not data.get("sip_uri"):
            raise ValidationError("Give the agent a phone number, a softphone identity or a SIP address.")
        if data.get("sip_uri"):
            try:
                parse_uri(data["sip_uri"])
            except SipParseError as error:
                raise ValidationError({"sip_uri": str(error)}) from None
        if data.get("number"):
            try:
                data["number"] = normalize_phone(data["number"])
            except InvalidIdentity as error:
                raise ValidationError({"number": str(error)}) from None
        return data


@admin.register(AgentLine)
class AgentLineAdmin(admin.ModelAdmin):
    form = AgentLineForm
    list_display = ("user", "number", "client", "sip_uri")


class PhoneMenuForm(forms.ModelForm):
    class Meta:
        model = PhoneMenu
        fields = ("channel", "definition")

    def clean_definition(self) -> dict[str, Any]:
        try:
            return menu_validate(
                self.cleaned_data.get("definition"),
                teams=set(Team.objects.values_list("slug", flat=True)),
                skills={name.lower() for name in Skill.objects.values_list("name", flat=True)},
            )
        except InvalidInput as error:
            raise ValidationError(str(error)) from None


@admin.register(PhoneMenu)
class PhoneMenuAdmin(admin.ModelAdmin):
    form = PhoneMenuForm
    list_display = ("channel", "updated_at")


class CallEventInline(admin.TabularInline):
    model = CallEvent
    extra = 0
    fields = ("at", "kind", "data")
    readonly_fields = fields
    can_delete = False


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ("started_at", "caller", "number_called", "status", "outcome", "wait_seconds", "agent")
    list_filter = ("status", "outcome", "channel")
    inlines = (CallEventInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
