"""Background routing passes, queued when an agent frees or passes on work."""

from __future__ import annotations

from django_tasks import task

from firstring.routing.services.router import route_waiting


@task()
def route_team(team_id: int | None) -> None:
    """Offer the team's waiting work now, rather than on the worker's next beat."""
    route_waiting(team_ids=[team_id])
