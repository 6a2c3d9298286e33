"""The public survey page in Chromium without JavaScript: a preselected score, a comment, one answer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from firstring.conversations.models import Conversation
from firstring.surveys.links import survey_path
from firstring.surveys.models import SurveyAnswer
from firstring.surveys.services import survey_request_csat

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def no_js_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_a_customer_answers_the_survey_without_javascript(no_js_page, live_url, receive, email_channel):
    received = receive(email="carla@example.com", text="Where is my parcel?", channel=email_channel)
    Conversation.objects.filter(pk=received.conversation.pk).update(
        status="resolved", resolved_at=timezone.now()
    )
    request = survey_request_csat(conversation_id=received.conversation.pk)
    assert request is not None and request.status == "sent"
    page = no_js_page
    url = f"{live_url}{survey_path(request.token)}"

    page.goto(f"{url}?score=2")
    assert page.is_checked("input[name=score][value='2']")
    page.click("label.score:has-text('4')")
    assert page.is_checked("input[name=score][value='4']")
    page.fill("textarea[name=comment]", "<b>Quick</b> and kind")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Thank you!")
    answer = SurveyAnswer.objects.get()
    assert (answer.score, answer.comment) == (4, "<b>Quick</b> and kind")

    response = page.goto(url)
    assert response is not None and response.status == 409
    assert "answered already" in page.inner_text("main")
