"""Finding customers by identity and editing their profiles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from firstring.customers.identities import IdentityClaim, normalize_claim
from firstring.customers.models import Customer, Identity


@dataclass(frozen=True)
class Sender:
    """Who sent one inbound message: normalised identity claims (normalize_claim), name and language."""

    claims: Sequence[IdentityClaim]
    name: str = ""
    language: str = ""


@dataclass(frozen=True)
class FoundCustomer:
    customer: Customer
    # The customer's identity for the sender's first claim.
    identity: Identity
    created: bool


ClaimKey = tuple[str, str, str]


def customer_resolve(customer: Customer) -> Customer:
    """Follow merges to the surviving customer."""
    seen = set()
    while customer.merged_into_id is not None and customer.pk not in seen:
        seen.add(customer.pk)
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


def customers_find_or_create(*, senders: Sequence[Sender], lock: bool = False) -> list[FoundCustomer]:
    """For each sender, the customer behind their first known identity, or a new one.

    Identities a customer does not have yet are added to them, unless they belong to somebody else: two
    customers are never joined silently, that is what merge is for. Senders are taken in order, so two
    senders of one batch sharing a new identity become one new customer.
    With lock, found customers' rows are locked (select_for_update, in id order so that concurrent
    batches cannot deadlock on them) until the transaction ends.
    Must run inside a transaction. A concurrent first contact from the same sender makes the identity
    insert raise IntegrityError: the caller rolls back and tries again, and then finds that customer.
    """
    if any(not sender.claims for sender in senders):
        raise ValueError("at least one identity is needed")
    known = _known_identities([key for sender in senders for key in _keys(sender.claims)], lock=lock)
    new_customers: list[Customer] = []
    new_identities: list[Identity] = []
    owners: list[tuple[Customer, bool]] = []
    for sender in senders:
        keys = _keys(sender.claims)
        owner = next((known[key] for key in keys if key in known), None)
        if owner is None:
            customer = Customer(name=sender.name[:200], language=sender.language[:16])
            new_customers.append(customer)
        else:
            customer = owner.customer
            if customer.merged_into_id is not None:
                customer = customer_resolve(customer)
                if lock:
                    customer = Customer.objects.select_for_update().get(pk=customer.pk)
            if sender.name and not customer.name:
                customer.name = sender.name[:200]
                customer.save(update_fields=["name", "updated_at"])
        for key in keys:
            if key not in known:
                identity = Identity(customer=customer, kind=key[0], network=key[1], value=key[2])
                new_identities.append(identity)
                known[key] = identity
        owners.append((customer, owner is None))
    if new_customers:
        Customer.objects.bulk_create(new_customers)
    if new_identities:
        Identity.objects.bulk_create(new_identities)
    return [
        FoundCustomer(customer=customer, identity=known[_keys(sender.claims)[0]], created=created)
        for sender, (customer, created) in zip(senders, owners, strict=True)
    ]


def _known_identities(keys: Sequence[ClaimKey], *, lock: bool) -> dict[ClaimKey, Identity]:
    # One query finds the identities, their customers and, when asked, locks those customers: this runs
    # for every inbound batch. The IN lists use the (kind, network, value) unique index; the exact
    # triples are picked out here rather than compiling an OR per claim.
    wanted = set(keys)
    identities = Identity.objects.filter(
        kind__in={k[0] for k in wanted}, network__in={k[1] for k in wanted}, value__in={k[2] for k in wanted}
    ).select_related("customer")
    # Ordered only where it matters: locks are taken in customer order.
    identities = (
        identities.select_for_update(of=("customer",)).order_by("customer_id")
        if lock
        else identities.order_by()
    )
    found = {(i.kind, i.network, i.value): i for i in identities}
    return {key: identity for key, identity in found.items() if key in wanted}


def _keys(claims: Sequence[IdentityClaim]) -> list[ClaimKey]:
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
