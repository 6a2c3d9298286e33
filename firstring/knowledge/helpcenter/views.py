"""The help center's pages. Each loads its help center by prefix, speaks the visitor's language and
shows only live public articles (through knowledge.selectors); anything else is a 404."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django import forms
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.http.request import split_domain_port
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation as i18n
from django.views.decorators.http import require_GET, require_POST

from firstring.knowledge import selectors
from firstring.knowledge.models import HelpCenter
from firstring.knowledge.search import other_results, search_articles
from firstring.knowledge.services import feedback_record, search_miss_record
from firstring.lib.errors import DomainError, NotFound
from firstring.lib.sanitize import excerpt

View = Callable[..., HttpResponseBase]
MAX_RESULTS = 20


class SearchForm(forms.Form):
    q = forms.CharField(max_length=200, required=False, strip=True)


class VoteForm(forms.Form):
    helpful = forms.TypedChoiceField(choices=[("yes", "yes"), ("no", "no")], coerce=lambda v: v == "yes")


def visitor_view(view: View) -> View:
    """Load the help center by prefix, check the language and speak it; NotFound is a 404 page."""

    @functools.wraps(view)
    def wrapped(
        request: HttpRequest, prefix: str, *args: Any, lang: str | None = None, **kwargs: Any
    ) -> HttpResponseBase:
        try:
            center = selectors.help_center_get(prefix=prefix)
            if lang is not None and lang not in center.all_languages:
                raise NotFound("no such language")
            with i18n.override(lang or center.default_language):
                if lang is not None:
                    kwargs["lang"] = lang
                response = view(request, center, *args, **kwargs)
        except NotFound:
            raise Http404("no such page") from None
        except DomainError as error:
            return HttpResponse(
                str(error), status=error.status_code, content_type="text/plain; charset=utf-8"
            )
        if lang:
            response.setdefault("Content-Language", lang)
        return response

    return wrapped


def _context(request: HttpRequest, center: HelpCenter, lang: str, **extra: Any) -> dict[str, Any]:
    return {"center": center, "lang": lang, "languages": center.all_languages, **extra}


@require_GET
@visitor_view
def root(request: HttpRequest, center: HelpCenter) -> HttpResponse:
    lang = selectors.visitor_language(
        help_center=center,
        requested=request.GET.get("lang", ""),
        accept_language=request.headers.get("Accept-Language", ""),
    )
    response = redirect("help:home", prefix=center.prefix, lang=lang)
    response["Vary"] = "Accept-Language"
    return response


@require_GET
@visitor_view
def home(request: HttpRequest, center: HelpCenter, lang: str) -> HttpResponse:
    categories = selectors.categories_for_visitor(help_center=center, language=lang)
    return render(request, "helpcenter/home.html", _context(request, center, lang, categories=categories))


@require_GET
@visitor_view
def category(request: HttpRequest, center: HelpCenter, lang: str, slug: str) -> HttpResponse:
    found = selectors.categories_for_visitor(help_center=center, language=lang, category_slug=slug)
    if not found:
        raise NotFound("no such category")
    return render(request, "helpcenter/category.html", _context(request, center, lang, view=found[0]))


@require_GET
@visitor_view
def article_bare(request: HttpRequest, center: HelpCenter, lang: str, article_id: int) -> HttpResponse:
    found = selectors.article_for_visitor(help_center=center, article_id=article_id, language=lang)
    return redirect(
        "help:article",
        prefix=center.prefix,
        lang=lang,
        article_id=article_id,
        slug=found.translation.slug,
        permanent=True,
    )


@require_GET
@visitor_view
def article(request: HttpRequest, center: HelpCenter, lang: str, article_id: int, slug: str) -> HttpResponse:
    found = selectors.article_for_visitor(help_center=center, article_id=article_id, language=lang)
    translation = found.translation
    if slug != translation.slug:
        return redirect(
            "help:article",
            prefix=center.prefix,
            lang=lang,
            article_id=article_id,
            slug=translation.slug,
            permanent=True,
        )
    voted = request.GET.get("voted") in ("yes", "no")
    context = _context(
        request,
        center,
        lang,
        t=translation,
        fallback=found.fallback,
        alternates=found.languages,
        section=translation.article.section,
        category=translation.article.section.category,
        description=excerpt(translation.body_text, 160),
        voted=voted,
    )
    return render(request, "helpcenter/article.html", context)


@require_POST
@visitor_view
def vote(request: HttpRequest, center: HelpCenter, lang: str, article_id: int) -> HttpResponse:
    found = selectors.article_for_visitor(help_center=center, article_id=article_id, language=lang)
    form = VoteForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Answer yes or no.", status=422, content_type="text/plain; charset=utf-8")
    if not request.session.session_key:
        request.session["kb"] = True
        request.session.save()
    feedback_record(
        translation=found.translation,
        helpful=form.cleaned_data["helpful"],
        session_key=str(request.session.session_key),
    )
    url = reverse(
        "help:article",
        kwargs={
            "prefix": center.prefix,
            "lang": lang,
            "article_id": article_id,
            "slug": found.translation.slug,
        },
    )
    return redirect(f"{url}?voted={'yes' if form.cleaned_data['helpful'] else 'no'}#feedback")


@require_GET
@visitor_view
def search(request: HttpRequest, center: HelpCenter, lang: str) -> HttpResponse:
    form = SearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    result = None
    others = []
    if query:
        others = other_results(query=query, help_center=center, language=lang)
        result = search_articles(
            query=query,
            help_center=center,
            languages=selectors.languages_for(center, lang),
            include_internal=False,
            limit=MAX_RESULTS,
        )
        if not result.hits and not any(other.hits for other in others):
            search_miss_record(help_center=center, language=lang, query=query)
    found = result.hits if result else []
    slugs = selectors.translation_slugs(translation_ids=[h.translation_id for h in found])
    hits = [
        {"hit": h, "slug": slugs.get(h.translation_id, ""), "excerpt": excerpt(h.excerpt, 200)} for h in found
    ]
    return render(
        request,
        "helpcenter/search.html",
        _context(request, center, lang, q=query, result=result, hits=hits, others=others),
    )


@require_GET
@visitor_view
def contact(request: HttpRequest, center: HelpCenter, lang: str) -> HttpResponse:
    # The phone first (the help center's own number, then phone-like channels), then the rest.
    order = {kind: i for i, kind in enumerate(("phone", "voice", "sms", "whatsapp", "chat", "email"))}
    enabled = sorted(
        (c for c in center.contact_channels.all() if c.enabled), key=lambda c: (order.get(c.kind, 99), c.name)
    )
    keys = ("public_address", "address", "number", "handle")
    channels = [(c.name, next((str(c.config[k]) for k in keys if c.config.get(k)), "")) for c in enabled]
    return render(request, "helpcenter/contact.html", _context(request, center, lang, channels=channels))


@require_GET
@visitor_view
def sitemap(request: HttpRequest, center: HelpCenter) -> HttpResponse:
    if center.domain and split_domain_port(request.get_host())[0] != center.domain:
        # Its pages are indexed on its own domain (their canonical addresses): list them there.
        return HttpResponsePermanentRedirect(f"{request.scheme}://{center.domain}/sitemap.xml")
    # Where this was asked: the help center's own domain serves paths without its prefix (web.domains).
    base = request.build_absolute_uri("/").rstrip("/")
    context = {
        "center": center,
        "base": base,
        "entries": selectors.sitemap_entries(help_center=center),
        "more": selectors.sitemap_more(help_center=center),
        "languages": center.all_languages,
    }
    return render(
        request,
        "helpcenter/sitemap.xml",
        context,
        content_type="application/xml; charset=utf-8",
    )


def _text_color(background: str) -> str:
    """Black or white, whichever contrasts more with the brand colour (WCAG relative luminance)."""

    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(background[i : i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#000000" if (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) else "#ffffff"


@require_GET
@visitor_view
def brand_css(request: HttpRequest, center: HelpCenter) -> HttpResponse:
    # The colour passed the model's #rrggbb validator; nothing else of the help center goes in here.
    color = center.primary_color if len(center.primary_color) == 7 else "#0550ae"
    css = f":root {{ --brand: {color}; --brand-fg: {_text_color(color)}; }}\n"
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_GET
@visitor_view
def attachment(request: HttpRequest, center: HelpCenter, attachment_id: int, name: str) -> FileResponse:
    row = selectors.attachment_for_viewer(attachment_id=attachment_id, help_center=center, user=request.user)
    response = FileResponse(row.file.open("rb"), content_type=row.content_type)
    if not row.is_image:
        response["Content-Disposition"] = f'attachment; filename="{row.filename}"'
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response
