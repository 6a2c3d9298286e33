"""The community's public pages under /<prefix>/<lang>/: threads, sign-in by e-mail, My conversations.

Each view loads the help center and language through the help center's `visitor_view` and the
signed-in member through `community.session`; forms post (CSRF-checked) and redirect. A domain error
is an HTML page with its status code and message; what may not be seen is a 404.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from firstring.community import selectors
from firstring.community.models import Category, Member, Thread
from firstring.community.services import (
    answer_accept,
    answer_create,
    post_flag,
    post_vote,
    signin_link_send,
    signin_link_use,
    thread_create,
)
from firstring.community.session import member_from_request, member_sign_in, member_sign_out
from firstring.conversations.access import (
    conversation_get_for_customer,
    conversations_of_customer,
    messages_shown_to_customer,
)
from firstring.knowledge.helpcenter.views import visitor_view
from firstring.knowledge.models import HelpCenter
from firstring.lib.errors import DomainError, InvalidInput, NotFound

View = Callable[..., HttpResponseBase]
MAX_CONVERSATIONS = 50


class EmailForm(forms.Form):
    email = forms.EmailField(max_length=320)


class ThreadForm(forms.Form):
    category = forms.SlugField(max_length=80, required=False)
    title = forms.CharField(max_length=200, min_length=5)
    body = forms.CharField(max_length=20_000, strip=False, widget=forms.Textarea)


class AnswerForm(forms.Form):
    body = forms.CharField(max_length=20_000, strip=False, widget=forms.Textarea)


class VoteForm(forms.Form):
    value = forms.TypedChoiceField(choices=[("1", "up"), ("-1", "down"), ("0", "none")], coerce=int)


class FlagForm(forms.Form):
    reason = forms.CharField(max_length=200, required=False)


def _valid(form: forms.Form) -> dict[str, Any]:
    if not form.is_valid():
        problems = "; ".join(
            f"{field}: {' '.join(str(e) for e in errors)}" for field, errors in form.errors.items()
        )
        raise InvalidInput(problems)
    return form.cleaned_data


def community_view(view: View) -> View:
    """A community page: the help center, language and member passed in; domain errors as pages."""

    @functools.wraps(view)
    def inner(
        request: HttpRequest, center: HelpCenter, *args: Any, lang: str, **kwargs: Any
    ) -> HttpResponseBase:
        member = member_from_request(request)
        try:
            return view(request, center, lang, member, *args, **kwargs)
        except NotFound:
            raise
        except DomainError as error:
            context = _context(center, lang, member, message=str(error))
            return render(request, "community/error.html", context, status=error.status_code)

    return visitor_view(inner)


def _context(center: HelpCenter, lang: str, member: Member | None, **extra: Any) -> dict[str, Any]:
    return {"center": center, "lang": lang, "languages": center.all_languages, "member": member, **extra}


def _require_member(member: Member | None) -> Member:
    if member is None:
        raise _SignInNeeded
    return member


class _SignInNeeded(DomainError):
    status_code = 403

    def __str__(self) -> str:
        return _("Sign in first: we send you a link by e-mail.")


def _thread_url(center: HelpCenter, lang: str, thread_id: int) -> str:
    return reverse("community:thread", kwargs={"prefix": center.prefix, "lang": lang, "thread_id": thread_id})


@require_GET
@community_view
def index(request: HttpRequest, center: HelpCenter, lang: str, member: Member | None) -> HttpResponse:
    return _thread_list(request, center, lang, member, category=None)


@require_GET
@community_view
def category(
    request: HttpRequest, center: HelpCenter, lang: str, member: Member | None, slug: str
) -> HttpResponse:
    found = selectors.category_get(help_center=center, slug=slug)
    return _thread_list(request, center, lang, member, category=found)


def _thread_list(
    request: HttpRequest, center: HelpCenter, lang: str, member: Member | None, category: Category | None
) -> HttpResponse:
    unanswered = request.GET.get("show") == "unanswered"
    threads = selectors.threads_for_visitor(help_center=center, category=category, unanswered=unanswered)
    context = _context(
        center,
        lang,
        member,
        threads=threads,
        unanswered=unanswered,
        category=category,
        categories=selectors.categories(help_center=center),
    )
    return render(request, "community/index.html", context)


@require_http_methods(["GET", "POST"])
@community_view
def ask(request: HttpRequest, center: HelpCenter, lang: str, member: Member | None) -> HttpResponse:
    if request.method == "GET":
        context = _context(
            center,
            lang,
            member,
            categories=selectors.categories(help_center=center),
            chosen=request.GET.get("category", ""),
        )
        return render(request, "community/ask.html", context)
    data = _valid(ThreadForm(request.POST))
    thread = thread_create(
        help_center=center,
        author=_require_member(member),
        title=data["title"],
        body=data["body"],
        language=lang,
        category=selectors.category_get(help_center=center, slug=data["category"])
        if data["category"]
        else None,
    )
    if thread.is_hidden:
        messages.info(request, _("Thanks. Your question waits for a moderator before it is shown."))
        return redirect("community:index", prefix=center.prefix, lang=lang)
    return redirect(_thread_url(center, lang, thread.pk))


@require_GET
@community_view
def thread(
    request: HttpRequest, center: HelpCenter, lang: str, member: Member | None, thread_id: int
) -> HttpResponse:
    try:
        found = selectors.thread_for_visitor(help_center=center, thread_id=thread_id)
    except NotFound:
        merged = selectors.thread_merged_into(help_center=center, thread_id=thread_id)
        if merged is None:
            raise
        # A duplicate merged into another thread: its address now lives there, for people and crawlers.
        return redirect(_thread_url(center, lang, merged.pk), permanent=True)
    posts = selectors.posts_for_visitor(thread=found)
    votes = selectors.member_votes(member=member, posts=posts)
    may_accept = (
        member is not None
        and found.kind == Thread.Kind.QUESTION
        and found.author_member_id == member.pk
        and not member.is_banned
    )
    context = _context(
        center,
        lang,
        member,
        thread=found,
        question=posts[0] if posts and posts[0].is_question else None,
        answers=[p for p in posts if not p.is_question],
        votes=votes,
        may_accept=may_accept,
        form=AnswerForm(),
    )
    return render(request, "community/thread.html", context)


@require_POST
@community_view
def answer(
    request: HttpRequest, center: HelpCenter, lang: str, member: Member | None, thread_id: int
) -> HttpResponse:
    found = selectors.thread_for_visitor(help_center=center, thread_id=thread_id)
    data = _valid(AnswerForm(request.POST))
    post = answer_create(thread=found, author=_require_member(member), body=data["body"])
    if post.is_hidden:
        messages.info(request, _("Thanks. Your answer waits for a moderator before it is shown."))
    return redirect(_thread_url(center, lang, found.pk) + f"#post-{post.pk}")


@require_POST
@community_view
def accept(
    request: HttpRequest, center: HelpCenter, lang: str, member: Member | None, thread_id: int, post_id: int
) -> HttpResponse:
    found = selectors.thread_for_visitor(help_center=center, thread_id=thread_id)
    post = selectors.post_for_visitor(help_center=center, post_id=post_id)
    answer_accept(thread=found, post=post, actor=_require_member(member))
    return redirect(_thread_url(center, lang, found.pk) + f"#post-{post.pk}")


@require_POST
@community_view
def vote(
    request: HttpRequest, center: HelpCenter, lang: str, member: Member | None, post_id: int
) -> HttpResponse:
    post = selectors.post_for_visitor(help_center=center, post_id=post_id)
    data = _valid(VoteForm(request.POST))
    post_vote(post=post, member=_require_member(member), value=data["value"])
    return redirect(_thread_url(center, lang, post.thread_id) + f"#post-{post.pk}")


@require_POST
@community_view
def flag(
    request: HttpRequest, center: HelpCenter, lang: str, member: Member | None, post_id: int
) -> HttpResponse:
    post = selectors.post_for_visitor(help_center=center, post_id=post_id)
    data = _valid(FlagForm(request.POST))
    post_flag(post=post, member=_require_member(member), reason=data["reason"])
    messages.info(request, _("Thanks. A moderator will look at it."))
    return redirect(_thread_url(center, lang, post.thread_id))


@require_http_methods(["GET", "POST"])
@community_view
def signin(request: HttpRequest, center: HelpCenter, lang: str, member: Member | None) -> HttpResponse:
    if request.method == "GET":
        return render(request, "community/signin.html", _context(center, lang, member, form=EmailForm()))
    data = _valid(EmailForm(request.POST))

    def link_url(token: str) -> str:
        path = reverse(
            "community:signin-link", kwargs={"prefix": center.prefix, "lang": lang, "token": token}
        )
        return request.build_absolute_uri(path)

    signin_link_send(help_center=center, email=data["email"], language=lang, link_url=link_url)
    return render(request, "community/signin_sent.html", _context(center, lang, member, email=data["email"]))


@require_http_methods(["GET", "POST"])
@community_view
def signin_link(
    request: HttpRequest, center: HelpCenter, lang: str, member: Member | None, token: str
) -> HttpResponse:
    # GET only shows a button: mail scanners that open links must not use up a single-use link.
    if len(token) > 500:
        raise InvalidInput("This is not a valid sign-in link.")
    if request.method == "GET":
        return render(request, "community/signin_confirm.html", _context(center, lang, member, token=token))
    signed_in = signin_link_use(help_center=center, token=token)
    member_sign_in(request, signed_in)
    return redirect("community:my-conversations", prefix=center.prefix, lang=lang)


@require_POST
@community_view
def signout(request: HttpRequest, center: HelpCenter, lang: str, member: Member | None) -> HttpResponse:
    member_sign_out(request)
    return redirect("community:index", prefix=center.prefix, lang=lang)


@require_GET
@community_view
def my_conversations(
    request: HttpRequest, center: HelpCenter, lang: str, member: Member | None
) -> HttpResponse:
    me = _require_member(member)
    conversations = (
        conversations_of_customer(me.customer)
        .select_related("channel")
        .order_by("-last_message_at", "-id")[:MAX_CONVERSATIONS]
    )
    context = _context(center, lang, member, conversations=list(conversations))
    return render(request, "community/my_conversations.html", context)


@require_GET
@community_view
def my_conversation(
    request: HttpRequest, center: HelpCenter, lang: str, member: Member | None, conversation_id: int
) -> HttpResponse:
    me = _require_member(member)
    if not 0 < conversation_id <= selectors.MAX_ID:
        raise NotFound("no such conversation")
    conversation = conversation_get_for_customer(me.customer, conversation_id)
    shown = messages_shown_to_customer(conversation)
    context = _context(center, lang, member, conversation=conversation, shown=list(shown))
    return render(request, "community/my_conversation.html", context)
