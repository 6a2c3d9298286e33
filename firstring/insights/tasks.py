"""Background work of the insights app that is not the pipeline's step."""

from __future__ import annotations

from django_tasks import task


@task()
def messages_reanalyse(message_ids: list[int]) -> None:
    """Classify stored messages again (after a topic was named from them): tone, topics, signals."""
    from firstring.insights.analysis import messages_analyse

    messages_analyse(message_ids=message_ids)
