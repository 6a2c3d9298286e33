"""Merging customers and splitting a wrongly merged identity off: history moves, nothing is lost."""

from __future__ import annotations

from django.db import models, transaction

from firstring.accounts.models import User
from firstring.conversations.models import Conversation, ConversationEvent, Message
from firstring.customers.models import Customer, Identity
from firstring.customers.services import customer_resolve
from firstring.lib.errors import Conflict, InvalidInput


def _repoint_references(source: Customer, target: Customer) -> None:
    """Move every foreign key that points at source to target, whichever app owns it."""
    for relation in Customer._meta.get_fields(include_hidden=True):
        if not isinstance(relation, models.ForeignObjectRel) or relation.many_to_many or relation.one_to_one:
            continue
        if relation.field.name == "merged_into":
            continue
        model = relation.related_model
        assert isinstance(model, type) and issubclass(model, models.Model)
        model._default_manager.filter(**{relation.field.name: source}).update(**{relation.field.name: target})


def customer_merge(*, source: Customer, target: Customer, actor: User | None) -> Customer:
    """Fold source into target. Source is kept as a pointer to target so old links still resolve."""
    # Re-read both: the objects handed in may predate another merge.
    source = customer_resolve(Customer.objects.get(pk=source.pk))
    target = customer_resolve(Customer.objects.get(pk=target.pk))
    if source.pk == target.pk:
        raise InvalidInput("a customer cannot be merged into itself")
    with transaction.atomic():
        locked = {
            c.pk: c
            for c in Customer.objects.select_for_update().filter(pk__in=[source.pk, target.pk]).order_by("pk")
        }
        source, target = locked[source.pk], locked[target.pk]
        if source.merged_into_id or target.merged_into_id:
            raise Conflict("one of these customers was merged meanwhile; reload and try again")
        moved_conversations = list(Conversation.objects.filter(customer=source).values_list("pk", flat=True))
        _repoint_references(source, target)

        fields = ["notes", "custom_attributes", "updated_at"]
        for field in ("name", "company", "language"):
            if not getattr(target, field) and getattr(source, field):
                setattr(target, field, getattr(source, field))
                fields.append(field)
        if source.notes:
            target.notes = f"{target.notes}\n\n{source.notes}".strip()
        target.custom_attributes = {**source.custom_attributes, **target.custom_attributes}
        target.save(update_fields=fields)
        target.tags.add(*source.tags.all())
        source.tags.clear()
        source.merged_into = target
        source.save(update_fields=["merged_into", "updated_at"])

        data = {"from_customer": source.pk, "into_customer": target.pk, "from_name": source.name}
        ConversationEvent.objects.bulk_create(
            ConversationEvent(conversation_id=pk, actor=actor, kind=ConversationEvent.Kind.MERGED, data=data)
            for pk in moved_conversations
        )
    return target


def identity_split(*, identity: Identity, actor: User | None, name: str = "") -> Customer:
    """Move one identity, and the conversations held through it, to a new customer."""
    with transaction.atomic():
        identity = Identity.objects.select_for_update().select_related("customer").get(pk=identity.pk)
        old = identity.customer
        if Identity.objects.filter(customer=old).count() < 2:
            raise InvalidInput("this is the customer's only identity; there is nothing to split off")
        new = Customer.objects.create(name=name[:200], language=old.language)
        identity.customer = new
        identity.save(update_fields=["customer"])
        conversations = list(
            Conversation.objects.filter(customer=old, identity=identity).values_list("pk", flat=True)
        )
        Conversation.objects.filter(pk__in=conversations).update(customer=new)
        Message.objects.filter(conversation_id__in=conversations, author_customer=old).update(
            author_customer=new
        )
        data = {"identity": str(identity), "from_customer": old.pk, "to_customer": new.pk}
        ConversationEvent.objects.bulk_create(
            ConversationEvent(conversation_id=pk, actor=actor, kind=ConversationEvent.Kind.SPLIT, data=data)
            for pk in conversations
        )
    return new
