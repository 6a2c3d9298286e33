"""Writes to the community: one function each, `<entity>_<verb>`, keyword-only, in a transaction."""

from firstring.community.services.articles import article_draft_from_answer
from firstring.community.services.bridge import (
    thread_bridge,
    thread_publish_from_conversation,
    threads_bridge_unanswered,
)
from firstring.community.services.categories import category_default, thread_move
from firstring.community.services.moderation import (
    member_ban,
    member_unban,
    post_flag,
    post_hide,
    post_restore,
    thread_lock,
    thread_merge,
    thread_unlock,
)
from firstring.community.services.posts import (
    answer_accept,
    answer_create,
    post_vote,
    thread_create,
    thread_index_write,
)
from firstring.community.services.signin import signin_link_send, signin_link_use

__all__ = [
    "answer_accept",
    "answer_create",
    "article_draft_from_answer",
    "category_default",
    "member_ban",
    "member_unban",
    "post_flag",
    "post_hide",
    "post_restore",
    "post_vote",
    "signin_link_send",
    "signin_link_use",
    "thread_bridge",
    "thread_create",
    "thread_index_write",
    "thread_lock",
    "thread_merge",
    "thread_move",
    "thread_publish_from_conversation",
    "thread_unlock",
    "threads_bridge_unanswered",
]
