"""The one settings module. Every knob is an environment variable; bad values fail at start-up."""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE

from firstring.lib.env import env_bool, env_int, env_list, env_minutes_by_name, env_path, env_str

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent
VAR_DIR = env_path("FIRSTRING_VAR_DIR", PROJECT_DIR / "var")

DEBUG = env_bool("FIRSTRING_DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    # Development convenience: a key kept under var/ so sessions survive restarts. Production sets SECRET_KEY.
    from firstring.lib.secretfile import read_or_create_secret

    SECRET_KEY = read_or_create_secret(VAR_DIR / "secret_key")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "channels",
    "template_partials",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "firstring.accounts",
    "firstring.customers",
    "firstring.channels",
    "firstring.sla",
    "firstring.conversations",
    "firstring.insights",
    "firstring.routing",
    "firstring.listening",
    "firstring.knowledge",
    "firstring.community",
    "firstring.escalations",
    "firstring.voice",
    "firstring.surveys",
    "firstring.digests",
    "firstring.api",
    "firstring.ops",
    "firstring.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything resolves a URL: a help center's own domain gets its own URLconf.
    "firstring.web.domains.help_center_domains",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "firstring.urls"
ASGI_APPLICATION = "firstring.asgi.application"
WSGI_APPLICATION = "firstring.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL points elsewhere (postgres://user@host:5432/name).
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'firstring.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))}
if (
    DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    and not DATABASES["default"]["CONN_MAX_AGE"]
):
    # A pool per process: under ASGI every request and every websocket's database call otherwise
    # opens a connection of its own, which cost the server more than the queries themselves.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": env_int("DB_POOL_MAX_SIZE", 20),
        # Waiting longer for a connection helps nobody: /healthz must say 503 while a load
        # balancer still listens, and the server's threads hold few connections at once.
        "timeout": 5,
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web process read while the worker writes; IMMEDIATE avoids lock-upgrade deadlocks.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            "PRAGMA busy_timeout=20000; PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456;"
        ),
    }
    # A file, so that threads and worker subprocesses in tests share it; one per test run, so that
    # concurrent runs on one machine never share one.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:inbox"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: lock a username+address pair out after repeated failures.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env_bool("AXES_ENABLED", True)

# Sessions and cookies.
SECURE = env_bool("FIRSTRING_SECURE", not DEBUG and SITE_URL.startswith("https://"))
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 12)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
CSRF_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SECURE)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if SECURE else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", False) else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content Security Policy: nothing inline without a nonce, nothing from other origins.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = env_path("MEDIA_ROOT", VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# Upload limits: whole request bodies and single attachments.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("FIRSTRING_MAX_BODY_BYTES", 2 * 1024 * 1024)
FIRSTRING_MAX_ATTACHMENT_BYTES = env_int("FIRSTRING_MAX_ATTACHMENT_BYTES", 20 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# A whole raw e-mail (the e-mail webhook): an attachment of the size above, base64-encoded, and more.
FIRSTRING_MAX_EMAIL_BYTES = env_int("FIRSTRING_MAX_EMAIL_BYTES", 30 * 1024 * 1024)

# E-mail: console by default, SMTP when EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "firstring@localhost")

# Background work through the django-tasks API: the database queue by default, RQ on Redis for scale.
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
FIRSTRING_TASKS_BACKEND = env_str("FIRSTRING_TASKS_BACKEND", "db")
# "outbox" holds the deliveries of replies to customers, which `firstring serve` gives a worker of its
# own: a reply must not wait behind the analysis and routing of inbound messages ("default").
TASK_QUEUES = ["default", "outbox"]
_TASK_BACKENDS = {
    "db": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": TASK_QUEUES},
    "rq": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": TASK_QUEUES},
    "immediate": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": TASK_QUEUES},
}
if FIRSTRING_TASKS_BACKEND not in _TASK_BACKENDS:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"FIRSTRING_TASKS_BACKEND must be one of {sorted(_TASK_BACKENDS)}")
TASKS = {"default": _TASK_BACKENDS[FIRSTRING_TASKS_BACKEND]}
if FIRSTRING_TASKS_BACKEND == "rq":
    # django_rq provides the rqworker command; django-tasks-rq asks to be installed too (its checks).
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
RQ_QUEUES = {queue: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 300} for queue in TASK_QUEUES}
# How often each worker beats (for /healthz) and runs its periodic jobs (the outbox sweep).
FIRSTRING_WORKER_BEAT_SECONDS = env_int("FIRSTRING_WORKER_BEAT_SECONDS", 10)
# How often a worker of the database queue looks for new tasks. New messages are routed by such a task,
# so this bounds the time from a message stored to its offer ringing (RQ workers are woken at once).
FIRSTRING_WORKER_POLL_MS = env_int("FIRSTRING_WORKER_POLL_MS", 50)

# Live updates: in-process by default; Redis when several processes must share them.
CHANNEL_LAYER = env_str("FIRSTRING_CHANNEL_LAYER", "memory")
if CHANNEL_LAYER == "redis":
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Counters that must hold across web processes (the chat widget's suggestion rate limit): in-process by
# default, Redis when several web processes serve the site.
FIRSTRING_CACHE = env_str("FIRSTRING_CACHE", "memory")
_CACHE_BACKENDS = {
    "memory": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "redis": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "firstring",
    },
}
if FIRSTRING_CACHE not in _CACHE_BACKENDS:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"FIRSTRING_CACHE must be one of {sorted(_CACHE_BACKENDS)}")
CACHES = {"default": _CACHE_BACKENDS[FIRSTRING_CACHE]}

# Where a worker hands its live updates when the channel layer is in memory: `firstring serve` sets it
# for the worker it starts, so agents see what the worker did (offers, deliveries) without Redis.
FIRSTRING_LIVE_FORWARD_URL = env_str("FIRSTRING_LIVE_FORWARD_URL", "")

# Domain knobs.
FIRSTRING_REOPEN_WINDOW_HOURS = env_int("FIRSTRING_REOPEN_WINDOW_HOURS", 24 * 7)
FIRSTRING_OUTBOX_MAX_ATTEMPTS = env_int("FIRSTRING_OUTBOX_MAX_ATTEMPTS", 6)
FIRSTRING_OUTBOX_BACKOFF_SECONDS = env_int("FIRSTRING_OUTBOX_BACKOFF_SECONDS", 30)
# Which tone classifier the message pipeline uses: "default" (shipped, offline), "learning" (the
# default adapted to this company's corrections, once there are enough of them) or "transformers" (a
# model of the company's own, FIRSTRING_TONE_MODEL: a directory or a locally cached model id; needs the
# `transformers` extra).
FIRSTRING_TONE_BACKEND = env_str("FIRSTRING_TONE_BACKEND", "default")
FIRSTRING_TONE_MODEL = env_str("FIRSTRING_TONE_MODEL", "")
# Topic encoder: "default" (shipped vectors) or "minilm" (needs the `minilm` extra).
FIRSTRING_TOPIC_BACKEND = env_str("FIRSTRING_TOPIC_BACKEND", "default")
# Emerging topics: clusters of at least MIN_SIZE negative messages of the last DAYS days that fit no
# topic, found among the newest SAMPLE of them (one per conversation) each time the page is opened.
FIRSTRING_EMERGING_DAYS = env_int("FIRSTRING_EMERGING_DAYS", 7)
FIRSTRING_EMERGING_SAMPLE = env_int("FIRSTRING_EMERGING_SAMPLE", 1000)
FIRSTRING_EMERGING_MIN_SIZE = env_int("FIRSTRING_EMERGING_MIN_SIZE", 3)
# The dashboards' call service level: the share of queued calls answered within this many seconds
# (the phone page asks for its own target).
FIRSTRING_CALL_TARGET_SECONDS = env_int("FIRSTRING_CALL_TARGET_SECONDS", 20)
FIRSTRING_DEFAULT_PHONE_REGION = env_str("FIRSTRING_DEFAULT_PHONE_REGION", "US")
# Where the SIP endpoint sends outbound calls (callbacks), e.g. sip:trunk.example.net:5060; read by the
# endpoint and by the web and worker processes, where an accepted callback is refused without it.
FIRSTRING_SIP_TRUNK = env_str("FIRSTRING_SIP_TRUNK", "")
# Routing: how long an offer rings, and after how many seconds of waiting a task relaxes its needs
# (any skill level, then anyone on the team, then anyone), so that a customer always reaches a human.
FIRSTRING_ROUTING_OFFER_SECONDS = env_int("FIRSTRING_ROUTING_OFFER_SECONDS", 30)
FIRSTRING_ROUTING_RELAX_SECONDS = [
    int(s) for s in env_list("FIRSTRING_ROUTING_RELAX_SECONDS", ["60", "180", "600"])
]
FIRSTRING_ROUTING_MISSES_BEFORE_AWAY = env_int("FIRSTRING_ROUTING_MISSES_BEFORE_AWAY", 3)
# Customer value in the queue: a customer of these tiers ranks as if they had waited this many minutes more.
FIRSTRING_ROUTING_TIER_HEAD_START = env_minutes_by_name("FIRSTRING_ROUTING_TIER_HEAD_START", {"vip": 15})
# An available agent with no screen open (their pages ping every minute) for this long is set away.
FIRSTRING_PRESENCE_IDLE_MINUTES = env_int("FIRSTRING_PRESENCE_IDLE_MINUTES", 5)
# Staff alerts (service levels at risk or missed, escalations) are shown in the app and e-mailed; with
# this set they are also POSTed as Slack-compatible JSON ({"text": …}) to this URL.
FIRSTRING_ALERT_WEBHOOK_URL = env_str("FIRSTRING_ALERT_WEBHOOK_URL", "")
# An escalation nobody acknowledged in this many minutes is passed to the next manager.
FIRSTRING_ESCALATION_ACK_MINUTES = env_int("FIRSTRING_ESCALATION_ACK_MINUTES", 10)
FIRSTRING_CHANNEL_PLUGINS = env_list(
    "FIRSTRING_CHANNEL_PLUGINS",
    [
        "firstring.channels.api",
        "firstring.channels.email",
        "firstring.channels.twilio",
        "firstring.channels.webchat",
        "firstring.voice.phone",
        "firstring.listening.replies",
    ],
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Surveys. CSAT (1-5) asks the customer of every resolved conversation once, through its channel (a
# channel's config "surveys": false turns it off there); NPS (0-10) asks customers with a conversation
# resolved in the last FIRSTRING_NPS_RECENT_DAYS (and at least FIRSTRING_NPS_AFTER_HOURS ago), at most
# once per FIRSTRING_NPS_INTERVAL_DAYS each. A survey may be answered for FIRSTRING_SURVEY_EXPIRY_DAYS;
# a score at or below the LOW limits opens a follow-up conversation for the team.
FIRSTRING_CSAT_ENABLED = env_bool("FIRSTRING_CSAT_ENABLED", True)
FIRSTRING_NPS_ENABLED = env_bool("FIRSTRING_NPS_ENABLED", False)
FIRSTRING_NPS_INTERVAL_DAYS = env_int("FIRSTRING_NPS_INTERVAL_DAYS", 90)
FIRSTRING_NPS_RECENT_DAYS = env_int("FIRSTRING_NPS_RECENT_DAYS", 30)
FIRSTRING_NPS_AFTER_HOURS = env_int("FIRSTRING_NPS_AFTER_HOURS", 24)
# How often (seconds) a worker looks for customers to ask for an NPS score.
FIRSTRING_NPS_CHECK_SECONDS = env_int("FIRSTRING_NPS_CHECK_SECONDS", 3600)
# The weekly digest e-mailed to managers and admins: the week that ended on Sunday, sent once per
# installation from FIRSTRING_DIGEST_HOUR (local time) on Monday by a worker's periodic job.
FIRSTRING_DIGEST_ENABLED = env_bool("FIRSTRING_DIGEST_ENABLED", True)
FIRSTRING_DIGEST_HOUR = env_int("FIRSTRING_DIGEST_HOUR", 7)
FIRSTRING_SURVEY_EXPIRY_DAYS = env_int("FIRSTRING_SURVEY_EXPIRY_DAYS", 7)
FIRSTRING_SURVEY_LOW_CSAT = env_int("FIRSTRING_SURVEY_LOW_CSAT", 2)
FIRSTRING_SURVEY_LOW_NPS = env_int("FIRSTRING_SURVEY_LOW_NPS", 6)

# Knowledge base: the largest file or image an editor may attach to an article.
FIRSTRING_KB_MAX_ATTACHMENT_BYTES = env_int("FIRSTRING_KB_MAX_ATTACHMENT_BYTES", 5 * 1024 * 1024)

# Community: how long an e-mailed sign-in link works; how much one member may post (posts per
# hour, a burst within a minute); what the spam filter holds for a moderator; after how many hours
# a question nobody answered becomes a conversation for the team (0: never), whether a question or
# the asker's reply in a negative tone does so at once, and on which channel (a slug; empty: the
# first enabled e-mail channel, so that the team's reply reaches the asker).
FIRSTRING_COMMUNITY_LINK_MINUTES = env_int("FIRSTRING_COMMUNITY_LINK_MINUTES", 20)
FIRSTRING_COMMUNITY_POSTS_PER_HOUR = env_int("FIRSTRING_COMMUNITY_POSTS_PER_HOUR", 20)
FIRSTRING_COMMUNITY_POSTS_PER_MINUTE = env_int("FIRSTRING_COMMUNITY_POSTS_PER_MINUTE", 3)
FIRSTRING_COMMUNITY_MAX_LINKS = env_int("FIRSTRING_COMMUNITY_MAX_LINKS", 3)
FIRSTRING_COMMUNITY_BANNED_WORDS = env_list("FIRSTRING_COMMUNITY_BANNED_WORDS", [])
FIRSTRING_COMMUNITY_UNANSWERED_HOURS = env_int("FIRSTRING_COMMUNITY_UNANSWERED_HOURS", 24)
FIRSTRING_COMMUNITY_NEGATIVE_BRIDGE = env_bool("FIRSTRING_COMMUNITY_NEGATIVE_BRIDGE", True)
FIRSTRING_COMMUNITY_BRIDGE_CHANNEL = env_str("FIRSTRING_COMMUNITY_BRIDGE_CHANNEL", "")
