"""Learn the "learning" tone backend's model from every tone an agent corrected."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from firstring.insights.services import LEARN_MIN_ROWS, tone_model_learn
from firstring.lib.errors import InvalidInput


class Command(BaseCommand):
    help = "Learn the tone model of the 'learning' backend from agents' corrections."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--min-rows", type=int, default=LEARN_MIN_ROWS)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            learned = tone_model_learn(min_rows=options["min_rows"])
        except InvalidInput as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Learned from {learned.rows} corrected messages; "
            "FIRSTRING_TONE_BACKEND=learning uses the newest model."
        )
