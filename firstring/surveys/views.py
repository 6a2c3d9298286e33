"""The public survey page: /survey/<signed token>/ shows the question, POST records the one answer.

No sign-in and no JavaScript: a form of radio buttons (1-5, or 0-10) and a comment, protected by
Django's CSRF token. A link from an e-mail may preselect a score (?score=4), but only the POST records
it, so a mail scanner following links answers nothing. A bad link is a 404, an answered survey a 409,
an expired one a 410, a bad score or comment a 422 — each a page that says so.
"""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from firstring.lib.errors import DomainError
from firstring.surveys.models import SCALES, Kind
from firstring.surveys.services import MAX_COMMENT_CHARS, QUESTIONS, survey_answer, survey_for_token


class AnswerForm(forms.Form):
    score = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect)
    comment = forms.CharField(required=False, max_length=MAX_COMMENT_CHARS, widget=forms.Textarea)

    def __init__(self, *args: object, kind: Kind, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["score"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [(n, str(n)) for n in SCALES[kind]]


def _private(response: HttpResponse) -> HttpResponse:
    # A survey page is the customer's own: neither cached nor indexed.
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def _closed(request: HttpRequest, error: DomainError) -> HttpResponse:
    return _private(render(request, "surveys/closed.html", {"message": str(error)}, status=error.status_code))


@require_http_methods(["GET", "POST"])
def page(request: HttpRequest, signed: str) -> HttpResponse:
    try:
        survey = survey_for_token(signed=signed)
    except DomainError as error:
        return _closed(request, error)
    kind = Kind(survey.kind)
    status = 200
    if request.method == "POST":
        form = AnswerForm(request.POST, kind=kind)
        if form.is_valid():
            try:
                survey_answer(
                    signed=signed, score=form.cleaned_data["score"], comment=form.cleaned_data["comment"]
                )
            except DomainError as error:
                return _closed(request, error)
            return _private(render(request, "surveys/thanks.html", {"channel": survey.channel}))
        status = 422
    else:
        form = AnswerForm(initial={"score": request.GET.get("score", "")}, kind=kind)
    context = {"form": form, "question": QUESTIONS[kind], "kind": kind, "channel": survey.channel}
    return _private(render(request, "surveys/page.html", context, status=status))
