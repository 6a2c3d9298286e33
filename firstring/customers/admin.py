"""Customers in the Django admin: find them by name or any identity; merges go through the services."""

from __future__ import annotations

from django.contrib import admin

from firstring.customers.models import Customer, Identity


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0
    fields = ("kind", "network", "value", "verified", "created_at")
    readonly_fields = ("created_at",)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("__str__", "company", "language", "merged_into", "created_at")
    list_filter = ("language", "tags", ("merged_into", admin.EmptyFieldListFilter))
    search_fields = ("name", "company", "identities__value")
    readonly_fields = ("merged_into", "created_at", "updated_at")
    filter_horizontal = ("tags",)
    inlines = [IdentityInline]
    show_full_result_count = False


@admin.register(Identity)
class IdentityAdmin(admin.ModelAdmin):
    list_display = ("value", "kind", "network", "customer", "verified", "created_at")
    list_filter = ("kind", "network", "verified")
    search_fields = ("value", "customer__name")
    list_select_related = ("customer",)
    raw_id_fields = ("customer",)
    show_full_result_count = False
