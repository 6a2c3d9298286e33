"""Help centers on their own domains: a request to a help center's `domain` is served by a URLconf
holding only that help center's pages (and its community), at the root of the domain.

The help center's and community's URL patterns take the help center as `prefix`. On its own domain
the prefix is a converter that matches nothing in the path and stands for that one help center, and
reverses (`{% url 'help:article' center.prefix … %}`) to nothing, so links on the domain have no
prefix: /en/articles/12-reset/ rather than /help/en/articles/12-reset/. A link to another help
center does not reverse there (its pages live on another host).

Django checks the host against ALLOWED_HOSTS before this runs, so a custom domain is listed there
(the admin refuses one that is not); CSRF needs nothing more, since the domain's forms post to
the domain itself.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import ModuleType
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port
from django.urls import include, path, register_converter

from firstring.knowledge.models import DOMAIN_RE, HelpCenter


class _OwnPrefix:
    """The one help center served on this domain; subclassed per prefix (converters have no arguments)."""

    regex = ""
    prefix = ""

    def to_python(self, value: str) -> str:
        return self.prefix

    def to_url(self, value: str) -> str:
        if value != self.prefix:
            raise ValueError("another help center's page is not on this domain")
        return ""


@functools.cache
def domain_urlconf(prefix: str) -> ModuleType:
    """The URLconf of one help center on its own domain (one module per prefix, so Django caches it)."""
    name = f"helpcenter-{prefix}"
    register_converter(type(f"OwnPrefix_{prefix}", (_OwnPrefix,), {"prefix": prefix}), name)
    urlconf = ModuleType(f"firstring.web.domains.{prefix}")
    urlconf.urlpatterns = [  # type: ignore[attr-defined]
        path(f"<{name}:prefix><str:lang>/", include("firstring.community.urls")),
        path(f"<{name}:prefix>", include("firstring.knowledge.helpcenter.urls")),
    ]
    return urlconf


def help_center_domains(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve a help center at the root of its custom domain.

    Requests to the installation's own address (SITE_URL) and to hosts no help center may have (IP
    addresses, single labels such as localhost) are left alone; others cost one indexed look-up.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        domain, _ = split_domain_port(request.get_host())
        prefix = None
        if DOMAIN_RE.match(domain) and domain != urlsplit(settings.SITE_URL).hostname:
            prefix = HelpCenter.objects.filter(domain=domain).values_list("prefix", flat=True).first()
        if prefix:
            # Django takes a URLconf module as well as its dotted path.
            request.urlconf = domain_urlconf(prefix)  # type: ignore[assignment]
        return get_response(request)

    return middleware
