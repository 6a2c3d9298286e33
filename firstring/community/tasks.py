"""The community's background work: reading new posts' tone and topics (and bridging the negative ones)."""

from __future__ import annotations

from django_tasks import task

from firstring.community.services.analysis import posts_analyse


@task()
def posts_analysed(post_ids: list[int]) -> None:
    posts_analyse(post_ids=post_ids)
