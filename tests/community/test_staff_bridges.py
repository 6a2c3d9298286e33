"""Staff turn the community into knowledge and tidy it: an answer to a draft article, merging duplicates."""

from __future__ import annotations

from django.test import Client

from firstring.community.models import Post, Thread, ThreadSearchEntry, Vote
from firstring.community.services import answer_accept, answer_create, post_vote, thread_create
from firstring.knowledge.models import Article, ArticleTranslation, Category, HelpCenter, Section
from tests.community.conftest import make_member


def _ask(help_center, author, title="How do I reset my password?", body="I forgot it."):
    return thread_create(help_center=help_center, author=author, title=title, body=body, language="en")


def _staff(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_good_answer_becomes_a_draft_article_in_one_click(help_center, section, alice, bob, manager):
    thread = _ask(help_center, alice, title="Reset a [forgotten] password")
    answer = answer_create(thread=thread, author=bob, body="Open **Settings**, then *Reset password*.")
    page = _staff(manager).get(f"/community/threads/{thread.pk}/").content.decode()
    assert f"/community/posts/{answer.pk}/article/" in page

    response = _staff(manager).post(f"/community/posts/{answer.pk}/article/", {"section": section.pk})
    translation = ArticleTranslation.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/kb/t/{translation.pk}/edit/"
    assert translation.state == ArticleTranslation.State.DRAFT and translation.published_at is None
    assert translation.draft_title == "Reset a [forgotten] password"
    assert translation.draft_body.startswith("Open **Settings**, then *Reset password*.")
    assert f"/help/en/community/t/{thread.pk}/" in translation.draft_body
    assert translation.versions.count() == 1 and translation.article.section == section
    thread.refresh_from_db()
    assert thread.article == translation.article
    assert (
        "drafted as the article" in _staff(manager).get(f"/community/threads/{thread.pk}/").content.decode()
    )

    again = _staff(manager).post(f"/community/posts/{answer.pk}/article/", {"section": section.pk})
    assert again.status_code == 409 and Article.objects.count() == 1


def test_drafting_is_for_editors_and_refuses_questions_other_centers_and_bad_input(
    help_center, section, alice, bob, agent, manager
):
    thread = _ask(help_center, alice)
    answer = answer_create(thread=thread, author=bob, body="Use the link on the sign-in page.")
    question = Post.objects.get(thread=thread, is_question=True)
    other = HelpCenter.objects.create(name="Other", prefix="other", default_language="en")
    elsewhere = Section.objects.create(
        category=Category.objects.create(help_center=other, slug="c", name="C"), slug="s", name="S"
    )
    assert (
        _staff(agent).post(f"/community/posts/{answer.pk}/article/", {"section": section.pk}).status_code
        == 403
    )
    client = _staff(manager)
    assert client.post(f"/community/posts/{question.pk}/article/", {"section": section.pk}).status_code == 404
    assert client.post(f"/community/posts/{answer.pk}/article/", {"section": elsewhere.pk}).status_code == 422
    assert client.post(f"/community/posts/{answer.pk}/article/", {"section": "x"}).status_code == 422
    assert client.post(f"/community/posts/{answer.pk}/article/", {"section": 2**63}).status_code == 422
    assert client.post(f"/community/posts/{2**63 - 1}/article/", {"section": section.pk}).status_code == 404
    assert client.get(f"/community/posts/{answer.pk}/article/").status_code == 405
    csrf = Client(enforce_csrf_checks=True)
    csrf.force_login(manager)
    assert csrf.post(f"/community/posts/{answer.pk}/article/", {"section": section.pk}).status_code == 403
    assert not Article.objects.exists()


def test_merging_a_duplicate_moves_its_answers_and_its_address_redirects(help_center, alice, bob, agent):
    carol = make_member("carol@example.com")
    original = _ask(help_center, alice, title="Password reset mail never arrives")
    duplicate = _ask(
        help_center, bob, title="No password reset e-mail", body="The reset e-mail does not come."
    )
    answer = answer_create(thread=duplicate, author=alice, body="Look in the spam folder for it.")
    post_vote(post=answer, member=carol, value=1)
    answer_accept(thread=duplicate, post=answer, actor=bob)
    older = _ask(help_center, carol, title="Where is the reset mail?", body="Nothing in my inbox.")
    _staff(agent).post(f"/community/threads/{older.pk}/merge/", {"into": duplicate.pk})

    response = _staff(agent).post(f"/community/threads/{duplicate.pk}/merge/", {"into": original.pk})
    assert response.status_code == 302
    duplicate.refresh_from_db()
    original.refresh_from_db()
    older.refresh_from_db()
    assert duplicate.merged_into == original and duplicate.is_hidden and duplicate.accepted_post is None
    assert older.merged_into == original, "no chain of redirects"
    answer.refresh_from_db()
    assert answer.thread == original and original.answer_count == 1
    assert Vote.objects.get(post=answer).value == 1
    assert not ThreadSearchEntry.objects.filter(thread=duplicate).exists()
    assert "spam folder" in ThreadSearchEntry.objects.get(thread=original).text

    public = Client().get(f"/help/en/community/t/{duplicate.pk}/")
    assert public.status_code == 301 and public["Location"] == f"/help/en/community/t/{original.pk}/"
    assert (
        Client().get(f"/help/de/community/t/{older.pk}/")["Location"]
        == f"/help/de/community/t/{original.pk}/"
    )
    assert "spam folder" in Client().get(public["Location"]).content.decode()
    index = Client().get("/help/en/community/").content.decode()
    assert "No password reset e-mail" not in index


def test_merging_refuses_itself_a_hidden_or_foreign_target_twice_and_bad_input(
    help_center, alice, bob, agent
):
    one, two = (
        _ask(help_center, alice, title="First question here"),
        _ask(help_center, bob, title="Second one"),
    )
    other = HelpCenter.objects.create(name="Other", prefix="other", default_language="en")
    foreign = _ask(other, agent, title="Elsewhere entirely")
    client = _staff(agent)
    assert client.post(f"/community/threads/{one.pk}/merge/", {"into": one.pk}).status_code == 422
    assert client.post(f"/community/threads/{one.pk}/merge/", {"into": foreign.pk}).status_code == 422
    assert client.post(f"/community/threads/{one.pk}/merge/", {"into": "abc"}).status_code == 422
    assert client.post(f"/community/threads/{one.pk}/merge/", {"into": 2**63 - 1}).status_code == 404
    assert client.post(f"/community/threads/{one.pk}/merge/", {"into": two.pk}).status_code == 302
    assert client.post(f"/community/threads/{one.pk}/merge/", {"into": two.pk}).status_code == 409
    assert client.post(f"/community/threads/{two.pk}/merge/", {"into": one.pk}).status_code == 422
    assert Client().post(f"/community/threads/{two.pk}/merge/", {"into": one.pk}).status_code == 302
    assert Thread.objects.filter(merged_into__isnull=False).count() == 1
