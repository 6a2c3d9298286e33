"""The knowledge base for staff: agents read every article (internal ones too); managers and admins
write, review, publish, translate and restore them, and see what visitors searched for in vain.

Forms post normally and redirect; each action calls one knowledge service.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from firstring.accounts.access import signed_in_user
from firstring.conversations.access import conversation_get_for_user
from firstring.conversations.models import Message
from firstring.knowledge import selectors
from firstring.knowledge.models import Article, ArticleTranslation, Category, HelpCenter, Section, SynonymSet
from firstring.knowledge.services import (
    article_create,
    article_set_visibility,
    attachment_add,
    category_save,
    section_save,
    synonym_set_delete,
    synonym_set_save,
    translation_add,
    translation_publish,
    translation_restore,
    translation_save,
    translation_submit,
    translation_unpublish,
)
from firstring.knowledge.suggest import article_suggestions
from firstring.lib.errors import InvalidInput, NotFound
from firstring.web.errors import agent_view
from firstring.web.forms import valid

# Ids are 64-bit; version numbers are 32-bit.
MAX_ID = 2**63 - 1
MAX_VERSION = 2**31 - 1


class ListForm(forms.Form):
    center = forms.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    state = forms.ChoiceField(
        choices=[("", "Any"), ("live", "Live"), *ArticleTranslation.State.choices], required=False
    )
    language = forms.CharField(max_length=16, required=False, strip=True)
    q = forms.CharField(max_length=200, required=False, strip=True)


class ArticleForm(forms.Form):
    title = forms.CharField(max_length=200)
    body = forms.CharField(required=False, strip=False, max_length=200_000, widget=forms.Textarea)
    note = forms.CharField(max_length=200, required=False)


class NewArticleForm(forms.Form):
    section = forms.IntegerField(min_value=1, max_value=MAX_ID)
    language = forms.CharField(max_length=16)
    visibility = forms.ChoiceField(choices=Article.Visibility.choices)
    title = forms.CharField(max_length=200)
    body = forms.CharField(required=False, strip=False, max_length=200_000, widget=forms.Textarea)


class TranslateForm(forms.Form):
    language = forms.CharField(max_length=16)
    title = forms.CharField(max_length=200)
    body = forms.CharField(required=False, strip=False, max_length=200_000)


class VisibilityForm(forms.Form):
    visibility = forms.ChoiceField(choices=Article.Visibility.choices)


class DiffForm(forms.Form):
    old = forms.IntegerField(min_value=1, max_value=MAX_VERSION, required=False)
    new = forms.IntegerField(min_value=1, max_value=MAX_VERSION, required=False)


class CategoryForm(forms.Form):
    name = forms.CharField(max_length=120)
    slug = forms.CharField(max_length=80, required=False)
    description = forms.CharField(max_length=300, required=False)
    other_names = forms.CharField(max_length=2000, required=False)


class SectionForm(forms.Form):
    category = forms.IntegerField(min_value=1, max_value=MAX_ID)
    name = forms.CharField(max_length=120)
    slug = forms.CharField(max_length=80, required=False)


class SynonymForm(forms.Form):
    words = forms.CharField(max_length=1000)


def _centers() -> list[HelpCenter]:
    return list(HelpCenter.objects.all())


def _center(request: HttpRequest, value: Any = None) -> HelpCenter:
    centers = _centers()
    if not centers:
        raise NotFound("no help center yet: an admin creates one in the admin under Knowledge base")
    wanted = value or request.GET.get("center") or request.POST.get("center")
    for center in centers:
        if str(center.pk) == str(wanted):
            return center
    return centers[0]


def _translation(request: HttpRequest, translation_id: int) -> ArticleTranslation:
    return selectors.translation_for_staff(user=signed_in_user(request), translation_id=translation_id)


def _names(text: str) -> dict[str, str]:
    names = {}
    for line in text.splitlines():
        if ":" in line:
            language, name = line.split(":", 1)
            names[language.strip().lower()] = name.strip()
    return names


@require_GET
@agent_view
def index(request: HttpRequest) -> HttpResponse:
    data = valid(ListForm(request.GET))
    center = _center(request, data["center"])
    rows = selectors.staff_translations(
        help_center=center, state=data["state"], language=data["language"], query=data["q"]
    )[:200]
    return render(
        request,
        "web/knowledge/index.html",
        {
            "center": center,
            "centers": _centers(),
            "rows": rows,
            "filters": data,
            "states": ListForm.base_fields["state"].choices,  # type: ignore[attr-defined]
            "missing_count": len(selectors.missing_translations(help_center=center)),
        },
    )


@require_http_methods(["GET", "POST"])
@agent_view
def article_new(request: HttpRequest) -> HttpResponse:
    center = _center(request)
    if request.method == "POST":
        data = valid(NewArticleForm(request.POST))
        section = Section.objects.filter(pk=data["section"], category__help_center=center).first()
        if section is None:
            raise InvalidInput("choose a section of this help center")
        translation = article_create(
            actor=signed_in_user(request),
            section=section,
            language=data["language"],
            title=data["title"],
            body=data["body"],
            visibility=data["visibility"],
        )
        return redirect("web:kb-translation", translation.pk)
    sections = Section.objects.filter(category__help_center=center).select_related("category")
    return render(
        request,
        "web/knowledge/new.html",
        {"center": center, "sections": sections, "visibilities": Article.Visibility.choices},
    )


@require_GET
@agent_view
def translation_detail(request: HttpRequest, translation_id: int) -> HttpResponse:
    translation = _translation(request, translation_id)
    article = translation.article
    diff_data = valid(DiffForm(request.GET))
    versions = list(translation.versions.select_related("author"))
    diff = None
    if diff_data["old"] and diff_data["new"]:
        diff = selectors.version_diff(translation=translation, old=diff_data["old"], new=diff_data["new"])
    elif len(versions) > 1:
        diff_data = {"old": versions[1].number, "new": versions[0].number}
    return render(
        request,
        "web/knowledge/translation.html",
        {
            "t": translation,
            "article": article,
            "center": article.help_center,
            "siblings": article.translations.exclude(pk=translation.pk),
            "versions": versions,
            "diff": diff,
            "diff_data": diff_data,
            "attachments": article.attachments.all(),
            "can_edit": signed_in_user(request).sees_everything,
            "missing_languages": [
                lang
                for lang in article.help_center.all_languages
                if not article.translations.filter(language=lang).exists()
            ],
            "visibilities": Article.Visibility.choices,
        },
    )


@require_http_methods(["GET", "POST"])
@agent_view
def translation_edit(request: HttpRequest, translation_id: int) -> HttpResponse:
    translation = _translation(request, translation_id)
    if request.method == "POST":
        data = valid(ArticleForm(request.POST))
        translation_save(
            actor=signed_in_user(request),
            translation=translation,
            title=data["title"],
            body=data["body"],
            note=data["note"],
        )
        return redirect("web:kb-translation", translation.pk)
    return render(request, "web/knowledge/edit.html", {"t": translation, "article": translation.article})


def _action(request: HttpRequest, translation_id: int, name: str) -> HttpResponse:
    translation = _translation(request, translation_id)
    actions = {
        "submit": translation_submit,
        "publish": translation_publish,
        "unpublish": translation_unpublish,
    }
    actions[name](actor=signed_in_user(request), translation=translation)
    return redirect("web:kb-translation", translation.pk)


@require_POST
@agent_view
def translation_action(request: HttpRequest, translation_id: int, name: str) -> HttpResponse:
    if name not in ("submit", "publish", "unpublish"):
        raise NotFound("no such action")
    return _action(request, translation_id, name)


@require_POST
@agent_view
def translation_restore_view(request: HttpRequest, translation_id: int, number: int) -> HttpResponse:
    translation = _translation(request, translation_id)
    if number > MAX_VERSION:
        raise NotFound("no such version")
    translation_restore(actor=signed_in_user(request), translation=translation, number=number)
    return redirect("web:kb-translation", translation.pk)


@require_POST
@agent_view
def article_translate(request: HttpRequest, article_id: int) -> HttpResponse:
    article = selectors.article_for_staff(user=signed_in_user(request), article_id=article_id)
    data = valid(TranslateForm(request.POST))
    translation = translation_add(
        actor=signed_in_user(request),
        article=article,
        language=data["language"],
        title=data["title"],
        body=data["body"],
    )
    return redirect("web:kb-translation", translation.pk)


@require_POST
@agent_view
def article_visibility(request: HttpRequest, article_id: int) -> HttpResponse:
    article = selectors.article_for_staff(user=signed_in_user(request), article_id=article_id)
    data = valid(VisibilityForm(request.POST))
    article_set_visibility(actor=signed_in_user(request), article=article, visibility=data["visibility"])
    back = article.translations.order_by("pk").values_list("pk", flat=True).first()
    return redirect("web:kb-translation", back) if back else redirect("web:kb-index")


@require_POST
@agent_view
def article_attach(request: HttpRequest, article_id: int) -> HttpResponse:
    article = selectors.article_for_staff(user=signed_in_user(request), article_id=article_id)
    upload = request.FILES.get("file")
    if upload is None:
        raise InvalidInput("choose a file to upload")
    attachment_add(actor=signed_in_user(request), article=article, upload=upload)
    back = article.translations.order_by("pk").values_list("pk", flat=True).first()
    return redirect("web:kb-translation", back) if back else redirect("web:kb-index")


@require_GET
@agent_view
def missing(request: HttpRequest) -> HttpResponse:
    center = _center(request)
    return render(
        request,
        "web/knowledge/missing.html",
        {"center": center, "centers": _centers(), "rows": selectors.missing_translations(help_center=center)},
    )


@require_http_methods(["GET", "POST"])
@agent_view
def insights(request: HttpRequest) -> HttpResponse:
    """What visitors searched for in vain, which articles they found (un)helpful, and the synonyms."""
    center = _center(request)
    if request.method == "POST":
        delete = request.POST.get("delete", "")
        if delete:
            row = SynonymSet.objects.filter(
                pk=int(delete) if delete.isdigit() and len(delete) < 19 else 0, help_center=center
            ).first()
            if row is None:
                raise NotFound("no such synonym list")
            synonym_set_delete(actor=signed_in_user(request), synonym_set=row)
        else:
            data = valid(SynonymForm(request.POST))
            synonym_set_save(actor=signed_in_user(request), help_center=center, words=data["words"])
        return redirect(f"{reverse('web:kb-insights')}?center={center.pk}")
    return render(
        request,
        "web/knowledge/insights.html",
        {
            "center": center,
            "centers": _centers(),
            "misses": selectors.search_misses(help_center=center),
            "feedback": selectors.feedback_summary(help_center=center),
            "synonyms": center.synonym_sets.all(),
        },
    )


@require_http_methods(["GET", "POST"])
@agent_view
def structure(request: HttpRequest) -> HttpResponse:
    center = _center(request)
    if request.method == "POST":
        if request.POST.get("kind") == "section":
            data = valid(SectionForm(request.POST))
            category = Category.objects.filter(pk=data["category"], help_center=center).first()
            if category is None:
                raise InvalidInput("choose a category of this help center")
            section_save(
                actor=signed_in_user(request), category=category, name=data["name"], slug=data["slug"]
            )
        else:
            data = valid(CategoryForm(request.POST))
            category_save(
                actor=signed_in_user(request),
                help_center=center,
                name=data["name"],
                slug=data["slug"],
                description=data["description"],
                names=_names(data["other_names"]),
            )
        return redirect(f"{reverse('web:kb-structure')}?center={center.pk}")
    return render(
        request,
        "web/knowledge/structure.html",
        {
            "center": center,
            "centers": _centers(),
            "categories": center.categories.prefetch_related("sections"),
        },
    )


@require_GET
@agent_view
def suggestions(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Articles for the conversation's latest customer message (a partial beside the conversation)."""
    conversation = conversation_get_for_user(signed_in_user(request), conversation_id)
    latest = (
        conversation.messages.filter(direction=Message.Direction.INBOUND)
        .order_by("-created_at", "-id")
        .first()
    )
    items = article_suggestions(text=latest.text if latest else "")
    for item in items:
        if item.public_path:
            item.public_path = request.build_absolute_uri(item.public_path)
    return render(request, "web/knowledge/suggestions.html", {"items": items, "conversation": conversation})
