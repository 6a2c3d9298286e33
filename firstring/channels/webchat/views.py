"""The widget's script, and the staff's page that shows how to embed a chat channel (and tries it out)."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.template import engines
from django.utils.html import format_html
from django.views.decorators.http import require_GET

from firstring.channels.models import Channel
from firstring.channels.webchat.identity import origin_allowed

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
