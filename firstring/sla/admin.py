from typing import Any

from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from firstring.sla import hooks
from firstring.sla.models import BusinessCalendar, Holiday, SlaPolicy


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


class _Remeasures(admin.ModelAdmin):
    """Edits here reach open conversations as the managers' pages' do (the sla services tell the hooks)."""

    def _changed(self, obj: Any) -> None:
        calendar_id = obj.pk if isinstance(obj, BusinessCalendar) else None
        transaction.on_commit(lambda: hooks.settings_changed(calendar_id=calendar_id))

    # Called after every save, with the holidays saved too (and by the list's editable columns).
    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        self._changed(form.instance)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self._changed(obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self._changed(obj)
        super().delete_queryset(request, queryset)


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(_Remeasures):
    list_display = ("name", "time_zone")
    inlines = [HolidayInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(_Remeasures):
    list_display = (
        "name",
        "position",
        "active",
        "priority",
        "channel_kind",
        "customer_tier",
        "first_response_minutes",
        "next_response_minutes",
        "resolution_minutes",
        "calendar",
    )
    list_editable = ("position", "active")
