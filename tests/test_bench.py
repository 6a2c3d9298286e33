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
from firstring.bench import inbox as inbox_bench
from firstring.bench import ingest as ingest_bench


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


def test_unknown_benchmark_is_refused(capsys):
    assert available() == ["inbox", "ingest", "tone"]
    assert run_benchmark("nope", []) == 2
    assert "available: inbox, ingest, tone" in capsys.readouterr().err
