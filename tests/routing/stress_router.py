"""One router process of the stress test (tests/routing/test_router_stress.py), run as a script.

For --seconds it routes, and plays agents answering offers (accepting, declining, letting some ring
out) and finishing conversations, as fast as it can, against the database in DATABASE_URL.
"""

from __future__ import annotations

import argparse
import os
import random
import time

import django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--seed", type=int, required=True)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "firstring.settings")
    django.setup()

    from django.db import DatabaseError
    from django.utils import timezone

    from firstring.conversations.models import Conversation
    from firstring.conversations.services import conversation_set_status
    from firstring.lib.errors import Conflict
    from firstring.routing.models import RoutingTask
    from firstring.routing.services import offer_accept, offer_decline, offers_expire, route_waiting

    rng = random.Random(args.seed)
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        try:
            route_waiting(max_offers=rng.randint(1, 5), scan=rng.choice([5, 50, 500]))
            ringing = list(
                RoutingTask.objects.filter(status=RoutingTask.Status.OFFERED).select_related("offered_to")[:5]
            )
            for task in ringing:
                assert task.offered_to is not None
                roll = rng.random()
                try:
                    if roll < 0.6:
                        offer_accept(task=task, agent=task.offered_to)
                    elif roll < 0.8:
                        offer_decline(task=task, agent=task.offered_to)
                except Conflict:
                    pass  # another router's agent answered first, or it expired
            # Offers ring for a second here (the test sets it), so some time out.
            offers_expire(now=timezone.now())
            done = Conversation.objects.filter(status="open", assignee__isnull=False).order_by("?").first()
            if done is not None and rng.random() < 0.5:
                conversation_set_status(conversation=done, status="resolved", actor=None)
        except DatabaseError as error:
            # A deadlock or serialisation failure rolls back one transaction; the next loop goes on.
            print(f"retrying after {type(error).__name__}: {error}", flush=True)


if __name__ == "__main__":
    main()
