"""Routing in the Django admin: team settings are edited here; tasks and decisions are read-only."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from firstring.routing.models import AgentState, RoutingEvent, RoutingTask, TeamRouting


@admin.register(TeamRouting)
class TeamRoutingAdmin(admin.ModelAdmin):
    list_display = ("team", "auto_assign", "capacity")


@admin.register(AgentState)
class AgentStateAdmin(admin.ModelAdmin):
    list_display = ("user", "presence", "presence_changed_at", "last_offered_at", "missed_offers")
    list_filter = ("presence",)


class ReadOnlyAdmin(admin.ModelAdmin):
    # The router writes these; an edit by hand would break its invariants.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(RoutingTask)
class RoutingTaskAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "conversation",
        "channel_kind",
        "team",
        "status",
        "enqueued_at",
        "offered_to",
        "offers",
    )
    list_filter = ("status", "channel_kind")


@admin.register(RoutingEvent)
class RoutingEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "task", "kind", "agent", "data")
    list_filter = ("kind",)
