"""What other apps hear of a conversation's life: hooks run after the change commits.

An app that must act when a conversation changes status (the surveys app asks a resolved
conversation's customer how it went) or gets its first reply (the insights app recounts its day's
service levels) registers a hook here in its `ready()`; the conversations app never imports it.
Hooks run after commit, each on its own: one that fails is logged and the others still run, and the
change itself is never undone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

# (conversation id, status before, status after)
StatusHook = Callable[[int, str, str], None]
_STATUS_HOOKS: dict[str, StatusHook] = {}


# (conversation id)
FirstResponseHook = Callable[[int], None]
_FIRST_RESPONSE_HOOKS: dict[str, FirstResponseHook] = {}


def on_status_change(name: str, hook: StatusHook) -> None:
    _STATUS_HOOKS[name] = hook


def on_first_response(name: str, hook: FirstResponseHook) -> None:
    _FIRST_RESPONSE_HOOKS[name] = hook


def status_changed(*, conversation_id: int, previous: str, status: str) -> None:
    for name, hook in list(_STATUS_HOOKS.items()):
        try:
            hook(conversation_id, previous, status)
        except Exception:
            logger.exception("status hook %s failed for conversation %s", name, conversation_id)


def first_responded(*, conversation_id: int) -> None:
    for name, hook in list(_FIRST_RESPONSE_HOOKS.items()):
        try:
            hook(conversation_id)
        except Exception:
            logger.exception("first-response hook %s failed for conversation %s", name, conversation_id)
