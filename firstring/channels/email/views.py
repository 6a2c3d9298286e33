"""The raw-MIME webhook: a mail server's pipe or a provider's inbound route POSTs one e-mail as it is.

POST /channels/email/<channel-slug>/inbound with header `X-Firstring-Token: <the channel's
webhook_token secret>` and the message (message/rfc822) as the body. Answers 201 (stored), 200 (stored
before), 403 (no or wrong token), 413 (larger than FIRSTRING_MAX_EMAIL_BYTES), 422 (not an e-mail).
"""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from firstring.channels.email.inbound import email_receive
from firstring.channels.models import Channel
from firstring.lib.errors import DomainError

logger = logging.getLogger(__name__)

TOKEN_HEADER = "X-Firstring-Token"  # noqa: S105 - a header name


def _error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


@csrf_exempt
@require_POST
def inbound(request: HttpRequest, slug: str) -> JsonResponse:
    channel = Channel.objects.filter(slug=slug, kind="email", enabled=True).first()
    expected = str(channel.secrets.get("webhook_token") or "") if channel else ""
    given = request.headers.get(TOKEN_HEADER, "")
    # The same answer for an unknown channel, one without a token and a wrong token.
    if channel is None or not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return _error(403, f"a valid {TOKEN_HEADER} header is required")
    limit = settings.FIRSTRING_MAX_EMAIL_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _error(400, "bad Content-Length")
    if length > limit:
        return _error(413, f"the e-mail is larger than {limit} bytes")
    # request.read(), not request.body: mails with attachments are larger than DATA_UPLOAD_MAX_MEMORY_SIZE.
    raw = request.read(limit + 1)
    if len(raw) > limit:
        return _error(413, f"the e-mail is larger than {limit} bytes")
    try:
        result = email_receive(channel=channel, raw=raw)
    except DomainError as error:
        logger.info("e-mail webhook %s refused a message: %s", slug, error)
        return _error(error.status_code, str(error))
    return JsonResponse(
        {
            "message_id": result.message.pk,
            "conversation_id": result.conversation.pk,
            "customer_id": result.customer.pk,
            "created": result.created,
        },
        status=201 if result.created else 200,
    )
