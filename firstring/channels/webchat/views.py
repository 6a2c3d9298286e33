"""The widget's script, visitors' file uploads and downloads, and the staff's page that shows how to embed
a chat channel (and tries it out)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core.cache import cache as shared_cache
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.template import engines
from django.utils.html import format_html
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from firstring.channels.models import Channel
from firstring.channels.webchat import selectors, services
from firstring.channels.webchat.identity import origin_allowed, visitor_resume
from firstring.knowledge import selectors as knowledge
from firstring.knowledge.models import HelpCenter
from firstring.knowledge.services import suggestion_open_record
from firstring.knowledge.suggest import visitor_suggestions
from firstring.lib.errors import DomainError, InvalidInput, NotFound, RateLimited, TooLarge

logger = logging.getLogger(__name__)

WIDGET_PATH = Path(__file__).parent / "static" / "widget.js"


@cache
def widget_source() -> tuple[bytes, str]:
    body = WIDGET_PATH.read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:16]


@require_GET
def widget(request: HttpRequest) -> HttpResponse:
    """widget.js for any site's <script> tag (scripts need no CORS); cached for an hour, then by ETag."""
    body, etag = widget_source()
    quoted = f'"{etag}"'
    if request.headers.get("If-None-Match") == quoted:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["ETag"] = quoted
    response["Cache-Control"] = "public, max-age=3600"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


SETUP_TEMPLATE = Path(__file__).parent / "templates" / "webchat_setup.html"
_TAG = '<script src="{}" data-channel="{}" async></script>'


@staff_member_required
@require_GET
def setup(request: HttpRequest, slug: str) -> HttpResponse:
    channel = Channel.objects.filter(slug=slug, kind="chat").first()
    if channel is None:
        raise Http404("no such chat channel")
    src = request.build_absolute_uri("/channels/webchat/widget.js")
    # Shown as text (escaped by the template), and once as HTML: the widget itself, to try it out.
    tag = _TAG.format(src, channel.slug)
    tag_html = format_html(_TAG, src, channel.slug)
    signed_tag = tag.replace(" async>", ' data-user-id="USER ID" data-user-hash="USER HASH" async>')
    here = f"{request.scheme}://{request.get_host()}"
    origins = channel.config.get("allowed_origins") or []
    template = engines["django"].from_string(SETUP_TEMPLATE.read_text())
    return HttpResponse(
        template.render(
            {
                "channel": channel,
                "tag": tag,
                "tag_html": tag_html,
                "signed_tag": signed_tag,
                "origins": origins if isinstance(origins, list) else [],
                "has_secret": bool(channel.secrets.get("identity_secret")),
                "offline": channel.config.get("offline_channel") or "",
                "here": here,
                "here_allowed": origin_allowed(channel=channel, origin=here),
            },
            request,
        )
    )


def _cors(response: HttpResponse, origin: str) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = origin
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Max-Age"] = "600"
    response["Vary"] = "Origin"
    return response


def _widget_post(request: HttpRequest, slug: str, *, not_post: str) -> tuple[Channel, str] | HttpResponse:
    """The gate of the widget's HTTP endpoints: an enabled chat, an allowed origin, the CORS preflight,
    POST. The channel and the origin, or the answer that stops the request."""
    channel = Channel.objects.filter(slug=slug, kind="chat", enabled=True).first()
    if channel is None:
        return JsonResponse({"detail": "there is no such chat channel"}, status=404)
    origin = request.headers.get("Origin", "")
    if not origin_allowed(channel=channel, origin=origin):
        return JsonResponse({"detail": "this site may not embed this chat"}, status=403)
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204), origin)
    if request.method != "POST":
        return _cors(JsonResponse({"detail": not_post}, status=405), origin)
    return channel, origin


@csrf_exempt
def upload(request: HttpRequest, slug: str) -> HttpResponse:
    """A visitor sends a file: multipart POST with `token`, `id` (the widget's id for the message), `file`,
    optionally `text` and the signed-in user's `user_id`/`email` and `user_hash`, from an allowed origin.

    Answers 201 (stored), 200 (stored before), 403 (origin, token or user hash), 404 (no such chat),
    413 (larger than FIRSTRING_MAX_ATTACHMENT_BYTES), 422 (no file, bad id). Nothing is stored otherwise.
    """
    gate = _widget_post(request, slug, not_post="send the file with POST")
    if isinstance(gate, HttpResponse):
        return gate
    channel, origin = gate
    limit = settings.FIRSTRING_MAX_ATTACHMENT_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit + 64 * 1024:
        return _cors(JsonResponse({"detail": f"a file is at most {limit} bytes"}, status=413), origin)
    try:
        return _cors(_store_upload(request, channel), origin)
    except DomainError as error:
        logger.info("chat %s refused an upload with %s: %s", slug, error.status_code, error)
        return _cors(JsonResponse({"detail": str(error)}, status=error.status_code), origin)


def _store_upload(request: HttpRequest, channel: Channel) -> HttpResponse:
    form = request.POST
    user = None
    if form.get("user_hash"):
        user = {"hash": form["user_hash"]}
        if form.get("user_id"):
            user["id"] = form["user_id"]
        else:
            user["email"] = form.get("email", "")
    visitor = visitor_resume(channel=channel, token=form.get("token", ""), user=user)
    upload = request.FILES.get("file")
    if upload is None:
        raise InvalidInput("send the file in the field named file")
    if upload.size is not None and upload.size > settings.FIRSTRING_MAX_ATTACHMENT_BYTES:
        raise TooLarge(f"a file is at most {settings.FIRSTRING_MAX_ATTACHMENT_BYTES} bytes")
    result = services.chat_file_receive(
        visitor=visitor,
        client_id=form.get("id"),
        filename=upload.name or "file",
        content=upload.read(),
        content_type=upload.content_type or "application/octet-stream",
        text=form.get("text", ""),
    )
    return JsonResponse(
        {"message": selectors.message_payload(result.message)}, status=201 if result.created else 200
    )


@require_GET
def file(request: HttpRequest, token: str) -> FileResponse:
    """A file of a chat, by the signed link the widget was given; always a download, never shown inline."""
    attachment = selectors.chat_file(token=token)
    if attachment is None:
        raise Http404("no such file")
    response = FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.filename)
    response["Content-Type"] = "application/octet-stream"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["Cache-Control"] = "private, max-age=3600"
    return response


# Suggestion requests one address may make per minute and channel (the widget asks at most every 0.4 s
# while a visitor types, and only before their first message).
SUGGEST_PER_MINUTE = 30
MAX_SUGGEST_CHARS = 1000


def _rate_check(*, slug: str, request: HttpRequest) -> None:
    """A fixed one-minute window per channel and client address, counted in Django's cache."""
    key = f"webchat-suggest:{slug}:{request.META.get('REMOTE_ADDR', '')}"
    shared_cache.add(key, 0, timeout=60)
    try:
        count = shared_cache.incr(key)
    except ValueError:  # expired between add and incr
        shared_cache.set(key, 1, timeout=60)
        count = 1
    if count > SUGGEST_PER_MINUTE:
        raise RateLimited("too many suggestions asked for; try again in a minute")


def _suggest_view(
    request: HttpRequest, slug: str, answer: Callable[[HttpRequest, HelpCenter], HttpResponse]
) -> HttpResponse:
    """The suggestion endpoints' common part: an enabled chat, an allowed origin (CORS), POST, the rate."""
    gate = _widget_post(request, slug, not_post="use POST")
    if isinstance(gate, HttpResponse):
        return gate
    channel, origin = gate
    try:
        _rate_check(slug=slug, request=request)
        center = knowledge.help_center_of_channel(channel_id=channel.pk)
        if center is None:
            # No help center offers this chat: nothing to suggest, which is not the visitor's error.
            return _cors(JsonResponse({"items": []}), origin)
        return _cors(answer(request, center), origin)
    except DomainError as error:
        return _cors(JsonResponse({"detail": str(error)}, status=error.status_code), origin)


@csrf_exempt
def suggest(request: HttpRequest, slug: str) -> HttpResponse:
    """What the visitor is typing (form field `q`), answered with help-center pages that may answer it:
    {"items": [{"kind": "article"|"thread", "id", "title", "url", "snippet"}]}, live public articles of
    the help center that offers this chat on its contact page, and its community threads."""

    def answer(request: HttpRequest, center: HelpCenter) -> HttpResponse:
        text = request.POST.get("q", "")
        if len(text) > MAX_SUGGEST_CHARS:
            raise InvalidInput(f"a question is at most {MAX_SUGGEST_CHARS} characters")
        language = knowledge.visitor_language(
            help_center=center, accept_language=request.headers.get("Accept-Language", "")
        )
        # This installation's own address, which serves every help center under its prefix.
        base = request.build_absolute_uri("/").rstrip("/")
        items = [
            {"kind": s.kind, "id": s.id, "title": s.title, "url": base + s.path, "snippet": s.snippet}
            for s in visitor_suggestions(help_center=center, text=text, language=language)
        ]
        return JsonResponse({"items": items})

    return _suggest_view(request, slug, answer)


@csrf_exempt
def suggest_opened(request: HttpRequest, slug: str) -> HttpResponse:
    """The visitor opened a suggested article (form field `id`, its translation id): counted for editors."""

    def answer(request: HttpRequest, center: HelpCenter) -> HttpResponse:
        try:
            translation_id = int(request.POST.get("id", ""))
        except ValueError:
            raise InvalidInput("id is an article's number") from None
        try:
            translation = knowledge.live_public_translation(help_center=center, translation_id=translation_id)
        except NotFound:
            return JsonResponse({"detail": "no such article"}, status=404)
        suggestion_open_record(translation=translation)
        return HttpResponse(status=204)

    return _suggest_view(request, slug, answer)
