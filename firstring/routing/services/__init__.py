"""Every write of the routing app goes through a function in this package."""

from firstring.routing.services.notify import notification_read, notifications_read_all, staff_notify
from firstring.routing.services.offers import (
    offer_accept,
    offer_decline,
    offers_expire,
    presence_idle_sweep,
    presence_seen,
    presence_set,
)
from firstring.routing.services.queue import task_cancel, task_enqueue, tasks_for_messages, tasks_sweep
from firstring.routing.services.router import route_every_queue, route_waiting
from firstring.routing.services.sla_watch import sla_watch

__all__ = [
    "notification_read",
    "notifications_read_all",
    "offer_accept",
    "offer_decline",
    "offers_expire",
    "presence_idle_sweep",
    "presence_seen",
    "presence_set",
    "route_every_queue",
    "route_waiting",
    "sla_watch",
    "staff_notify",
    "task_cancel",
    "task_enqueue",
    "tasks_for_messages",
    "tasks_sweep",
]
