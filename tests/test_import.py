"""`firstring import`: JSON lines received in batches through the one way in; bad lines reported."""

from __future__ import annotations

import json

import pytest

from firstring.conversations.models import Conversation, Message
from firstring.customers.models import Customer
from firstring.importing import import_jsonl

pytestmark = pytest.mark.django_db


def _line(n: int, **fields: object) -> str:
    body = {"external_id": f"imp-{n}", "from": {"email": f"c{n % 4}@example.com"}, "text": f"message {n}"}
    return json.dumps({**body, **fields})


def test_import_receives_every_good_line_in_order_and_reports_the_bad_ones(api_channel):
    lines = [_line(n) for n in range(25)]
    lines[3] = "{not json"
    lines[7] = _line(7, text="   ")  # valid JSON, but an empty message: refused by the receive service
    lines[11] = _line(11, channel="nope")
    lines[12] = json.dumps([1])
    lines.append(_line(0))  # a redelivery of the first line
    report = import_jsonl(lines, batch=4)
    assert report.created == 21 and report.duplicates == 1
    assert [e.split(":")[0] for e in report.errors] == ["line 4", "line 8", "line 12", "line 13"]
    assert "the message is empty" in report.errors[1]
    assert Message.objects.count() == 21
    assert Customer.objects.count() == 4 and Conversation.objects.count() == 4
    texts = list(
        Message.objects.filter(author_customer__identities__value="c1@example.com").values_list(
            "text", flat=True
        )
    )
    assert texts == ["message 1", "message 5", "message 9", "message 13", "message 17", "message 21"]


def test_importing_the_same_file_twice_stores_nothing_new(api_channel):
    lines = [_line(n) for n in range(10)]
    assert import_jsonl(lines).created == 10
    again = import_jsonl(lines)
    assert (again.created, again.duplicates, again.errors) == (0, 10, [])
    assert Message.objects.count() == 10
