"""What search reads: the search entries of live translations with their vectors, and the vocabulary."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from firstring.insights.topics import get_encoder
from firstring.knowledge.meaning import vectors_of
from firstring.knowledge.models import (
    ArticleTranslation,
    EntryVector,
    SearchEntry,
    VocabularyTrigram,
    VocabularyWord,
)

_WORD_RE = re.compile(r"[^\W\d_]{3,40}", re.UNICODE)
_CHUNK = 500


def words_of(text: str) -> set[str]:
    """The words of a text that typo tolerance may correct to: letters only, 3 to 40 of them."""
    return {word.lower() for word in _WORD_RE.findall(text)}


def trigrams(word: str) -> set[str]:
    """pg_trgm's trigrams of one word: padded with two spaces before and one after."""
    padded = f"  {word.lower()} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def search_entry_write(*, translation: ArticleTranslation) -> None:
    """Copy a live translation into the search table (or take it out, when it is not live)."""
    if translation.published_at is None:
        SearchEntry.objects.filter(translation=translation).delete()
        return
    article = translation.article
    entry, _ = SearchEntry.objects.update_or_create(
        translation=translation,
        defaults={
            "help_center_id": article.help_center_id,
            "article_id": article.pk,
            "language": translation.language,
            "internal": article.is_internal,
            "title": translation.title,
            "text": translation.body_text,
            "published_at": translation.published_at,
        },
    )
    entry_vectors_write(entries=[entry])


def entry_vectors_write(*, entries: list[SearchEntry]) -> None:
    """Embed search entries with the configured encoder and keep their vectors (replacing older ones)."""
    encoder = get_encoder()
    vectors = vectors_of(encoder, [(entry.title, entry.text) for entry in entries])
    now = timezone.now()
    EntryVector.objects.bulk_create(
        [
            EntryVector(entry=entry, encoder=encoder.name, vector=row.tobytes(), updated_at=now)
            for entry, row in zip(entries, vectors, strict=True)
        ],
        update_conflicts=True,
        unique_fields=["entry"],
        update_fields=["encoder", "vector", "updated_at"],
    )


def entry_vectors_rebuild(*, everything: bool = False) -> int:
    """Embed the entries whose vector is missing or made by another encoder (`everything`: all of them),
    after the encoder was changed or entries were loaded in bulk; returns how many were embedded."""
    entries = SearchEntry.objects.order_by("pk")
    if not everything:
        entries = entries.exclude(vector__encoder=get_encoder().name)
    done = last = 0
    while chunk := list(entries.filter(pk__gt=last)[:_CHUNK]):
        with transaction.atomic():
            entry_vectors_write(entries=chunk)
        done += len(chunk)
        last = chunk[-1].pk
    return done


def vocabulary_add(*, texts: Iterable[str]) -> int:
    """Add the words of `texts` that the vocabulary lacks, with their trigrams; returns how many.

    Words are only ever added: a word that left every article still corrects a typo to something
    that finds nothing, which costs one wasted alternative; `vocabulary_rebuild` clears them.
    """
    words: set[str] = set()
    for text in texts:
        words |= words_of(text)
    added = 0
    ordered = sorted(words)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        with transaction.atomic():
            known = set(VocabularyWord.objects.filter(word__in=chunk).values_list("word", flat=True))
            new = [VocabularyWord(word=w) for w in chunk if w not in known]
            if not new:
                continue
            VocabularyWord.objects.bulk_create(new, ignore_conflicts=True)
            ids = dict(
                VocabularyWord.objects.filter(word__in=[w.word for w in new]).values_list("word", "pk")
            )
            VocabularyTrigram.objects.bulk_create(
                [VocabularyTrigram(trigram=t, word_id=ids[w.word]) for w in new for t in trigrams(w.word)],
                ignore_conflicts=True,
                batch_size=2000,
            )
            added += len(new)
    return added


def vocabulary_rebuild() -> int:
    """The vocabulary anew from every search entry (after bulk loads, or to drop words no longer used)."""
    with transaction.atomic():
        VocabularyTrigram.objects.all().delete()
        VocabularyWord.objects.all().delete()
    texts = (f"{title} {text}" for title, text in SearchEntry.objects.values_list("title", "text").iterator())
    return vocabulary_add(texts=texts)
