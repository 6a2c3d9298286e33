"""A worker's live updates reach the server's websockets: signed, checked, then published there."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.test import Client

from firstring.conversations.live import forward_signature


def _post(client: Client, sends: object, *, signature: str | None = None, raw: bytes | None = None):
    body = raw if raw is not None else json.dumps({"sends": sends}).encode()
    return client.post(
        "/internal/live/",
        data=body,
        content_type="application/json",
        HTTP_X_FIRSTRING_SIGNATURE=forward_signature(body) if signature is None else signature,
    )


def test_a_signed_update_is_published_to_its_group():
    payload = {"type": "user.notice", "kind": "offer"}

    def publish_and_receive() -> tuple[int, dict[str, str]]:
        layer = get_channel_layer()
        channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)("user-7", channel)
        status = _post(Client(), [["user-7", payload]]).status_code
        received = async_to_sync(layer.receive)(channel)
        async_to_sync(layer.group_discard)("user-7", channel)
        return status, received

    # In a thread of its own, as in the server: the browser tests leave an event loop in this one.
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(publish_and_receive).result(timeout=10) == (204, payload)


@pytest.mark.parametrize(
    ("sends", "raw", "signature", "status"),
    [
        ([["user-7", {"type": "user.notice", "kind": "offer"}]], None, "0" * 64, 403),
        ([["user-7", {"type": "user.notice", "kind": "offer"}]], None, "", 403),
        (None, b"not json", None, 422),
        ([["admins", {"type": "user.notice"}]], None, None, 422),
        ([["user-7", {"type": "websocket.close"}]], None, None, 422),
        ([["user-7", {"type": "user.notice", "kind": ["x"]}]], None, None, 422),
        ([["user-7"]], None, None, 422),
        ("x", None, None, 422),
        ([["inbox", {"type": "conversation.changed"}]] * 1001, None, None, 422),
    ],
)
def test_unsigned_or_unexpected_updates_are_refused(sends, raw, signature, status):
    assert _post(Client(), sends, signature=signature, raw=raw).status_code == status


def test_only_post():
    assert Client().get("/internal/live/").status_code == 405
