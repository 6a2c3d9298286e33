"""Template tags of the help center's pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.urls import reverse

from firstring.knowledge.models import HelpCenter

register = template.Library()


@register.simple_tag(takes_context=True)
def indexed_url(context: dict[str, Any], name: str, center: HelpCenter, *args: Any) -> str:
    """The one address search engines should index for a help-center page (canonical, alternates):
    on the help center's own domain when it has one, whichever host served the page."""
    request = context["request"]
    # Reversed where the help center lives under its prefix, even on its domain (which has no prefix).
    path = reverse(name, args=[center.prefix, *args], urlconf=settings.ROOT_URLCONF)
    if center.domain:
        # The domain's URLconf serves the same paths without the prefix (firstring.web.domains).
        return f"{request.scheme}://{center.domain}{path.removeprefix('/' + center.prefix)}"
    return f"{request.scheme}://{request.get_host()}{path}"
