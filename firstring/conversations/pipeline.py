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
_WARM_UPS: list[Callable[[], None]] = []


def register_step(name: str, step: Step, *, warm_up: Callable[[], None] | None = None) -> None:
    """`warm_up` loads what the step loads on first use (models, vectors), so a worker can do it early."""
    _STEPS[name] = step
    if warm_up is not None:
        _WARM_UPS.append(warm_up)


def steps_warm_up() -> None:
    """Load what the steps need before the first message comes: called by the worker as it starts."""
    for warm_up in _WARM_UPS:
        try:
            warm_up()
        except Exception:
            # The step loads it again on first use and reports what fails there.
            logger.exception("warming up an inbound step failed")


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
