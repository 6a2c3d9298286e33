"""What other apps hear of a change to the service-level settings: hooks run after the change commits.

The conversations app keeps each conversation's due times, and must measure its open conversations
again when a policy or a calendar changes; it registers here in its `ready()`, since this app sits
below it and never imports it (the same shape as `conversations.hooks`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

# The calendar that changed, or None when a policy changed (which may change which policy applies).
ChangeHook = Callable[[int | None], None]
_CHANGE_HOOKS: dict[str, ChangeHook] = {}


def on_change(name: str, hook: ChangeHook) -> None:
    _CHANGE_HOOKS[name] = hook


def settings_changed(*, calendar_id: int | None) -> None:
    for name, hook in list(_CHANGE_HOOKS.items()):
        try:
            hook(calendar_id)
        except Exception:
            logger.exception("service-level change hook %s failed", name)
