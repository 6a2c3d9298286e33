"""Import messages in bulk through the same receive path the channels use."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import ValidationError as PydanticError

from firstring.api.inbound import InboundIn, inbound_from
from firstring.channels.models import Channel
from firstring.conversations.services import Inbound, receive_message, receive_messages
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


def import_jsonl(lines: Iterable[str], *, default_channel: str = "api", batch: int = 200) -> ImportReport:
    """Each line is a JSON body as POST /api/v1/inbound takes it. Bad lines are reported and skipped.

    Good lines are received `batch` at a time, one transaction each, in the order of the file.
    """
    report = ImportReport()
    channels: dict[str, Channel | None] = {}
    pending: list[tuple[int, Inbound]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            data.setdefault("channel", default_channel)
            pending.append((number, inbound_from(InboundIn.model_validate(data), channels)))
        except (ValueError, PydanticError) as error:
            report.errors.append(f"line {number}: {str(error).splitlines()[0][:200]}")
        except DomainError as error:
            report.errors.append(f"line {number}: {error}")
        if len(pending) >= batch:
            _receive(pending, report)
            pending = []
    _receive(pending, report)
    return report


def _receive(pending: list[tuple[int, Inbound]], report: ImportReport) -> None:
    try:
        results = receive_messages([inbound for _, inbound in pending])
    except DomainError:
        # A batch is all or nothing: find the bad line by receiving this batch's lines one by one.
        results = []
        for number, inbound in pending:
            try:
                results.append(receive_message(inbound))
            except DomainError as error:
                report.errors.append(f"line {number}: {error}")
    for result in results:
        if result.created:
            report.created += 1
        else:
            report.duplicates += 1
