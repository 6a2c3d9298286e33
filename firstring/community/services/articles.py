"""A good answer becomes a draft knowledge article in one click, through the knowledge app's own service."""

from __future__ import annotations

import re

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from firstring.accounts.models import User
from firstring.community.models import Post, Thread
from firstring.knowledge.models import ArticleTranslation, Section
from firstring.knowledge.services import article_create
from firstring.lib.errors import Conflict, InvalidInput, NotFound


def article_draft_from_answer(*, post: Post, section: Section, actor: User) -> ArticleTranslation:
    """A draft article (editors only): the question's title, the answer's Markdown, a link to the thread.

    A thread gives one article; the thread keeps it, so staff see it was drafted already.
    """
    with transaction.atomic():
        thread = Thread.objects.select_for_update().select_related("help_center").get(pk=post.thread_id)
        post = Post.objects.get(pk=post.pk)
        if post.is_question or post.is_hidden or thread.is_hidden:
            raise NotFound("no such answer")
        if thread.article_id is not None:
            raise Conflict("An article was drafted from this thread already.")
        if section.category.help_center_id != thread.help_center_id:
            raise InvalidInput("Choose a section of the thread's help center.")
        path = reverse(
            "community:thread",
            kwargs={"prefix": thread.help_center.prefix, "lang": thread.language, "thread_id": thread.pk},
        )
        link_text = re.sub(r"([\\\[\]*_`<>])", r"\\\1", thread.title)
        body = f"{post.body}\n\n---\n\n*From the community: [{link_text}]({settings.SITE_URL}{path})*"
        translation = article_create(
            actor=actor, section=section, language=thread.language, title=thread.title, body=body
        )
        thread.article = translation.article
        thread.save(update_fields=["article"])
    return translation
