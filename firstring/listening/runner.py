"""`firstring listen`: run every enabled source in a thread of its own until stopped.

The main thread meanwhile retries failed alert notifications and closes alerts whose rate returned
(by the clock, for monitors that went quiet).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from django.db import close_old_connections
from django.utils import timezone

from firstring.listening.models import Source
from firstring.listening.notify import alerts_notify_due
from firstring.listening.sources import get_kind
from firstring.listening.spikes import alerts_close_due

logger = logging.getLogger(__name__)

HOUSEKEEPING_SECONDS = 30.0


def listen(*, slugs: Sequence[str] = (), stop: threading.Event, seconds: float | None = None) -> list[str]:
    """Run the sources (all enabled ones, or those named) until `stop` is set or `seconds` pass.

    Returns the slugs that ran. Unknown kinds are logged and left out.
    """
    sources = Source.objects.filter(enabled=True)
    if slugs:
        sources = sources.filter(slug__in=slugs)
    threads: list[threading.Thread] = []
    ran: list[str] = []
    for source in sources:
        kind = get_kind(source.kind)
        if kind is None:
            logger.error("%s: no source kind %r is installed; skipped", source.slug, source.kind)
            continue
        thread = threading.Thread(
            target=_run_one, args=(kind.run, source, stop), name=f"listen-{source.slug}", daemon=True
        )
        thread.start()
        threads.append(thread)
        ran.append(source.slug)
    if not threads:
        return ran
    deadline = None if seconds is None else timezone.now().timestamp() + seconds
    while not stop.is_set():
        wait = HOUSEKEEPING_SECONDS
        if deadline is not None:
            wait = min(wait, max(0.0, deadline - timezone.now().timestamp()))
        if stop.wait(wait):
            break
        if deadline is not None and timezone.now().timestamp() >= deadline:
            stop.set()
            break
        close_old_connections()
        try:
            alerts_notify_due()
            alerts_close_due(clock=timezone.now())
        except Exception:
            logger.exception("listening housekeeping failed")
    for thread in threads:
        thread.join(timeout=15)
    return ran


def _run_one(run: object, source: Source, stop: threading.Event) -> None:
    from django.db import connection

    try:
        run(source, stop)  # type: ignore[operator]
    finally:
        connection.close()
