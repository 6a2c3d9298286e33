"""Knowledge base fixtures: a help center in English with German, a category, a section, a writer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from firstring.accounts.models import User
from firstring.knowledge.models import Article, ArticleTranslation, Category, HelpCenter, Section
from firstring.knowledge.services import article_create, translation_add, translation_publish


@pytest.fixture
def help_center(db: None) -> HelpCenter:
    return HelpCenter.objects.create(
        name="Acme Help",
        prefix="help",
        default_language="en",
        languages=["de"],
        phone="+1 555 0100",
        email="help@acme.example",
    )


@pytest.fixture
def category(help_center: HelpCenter) -> Category:
    return Category.objects.create(
        help_center=help_center, slug="account", name="Account", names={"de": "Konto"}
    )


@pytest.fixture
def section(category: Category) -> Section:
    return Section.objects.create(
        category=category, slug="sign-in", name="Signing in", names={"de": "Anmelden"}
    )


@pytest.fixture
def publish(manager: User, section: Section) -> Callable[..., ArticleTranslation]:
    """publish(title, body, language="en", visibility="public", article=None): a live translation."""

    def _publish(
        title: str,
        body: str = "",
        *,
        language: str = "en",
        visibility: str = Article.Visibility.PUBLIC,
        article: Article | None = None,
    ) -> ArticleTranslation:
        if article is None:
            translation = article_create(
                actor=manager,
                section=section,
                language=language,
                title=title,
                body=body,
                visibility=visibility,
            )
        else:
            translation = translation_add(
                actor=manager, article=article, language=language, title=title, body=body
            )
        return translation_publish(actor=manager, translation=translation)

    return _publish


def titles(result: Any) -> list[str]:
    return [hit.title for hit in result.hits]
