"""Finding customers by identity and editing their profiles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from firstring.customers.identities import IdentityClaim, normalize_claim
from firstring.customers.models import Customer, Identity


def _claims_q(claims: Sequence[IdentityClaim]) -> Q:
    q = Q()
    for claim in claims:
        q |= Q(kind=claim.kind, network=claim.network, value=claim.value)
    return q


def customer_resolve(customer: Customer) -> Customer:
    """Follow merges to the surviving customer."""
    seen = set()
    while customer.merged_into_id is not None and customer.pk not in seen:
        seen.add(customer.pk)
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


def customer_find_or_create(
    *, claims: Sequence[IdentityClaim], name: str = "", language: str = "", lock: bool = False
) -> tuple[Customer, Identity, bool]:
    """Find the customer behind the first known identity, or create one.

    Claims must already be normalised (normalize_claim). Identities the customer does not have yet are
    added to them, unless they belong to somebody else: two customers are never joined silently, that is
    what merge is for. Returns (customer, the identity of the first claim, created).
    With lock, a found customer's row is locked (select_for_update) until the transaction ends.
    Must run inside a transaction; safe against a concurrent first contact from the same sender.
    """
    if not claims:
        raise ValueError("at least one identity is needed")
    for attempt in range(3):
        # One query finds the identities, their customer and, when asked, locks that customer: this
        # runs for every inbound message.
        identities = Identity.objects.filter(_claims_q(claims)).select_related("customer")
        if lock:
            identities = identities.select_for_update(of=("customer",))
        known = {(i.kind, i.network, i.value): i for i in identities}
        owner = next((known[key] for key in _keys(claims) if key in known), None)
        created = owner is None
        if owner is None:
            customer = Customer.objects.create(name=name[:200], language=language[:16])
        else:
            customer = owner.customer
            if customer.merged_into_id is not None:
                customer = customer_resolve(customer)
                if lock:
                    customer = Customer.objects.select_for_update().get(pk=customer.pk)
        missing = [
            Identity(customer=customer, kind=c.kind, network=c.network, value=c.value)
            for c in claims
            if (c.kind, c.network, c.value) not in known
        ]
        try:
            if missing:
                with transaction.atomic():
                    Identity.objects.bulk_create(missing)
        except IntegrityError:
            # Somebody else created one of these identities in the meantime: look again.
            if created:
                customer.delete()
            if attempt == 2:
                raise
            continue
        for identity in missing:
            known[(identity.kind, identity.network, identity.value)] = identity
        first = known[_keys(claims)[0]]
        if not created and name and not customer.name:
            customer.name = name[:200]
            customer.save(update_fields=["name", "updated_at"])
        return customer, first, created
    raise AssertionError("unreachable")


def _keys(claims: Sequence[IdentityClaim]) -> list[tuple[str, str, str]]:
    return [(c.kind, c.network, c.value) for c in claims]


PROFILE_FIELDS = ("name", "language", "company", "notes", "custom_attributes")


def customer_update(*, customer: Customer, changes: dict[str, Any]) -> Customer:
    fields = [f for f in PROFILE_FIELDS if f in changes]
    for field in fields:
        setattr(customer, field, changes[field])
    if fields:
        customer.full_clean(exclude=["merged_into"])
        customer.save(update_fields=[*fields, "updated_at"])
    return customer


def identity_add(*, customer: Customer, claim: IdentityClaim) -> Identity:
    """Attach a new identity; raises IntegrityError if another customer already has it."""
    claim = normalize_claim(claim)
    with transaction.atomic():
        return Identity.objects.create(
            customer=customer, kind=claim.kind, network=claim.network, value=claim.value
        )
