"""Community categories: the default one a help center's threads start in, and moving a thread."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from firstring.accounts.models import User
from firstring.community.models import Category, Thread
from firstring.community.services._checks import require_moderator
from firstring.knowledge.models import HelpCenter
from firstring.lib.errors import InvalidInput

# Made by migration 0004 for the help centers that had threads then, and here for the others.
DEFAULT_SLUG = "general"
DEFAULT_NAME = "General"


def category_default(*, help_center: HelpCenter) -> Category:
    """The first category of the help center; a help center without any gets "General"."""
    found = Category.objects.filter(help_center=help_center).order_by("position", "name", "id").first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Category.objects.create(help_center=help_center, slug=DEFAULT_SLUG, name=DEFAULT_NAME)
    except IntegrityError:
        # Another request made it first.
        return Category.objects.get(help_center=help_center, slug=DEFAULT_SLUG)


def category_check(*, help_center: HelpCenter, category: Category | None) -> Category:
    """The category a thread of this help center goes into (its default when none is given)."""
    if category is None:
        return category_default(help_center=help_center)
    if category.help_center_id != help_center.pk:
        raise InvalidInput("That category belongs to another help center.")
    return category


def thread_move(*, thread: Thread, category: Category, actor: User) -> Thread:
    """A moderator moves a thread to another category of the same help center."""
    require_moderator(actor)
    with transaction.atomic():
        thread = Thread.objects.select_for_update().get(pk=thread.pk)
        category_check(help_center=thread.help_center, category=category)
        if thread.category_id != category.pk:
            thread.category = category
            thread.save(update_fields=["category"])
    return thread
