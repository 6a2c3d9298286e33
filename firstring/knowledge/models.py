"""Help centers, their categories and sections, articles with translations and versions, and search."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from firstring.channels.models import Channel

COLOR_VALIDATOR = RegexValidator(r"^#[0-9a-fA-F]{6}$", "A colour is #rrggbb.")
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
LANGUAGE_VALIDATOR = RegexValidator(LANGUAGE_RE, "A language code such as en or pt-br.")
# A help center's own host name: lower case, dotted, no port (never an IP address or a single label).
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
# Paths the rest of the application serves; a help center may not take one as its prefix.
RESERVED_PREFIXES = frozenset(
    {"api", "admin", "accounts", "channels", "conversations", "customers", "routing", "static", "media",
     "kb", "community", "healthz", "internal", "survey", "favicon.ico", "robots.txt"}
)  # fmt: skip


class HelpCenter(models.Model):
    """A brand's public help center, served under /<prefix>/."""

    name = models.CharField(max_length=100)
    prefix = models.SlugField(
        max_length=40, unique=True, help_text="The help center is served at /<prefix>/."
    )
    default_language = models.CharField(max_length=16, default="en", validators=[LANGUAGE_VALIDATOR])
    languages = models.JSONField(default=list, blank=True, help_text="Languages offered besides the default.")
    tagline = models.CharField(max_length=200, blank=True)
    logo_url = models.CharField(
        max_length=300,
        blank=True,
        validators=[RegexValidator(r"^/[^/]", "A path on this site, starting with one /.")],
        help_text="A path on this site, e.g. /media/logo.png (the CSP allows no other origin).",
    )
    primary_color = models.CharField(max_length=7, default="#0550ae", validators=[COLOR_VALIDATOR])
    domain = models.CharField(
        max_length=253,
        blank=True,
        help_text="A host name of its own (help.example.com), served at its root; list it in ALLOWED_HOSTS.",
    )
    phone = models.CharField(max_length=40, blank=True, help_text="Shown first on the contact page.")
    email = models.EmailField(blank=True)
    contact_channels = models.ManyToManyField(Channel, blank=True, related_name="help_centers")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(
                fields=["domain"],
                condition=~models.Q(domain=""),
                name="kb_helpcenter_unique_domain",
                violation_error_message="Another help center has this domain.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def all_languages(self) -> list[str]:
        return [self.default_language, *(lang for lang in self.languages if lang != self.default_language)]


class Category(models.Model):
    help_center = models.ForeignKey(HelpCenter, on_delete=models.CASCADE, related_name="categories")
    slug = models.SlugField(max_length=80)
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=300, blank=True)
    # {"de": "Konto"}: the name in other languages; the default language's is `name`.
    names = models.JSONField(default=dict, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("position", "name")
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["help_center", "slug"], name="kb_category_unique_slug")
        ]

    def __str__(self) -> str:
        return self.name

    def name_in(self, language: str) -> str:
        return str(self.names.get(language) or self.name)


class Section(models.Model):
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="sections")
    slug = models.SlugField(max_length=80)
    name = models.CharField(max_length=120)
    names = models.JSONField(default=dict, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("position", "name")
        constraints = [models.UniqueConstraint(fields=["category", "slug"], name="kb_section_unique_slug")]

    def __str__(self) -> str:
        return self.name

    def name_in(self, language: str) -> str:
        return str(self.names.get(language) or self.name)


class Article(models.Model):
    """One piece of knowledge, in one or more languages (its translations)."""

    class Visibility(models.TextChoices):
        PUBLIC = "public", "Public"
        INTERNAL = "internal", "Internal (agents only)"

    help_center = models.ForeignKey(HelpCenter, on_delete=models.CASCADE, related_name="articles")
    section = models.ForeignKey(Section, on_delete=models.PROTECT, related_name="articles")
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC)
    position = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("position", "id")

    def __str__(self) -> str:
        return f"article {self.pk}"

    @property
    def is_internal(self) -> bool:
        return self.visibility == self.Visibility.INTERNAL


class ArticleTranslation(models.Model):
    """An article in one language: the editors' working copy and the live copy visitors read."""

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        REVIEW = "review", "In review"
        PUBLISHED = "published", "Published"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=16, validators=[LANGUAGE_VALIDATOR])
    # The working copy (Markdown) and where it stands.
    draft_title = models.CharField(max_length=200)
    draft_body = models.TextField(blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    # The live copy, set by publishing: what the help center shows. Empty until first published.
    title = models.CharField(max_length=200, blank=True)
    slug = models.SlugField(max_length=120, allow_unicode=True, blank=True)
    body_html = models.TextField(blank=True)
    body_text = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_version = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("article_id", "language")
        constraints = [
            models.UniqueConstraint(fields=["article", "language"], name="kb_translation_unique_language")
        ]

    def __str__(self) -> str:
        return f"{self.title or self.draft_title} [{self.language}]"

    @property
    def is_live(self) -> bool:
        return self.published_at is not None


class ArticleVersion(models.Model):
    """Every saved state of a translation's working copy, numbered from 1."""

    class Action(models.TextChoices):
        SAVED = "saved", "Saved"
        SUBMITTED = "submitted", "Submitted for review"
        PUBLISHED = "published", "Published"
        RESTORED = "restored", "Restored"

    translation = models.ForeignKey(ArticleTranslation, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    action = models.CharField(max_length=16, choices=Action.choices, default=Action.SAVED)
    note = models.CharField(max_length=200, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("translation_id", "-number")
        constraints = [
            models.UniqueConstraint(fields=["translation", "number"], name="kb_version_unique_number")
        ]

    def __str__(self) -> str:
        return f"v{self.number} of {self.translation_id}"


class ArticleAttachment(models.Model):
    """A file or image belonging to an article, served only to those who may read the article."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="knowledge/%Y/%m/")
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return self.filename

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class SearchEntry(models.Model):
    """The live copy of a published translation, as search reads it; nothing else is ever searched.

    Full-text indexes on it are created by migration 0002 (SQLite FTS5, PostgreSQL GIN).
    """

    translation = models.OneToOneField(
        ArticleTranslation, primary_key=True, on_delete=models.CASCADE, related_name="search_entry"
    )
    help_center = models.ForeignKey(HelpCenter, on_delete=models.CASCADE, related_name="+")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    language = models.CharField(max_length=16)
    internal = models.BooleanField(default=False)
    title = models.CharField(max_length=200)
    text = models.TextField(blank=True)
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["help_center", "language"], name="kb_entry_center_lang")]

    def __str__(self) -> str:
        return self.title


class EntryVector(models.Model):
    """A search entry's meaning: its title and text embedded by the configured sentence encoder.

    Kept beside the full-text row (deleted with it) in a table of its own, so that adding it changed
    neither the FTS5 triggers nor the width of the rows PostgreSQL ranks. `vector` is the unit vector
    as little-endian float32 bytes; `encoder` names the encoder that made it, since vectors of two
    encoders cannot be compared (search reads only the configured encoder's).
    """

    entry = models.OneToOneField(
        SearchEntry, primary_key=True, on_delete=models.CASCADE, related_name="vector"
    )
    encoder = models.CharField(max_length=32)
    vector = models.BinaryField()
    # What a process's copy of the vectors is checked against (with the count) before each search.
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.entry_id} ({self.encoder})"


class VocabularyWord(models.Model):
    """A word that occurs in some published article: what a misspelt search term is corrected to."""

    word = models.CharField(max_length=64, unique=True)

    def __str__(self) -> str:
        return self.word


class VocabularyTrigram(models.Model):
    """The three-letter pieces of each vocabulary word, to find words that look alike."""

    trigram = models.CharField(max_length=3)
    word = models.ForeignKey(VocabularyWord, on_delete=models.CASCADE, related_name="trigrams")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["trigram", "word"], name="kb_trigram_unique")]

    def __str__(self) -> str:
        return self.trigram


class SynonymSet(models.Model):
    """Words that mean the same to searchers ("refund, money back, reimbursement")."""

    help_center = models.ForeignKey(HelpCenter, on_delete=models.CASCADE, related_name="synonym_sets")
    words = models.JSONField(default=list)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return ", ".join(self.words)


class ArticleFeedback(models.Model):
    """A visitor's "Was this helpful?" answer; one per visitor (a hashed session) and translation."""

    translation = models.ForeignKey(ArticleTranslation, on_delete=models.CASCADE, related_name="feedback")
    helpful = models.BooleanField()
    voter = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["translation", "voter"], name="kb_feedback_one_vote")]

    def __str__(self) -> str:
        return "helpful" if self.helpful else "not helpful"


class SearchMiss(models.Model):
    """A search that found nothing, counted per help center, language and query, for editors."""

    help_center = models.ForeignKey(HelpCenter, on_delete=models.CASCADE, related_name="search_misses")
    language = models.CharField(max_length=16)
    query = models.CharField(max_length=200)
    count = models.PositiveIntegerField(default=1)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-count", "-last_seen")
        constraints = [
            models.UniqueConstraint(fields=["help_center", "language", "query"], name="kb_miss_unique")
        ]

    def __str__(self) -> str:
        return self.query


class SuggestionOpen(models.Model):
    """How often visitors opened an article the chat widget suggested, per day: answers that helped
    before a human was asked, for editors."""

    translation = models.ForeignKey(ArticleTranslation, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    count = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ("-day", "-count")
        constraints = [
            models.UniqueConstraint(fields=["translation", "day"], name="kb_suggestion_open_unique")
        ]

    def __str__(self) -> str:
        return f"{self.count} on {self.day}"
