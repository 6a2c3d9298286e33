"""Import messages in bulk through the same receive path the channels use."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import ValidationError as PydanticError

from firstring.api.inbound import InboundIn, claims_from
from firstring.channels.models import Channel
from firstring.conversations.services import Inbound, receive_message
from firstring.lib.errors import DomainError


@dataclass
class ImportReport:
    created: int = 0
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"imported {self.created} messages, {self.duplicates} already present, {len(self.errors)} errors"
        ]
        lines += self.errors[:20]
        return "\n".join(lines)


def import_jsonl(lines: Iterable[str], *, default_channel: str = "api") -> ImportReport:
    """Each line is a JSON body as POST /api/v1/inbound takes it. Bad lines are reported and skipped."""
    report = ImportReport()
    channels: dict[str, Channel | None] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            data.setdefault("channel", default_channel)
            payload = InboundIn.model_validate(data)
        except (ValueError, PydanticError) as error:
            report.errors.append(f"line {number}: {str(error).splitlines()[0][:200]}")
            continue
        if payload.channel not in channels:
            channels[payload.channel] = Channel.objects.filter(slug=payload.channel, enabled=True).first()
        channel = channels[payload.channel]
        if channel is None:
            report.errors.append(f"line {number}: no enabled channel {payload.channel!r}")
            continue
        try:
            result = receive_message(
                Inbound(
                    channel=channel,
                    claims=claims_from(payload.sender, channel.slug),
                    text=payload.text,
                    html=payload.html,
                    external_id=payload.external_id,
                    thread=payload.thread,
                    subject=payload.subject,
                    name=payload.sender.name,
                    language=payload.language,
                    metadata=payload.metadata,
                )
            )
        except DomainError as error:
            report.errors.append(f"line {number}: {error}")
            continue
        if result.created:
            report.created += 1
        else:
            report.duplicates += 1
    return report
