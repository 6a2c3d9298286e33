"""Community members (customers signed in to a help center), threads, posts, votes and flags."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from firstring.conversations.models import Conversation
from firstring.customers.models import Customer
from firstring.insights.models import Topic
from firstring.knowledge.models import Article, HelpCenter


class SignInLink(models.Model):
    """One e-mailed sign-in link: the link carries a signed id and a secret, only its hash is kept here."""

    help_center = models.ForeignKey(HelpCenter, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField(max_length=320)
    secret_hash = models.CharField(max_length=64)
    language = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["email", "created_at"], name="community_link_email")]

    def __str__(self) -> str:
        return f"sign-in link {self.pk}"


class Member(models.Model):
    """A customer as the community knows them: a public name, and whether they are banned."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="community_member")
    display_name = models.CharField(max_length=60)
    banned_at = models.DateTimeField(null=True, blank=True)
    ban_reason = models.CharField(max_length=200, blank=True)
    banned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.display_name

    @property
    def is_banned(self) -> bool:
        return self.banned_at is not None


class Category(models.Model):
    """A topic area of one help center's community; every thread is in exactly one."""

    help_center = models.ForeignKey(HelpCenter, on_delete=models.CASCADE, related_name="community_categories")
    slug = models.SlugField(max_length=80)
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("position", "name", "id")
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["help_center", "slug"], name="community_category_unique_slug")
        ]

    def __str__(self) -> str:
        return self.name


class Thread(models.Model):
    class Kind(models.TextChoices):
        QUESTION = "question", "Question"
        ANNOUNCEMENT = "announcement", "Announcement"

    help_center = models.ForeignKey(HelpCenter, on_delete=models.CASCADE, related_name="community_threads")
    # Of the same help center (checked by the services that set it); a category with threads stays.
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="threads")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.QUESTION)
    language = models.CharField(max_length=16)
    title = models.CharField(max_length=200)
    # Exactly one author: a member (customer) or a staff user.
    author_member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="threads"
    )
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_post = models.ForeignKey(
        "Post", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answer_count = models.PositiveIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    # The bridge: the conversation this thread became for the team (unanswered or negative), or the
    # resolved conversation staff posted it from.
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A duplicate merged into another thread: hidden, its answers moved, its address redirects there.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    # The draft article staff made from one of its answers.
    article = models.ForeignKey(Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    last_activity_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-last_activity_at", "-id")
        indexes = [
            models.Index(
                fields=["help_center", "hidden_at", "-last_activity_at"], name="community_thread_list"
            ),
            models.Index(fields=["kind", "answer_count", "created_at"], name="community_thread_unanswered"),
            models.Index(
                fields=["category", "hidden_at", "-last_activity_at"], name="community_thread_category"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class Post(models.Model):
    """The question (first post) or an answer: Markdown as written, and the sanitised HTML shown."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="posts")
    is_question = models.BooleanField(default=False)
    author_member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="posts"
    )
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    body_html = models.TextField()
    body_text = models.TextField()
    # A hash of the normalised text: the same words posted again by one member are spam.
    fingerprint = models.CharField(max_length=64)
    score = models.IntegerField(default=0)
    flag_count = models.PositiveIntegerField(default=0)
    hidden_at = models.DateTimeField(null=True, blank=True)
    # Why it is hidden: "spam filter: …", "flags", "moderator".
    hidden_reason = models.CharField(max_length=200, blank=True)
    # In the moderation queue: held by the spam filter, or flagged, until a moderator decides.
    review_needed = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("created_at", "id")
        indexes = [
            models.Index(fields=["author_member", "-created_at"], name="community_post_author"),
            models.Index(fields=["thread", "created_at"], name="community_post_thread"),
            models.Index(fields=["review_needed", "created_at"], name="community_post_review"),
        ]

    def __str__(self) -> str:
        return f"post {self.pk}"

    @property
    def by_staff(self) -> bool:
        return self.author_user_id is not None

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class PostInsight(models.Model):
    """A post's tone and main topic, read by the insights classifiers as an inbound message's are."""

    post = models.OneToOneField(Post, primary_key=True, on_delete=models.CASCADE, related_name="insight")
    help_center = models.ForeignKey(HelpCenter, on_delete=models.CASCADE, related_name="+")
    posted_at = models.DateTimeField()
    tone = models.CharField(max_length=16)
    score = models.FloatField()
    confidence = models.FloatField()
    backend = models.CharField(max_length=40)
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    topic_confidence = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["posted_at"], name="community_insight_posted")]

    def __str__(self) -> str:
        return f"{self.tone} post {self.post_id}"


class Vote(models.Model):
    """One member's vote on one post: +1 or -1."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="votes")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    value = models.SmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "member"], name="community_one_vote")]

    def __str__(self) -> str:
        return f"{self.value:+d}"


class Flag(models.Model):
    """A member's report of a post; open until a moderator settles it (hides the post or dismisses)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="flags")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "member"], name="community_one_flag")]

    def __str__(self) -> str:
        return self.reason or "flag"


class ThreadSearchEntry(models.Model):
    """A visible thread as search reads it: its title and the text of its visible posts.

    Full-text indexes on it are created by migration 0002 (SQLite FTS5, PostgreSQL GIN), as for
    knowledge.SearchEntry; a hidden thread has no entry.
    """

    thread = models.OneToOneField(Thread, primary_key=True, on_delete=models.CASCADE, related_name="+")
    help_center = models.ForeignKey(HelpCenter, on_delete=models.CASCADE, related_name="+")
    language = models.CharField(max_length=16)
    title = models.CharField(max_length=200)
    text = models.TextField(blank=True)
    answered = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["help_center", "language"], name="community_entry_center_lang")]

    def __str__(self) -> str:
        return self.title
