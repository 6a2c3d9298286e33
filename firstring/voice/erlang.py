"""Erlang C: how many agents a queue of calls needs. Pure functions, no database.

Traffic A (erlangs) = arrival rate * average handling time. With N agents (N > A), the probability that
a call waits is C(N, A) = (A^N/N! * N/(N-A)) / (sum over k<N of A^k/k! + A^N/N! * N/(N-A)); the service
level, the share answered within t seconds, is 1 - C(N, A) * exp(-(N-A) * t/AHT); the average speed of
answer is C(N, A) * AHT/(N-A).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a call has to wait, with `agents` agents and `traffic` erlangs (1.0 if overloaded)."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    # Erlang B by its stable recurrence, then C from B.
    b = 1.0
    for k in range(1, agents + 1):
        b = traffic * b / (k + traffic * b)
    return agents * b / (agents - traffic * (1 - b))


def service_level(agents: int, traffic: float, aht_seconds: float, target_seconds: float) -> float:
    """Share of calls answered within `target_seconds`."""
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    waits = erlang_c(agents, traffic)
    return 1.0 - waits * math.exp(-(agents - traffic) * target_seconds / aht_seconds)


def average_speed_of_answer(agents: int, traffic: float, aht_seconds: float) -> float:
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return math.inf
    return erlang_c(agents, traffic) * aht_seconds / (agents - traffic)


@dataclass(frozen=True)
class Staffing:
    agents: int
    traffic_erlangs: float
    service_level: float
    asa_seconds: float
    occupancy: float


def agents_needed(
    *,
    calls_per_hour: float,
    aht_seconds: float,
    target_level: float = 0.8,
    target_seconds: float = 20.0,
    max_agents: int = 1000,
) -> Staffing:
    """The fewest agents that answer `target_level` of calls within `target_seconds`."""
    if calls_per_hour < 0 or aht_seconds <= 0 or not 0 < target_level < 1 or target_seconds < 0:
        raise ValueError("need calls_per_hour ≥ 0, aht_seconds > 0, 0 < target_level < 1, target_seconds ≥ 0")
    traffic = calls_per_hour * aht_seconds / 3600
    agents = max(1, math.floor(traffic) + 1) if traffic > 0 else 0
    while agents < max_agents and service_level(agents, traffic, aht_seconds, target_seconds) < target_level:
        agents += 1
    return Staffing(
        agents=agents,
        traffic_erlangs=traffic,
        service_level=service_level(agents, traffic, aht_seconds, target_seconds) if agents else 1.0,
        asa_seconds=average_speed_of_answer(agents, traffic, aht_seconds) if agents else 0.0,
        occupancy=traffic / agents if agents else 0.0,
    )
