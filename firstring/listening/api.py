"""The listening API under /api/v1/listening/: monitors (managers edit them), mentions, alerts."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema

from firstring.accounts.access import require_manager
from firstring.accounts.models import User
from firstring.api.auth import current_user
from firstring.api.paging import page
from firstring.api.schemas import MAX_ID, BodyIn, CheckedIn, Cursor, Id, Limit, check_future, errors
from firstring.lib.cursor import SortKey
from firstring.lib.errors import InvalidInput, NotFound
from firstring.listening import selectors, services
from firstring.listening.models import Alert, Mention, Monitor

router = Router()

ORDER = [SortKey("id")]
MENTION_ORDER = [SortKey("posted_at", descending=True), SortKey("id", descending=True)]


def _manager(request: HttpRequest) -> User:
    return require_manager(current_user(request), "only managers and admins change monitors")


class MonitorOut(Schema):
    id: int
    name: str
    query: str
    languages: list[str]
    source_kinds: list[str]
    enabled: bool
    alert_webhook_url: str
    alert_emails: list[str]
    version: int
    created_at: datetime
    updated_at: datetime


class MonitorPage(Schema):
    items: list[MonitorOut]
    next_cursor: str | None


class MonitorIn(BodyIn):
    name: str = Field(..., min_length=1, max_length=100)
    query: str = Field(..., min_length=1, max_length=2000)
    languages: list[str] = Field(default_factory=list, max_length=50)
    source_kinds: list[str] = Field(default_factory=list, max_length=20)
    alert_webhook_url: str = Field("", max_length=500)
    alert_emails: list[str] = Field(default_factory=list, max_length=20)
    enabled: bool = True


class MonitorPatch(BodyIn):
    name: str | None = Field(None, min_length=1, max_length=100)
    query: str | None = Field(None, min_length=1, max_length=2000)
    languages: list[str] | None = Field(None, max_length=50)
    source_kinds: list[str] | None = Field(None, max_length=20)
    alert_webhook_url: str | None = Field(None, max_length=500)
    alert_emails: list[str] | None = Field(None, max_length=20)
    enabled: bool | None = None


class PreviewIn(BodyIn):
    query: str = Field(..., min_length=1, max_length=2000)
    languages: list[str] = Field(default_factory=list, max_length=50)
    source_kinds: list[str] = Field(default_factory=list, max_length=20)


class MentionOut(Schema):
    id: int
    network: str
    kind: str
    url: str
    author_handle: str
    text: str
    language: str
    posted_at: datetime
    tone: str
    tone_score: float
    topic_id: int | None
    urgency: list[str]
    reach: int
    reposts: int
    status: str
    assignee_id: int | None
    conversation_id: int | None
    monitor_ids: list[int]


class MentionPage(Schema):
    items: list[MentionOut]
    next_cursor: str | None


class MentionQuery(CheckedIn):
    monitor: int | None = Field(None, ge=1, le=MAX_ID)
    tone: str | None = Field(None, max_length=8)
    status: str | None = Field(None, max_length=10)
    source: str | None = Field(None, max_length=64)
    min_reach: int | None = Field(None, ge=0, le=2**31)
    topic: int | None = Field(None, ge=1, le=MAX_ID)
    urgent: bool | None = None
    cursor: Cursor | None = None
    limit: Limit = 50


class PageQuery(CheckedIn):
    cursor: Cursor | None = None
    limit: Limit = 50


class AlertOut(Schema):
    id: int
    monitor_id: int
    status: str
    opened_at: datetime
    closed_at: datetime | None
    count: int
    baseline: float
    z_score: float
    peak_count: int
    top_terms: list[str]
    sample_mention_ids: list[int]
    webhook_status: str
    email_status: str


class AlertPage(Schema):
    items: list[AlertOut]
    next_cursor: str | None


def monitor_out(monitor: Monitor) -> MonitorOut:
    return MonitorOut(
        id=monitor.pk,
        name=monitor.name,
        query=monitor.query,
        languages=list(monitor.languages),
        source_kinds=list(monitor.source_kinds),
        enabled=monitor.enabled,
        alert_webhook_url=monitor.alert_webhook_url,
        alert_emails=list(monitor.alert_emails),
        version=monitor.version,
        created_at=monitor.created_at,
        updated_at=monitor.updated_at,
    )


def mention_out(mention: Mention) -> MentionOut:
    return MentionOut(
        id=mention.pk,
        network=mention.network,
        kind=mention.kind,
        url=mention.url,
        author_handle=mention.author_handle,
        text=mention.text,
        language=mention.language,
        posted_at=mention.posted_at,
        tone=mention.tone,
        tone_score=mention.tone_score,
        topic_id=mention.topic_id,
        urgency=mention.urgency,
        reach=mention.reach,
        reposts=mention.reposts,
        status=mention.status,
        assignee_id=mention.assignee_id,
        conversation_id=mention.conversation_id,
        monitor_ids=sorted(match.monitor_id for match in mention.matches.all()),
    )


def alert_out(alert: Alert) -> AlertOut:
    return AlertOut(
        id=alert.pk,
        monitor_id=alert.monitor_id,
        status=alert.status,
        opened_at=alert.opened_at,
        closed_at=alert.closed_at,
        count=alert.count,
        baseline=alert.baseline,
        z_score=alert.z_score,
        peak_count=alert.peak_count,
        top_terms=list(alert.top_terms),
        sample_mention_ids=sorted(m.pk for m in alert.samples.all()),
        webhook_status=alert.webhook_status,
        email_status=alert.email_status,
    )


@router.get("/monitors", response={200: MonitorPage, **errors()}, summary="List monitors")
def monitor_list(request: HttpRequest, paging: Query[PageQuery]) -> MonitorPage:
    rows, next_cursor = page(Monitor.objects.all(), ORDER, paging.cursor, paging.limit)
    return MonitorPage(items=[monitor_out(m) for m in rows], next_cursor=next_cursor)


@router.post(
    "/monitors", response={201: MonitorOut, **errors(400, 403, 413)}, summary="Create a monitor (managers)"
)
def monitor_post(request: HttpRequest, payload: MonitorIn) -> tuple[int, MonitorOut]:
    monitor = services.monitor_create(actor=_manager(request), **payload.dict())
    return 201, monitor_out(monitor)


@router.get("/monitors/{monitor_id}", response={200: MonitorOut, **errors(404)}, summary="Get a monitor")
def monitor_get(request: HttpRequest, monitor_id: int = Path(..., ge=1, le=MAX_ID)) -> MonitorOut:
    monitor = Monitor.objects.filter(pk=monitor_id).first()
    if monitor is None:
        raise NotFound(f"monitor {monitor_id} not found")
    return monitor_out(monitor)


@router.patch(
    "/monitors/{monitor_id}",
    response={200: MonitorOut, **errors(400, 403, 404, 413)},
    summary="Change a monitor (managers); applies from then on",
)
def monitor_patch(
    request: HttpRequest, payload: MonitorPatch, monitor_id: int = Path(..., ge=1, le=MAX_ID)
) -> MonitorOut:
    _manager(request)
    changes = payload.dict(exclude_unset=True)
    return monitor_out(services.monitor_update(monitor_id=monitor_id, **changes))


@router.post(
    "/preview",
    response={200: MentionPage, **errors(400, 403, 413)},
    summary="What a query would have matched among the last stored mentions (managers, as they edit)",
)
def monitor_preview(request: HttpRequest, payload: PreviewIn) -> MentionPage:
    _manager(request)
    preview = services.monitor_preview(
        query=payload.query, languages=payload.languages, source_kinds=payload.source_kinds
    )
    rows = list(
        Mention.objects.filter(pk__in=[m.pk for m in preview.matched]).prefetch_related("matches")[:200]
    )
    rows.sort(key=lambda m: (m.posted_at, m.pk), reverse=True)
    return MentionPage(items=[mention_out(m) for m in rows], next_cursor=None)


@router.get("/mentions", response={200: MentionPage, **errors()}, summary="List mentions (newest first)")
def mention_list(request: HttpRequest, filters: Query[MentionQuery]) -> MentionPage:
    queryset = selectors.mentions_filtered(
        monitor_id=filters.monitor,
        tone=filters.tone,
        status=filters.status,
        source=filters.source,
        min_reach=filters.min_reach,
        topic_id=filters.topic,
        urgent=filters.urgent,
    ).prefetch_related("matches")
    rows, next_cursor = page(queryset, MENTION_ORDER, filters.cursor, filters.limit)
    return MentionPage(items=[mention_out(m) for m in rows], next_cursor=next_cursor)


class ReplyIn(BodyIn):
    text: str = Field(..., min_length=1, max_length=services.MAX_REPLY_CHARS)
    private: bool = False


class ReplyOut(Schema):
    message_id: int
    conversation_id: int
    delivery_status: str


@router.post(
    "/mentions/{mention_id}/reply",
    response={201: ReplyOut, **errors(400, 404, 413)},
    summary="Answer a mention through its source (public, or private: a direct message)",
    description="The mention becomes a conversation if it is not one yet; the reply is its outbound "
    "message, delivered in the background. Sources without a reply API answer 422.",
)
def mention_reply(
    request: HttpRequest, payload: ReplyIn, mention_id: int = Path(..., ge=1, le=MAX_ID)
) -> tuple[int, ReplyOut]:
    message = services.mention_reply(
        actor=current_user(request), mention_id=mention_id, text=payload.text, private=payload.private
    )
    return 201, ReplyOut(
        message_id=message.pk,
        conversation_id=message.conversation_id,
        delivery_status=message.delivery_status,
    )


@router.get("/alerts", response={200: AlertPage, **errors()}, summary="List spike alerts")
def alert_list(request: HttpRequest, paging: Query[PageQuery]) -> AlertPage:
    rows, next_cursor = page(Alert.objects.prefetch_related("samples"), ORDER, paging.cursor, paging.limit)
    return AlertPage(items=[alert_out(a) for a in rows], next_cursor=next_cursor)


class AnalyticsQuery(CheckedIn):
    monitor: list[Id] = Field(default_factory=list, max_length=20)
    since: datetime | None = None
    until: datetime | None = None
    bucket: str = Field("day", pattern="^(hour|day)$")


class Point(Schema):
    start: datetime
    mentions: int
    negative: int


class AuthorReach(Schema):
    handle: str
    reach: int


class MonitorStatsOut(Schema):
    monitor_id: int
    name: str
    mentions: int
    tones: dict[str, int]
    share_of_voice: float
    series: list[Point]
    top_terms: list[str]
    top_authors: list[AuthorReach]


class AnalyticsOut(Schema):
    since: datetime
    until: datetime
    bucket: str
    monitors: list[MonitorStatsOut]


@router.get(
    "/analytics",
    response={200: AnalyticsOut, **errors()},
    summary="Volume and tone over time, share of voice, top terms and authors per monitor",
)
def analytics(request: HttpRequest, filters: Query[AnalyticsQuery]) -> AnalyticsOut:
    try:
        until = check_future(filters.until) if filters.until else timezone.now()
        since = check_future(filters.since) if filters.since else until - timedelta(days=7)
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    ids = filters.monitor or list(
        Monitor.objects.filter(enabled=True).order_by("name", "id").values_list("pk", flat=True)[:20]
    )
    stats = selectors.listening_analytics(monitor_ids=ids, since=since, until=until, bucket=filters.bucket)
    return AnalyticsOut(
        since=since,
        until=until,
        bucket=filters.bucket,
        monitors=[
            MonitorStatsOut(
                monitor_id=s.monitor_id,
                name=s.name,
                mentions=s.mentions,
                tones=s.tones,
                share_of_voice=s.share_of_voice,
                series=[Point(start=start, mentions=n, negative=neg) for start, n, neg in s.series],
                top_terms=s.top_terms,
                top_authors=[AuthorReach(handle=h, reach=r) for h, r in s.top_authors],
            )
            for s in stats
        ],
    )
