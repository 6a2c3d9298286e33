"""From posts to mentions: match → de-duplicate → language, tone, topic, urgency, reach → store → spikes.

Sources hand `mentions_ingest` a batch of `Post`s and the cursor that follows the batch; the cursor is
saved in the transaction that stores the batch's mentions, so a crash never skips a post (it is read
again and de-duplicated) and never counts one twice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from firstring.insights.analysis import MIN_TOPIC_CONFIDENCE
from firstring.insights.classifiers import get_classifier
from firstring.insights.signals import detect_language, urgency_cues
from firstring.insights.topic_services import current_topic_classifier
from firstring.lib.bulk import update_rows
from firstring.listening.matching import CompiledMonitor, Matcher, Post, compile_monitor
from firstring.listening.models import Author, Mention, Monitor, MonitorMatch, Repost, Source
from firstring.listening.query import QueryError
from firstring.listening.sources import get_kind
from firstring.listening.spikes import alerts_close_due, spikes_observe, spikes_start

logger = logging.getLogger(__name__)

MAX_POST_CHARS = 20_000

_MATCHER: dict[str, tuple[tuple[object, ...], Matcher]] = {}


def active_matcher() -> Matcher:
    """The matcher for the enabled monitors, rebuilt when one is added, edited, disabled or removed."""
    rows = list(
        Monitor.objects.filter(enabled=True)
        .order_by("pk")
        .values_list("pk", "version", "query", "languages", "source_kinds")
    )
    # The whole rows, not only (id, version): ids come back after a rollback or a restored database.
    signature = tuple(
        (pk, version, query, tuple(langs or ()), tuple(kinds or ()))
        for pk, version, query, langs, kinds in rows
    )
    cached = _MATCHER.get("active")
    if cached is not None and cached[0] == signature:
        return cached[1]
    compiled: list[CompiledMonitor] = []
    for pk, version, query, languages, source_kinds in rows:
        try:
            compiled.append(
                compile_monitor(
                    id=pk,
                    version=version,
                    query=query,
                    languages=languages or (),
                    source_kinds=source_kinds or (),
                )
            )
        except (
            QueryError
        ) as error:  # saved before a rule changed: skip it, loudly, rather than stop listening
            logger.error("monitor %s has a query that no longer parses: %s", pk, error)
    matcher = Matcher(compiled)
    _MATCHER["active"] = (signature, matcher)
    return matcher


@dataclass
class IngestResult:
    posts: int = 0
    matched: int = 0  # posts that matched at least one monitor
    stored: int = 0  # new mentions
    duplicates: int = 0
    matches: int = 0  # monitor-mention pairs stored
    reposts: int = 0
    skipped: int = 0  # posts refused (too long, no text)
    alerts_opened: list[int] = field(default_factory=list)
    alerts_closed: list[int] = field(default_factory=list)


def _authors(posts: Sequence[Post]) -> dict[tuple[str, str], Author]:
    """Find or create the authors of these posts; refresh their handle, name and reach when they changed."""
    wanted = {(p.network, p.author_id): p for p in posts if p.author_id}
    if not wanted:
        return {}
    found: dict[tuple[str, str], Author] = {}
    by_network: dict[str, list[str]] = defaultdict(list)
    for network, author_id in wanted:
        by_network[network].append(author_id)
    for network, ids in by_network.items():
        for author in Author.objects.filter(network=network, external_id__in=ids):
            found[(network, author.external_id)] = author
    missing = [
        Author(
            network=network,
            external_id=author_id[:255],
            handle=post.author_handle[:255],
            name=post.author_name[:200],
            followers=post.followers,
        )
        for (network, author_id), post in wanted.items()
        if (network, author_id) not in found
    ]
    if missing:
        Author.objects.bulk_create(missing, ignore_conflicts=True)
        for network, ids in by_network.items():
            for author in Author.objects.filter(network=network, external_id__in=ids):
                found[(network, author.external_id)] = author
    changed = []
    now = timezone.now()
    for key, post in wanted.items():
        author = found[key]
        fresh = (
            post.author_handle[:255] or author.handle,
            post.author_name[:200] or author.name,
            post.followers if post.followers is not None else author.followers,
        )
        if fresh != (author.handle, author.name, author.followers):
            author.handle, author.name, author.followers = fresh
            author.updated_at = now
            changed.append(author)
    if changed:
        update_rows(changed, ["handle", "name", "followers", "updated_at"])
    return found


def mentions_ingest(
    *,
    posts: Sequence[Post],
    source: Source | None = None,
    source_kind: str = "",
    cursor: str | None = None,
    matcher: Matcher | None = None,
) -> IngestResult:
    """Match, de-duplicate, score and store a batch of posts; save the source's cursor with them."""
    kind = source.kind if source is not None else source_kind
    matcher = matcher if matcher is not None else active_matcher()
    result = IngestResult(posts=len(posts))
    candidates: dict[str, tuple[Post, list[CompiledMonitor]]] = {}
    reposts: dict[str, list[Post]] = defaultdict(list)
    for post in posts:
        if post.kind == "repost":
            if post.repost_of:
                reposts[f"{post.network}:{post.repost_of}"[:600]].append(post)
            continue
        if not post.text.strip() or len(post.text) > MAX_POST_CHARS:
            result.skipped += 1
            continue
        monitors = matcher.match(post, kind)
        if not monitors:
            continue
        result.matched += 1
        key = post.dedupe_key
        if key in candidates:
            result.duplicates += 1
            continue
        candidates[key] = (post, monitors)

    if source is not None and candidates:
        _fill_profiles(source, candidates)
    clock = max((post.posted_at for post in posts), default=None)
    if posts:
        spikes_start(monitor_ids=[m.id for m in matcher.monitors], clock=min(p.posted_at for p in posts))
    for attempt in range(2):
        try:
            with transaction.atomic():
                _store(candidates, reposts, source, cursor, clock, result)
            break
        except IntegrityError:
            # Another listener stored one of these mentions first: look again, store the rest.
            if attempt:
                raise
            result.stored = result.matches = result.reposts = 0
            result.duplicates = result.matched - len(candidates)
    return result


PROFILE_MAX_AGE = timedelta(days=1)
PROFILES_PER_BATCH = 100


def _fill_profiles(source: Source, candidates: dict[str, tuple[Post, list[CompiledMonitor]]]) -> None:
    """Ask the source about authors of matched posts whose reach is unknown or old (before storing)."""
    kind = get_kind(source.kind)
    if kind is None or kind.profiles is None:
        return
    wanted = {post.author_id for post, _ in candidates.values() if post.author_id and post.followers is None}
    if not wanted:
        return
    fresh = set(
        Author.objects.filter(
            network=next(iter(candidates.values()))[0].network,
            external_id__in=wanted,
            followers__isnull=False,
            updated_at__gte=timezone.now() - PROFILE_MAX_AGE,
        ).values_list("external_id", flat=True)
    )
    ask = sorted(wanted - fresh)[:PROFILES_PER_BATCH]
    if not ask:
        return
    try:
        profiles = kind.profiles(source, ask)
    except Exception:  # the lookup is a nicety: a failing one must never keep mentions from being stored
        logger.exception("%s: looking up %s authors failed", source.slug, len(ask))
        return
    for key, (post, monitors) in list(candidates.items()):
        profile = profiles.get(post.author_id)
        if profile is not None:
            candidates[key] = (
                replace(
                    post,
                    author_handle=post.author_handle or profile.handle,
                    author_name=post.author_name or profile.name,
                    followers=profile.followers,
                ),
                monitors,
            )


def _store_reposts(reposts: dict[str, list[Post]], result: IngestResult) -> None:
    """Count reposts of stored mentions, each repost once however often it is delivered."""
    originals = {
        key: (pk, count)
        for key, pk, count in Mention.objects.filter(dedupe_key__in=list(reposts)).values_list(
            "dedupe_key", "pk", "reposts"
        )
    }
    wanted = {
        post.external_id[:500]: (key, post)
        for key, posts in reposts.items()
        if key in originals
        for post in posts
    }
    if not wanted:
        return
    seen = set(Repost.objects.filter(external_id__in=list(wanted)).values_list("external_id", flat=True))
    added: dict[str, int] = defaultdict(int)
    rows = []
    for external_id, (key, post) in wanted.items():
        if external_id in seen:
            continue
        added[key] += 1
        rows.append(
            Repost(mention_id=originals[key][0], external_id=external_id, author_id=post.author_id[:255],
                   posted_at=post.posted_at)
        )  # fmt: skip
    Repost.objects.bulk_create(rows)
    update_rows(
        [Mention(pk=originals[key][0], reposts=originals[key][1] + count) for key, count in added.items()],
        ["reposts"],
    )
    result.reposts = len(rows)


def _store(
    candidates: dict[str, tuple[Post, list[CompiledMonitor]]],
    reposts: dict[str, list[Post]],
    source: Source | None,
    cursor: str | None,
    clock: datetime | None,
    result: IngestResult,
) -> None:
    keys = list(candidates)
    existing: set[str] = set()
    for start in range(0, len(keys), 500):
        existing.update(
            Mention.objects.filter(dedupe_key__in=keys[start : start + 500]).values_list(
                "dedupe_key", flat=True
            )
        )
    fresh = [candidates[key] for key in keys if key not in existing]
    result.duplicates += len(keys) - len(fresh)
    if fresh:
        # Each model sees the batch's new mentions in one call, as insights reads a batch of messages.
        texts = [post.text for post, _ in fresh]
        tones = get_classifier().classify(texts)
        topics = current_topic_classifier().classify(texts)
        authors = _authors([post for post, _ in fresh])
        now = timezone.now()
        mentions = []
        for (post, _), tone, ranked in zip(fresh, tones, topics, strict=True):
            author = authors.get((post.network, post.author_id))
            urgency = urgency_cues(post.text)
            best = ranked[0] if ranked and ranked[0].confidence >= MIN_TOPIC_CONFIDENCE else None
            mentions.append(
                Mention(
                    source=source,
                    network=post.network[:32],
                    kind=post.kind if post.kind in Mention.Kind.values else Mention.Kind.POST,
                    external_id=post.external_id[:500],
                    dedupe_key=post.dedupe_key,
                    url=post.url[:1000],
                    author=author,
                    author_handle=(post.author_handle or (author.handle if author else ""))[:255],
                    text=post.text,
                    language=post.language[:16] or detect_language(post.text)[0],
                    posted_at=post.posted_at,
                    received_at=now,
                    tone=tone.label,
                    tone_score=tone.score,
                    topic_id=int(best.key) if best else None,
                    urgency=urgency,
                    urgent=bool(urgency),
                    reach=(
                        post.followers if post.followers is not None else (author.followers if author else 0)
                    )
                    or 0,
                )
            )
        Mention.objects.bulk_create(mentions)
        matches = []
        negatives: dict[int, list[datetime]] = defaultdict(list)
        for mention, (post, monitors) in zip(mentions, fresh, strict=True):
            negative = mention.tone == "negative"
            for monitor in monitors:
                matches.append(
                    MonitorMatch(
                        monitor_id=monitor.id,
                        mention=mention,
                        monitor_version=monitor.version,
                        posted_at=post.posted_at,
                        negative=negative,
                    )
                )
                if negative:
                    negatives[monitor.id].append(post.posted_at)
        MonitorMatch.objects.bulk_create(matches)
        result.stored, result.matches = len(mentions), len(matches)
        report = spikes_observe(negatives=negatives, clock=clock or now)
        result.alerts_opened, result.alerts_closed = report.opened, report.closed
    elif clock is not None:
        result.alerts_closed = alerts_close_due(clock=clock)
    if reposts:
        _store_reposts(reposts, result)
    if source is not None and cursor is not None:
        Source.objects.filter(pk=source.pk).update(cursor=cursor[:200])
        source.cursor = cursor[:200]
