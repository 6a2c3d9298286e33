"""A call's lock is its own: concurrent calls of one number never wait on each other (PostgreSQL)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, transaction

from firstring.voice import services
from firstring.voice.services import call_incoming

NUMBER = "+12025550100"  # the `phone` fixture's


@pytest.mark.django_db(transaction=True)
def test_locking_a_call_leaves_the_numbers_other_calls_free(phone):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises every writer anyway")
    first, _ = call_incoming(
        channel=phone, provider="twilio", external_id="CA-first", caller="+14155550101", called=NUMBER
    )
    second, _ = call_incoming(
        channel=phone, provider="twilio", external_id="CA-second", caller="+14155550102", called=NUMBER
    )
    outcome: dict[str, Any] = {}

    def lock_the_second() -> None:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '2s'")
                outcome["locked"] = services._locked(second).pk
        except Exception as error:
            outcome["error"] = error
        finally:
            connection.close()

    with transaction.atomic():
        services._locked(first)
        # While the first call is locked (as during its menu input), another caller's webhook locks
        # theirs: before, both locked the number's channel row too, and the second waited.
        other = threading.Thread(target=lock_the_second)
        other.start()
        other.join(10)
    assert outcome == {"locked": second.pk}
