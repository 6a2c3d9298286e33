"""Categories and sections of a help center."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from firstring.accounts.models import User
from firstring.knowledge.models import LANGUAGE_RE, Category, HelpCenter, Section
from firstring.knowledge.services._checks import clean_text, require_editor
from firstring.lib.errors import Conflict, InvalidInput


def _names(names: dict[str, str]) -> dict[str, str]:
    cleaned = {}
    for language, name in names.items():
        if not LANGUAGE_RE.match(language):
            raise InvalidInput(f"{language!r} is not a language code")
        if name.strip():
            cleaned[language] = clean_text(name, field="name", max_length=120)
    return cleaned


def _slug(slug: str, name: str) -> str:
    made = slugify(slug or name)[:80]
    if not made:
        raise InvalidInput("the slug needs at least one letter or digit")
    return made


def category_save(
    *,
    actor: User,
    help_center: HelpCenter,
    name: str,
    slug: str = "",
    description: str = "",
    names: dict[str, str] | None = None,
    position: int = 0,
    category: Category | None = None,
) -> Category:
    """Create a category, or change `category`."""
    require_editor(actor)
    name = clean_text(name, field="name", max_length=120, required=True)
    row = category or Category(help_center=help_center)
    row.name = name
    row.slug = _slug(slug, name)
    row.description = clean_text(description, field="description", max_length=300)
    row.names = _names(names or {})
    row.position = max(0, position)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise Conflict(f"a category with the slug {row.slug!r} exists") from None
    return row


def section_save(
    *,
    actor: User,
    category: Category,
    name: str,
    slug: str = "",
    names: dict[str, str] | None = None,
    position: int = 0,
    section: Section | None = None,
) -> Section:
    """Create a section in `category`, or change `section`."""
    require_editor(actor)
    name = clean_text(name, field="name", max_length=120, required=True)
    row = section or Section(category=category)
    row.category = category
    row.name = name
    row.slug = _slug(slug, name)
    row.names = _names(names or {})
    row.position = max(0, position)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise Conflict(f"a section with the slug {row.slug!r} exists in {category.name}") from None
    return row
