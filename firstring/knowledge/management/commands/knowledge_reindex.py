"""Bring the knowledge search index up to date: vectors by the configured encoder, and the vocabulary."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from firstring.knowledge.services import entry_vectors_rebuild, vocabulary_rebuild


class Command(BaseCommand):
    help = (
        "Embed the live articles whose vectors are missing or were made by another encoder (after "
        "FIRSTRING_TOPIC_BACKEND changed, or a bulk load), and rebuild the typo-tolerance vocabulary."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="Embed every live article again.")

    def handle(self, *args: Any, **options: Any) -> None:
        vectors = entry_vectors_rebuild(everything=options["all"])
        words = vocabulary_rebuild()
        self.stdout.write(f"Embedded {vectors} articles; the vocabulary has {words} words.")
