"""Community categories are set up in the Django admin, beside their help centers."""

from __future__ import annotations

from django.contrib import admin

from firstring.community.models import Category


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "help_center", "position")
    list_filter = ("help_center",)
    fields = ("help_center", "name", "slug", "description", "position")
    prepopulated_fields = {"slug": ("name",)}
