from django.contrib import admin

from firstring.sla.models import BusinessCalendar, Holiday, SlaPolicy


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "time_zone")
    inlines = [HolidayInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
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
