"""Signing customers in by e-mail: a signed, expiring, single-use link, then their Customer by e-mail.

The link carries `signing.dumps({"l": link id, "s": secret})` (Django's SECRET_KEY signs it, and the
signature carries its time, so an old link fails before the database is asked); the database keeps
only the secret's hash and whether the link was used. Sending is the staff notifications' e-mail
task (`ops.tasks.email_send`), queued after commit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from firstring.community.models import Member, SignInLink
from firstring.customers.identities import IdentityClaim, normalize_email
from firstring.customers.services import Sender, customers_find_or_create
from firstring.knowledge.models import HelpCenter
from firstring.lib.errors import Conflict, InvalidInput, RateLimited

SALT = "firstring.community.signin"
# Links one address may ask for in an hour: enough for a lost mail, too few to flood an inbox.
LINKS_PER_HOUR = 5


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def signin_link_send(
    *, help_center: HelpCenter, email: str, language: str, link_url: Callable[[str], str]
) -> SignInLink:
    """Store a new sign-in link for `email` and e-mail it (`link_url(token)` makes the address).

    Nothing says whether the address is known: a customer is found or created only when the link
    is used.
    """
    address = normalize_email(email)
    now = timezone.now()
    with transaction.atomic():
        # The help center's row, locked, makes the count and the insert one step for each address.
        list(HelpCenter.objects.select_for_update().filter(pk=help_center.pk).values_list("pk", flat=True))
        recent = SignInLink.objects.filter(email=address, created_at__gte=now - timedelta(hours=1)).count()
        if recent >= LINKS_PER_HOUR:
            raise RateLimited("Too many sign-in links asked for this address; try again in an hour.")
        secret = secrets.token_urlsafe(32)
        link = SignInLink.objects.create(
            help_center=help_center,
            email=address,
            secret_hash=_hash(secret),
            language=language,
            created_at=now,
            expires_at=now + timedelta(minutes=settings.FIRSTRING_COMMUNITY_LINK_MINUTES),
        )
        url = link_url(signing.dumps({"l": link.pk, "s": secret}, salt=SALT))
        subject = f"Sign in to {help_center.name}"
        body = (
            f"Open this link to sign in to {help_center.name}:\n\n{url}\n\n"
            f"It works once, for {settings.FIRSTRING_COMMUNITY_LINK_MINUTES} minutes. "
            "If you did not ask for it, ignore this e-mail."
        )

        def send() -> None:
            from firstring.ops.tasks import email_send

            email_send.enqueue([address], subject, body)

        transaction.on_commit(send)
    return link


def signin_link_use(*, help_center: HelpCenter, token: str) -> Member:
    """Use a link once: the member for the customer with that e-mail (found or created)."""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.FIRSTRING_COMMUNITY_LINK_MINUTES * 60)
        link_id, secret = int(data["l"]), str(data["s"])
    except signing.SignatureExpired:
        raise InvalidInput("This sign-in link has expired. Ask for a new one.") from None
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise InvalidInput("This is not a valid sign-in link.") from None
    now = timezone.now()
    try:
        with transaction.atomic():
            link = SignInLink.objects.select_for_update().filter(pk=link_id, help_center=help_center).first()
            if link is None or not hmac.compare_digest(link.secret_hash, _hash(secret)):
                raise InvalidInput("This is not a valid sign-in link.")
            if link.used_at is not None:
                raise InvalidInput("This sign-in link was used already. Ask for a new one.")
            if link.expires_at <= now:
                raise InvalidInput("This sign-in link has expired. Ask for a new one.")
            link.used_at = now
            link.save(update_fields=["used_at"])
            claim = IdentityClaim("email", link.email)
            found = customers_find_or_create(senders=[Sender(claims=[claim])], lock=True)[0]
            if not found.identity.verified:
                found.identity.verified = True
                found.identity.save(update_fields=["verified"])
            return member_for(customer_id=found.customer.pk, name=found.customer.name)
    except IntegrityError:
        # A first contact from the same address stored the customer at the same moment.
        raise Conflict("Signing in collided with another request; open the link again.") from None


def member_for(*, customer_id: int, name: str) -> Member:
    """The customer's member row, made on first sign-in with a public name that reveals no address."""
    member = Member.objects.select_related("customer").filter(customer_id=customer_id).first()
    if member is not None:
        return member
    first = name.split()[0][:40] if name.strip() else ""
    member = Member.objects.create(customer_id=customer_id, display_name=first or "Member")
    if not first:
        member.display_name = f"Member {member.pk}"
        member.save(update_fields=["display_name"])
    return Member.objects.select_related("customer").get(pk=member.pk)
