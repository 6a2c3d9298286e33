"""Customer sign-in state, kept apart from staff authentication (ADR 13).

A signed-in customer is one key in the Django session, `community_member`, that only this module
reads or writes. Staff authentication (`request.user`, an accounts.User) never looks at it, and this
module never looks at `request.user`: a customer session grants no staff access, and a staff login
is no customer identity.
"""

from __future__ import annotations

from django.http import HttpRequest

from firstring.community.models import Member

SESSION_KEY = "community_member"


def member_sign_in(request: HttpRequest, member: Member) -> None:
    # A new session key at every sign-in: a key planted before it (session fixation) is worthless.
    request.session.cycle_key()
    request.session[SESSION_KEY] = member.pk


def member_sign_out(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()


def member_from_request(request: HttpRequest) -> Member | None:
    """The signed-in member, or None (never signed in, signed out, or the member is gone)."""
    member_id = request.session.get(SESSION_KEY)
    if not isinstance(member_id, int):
        return None
    return Member.objects.select_related("customer").filter(pk=member_id).first()
