"""What visitors tell editors: helpful votes and searches that found nothing; and the synonym lists."""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from firstring.accounts.models import User
from firstring.knowledge.models import (
    ArticleFeedback,
    ArticleTranslation,
    HelpCenter,
    SearchMiss,
    SuggestionOpen,
    SynonymSet,
)
from firstring.knowledge.services._checks import clean_text, require_editor
from firstring.lib.errors import InvalidInput

MAX_SYNONYMS = 20


def voter_key(session_key: str) -> str:
    """A visitor's vote key: a hash of their session, so the session itself is never stored."""
    return hashlib.sha256(f"kb-vote:{session_key}".encode()).hexdigest()


def feedback_record(*, translation: ArticleTranslation, helpful: bool, session_key: str) -> ArticleFeedback:
    """Record (or change) one visitor's answer to "Was this helpful?" for a live translation."""
    if not translation.is_live:
        raise InvalidInput("only published articles take votes")
    voter = voter_key(session_key)
    with transaction.atomic():
        row, created = ArticleFeedback.objects.select_for_update().get_or_create(
            translation=translation, voter=voter, defaults={"helpful": helpful}
        )
        if not created and row.helpful != helpful:
            row.helpful = helpful
            row.created_at = timezone.now()
            row.save(update_fields=["helpful", "created_at"])
    return row


def search_miss_record(*, help_center: HelpCenter, language: str, query: str) -> None:
    """Count a search that found nothing (queries are normalised: lower case, single spaces)."""
    normalised = " ".join(query.lower().split())[:200]
    if not normalised:
        return
    now = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A counter for editors: losing the last few to a crash is fine, waiting for the disk is not.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        _search_miss_count(help_center=help_center, language=language, query=normalised, now=now)


def _search_miss_count(*, help_center: HelpCenter, language: str, query: str, now: datetime) -> None:
    normalised = query
    updated = SearchMiss.objects.filter(help_center=help_center, language=language, query=normalised).update(
        count=F("count") + 1, last_seen=now
    )
    if updated:
        return
    try:
        with transaction.atomic():
            SearchMiss.objects.create(help_center=help_center, language=language, query=normalised)
    except IntegrityError:
        # Another request counted the same query first.
        SearchMiss.objects.filter(help_center=help_center, language=language, query=normalised).update(
            count=F("count") + 1, last_seen=now
        )


def suggestion_open_record(*, translation: ArticleTranslation) -> None:
    """Count a visitor opening a suggested article (the caller checked it is live and public)."""
    today = timezone.localdate()
    if SuggestionOpen.objects.filter(translation=translation, day=today).update(count=F("count") + 1):
        return
    try:
        with transaction.atomic():
            SuggestionOpen.objects.create(translation=translation, day=today)
    except IntegrityError:
        # Another request counted the first one.
        SuggestionOpen.objects.filter(translation=translation, day=today).update(count=F("count") + 1)


def synonym_set_save(
    *, actor: User, help_center: HelpCenter, words: str, synonym_set: SynonymSet | None = None
) -> SynonymSet:
    """Words that mean the same, comma-separated ("refund, money back, reimbursement")."""
    require_editor(actor)
    words = clean_text(words, field="words", max_length=1000)
    cleaned: list[str] = []
    for word in words.split(","):
        word = " ".join(word.lower().split())
        if word and word not in cleaned:
            cleaned.append(word[:60])
    if len(cleaned) < 2:
        raise InvalidInput("a synonym list needs at least two words or phrases")
    if len(cleaned) > MAX_SYNONYMS:
        raise InvalidInput(f"a synonym list holds at most {MAX_SYNONYMS} words")
    with transaction.atomic():
        row = synonym_set or SynonymSet(help_center=help_center)
        row.words = cleaned
        row.updated_at = timezone.now()
        row.save()
    return row


def synonym_set_delete(*, actor: User, synonym_set: SynonymSet) -> None:
    require_editor(actor)
    synonym_set.delete()
