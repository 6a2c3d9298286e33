"""A conversation's messages: read them, reply to the customer (with files), add internal notes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.http import HttpRequest
from ninja import Field, File, Form, Path, Query, Router, Schema
from ninja.files import UploadedFile

from firstring.api.auth import current_user
from firstring.api.paging import page
from firstring.api.schemas import MAX_ID, BodyIn, CheckedIn, Cursor, Id, Limit, UserRef, errors, user_ref
from firstring.channels.models import Channel
from firstring.conversations.access import conversation_get_for_user
from firstring.conversations.attachments import attachments_from_uploads
from firstring.conversations.models import Conversation, Message
from firstring.conversations.services import InboundAttachment, note_add, reply_send
from firstring.conversations.services.receive import MAX_TEXT_CHARS
from firstring.customers.models import Identity
from firstring.lib.cursor import SortKey
from firstring.lib.errors import InvalidInput, NotFound

router = Router()

ORDER = [SortKey("created_at"), SortKey("id")]

ConversationId = Path(..., ge=1, le=MAX_ID)


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    inline: bool


class MessageOut(Schema):
    id: int
    conversation_id: int
    direction: str = Field(description="inbound, outbound or note.")
    channel: str = Field(description="The slug of the channel it came or went through.")
    author_customer_id: int | None
    author_user: UserRef | None
    recipient_id: int | None = Field(description="For replies: the customer identity it goes to.")
    text: str
    html: str = Field(description="Sanitised HTML, safe to render.")
    delivery_status: str = Field(description="For replies: queued, sent, delivered or failed.")
    delivery_error: str
    delivery_attempts: int
    created_at: datetime
    sent_at: datetime | None
    attachments: list[AttachmentOut]


class MessagePage(Schema):
    items: list[MessageOut]
    next_cursor: str | None


class PageQuery(CheckedIn):
    cursor: Cursor | None = None
    limit: Limit = 50


class ReplyFields(CheckedIn):
    text: str = Field("", max_length=MAX_TEXT_CHARS)
    channel: str | None = Field(
        None,
        max_length=64,
        description="Slug of another channel to reply through; default: where it came from.",
    )
    recipient_id: Id | None = Field(None, description="Which of the customer's identities to write to.")


class ReplyIn(ReplyFields, BodyIn):
    text: str = Field(..., min_length=1, max_length=MAX_TEXT_CHARS)
    html: str = Field("", max_length=MAX_TEXT_CHARS * 2, description="Optional HTML; it is sanitised.")


class NoteIn(BodyIn):
    text: str = Field(..., min_length=1, max_length=MAX_TEXT_CHARS)


def message_out(message: Message) -> MessageOut:
    return MessageOut(
        id=message.pk,
        conversation_id=message.conversation_id,
        direction=message.direction,
        channel=message.channel.slug,
        author_customer_id=message.author_customer_id,
        author_user=user_ref(message.author_user),
        recipient_id=message.recipient_id,
        text=message.text,
        html=message.html,
        delivery_status=message.delivery_status,
        delivery_error=message.delivery_error,
        delivery_attempts=message.delivery_attempts,
        created_at=message.created_at,
        sent_at=message.sent_at,
        attachments=[
            AttachmentOut(
                id=a.pk, filename=a.filename, content_type=a.content_type, size=a.size, inline=a.inline
            )
            for a in message.attachments.all()
        ],
    )


def _message(message_id: int) -> MessageOut:
    return message_out(
        Message.objects.select_related("channel", "author_user")
        .prefetch_related("attachments")
        .get(pk=message_id)
    )


def _reply(
    request: HttpRequest,
    conversation: Conversation,
    fields: ReplyFields,
    *,
    html: str = "",
    attachments: Sequence[InboundAttachment] = (),
) -> MessageOut:
    channel = None
    if fields.channel:
        channel = Channel.objects.filter(slug=fields.channel).first()
        if channel is None:
            raise InvalidInput(f"no channel with slug {fields.channel!r}")
    recipient = None
    if fields.recipient_id is not None:
        recipient = Identity.objects.filter(pk=fields.recipient_id).first()
        if recipient is None:
            raise NotFound(f"identity {fields.recipient_id} not found")
    message = reply_send(
        conversation=conversation,
        author=current_user(request),
        text=fields.text,
        channel=channel,
        recipient=recipient,
        html=html,
        attachments=attachments,
    )
    return _message(message.pk)


@router.get(
    "/{conversation_id}/messages",
    response={200: MessagePage, **errors(404)},
    summary="A conversation's messages and notes, oldest first",
)
def message_list(
    request: HttpRequest, paging: Query[PageQuery], conversation_id: int = ConversationId
) -> MessagePage:
    conversation = conversation_get_for_user(current_user(request), conversation_id)
    messages = (
        Message.objects.filter(conversation=conversation)
        .select_related("channel", "author_user")
        .prefetch_related("attachments")
    )
    rows, next_cursor = page(messages, ORDER, paging.cursor, paging.limit)
    return MessagePage(items=[message_out(m) for m in rows], next_cursor=next_cursor)


@router.post(
    "/{conversation_id}/replies",
    response={201: MessageOut, **errors(400, 413, 404)},
    summary="Reply to the customer; it is queued and delivered in the background",
)
def reply_post(
    request: HttpRequest, payload: ReplyIn, conversation_id: int = ConversationId
) -> tuple[int, MessageOut]:
    conversation = conversation_get_for_user(current_user(request), conversation_id)
    return 201, _reply(request, conversation, payload, html=payload.html)


@router.post(
    "/{conversation_id}/replies/upload",
    response={201: MessageOut, **errors(400, 413, 404)},
    summary="Reply with attached files (multipart/form-data)",
    description="Send `text` and any number of `files` (up to 10); each file has a size limit (413).",
)
def reply_upload(
    request: HttpRequest,
    fields: Form[ReplyFields],
    files: File[list[UploadedFile]],
    conversation_id: int = ConversationId,
) -> tuple[int, MessageOut]:
    conversation = conversation_get_for_user(current_user(request), conversation_id)
    return 201, _reply(request, conversation, fields, attachments=attachments_from_uploads(files))


@router.post(
    "/{conversation_id}/notes",
    response={201: MessageOut, **errors(400, 413, 404)},
    summary="Add an internal note, visible to staff only",
)
def note_post(
    request: HttpRequest, payload: NoteIn, conversation_id: int = ConversationId
) -> tuple[int, MessageOut]:
    conversation = conversation_get_for_user(current_user(request), conversation_id)
    note = note_add(conversation=conversation, author=current_user(request), text=payload.text)
    return 201, _message(note.pk)
