"""Answering a Mastodon mention: `POST /api/v1/statuses` in reply to it, public or direct (private).

The mention's status is looked up on the brand's instance first (`GET /api/v2/search?resolve=true`),
since `in_reply_to_id` is an id there, whichever instance the mention was heard on. The reply starts
with the author's handle (a direct status reaches only the accounts it mentions) and carries an
`Idempotency-Key`, so a retried delivery posts once.
"""

from __future__ import annotations

from firstring.channels.registry import DeliveryError
from firstring.listening.models import Mention, Source
from firstring.listening.sources.http import PeerError, client, request_for_reply
from firstring.listening.sources.mastodon.read import auth_headers, instance


def reply(*, source: Source, mention: Mention, text: str, private: bool, key: str) -> str:
    headers = auth_headers(source)
    if not headers:
        raise DeliveryError(f"source {source.slug} has no access_token to post with", permanent=True)
    try:
        base = instance(source)
    except PeerError as error:
        raise DeliveryError(str(error), permanent=True) from None
    with client() as http:
        found = request_for_reply(
            http, "GET", f"{base}/api/v2/search", "the search API", headers=headers,
            params={"q": mention.external_id, "type": "statuses", "resolve": "true", "limit": "1"},
        )  # fmt: skip
        statuses = found.get("statuses") if isinstance(found, dict) else None
        status_id = statuses[0].get("id") if statuses and isinstance(statuses[0], dict) else None
        if not isinstance(status_id, str) or not status_id:
            raise DeliveryError(
                "the mentioned status is gone or cannot be seen from the account", permanent=True
            )
        handle = f"@{mention.author_handle}" if mention.author_handle else ""
        body = text.strip()
        if handle and not body.lower().startswith(handle.lower()):
            body = f"{handle} {body}"
        created = request_for_reply(
            http, "POST", f"{base}/api/v1/statuses", "the statuses API",
            headers={**headers, "Idempotency-Key": key},
            json={"status": body, "in_reply_to_id": status_id, "language": mention.language or None,
                  "visibility": "direct" if private else "public"},
        )  # fmt: skip
    created_id = created.get("id") if isinstance(created, dict) else None
    if not isinstance(created_id, str) or not created_id:
        raise DeliveryError("the statuses API did not say which status it created")
    return created_id
