"""A customer is one person or company across every channel; identities are how channels know them."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from firstring.accounts.models import Tag


class Customer(models.Model):
    name = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=16, blank=True)
    company = models.CharField(max_length=200, blank=True)
    # What the customer is worth to the company ("vip", "enterprise" …): service-level policies and the
    # router's ranking read it.
    tier = models.CharField(max_length=32, blank=True)
    notes = models.TextField(blank=True)
    custom_attributes = models.JSONField(default=dict, blank=True)
    tags = models.ManyToManyField(Tag, related_name="customers", blank=True)
    # A merged customer is kept, pointing at the survivor, so old references still resolve.
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at",)
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name or f"Customer #{self.pk}"

    @property
    def display_name(self) -> str:
        if self.name:
            return self.name
        first = next(iter(self.identities.all()), None)
        return first.value if first else f"Customer #{self.pk}"


class Identity(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        PHONE = "phone", "Phone"
        HANDLE = "handle", "Social handle"
        VISITOR = "visitor", "Chat visitor"
        EXTERNAL = "external", "External id"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="identities")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # For handles: the network ("x", "bluesky", "mastodon" …); blank for the other kinds.
    network = models.CharField(max_length=32, blank=True, default="")
    # Normalised: E.164 for phones, lower-cased address for e-mail, handle without "@".
    value = models.CharField(max_length=320)
    verified = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("kind", "value")
        constraints = [
            models.UniqueConstraint(fields=["kind", "network", "value"], name="identity_unique_value"),
        ]

    def __str__(self) -> str:
        prefix = f"{self.network}:" if self.network else ""
        return f"{self.get_kind_display()} {prefix}{self.value}"
