"""Customers and their identities: every staff user may see and edit them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema

from firstring.accounts.models import Tag
from firstring.api.auth import current_user
from firstring.api.paging import page
from firstring.api.schemas import MAX_ID, BodyIn, CheckedIn, Cursor, Id, Limit, TagName, errors
from firstring.conversations.services import customer_merge, identity_split
from firstring.conversations.services.actions import MAX_TAGS
from firstring.customers.identities import IdentityClaim, normalize_claim
from firstring.customers.models import Customer, Identity
from firstring.customers.services import customer_update, identity_add
from firstring.lib.cursor import SortKey
from firstring.lib.errors import Conflict, NotFound

router = Router()

ORDER = [SortKey("created_at", descending=True), SortKey("id", descending=True)]
IdentityKind = Literal["email", "phone", "handle", "visitor", "external"]


class IdentityOut(Schema):
    id: int
    kind: str
    network: str
    value: str
    verified: bool
    created_at: datetime


class CustomerOut(Schema):
    id: int
    name: str
    company: str
    language: str
    notes: str
    custom_attributes: dict[str, Any]
    tags: list[str]
    identities: list[IdentityOut]
    merged_into_id: int | None = Field(description="Set when this customer was merged into another.")
    created_at: datetime
    updated_at: datetime


class CustomerPage(Schema):
    items: list[CustomerOut]
    next_cursor: str | None


class CustomerQuery(CheckedIn):
    q: str = Field("", max_length=200, description="Part of a name, company, address, number or handle.")
    cursor: Cursor | None = None
    limit: Limit = 50


class IdentityIn(BodyIn):
    kind: IdentityKind
    value: str = Field(..., min_length=1, max_length=320)
    network: str = Field("", max_length=32, description="For handles: the network (x, bluesky …).")


class CustomerIn(BodyIn):
    name: str = Field("", max_length=200)
    company: str = Field("", max_length=200)
    language: str = Field("", max_length=16)
    notes: str = Field("", max_length=20_000)
    custom_attributes: dict[str, Any] = Field(default_factory=dict)
    identities: list[IdentityIn] = Field(default_factory=list, max_length=20)


class CustomerPatch(BodyIn):
    """Only the fields sent change. (None defaults are never validated, so null is not accepted.)"""

    name: str = Field(None, max_length=200)  # type: ignore[assignment]
    company: str = Field(None, max_length=200)  # type: ignore[assignment]
    language: str = Field(None, max_length=16)  # type: ignore[assignment]
    notes: str = Field(None, max_length=20_000)  # type: ignore[assignment]
    custom_attributes: dict[str, Any] = Field(None)  # type: ignore[arg-type]


class TagsIn(BodyIn):
    tags: list[TagName] = Field(..., max_length=MAX_TAGS)


class MergeIn(BodyIn):
    source_id: Id = Field(..., description="The customer folded into this one; it keeps pointing here.")


class SplitIn(BodyIn):
    name: str = Field("", max_length=200, description="The new customer's name.")


def customer_out(customer: Customer) -> CustomerOut:
    return CustomerOut(
        id=customer.pk,
        name=customer.name,
        company=customer.company,
        language=customer.language,
        notes=customer.notes,
        custom_attributes=customer.custom_attributes,
        tags=[tag.name for tag in customer.tags.all()],
        identities=[IdentityOut.from_orm(identity) for identity in customer.identities.all()],
        merged_into_id=customer.merged_into_id,
        created_at=customer.created_at,
        updated_at=customer.updated_at,
    )


# --- Reads and writes the customers app does not offer yet; they belong in customers/services.py. ---


def _customers(q: str) -> QuerySet[Customer]:
    customers = Customer.objects.filter(merged_into__isnull=True).prefetch_related("identities", "tags")
    terms = q.strip()
    if terms:
        by_identity = Identity.objects.filter(value__icontains=terms).values("customer_id")
        customers = customers.filter(
            Q(name__icontains=terms) | Q(company__icontains=terms) | Q(pk__in=by_identity)
        )
    return customers


def _customer_get(customer_id: int, *, live: bool = False) -> Customer:
    """A customer by id; with live=True one that was not merged away (writes go to the survivor)."""
    customer = Customer.objects.prefetch_related("identities", "tags").filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(f"customer {customer_id} not found")
    if live and customer.merged_into_id is not None:
        raise Conflict(f"customer {customer_id} was merged into customer {customer.merged_into_id}")
    return customer


def _claim(identity: IdentityIn) -> IdentityClaim:
    return normalize_claim(IdentityClaim(identity.kind, identity.value, identity.network))


def _identity_add(customer: Customer, claim: IdentityClaim) -> Identity:
    try:
        return identity_add(customer=customer, claim=claim)
    except IntegrityError:
        raise Conflict(f"the identity {claim.value!r} belongs to another customer; merge them") from None


def customer_create(*, payload: CustomerIn) -> Customer:
    claims = [_claim(identity) for identity in payload.identities]
    with transaction.atomic():
        customer = Customer(
            name=payload.name,
            company=payload.company,
            language=payload.language,
            notes=payload.notes,
            custom_attributes=payload.custom_attributes,
        )
        customer.full_clean(exclude=["merged_into"])
        customer.save()
        for claim in claims:
            _identity_add(customer, claim)
    return customer


def customer_set_tags(*, customer: Customer, names: Sequence[str]) -> Customer:
    cleaned = sorted({name.strip().lower()[:64] for name in names if name.strip()})
    with transaction.atomic():
        tags = [Tag.objects.get_or_create(name=name)[0] for name in cleaned]
        customer.tags.set(tags)
    return customer


def identity_remove(*, customer: Customer, identity_id: int) -> None:
    """Detach an identity. The last one stays: a customer nobody can reach or recognise is lost."""
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        identity = Identity.objects.filter(pk=identity_id, customer=customer).first()
        if identity is None:
            raise NotFound(f"identity {identity_id} not found on customer {customer.pk}")
        if Identity.objects.filter(customer=customer).count() < 2:
            raise Conflict("this is the customer's only identity; add another before removing it")
        identity.delete()


# --- Endpoints ---

CustomerId = Path(..., ge=1, le=MAX_ID)


@router.get("", response={200: CustomerPage, **errors()}, summary="List and search customers")
def customer_list(request: HttpRequest, filters: Query[CustomerQuery]) -> CustomerPage:
    rows, next_cursor = page(_customers(filters.q), ORDER, filters.cursor, filters.limit)
    return CustomerPage(items=[customer_out(c) for c in rows], next_cursor=next_cursor)


@router.post("", response={201: CustomerOut, **errors(400, 413, 409)}, summary="Create a customer")
def customer_post(request: HttpRequest, payload: CustomerIn) -> tuple[int, CustomerOut]:
    customer = customer_create(payload=payload)
    return 201, customer_out(_customer_get(customer.pk))


@router.get("/{customer_id}", response={200: CustomerOut, **errors(404)}, summary="Get a customer")
def customer_get(request: HttpRequest, customer_id: int = CustomerId) -> CustomerOut:
    return customer_out(_customer_get(customer_id))


@router.patch(
    "/{customer_id}",
    response={200: CustomerOut, **errors(400, 413, 404, 409)},
    summary="Edit a customer's profile",
)
def customer_patch(
    request: HttpRequest, payload: CustomerPatch, customer_id: int = CustomerId
) -> CustomerOut:
    changes = payload.dict(exclude_unset=True)
    customer = customer_update(customer=_customer_get(customer_id, live=True), changes=changes)
    return customer_out(customer)


@router.put(
    "/{customer_id}/tags",
    response={200: CustomerOut, **errors(400, 413, 404, 409)},
    summary="Replace a customer's tags",
)
def customer_tags(request: HttpRequest, payload: TagsIn, customer_id: int = CustomerId) -> CustomerOut:
    customer_set_tags(customer=_customer_get(customer_id, live=True), names=payload.tags)
    return customer_out(_customer_get(customer_id))


@router.post(
    "/{customer_id}/identities",
    response={201: IdentityOut, **errors(400, 413, 404, 409)},
    summary="Add an identity (address, number, handle) to a customer",
)
def customer_identity_add(
    request: HttpRequest, payload: IdentityIn, customer_id: int = CustomerId
) -> tuple[int, Identity]:
    return 201, _identity_add(_customer_get(customer_id, live=True), _claim(payload))


@router.delete(
    "/{customer_id}/identities/{identity_id}",
    response={204: None, **errors(404, 409)},
    summary="Remove an identity; a customer's last identity cannot be removed",
)
def customer_identity_remove(
    request: HttpRequest, customer_id: int = CustomerId, identity_id: int = Path(..., ge=1, le=MAX_ID)
) -> tuple[int, None]:
    identity_remove(customer=_customer_get(customer_id, live=True), identity_id=identity_id)
    return 204, None


@router.post(
    "/{customer_id}/identities/{identity_id}/split",
    response={201: CustomerOut, **errors(400, 413, 404, 409)},
    summary="Split an identity and its conversations off into a new customer",
)
def customer_identity_split(
    request: HttpRequest,
    payload: SplitIn,
    customer_id: int = CustomerId,
    identity_id: int = Path(..., ge=1, le=MAX_ID),
) -> tuple[int, CustomerOut]:
    customer = _customer_get(customer_id, live=True)
    identity = next((i for i in customer.identities.all() if i.pk == identity_id), None)
    if identity is None:
        raise NotFound(f"identity {identity_id} not found on customer {customer_id}")
    new = identity_split(identity=identity, actor=current_user(request), name=payload.name)
    return 201, customer_out(_customer_get(new.pk))


@router.post(
    "/{customer_id}/merge",
    response={200: CustomerOut, **errors(400, 413, 404, 409)},
    summary="Merge another customer into this one",
)
def customer_merge_into(request: HttpRequest, payload: MergeIn, customer_id: int = CustomerId) -> CustomerOut:
    target = _customer_get(customer_id)
    source = _customer_get(payload.source_id)
    survivor = customer_merge(source=source, target=target, actor=current_user(request))
    return customer_out(_customer_get(survivor.pk))
