"""Every write of the routing app goes through a function in this package."""

from firstring.routing.services.offers import offer_accept, offer_decline, offers_expire, presence_set
from firstring.routing.services.queue import task_enqueue, tasks_for_messages, tasks_sweep
from firstring.routing.services.router import route_waiting

__all__ = [
    "offer_accept",
    "offer_decline",
    "offers_expire",
    "presence_set",
    "route_waiting",
    "task_enqueue",
    "tasks_for_messages",
    "tasks_sweep",
]
