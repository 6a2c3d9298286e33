"""Staff users, teams, skills and API tokens."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager["User"]):
    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        if not email:
            raise ValueError("A user needs an e-mail address")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.update(is_staff=True, is_superuser=True, role=User.Role.ADMIN)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    class Role(models.TextChoices):
        AGENT = "agent", "Agent"
        MANAGER = "manager", "Manager"
        ADMIN = "admin", "Admin"

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    avatar_url = models.URLField(blank=True)
    language = models.CharField(max_length=16, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Can open the Django admin.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ("name", "email")

    def __str__(self) -> str:
        return self.name or self.email

    @property
    def display_name(self) -> str:
        return self.name or self.email.split("@")[0]

    @property
    def sees_everything(self) -> bool:
        """Managers and admins may act on every team's conversations."""
        return self.role in (self.Role.MANAGER, self.Role.ADMIN) or self.is_superuser


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    members = models.ManyToManyField(User, related_name="teams", blank=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Skill(models.Model):
    class Kind(models.TextChoices):
        LANGUAGE = "language", "Language"
        TOPIC = "topic", "Topic"
        PRODUCT = "product", "Product"
        OTHER = "other", "Other"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ("kind", "name")
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="skill_unique_kind_name")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"


class UserSkill(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="skills")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="holders")
    level = models.PositiveSmallIntegerField(default=3, help_text="1 (basic) to 5 (expert).")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "skill"], name="userskill_unique"),
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=5), name="userskill_level_1_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.skill} ({self.level})"


class ApiToken(models.Model):
    """A bearer token. Only a hash is stored; the token is shown once when created."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class Tag(models.Model):
    """A label shared by conversations and customers."""

    name = models.CharField(max_length=64, unique=True)
    color = models.CharField(max_length=7, default="#6b7280")

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name
