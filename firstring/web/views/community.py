"""The community for staff: the moderation queue, every thread (hidden ones too), staff answers and
announcements, hiding and restoring posts, locking, moving and merging threads; managers ban members.

Forms post normally and redirect; in the queue, HTMX swaps the one row a decision settled.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from firstring.accounts.access import signed_in_user
from firstring.community import selectors
from firstring.community.models import Category, Thread
from firstring.community.services import (
    answer_accept,
    answer_create,
    article_draft_from_answer,
    member_ban,
    member_unban,
    post_hide,
    post_restore,
    thread_create,
    thread_lock,
    thread_merge,
    thread_move,
    thread_publish_from_conversation,
    thread_unlock,
)
from firstring.conversations.access import conversation_get_for_user
from firstring.conversations.models import Conversation
from firstring.knowledge.models import ArticleTranslation, HelpCenter, Section
from firstring.lib.errors import Conflict, DomainError, InvalidInput
from firstring.web.errors import agent_view, is_htmx
from firstring.web.forms import valid

MAX_ID = 2**63 - 1


class NewThreadForm(forms.Form):
    center = forms.IntegerField(min_value=1, max_value=MAX_ID)
    kind = forms.ChoiceField(choices=Thread.Kind.choices)
    language = forms.CharField(max_length=16)
    title = forms.CharField(max_length=200)
    body = forms.CharField(max_length=20_000, strip=False)


class AnswerForm(forms.Form):
    body = forms.CharField(max_length=20_000, strip=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=200, required=False)


class AcceptForm(forms.Form):
    post = forms.IntegerField(min_value=1, max_value=MAX_ID)


class MoveForm(forms.Form):
    category = forms.IntegerField(min_value=1, max_value=MAX_ID)


class MergeForm(forms.Form):
    into = forms.IntegerField(min_value=1, max_value=MAX_ID)


class ArticleForm(forms.Form):
    section = forms.IntegerField(min_value=1, max_value=MAX_ID)


class PublishForm(forms.Form):
    center = forms.IntegerField(min_value=1, max_value=MAX_ID)
    language = forms.CharField(max_length=16)
    title = forms.CharField(max_length=200)
    question = forms.CharField(max_length=20_000, strip=False)
    answer = forms.CharField(max_length=20_000, strip=False)
    action = forms.ChoiceField(choices=[("preview", "preview"), ("post", "post")])


@require_http_methods(["GET", "POST"])
@agent_view
def conversation_publish(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """A resolved conversation's answer to the community: the anonymised draft, a preview, then the post."""
    user = signed_in_user(request)
    conversation = conversation_get_for_user(user, conversation_id)
    centers = list(HelpCenter.objects.order_by("name", "pk"))
    context: dict[str, Any] = {"conversation": conversation, "centers": centers, "preview": None}
    if request.method == "GET":
        if conversation.status != Conversation.Status.RESOLVED:
            raise Conflict("Only a resolved conversation's answer goes to the community.")
        draft = selectors.publication_draft(conversation=conversation)
        center = centers[0] if centers else None
        context["form"] = {
            "center": center.pk if center else "",
            "language": conversation.language
            if center and conversation.language in center.all_languages
            else (center.default_language if center else ""),
            "title": draft.title,
            "question": draft.question,
            "answer": draft.answer,
        }
        return render(request, "web/community/publish.html", context)
    data = valid(PublishForm(request.POST))
    context["form"] = data
    center = next((c for c in centers if c.pk == data["center"]), None)
    try:
        if center is None:
            raise InvalidInput("no such help center")
        if data["action"] == "preview":
            context["preview"] = selectors.publication_preview(
                conversation=conversation,
                title=data["title"],
                question=data["question"],
                answer=data["answer"],
            )
            return render(request, "web/community/publish.html", context)
        thread = thread_publish_from_conversation(
            conversation=conversation,
            actor=user,
            help_center=center,
            language=data["language"],
            title=data["title"],
            question=data["question"],
            answer=data["answer"],
        )
    except DomainError as error:
        # Back to the form with the agent's text kept, and the reason.
        context["error"] = str(error)
        return render(request, "web/community/publish.html", context, status=error.status_code)
    return redirect("web:community-thread", thread.pk)


@require_GET
@agent_view
def queue(request: HttpRequest) -> HttpResponse:
    context = {
        "items": selectors.moderation_queue(),
        "threads": selectors.recent_threads_for_staff(),
        "centers": list(HelpCenter.objects.all()),
        "kinds": Thread.Kind.choices,
    }
    return render(request, "web/community/queue.html", context)


@require_POST
@agent_view
def thread_new(request: HttpRequest) -> HttpResponse:
    data = valid(NewThreadForm(request.POST))
    center = HelpCenter.objects.filter(pk=data["center"]).first()
    if center is None:
        raise InvalidInput("no such help center")
    thread = thread_create(
        help_center=center,
        author=signed_in_user(request),
        title=data["title"],
        body=data["body"],
        language=data["language"],
        kind=data["kind"],
    )
    return redirect("web:community-thread", thread.pk)


@require_GET
@agent_view
def thread_detail(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread = selectors.thread_for_staff(thread_id=thread_id)
    context = {
        "thread": thread,
        "posts": list(selectors.posts_for_staff(thread=thread)),
        "categories": selectors.categories(help_center=thread.help_center),
        "sections": Section.objects.filter(category__help_center=thread.help_center_id).select_related(
            "category"
        ),
        "article": ArticleTranslation.objects.filter(article=thread.article_id).order_by("pk").first()
        if thread.article_id
        else None,
    }
    return render(request, "web/community/thread.html", context)


@require_POST
@agent_view
def thread_action(request: HttpRequest, thread_id: int, action: str) -> HttpResponse:
    user = signed_in_user(request)
    thread = selectors.thread_for_staff(thread_id=thread_id)
    if action == "answer":
        answer_create(thread=thread, author=user, body=valid(AnswerForm(request.POST))["body"])
    elif action == "accept":
        post = selectors.post_for_staff(post_id=valid(AcceptForm(request.POST))["post"])
        answer_accept(thread=thread, post=post, actor=user)
    elif action == "merge":
        into = selectors.thread_for_staff(thread_id=valid(MergeForm(request.POST))["into"])
        thread = thread_merge(thread=thread, into=into, actor=user)
    elif action == "move":
        category = Category.objects.filter(pk=valid(MoveForm(request.POST))["category"]).first()
        if category is None:
            raise InvalidInput("no such category")
        thread_move(thread=thread, category=category, actor=user)
    elif action == "lock":
        thread_lock(thread=thread, actor=user)
    else:
        thread_unlock(thread=thread, actor=user)
    return redirect("web:community-thread", thread.pk)


@require_POST
@agent_view
def post_action(request: HttpRequest, post_id: int, action: str) -> HttpResponse:
    user = signed_in_user(request)
    post = selectors.post_for_staff(post_id=post_id)
    if action == "hide":
        post = post_hide(post=post, actor=user, reason=valid(ReasonForm(request.POST))["reason"])
    else:
        post = post_restore(post=post, actor=user)
    if is_htmx(request):
        return render(request, "web/community/queue.html#row", {"item": None, "settled": post})
    if request.POST.get("next") == "queue":
        return redirect("web:community")
    return redirect("web:community-thread", post.thread_id)


@require_POST
@agent_view
def post_article(request: HttpRequest, post_id: int) -> HttpResponse:
    """One click: the answer as a draft article (editors only), opened in the knowledge base's editor."""
    post = selectors.post_for_staff(post_id=post_id)
    section = (
        Section.objects.select_related("category")
        .filter(pk=valid(ArticleForm(request.POST))["section"])
        .first()
    )
    if section is None:
        raise InvalidInput("no such section")
    translation = article_draft_from_answer(post=post, section=section, actor=signed_in_user(request))
    return redirect("web:kb-edit", translation.pk)


@require_POST
@agent_view
def member_action(request: HttpRequest, member_id: int, action: str) -> HttpResponse:
    user = signed_in_user(request)
    member = selectors.member_for_staff(member_id=member_id)
    if action == "ban":
        member_ban(member=member, actor=user, reason=valid(ReasonForm(request.POST))["reason"])
    else:
        member_unban(member=member, actor=user)
    return redirect("web:community")
