"""The spike rule: when a monitor's negative mentions leave their rolling baseline.

Time is the posts' own time (so a replayed firehose behaves as the live one did).

- **Baseline.** Negative mentions are counted per minute from when the monitor began listening; each
  closed minute is folded into an exponentially weighted moving average with a half-life of 30 minutes
  (`λ`, negatives per minute), corrected for its start at zero (divided by `1 - (1 - alpha)^n` after `n`
  minutes, so that a young monitor's baseline is the mean so far rather than a fraction of it).
  Minutes without any count as zero. While an alert is open the baseline is frozen, so that a spike
  does not teach the baseline that spikes are normal.
- **Open.** At every negative mention, `x` is the number of the monitor's negative mentions in the
  60 seconds up to it. An alert opens when the monitor has listened for 15 minutes (warm-up), `x` is
  at least 8 (minimum count: a few angry posts on a quiet brand are not a wave), and the Poisson
  z-score `(x - λ) / sqrt(max(λ, 1))` is at least 5. For a steady Poisson stream that is a false alarm
  about once in 100,000 windows at λ = 5 a minute; a rise to 15 a minute over a baseline of 1 fires once
  8 of them fall within a minute, about half a minute after it starts.
- **One at a time.** A monitor has at most one open alert (a unique constraint); a later window of the
  same wave raises its peak instead of a new alert.
- **Close.** An open alert closes when, five minutes or more after it opened, the last five minutes
  hold no more negatives than `5λ + 2 * sqrt(max(5λ, 1))` (back within two standard deviations).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction

from firstring.lib.bulk import update_rows
from firstring.lib.terms import top_terms
from firstring.listening.models import Alert, Mention, Monitor, MonitorMatch, SpikeState
from firstring.listening.notify import alert_queue_notifications
from firstring.listening.query import parse_query

MINUTE = timedelta(minutes=1)
WINDOW = timedelta(seconds=60)
HALF_LIFE_MINUTES = 30
ALPHA = 1 - 0.5 ** (1 / HALF_LIFE_MINUTES)
WARMUP = timedelta(minutes=15)
MIN_COUNT = 8
Z_OPEN = 5.0
CLOSE_WINDOW = timedelta(minutes=5)
CLOSE_SIGMAS = 2.0
SAMPLES = 5
TOP_TERMS = 8


def z_score(count: int, baseline: float) -> float:
    return (count - baseline) / math.sqrt(max(baseline, 1.0))


def should_open(*, count: int, baseline: float, listened: timedelta) -> bool:
    return listened >= WARMUP and count >= MIN_COUNT and z_score(count, baseline) >= Z_OPEN


def should_close(*, count: int, baseline: float) -> bool:
    expected = baseline * (CLOSE_WINDOW / MINUTE)
    return count <= expected + CLOSE_SIGMAS * math.sqrt(max(expected, 1.0))


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def baseline_estimate(state: SpikeState) -> float:
    """The EWMA corrected for its start at zero: after n minutes, divided by 1 - (1 - alpha)^n."""
    if state.minutes == 0:
        return 0.0
    return state.baseline / (1 - (1 - ALPHA) ** state.minutes)


def _advance(state: SpikeState, moment: datetime, *, frozen: bool) -> None:
    """Fold the minutes that ended before `moment` into the baseline (minutes without any count as 0)."""
    minute = _minute(moment)
    if state.bucket_start is None:
        state.bucket_start, state.bucket_count = _minute(min(state.started_at, moment)), 0
    if minute <= state.bucket_start:
        return
    gap = int((minute - state.bucket_start) / MINUTE)
    if not frozen:
        state.baseline = ALPHA * state.bucket_count + (1 - ALPHA) * state.baseline
        state.baseline *= (1 - ALPHA) ** (gap - 1)
        state.minutes += gap
    state.bucket_start, state.bucket_count = minute, 0


def spikes_start(*, monitor_ids: Iterable[int], clock: datetime) -> None:
    """Start the warm-up of monitors that have not listened before (their first batch's time)."""
    wanted = set(monitor_ids)
    known = set(SpikeState.objects.filter(monitor_id__in=wanted).values_list("monitor_id", flat=True))
    if wanted - known:
        SpikeState.objects.bulk_create(
            [SpikeState(monitor_id=pk, started_at=clock) for pk in sorted(wanted - known)],
            ignore_conflicts=True,
        )


@dataclass(frozen=True)
class SpikeReport:
    opened: list[int]
    closed: list[int]


def spikes_observe(*, negatives: dict[int, list[datetime]], clock: datetime) -> SpikeReport:
    """Feed the negative mentions just stored (per monitor, their times) to the rule; open and close alerts.

    Runs inside the transaction that stored the matches, so that the window counts include them. A few
    queries per batch whatever the number of monitors: the states (locked), the windows, the writes.
    """
    opened: list[int] = []
    open_alerts = {alert.monitor_id: alert for alert in Alert.objects.filter(status=Alert.Status.OPEN)}
    if negatives:
        ids = sorted(negatives)
        states = {s.monitor_id: s for s in SpikeState.objects.select_for_update().filter(monitor_id__in=ids)}
        for pk in ids:
            if pk not in states:  # a monitor created since its batch's spikes_start
                states[pk] = SpikeState.objects.create(monitor_id=pk, started_at=min(negatives[pk]))
        earliest = min(min(times) for times in negatives.values())
        latest = max(max(times) for times in negatives.values())
        known: dict[int, list[datetime]] = defaultdict(list)
        for monitor_id, posted_at in (
            MonitorMatch.objects.filter(
                monitor_id__in=ids, negative=True, posted_at__gt=earliest - WINDOW, posted_at__lte=latest
            )
            .order_by("posted_at")
            .values_list("monitor_id", "posted_at")
        ):
            known[monitor_id].append(posted_at)
        for monitor_id in ids:
            state, times, alert = states[monitor_id], known[monitor_id], open_alerts.get(monitor_id)
            for moment in sorted(negatives[monitor_id]):
                _advance(state, moment, frozen=alert is not None)
                state.bucket_count += 1
                # The window is (moment - 60 s, moment].
                count = bisect_right(times, moment) - bisect_right(times, moment - WINDOW)
                if alert is None:
                    baseline = baseline_estimate(state)
                    if should_open(count=count, baseline=baseline, listened=moment - state.started_at):
                        alert = _open(monitor_id=monitor_id, moment=moment, count=count, baseline=baseline)
                        open_alerts[monitor_id] = alert
                        opened.append(alert.pk)
                elif count > alert.peak_count:
                    alert.peak_count = count
                    alert.save(update_fields=["peak_count"])
        update_rows([states[pk] for pk in ids], ["bucket_start", "bucket_count", "baseline", "minutes"])
    closed = alerts_close_due(clock=clock, open_alerts=list(open_alerts.values()))
    return SpikeReport(opened=opened, closed=closed)


def _open(*, monitor_id: int, moment: datetime, count: int, baseline: float) -> Alert:
    alert = Alert.objects.create(
        monitor_id=monitor_id,
        opened_at=moment,
        count=count,
        baseline=round(baseline, 4),
        z_score=round(z_score(count, baseline), 3),
        peak_count=count,
    )
    window = list(
        Mention.objects.filter(
            matches__monitor_id=monitor_id,
            matches__negative=True,
            matches__posted_at__gt=moment - WINDOW,
            matches__posted_at__lte=moment,
        ).order_by("-reach", "-posted_at")
    )
    monitor = Monitor.objects.get(pk=monitor_id)
    words = [word for term in parse_query(monitor.query).terms for word in term.split()]
    alert.top_terms = top_terms((m.text for m in window), exclude=words, limit=TOP_TERMS)
    alert.save(update_fields=["top_terms"])
    alert.samples.set(window[:SAMPLES])
    alert_queue_notifications(alert_id=alert.pk)
    return alert


def alerts_close_due(*, clock: datetime, open_alerts: Sequence[Alert] | None = None) -> list[int]:
    """Close the open alerts whose monitor's negative rate is back within its baseline."""
    closed: list[int] = []
    alerts = (
        open_alerts
        if open_alerts is not None
        else list(Alert.objects.filter(status=Alert.Status.OPEN).select_related("monitor"))
    )
    for alert in alerts:
        if clock - alert.opened_at < CLOSE_WINDOW:
            continue
        count = MonitorMatch.objects.filter(
            monitor_id=alert.monitor_id,
            negative=True,
            posted_at__gt=clock - CLOSE_WINDOW,
            posted_at__lte=clock,
        ).count()
        state = SpikeState.objects.filter(monitor_id=alert.monitor_id).first()
        if should_close(count=count, baseline=baseline_estimate(state) if state else 0.0):
            with transaction.atomic():
                Alert.objects.filter(pk=alert.pk, status=Alert.Status.OPEN).update(
                    status=Alert.Status.CLOSED, closed_at=clock
                )
            closed.append(alert.pk)
    return closed
