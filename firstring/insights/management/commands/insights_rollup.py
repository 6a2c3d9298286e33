"""Rebuild the dashboards' rollup for the last N days (after an import, or to catch reassignments)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from firstring.insights.rollup import rollup_rebuild


class Command(BaseCommand):
    help = "Rebuild the insights dashboards' daily rollup for the last --days days (today included)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=30)

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if not 1 <= days <= 3660:
            raise CommandError("--days must be between 1 and 3660")
        until = timezone.localdate()
        rows = rollup_rebuild(since=until - dt.timedelta(days=days - 1), until=until)
        self.stdout.write(f"Rebuilt {days} days of the insights rollup: {rows} rows.")
