"""Community posts read like inbound messages: tone and main topic by the insights classifiers.

Run in a background task queued after a post is stored (`community.tasks.posts_analysed`). A question,
or a reply by its asker, whose tone reads negative goes to the team at once (`thread_bridge`).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from firstring.community.models import Post, PostInsight, Thread
from firstring.community.services.bridge import thread_bridge
from firstring.insights.classifiers import get_classifier
from firstring.insights.topic_services import current_topic_classifier

NEGATIVE = "negative"


def posts_analyse(*, post_ids: Sequence[int]) -> list[int]:
    """Classify the posts among `post_ids` (one call of each classifier), store it; the threads bridged."""
    posts = list(Post.objects.filter(pk__in=post_ids).select_related("thread").order_by("pk"))
    posts = [p for p in posts if p.body_text.strip()]
    if not posts:
        return []
    texts = [p.body_text for p in posts]
    tone_classifier = get_classifier()
    tones = tone_classifier.classify(texts)
    topics = current_topic_classifier().classify(texts)
    now = timezone.now()
    with transaction.atomic():
        PostInsight.objects.filter(post_id__in=[p.pk for p in posts]).delete()
        PostInsight.objects.bulk_create(
            PostInsight(
                post_id=post.pk,
                help_center_id=post.thread.help_center_id,
                posted_at=post.created_at,
                tone=tone.label,
                score=tone.score,
                confidence=tone.confidence,
                backend=tone_classifier.name,
                topic_id=int(ranked[0].key) if ranked else None,
                topic_confidence=ranked[0].confidence if ranked else None,
                created_at=now,
            )
            for post, tone, ranked in zip(posts, tones, topics, strict=True)
        )
    bridged: list[int] = []
    if not settings.FIRSTRING_COMMUNITY_NEGATIVE_BRIDGE:
        return bridged
    for post, tone in zip(posts, tones, strict=True):
        thread = post.thread
        by_asker = post.is_question or (
            post.author_member_id is not None and post.author_member_id == thread.author_member_id
        )
        if tone.label != NEGATIVE or not by_asker or thread.kind != Thread.Kind.QUESTION:
            continue
        why = (
            "Asked in the community, in a negative tone"
            if post.is_question
            else ("The asker's reply in the community, in a negative tone")
        )
        if thread_bridge(thread_id=thread.pk, post_id=post.pk, why=why) is not None:
            bridged.append(thread.pk)
    return bridged
