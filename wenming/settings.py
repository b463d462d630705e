"""Wenming settings: one module, driven by the environment.

See ``.env.example`` for every variable. With nothing set, Wenming runs on
an embedded SQLite file under ``var/`` with secrets generated there.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.utils.translation import gettext_lazy as _

from wenming.lib.env import env_bool, env_int, env_list, env_str, generated_secret

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("WENMING_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY") or generated_secret(VAR_DIR / "secret_key")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "wenming.core",  # first: its admin templates and static override Django's
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",  # ExclusionConstraint (bookings); inert on SQLite
    "django_tasks_db",
    "wenming.network",
    "wenming.accounts",
    "wenming.volunteers",
    "wenming.units",
    "wenming.notices",
    "wenming.activities",
    "wenming.bookings",
    "wenming.orders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "wenming.urls"
WSGI_APPLICATION = "wenming.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "wenming" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wenming.core.context_processors.wenming",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# The embedded default is SQLite in WAL mode with IMMEDIATE transactions, so
# that a write transaction takes the write lock when it begins and contested
# writes queue on the busy timeout instead of failing half-way.
_DEFAULT_SQLITE = f"sqlite:///{VAR_DIR / 'wenming.sqlite3'}"
DATABASE_URL = env_str("DATABASE_URL") or _DEFAULT_SQLITE
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
if _db["ENGINE"] == "django.db.backends.sqlite3":
    Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_BUSY_TIMEOUT", 20),
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
            f"PRAGMA busy_timeout={env_int('SQLITE_BUSY_TIMEOUT', 20) * 1000};"
        ),
    }
    _db["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    _db["CONN_HEALTH_CHECKS"] = True
    # No JIT: our statements are short, and compiling one (a recommender ring of many sites) took
    # five times longer than running it. Set per connection, so every process agrees.
    _db.setdefault("OPTIONS", {})["options"] = "-c jit=off"
    # Each pytest-xdist worker gets its own test database.
    _db.setdefault("TEST", {})
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and tasks -------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "wenming",
        }
    }
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 360}}
    INSTALLED_APPS += ["django_rq"]
else:
    # The database cache is shared by every app process, so rate limits and
    # lock-outs hold across processes without Redis.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "wenming_cache",
        }
    }
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
if env_bool("TASKS_IMMEDIATE", False):
    TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

# --- Accounts ----------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["wenming.accounts.backends.PhonePasswordBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:staff_home"

SMS_BACKEND = env_str("SMS_BACKEND", "wenming.accounts.sms.LogSmsBackend")
SMS_CODE_TTL_SECONDS = env_int("SMS_CODE_TTL_SECONDS", 300)
SMS_CODE_MAX_PER_PHONE_HOUR = env_int("SMS_CODE_MAX_PER_PHONE_HOUR", 5)
SMS_CODE_MAX_PER_IP_HOUR = env_int("SMS_CODE_MAX_PER_IP_HOUR", 20)
SMS_CODE_MIN_INTERVAL_SECONDS = env_int("SMS_CODE_MIN_INTERVAL_SECONDS", 60)
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)
LOGIN_COOLOFF_SECONDS = env_int("LOGIN_COOLOFF_SECONDS", 900)
API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 30)

# Personal data keys. Several keys may be given, comma-separated: the first
# encrypts and hashes, the others still decrypt and match, so keys rotate by
# prepending a new one and running ``manage.py rotate_pii_keys``.
PII_ENCRYPTION_KEYS = env_list("PII_ENCRYPTION_KEYS") or [
    generated_secret(VAR_DIR / "keys" / "pii_encryption.key", lambda: Fernet.generate_key().decode())
]
PII_LOOKUP_KEYS = env_list("PII_LOOKUP_KEYS") or [generated_secret(VAR_DIR / "keys" / "pii_lookup.key")]

DEMO_PASSWORD = env_str("WENMING_DEMO_PASSWORD", "wenming-demo-2026")
# The api_key of the demo street's Open311 client (demo/orders.py); a real client gets its own in the admin.
DEMO_OPEN311_KEY = env_str("WENMING_DEMO_OPEN311_KEY", "wenming-demo-open311-key")

# --- Open311 GeoReport v2 (/open311/v2/) ----------------------------------------------
# The one jurisdiction this deployment serves; clients may send it as jurisdiction_id or leave it out.
OPEN311_JURISDICTION = env_str("OPEN311_JURISDICTION", "wenming")

# --- Notifications -------------------------------------------------------------
# Channels (wenming/notices/notifier.py): in-site by default; add
# wenming.notices.notifier.SmsNotifier and/or wenming.notices.notifier.WeChatTemplateNotifier.
NOTIFIERS = env_list("NOTIFIERS", "wenming.notices.notifier.InSiteNotifier")
WECHAT_API_BASE = env_str("WECHAT_API_BASE", "https://api.weixin.qq.com")
WECHAT_APP_ID = env_str("WECHAT_APP_ID")
WECHAT_APP_SECRET = env_str("WECHAT_APP_SECRET")
WECHAT_TEMPLATE_ID = env_str("WECHAT_TEMPLATE_ID")
WECHAT_TIMEOUT_SECONDS = env_int("WECHAT_TIMEOUT_SECONDS", 5)
ACTIVITY_REMINDER_HOURS = env_int("ACTIVITY_REMINDER_HOURS", 24)
BOOKING_REMINDER_HOURS = env_int("BOOKING_REMINDER_HOURS", 2)

# --- Internationalisation -------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "wenming" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "wenming" / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if env_bool("WENMING_TESTING", False)
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security -------------------------------------------------------------------
# Reverse proxies whose X-Forwarded-For names the real client (comma-separated addresses).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY") else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 12)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Only the benchmark runner mounts the bare baseline view.
BENCH_BASELINE = env_bool("WENMING_BENCH_BASELINE", False)
