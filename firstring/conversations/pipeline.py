"""What happens to an inbound message after it is stored: analysis and routing plug in here.

Apps that want to see every received message register a step; the steps run in a background
task queued after the receiving transaction commits, so the channel never waits for them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django_tasks import task

logger = logging.getLogger(__name__)

# A step takes the ids of the messages received together, so that it can analyse them in one go.
Step = Callable[[list[int]], None]
_STEPS: dict[str, Step] = {}


def register_step(name: str, step: Step) -> None:
    _STEPS[name] = step


def has_steps() -> bool:
    return bool(_STEPS)


@task()
def messages_received(message_ids: list[int]) -> None:
    """One task per received batch: a channel's batch of a hundred messages queues one job, not a hundred."""
    for name, step in list(_STEPS.items()):
        try:
            step(message_ids)
        except Exception:
            # One failing analyser must not stop routing; the error is logged with the message ids.
            logger.exception("inbound step %s failed for messages %s", name, message_ids)
