"""The benchmarks keep working: each runs at a tiny size in a database of its own and reports real work.

Not timing tests: what the numbers are is recorded in docs/benchmarks.md. They run on the database the
suite runs on (the suite runs once on SQLite and once on PostgreSQL).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from firstring.bench import available, run_benchmark
from firstring.bench import chat as chat_bench
from firstring.bench import dashboards as dashboards_bench
from firstring.bench import email as email_bench
from firstring.bench import inbox as inbox_bench
from firstring.bench import ingest as ingest_bench
from firstring.bench import listen as listen_bench
from firstring.bench import route as route_bench
from firstring.bench import voice as voice_bench
from firstring.channels.email.testing import dovecot_binary
from tests.conftest import IN_CI
from tests.voice.sip_peers import require_sipp


@pytest.fixture
def own_database(django_db_blocker: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Let the benchmark create its own database beside the test database, and check it is gone after."""
    # Not the default firstring_bench, which a benchmark run by hand may be using right now.
    monkeypatch.setenv("FIRSTRING_BENCH_DB", f"firstring_bench_test_{os.getpid()}")
    bench_dir = Path(settings.VAR_DIR) / "bench"
    before = set(bench_dir.glob("*")) if bench_dir.exists() else set()
    test_database = connection.settings_dict["NAME"]
    with django_db_blocker.unblock():
        yield
    assert connection.settings_dict["NAME"] == test_database
    after = set(bench_dir.glob("*")) if bench_dir.exists() else set()
    assert after <= before, "the benchmark left its database behind"


def test_ingest_receives_every_message_once(own_database):
    result = ingest_bench.main(["--messages", "120", "--workers", "2"])
    assert result["database"] == connection.vendor
    assert result["messages"] == 120
    assert result["messages_per_second"] > 0
    # Redeliveries are stored once; everything else is stored.
    assert result["redelivered"] > 0
    assert result["created"] + result["redelivered"] == 120
    assert result["stored_messages"] == result["created"]
    assert 1 < result["customers"] < result["conversations"] <= result["created"]


def test_inbox_loads_the_history_and_answers_every_page(own_database):
    result = inbox_bench.main(["--conversations", "40", "--messages", "160", "--rounds", "1"])
    assert result["database"] == connection.vendor
    assert (result["conversations"], result["messages"]) == (40, 160)
    assert result["inbox_p95_ms"] > 0 and result["api_p95_ms"] > 0
    assert result["requests"] > 40


def test_email_imports_a_mailbox_over_imap(own_database):
    if dovecot_binary() is None:
        if IN_CI:
            pytest.fail("dovecot is not installed (dovecot-imapd), and CI requires it")
        pytest.skip("dovecot is not installed (Debian package dovecot-imapd)")
    result = email_bench.main(["--messages", "60", "--batch", "25"])
    assert result["database"] == connection.vendor
    assert result["messages"] == result["fetched"] == 60
    assert result["created"] + result["redelivered"] == 60 and result["rejected"] == 0
    assert result["stored_messages"] == result["created"]
    assert 1 < result["conversations"] < result["created"]
    # Every stored message keeps its original, some bring images and files too.
    assert result["attachments"] > result["created"]
    assert result["messages_per_second"] > 0


def test_route_makes_every_decision_it_times(own_database):
    result = route_bench.main(
        ["--agents", "6", "--waiting", "30", "--decisions", "12", "--probes", "3", "--probe-agents", "2"]
    )
    assert result["database"] == connection.vendor
    assert result["offers"] > 0 and result["offers"] + result["no_agent"] == 12
    assert result["still_waiting"] < 30
    assert 0 < result["decision_p50_ms"] <= result["decision_p99_ms"]
    # Each probe message reached an agent's screen as an offer through the served app and its worker.
    assert result["probes"] == 3
    assert 0 < result["offer_p50_ms"] <= result["offer_p95_ms"]


def test_listen_stores_every_match_and_alerts_on_the_planted_spike_only(own_database):
    result = listen_bench.main(["--events", "6000", "--minutes", "40", "--spike-at", "25", "--batch", "500"])
    assert result["database"] == connection.vendor
    assert result["events"] == sum(result["event_kinds"].values()) > 6000
    # Every matched event stored once and scored; each stored with at least one monitor's match.
    assert result["mentions_stored"] == result["matched_events"] == result["mentions_scored"] > 0
    assert result["matches_stored"] >= result["mentions_stored"]
    assert result["cursor_saved"] and result["reposts_counted"] > 0
    assert 0 < result["alert_latency_s"] <= 60
    assert result["steady_alerts"] == 0
    assert result["events_per_second"] > 0


def test_dashboards_annotate_the_history_and_answer_every_page(own_database):
    result = dashboards_bench.main(
        ["--conversations", "30", "--messages", "120", "--calls", "40", "--rounds", "1"]
    )
    assert result["database"] == connection.vendor
    assert result["messages"] == 120
    inbound = result["insights_rows"]["tones"]
    assert 30 <= inbound < 120
    assert result["insights_rows"]["signals"] == result["insights_rows"]["topics"] == inbound
    assert result["insights_rows"]["conversations"] == 30
    assert result["rollup_rows"] > 0
    assert result["insights_rows"]["survey_answers"] > 0
    assert result["insights_rows"]["survey_requests"] > result["insights_rows"]["survey_answers"]
    assert result["insights_rows"]["calls"] == 40 and result["insights_rows"]["sla_alerts"] > 0
    assert result["requests"] == len(dashboards_bench.pages(1, 1, 1, 1))
    assert result["p95_ms"] > 0


def test_dashboards_reuse_a_kept_history(own_database):
    from firstring.bench._database import drop_kept

    args = ["--conversations", "20", "--messages", "60", "--calls", "10", "--rounds", "1"]
    try:
        first = dashboards_bench.main([*args, "--keep"])
        again = dashboards_bench.main([*args, "--reuse"])
        assert (first["reused"], again["reused"]) == (False, True)
        assert again["messages"] == 60 and again["rollup_rows"] == first["rollup_rows"] > 0
        with pytest.raises(SystemExit, match="run without --reuse"):
            dashboards_bench.main(["--conversations", "20", "--messages", "60", "--calls", "11", "--reuse"])
    finally:
        drop_kept("dashboards")


def test_voice_answers_every_webhook_of_every_call_through_the_served_app(own_database):
    result = voice_bench.main(
        ["--part", "twiml", "--calls", "6", "--rate", "20", "--think", "0.05", "--agents", "2"]
    )
    assert result["database"] == connection.vendor
    assert "sip_calls" not in result
    # Six webhooks a call, each answered with the TwiML the sequence expects; every caller hung up waiting.
    assert result["calls"] == 6 and result["webhooks"] == 36 and result["abandoned_calls"] == 6
    assert result["failed_calls"] == 0 and result["failures"] == {}
    assert 0 < result["twiml_p50_ms"] <= result["twiml_p99_ms"]


def test_voice_times_the_sip_endpoints_answers_and_first_prompts_with_sipp(own_database):
    require_sipp()
    result = voice_bench.main(["--part", "sip", "--sip-calls", "4", "--sip-hold", "1"])
    assert "calls" not in result  # the TwiML part did not run
    assert result["sip_calls"] == result["sip_calls_recorded"] == result["menu_heard"] == 4
    assert result["sip_failed_calls"] == 0
    assert 0 < result["answer_p50_ms"] <= result["answer_p99_ms"]
    assert 0 <= result["menu_p50_ms"] <= result["menu_p99_ms"]


def test_unknown_benchmark_is_refused(capsys):
    names = [
        "chat",
        "dashboards",
        "email",
        "inbox",
        "ingest",
        "listen",
        "route",
        "search",
        "tone",
        "topics",
        "voice",
    ]
    assert available() == names
    assert run_benchmark("nope", []) == 2
    assert f"available: {', '.join(names)}" in capsys.readouterr().err


def test_inbox_reuses_a_kept_history(own_database):
    from firstring.bench._database import drop_kept

    args = ["--conversations", "30", "--messages", "90", "--rounds", "1"]
    try:
        first = inbox_bench.main([*args, "--keep"])
        again = inbox_bench.main([*args, "--reuse"])
        assert (first["reused"], again["reused"]) == (False, True)
        assert (again["conversations"], again["messages"]) == (30, 90)
        with pytest.raises(SystemExit, match="run without --reuse"):
            inbox_bench.main(["--conversations", "31", "--messages", "90", "--rounds", "1", "--reuse"])
    finally:
        drop_kept("inbox")


def test_chat_delivers_every_message_and_reply_over_websockets(own_database):
    result = chat_bench.main(["--visitors", "4", "--messages", "2", "--seconds", "0.5"])
    assert result["visitors"] == 4
    assert (result["messages"], result["replies"], result["lost"]) == (8, 4, 0)
    assert result["p95_ms"] == max(result["visitor_to_agent_p95_ms"], result["agent_to_visitor_p95_ms"]) > 0
