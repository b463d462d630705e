"""Settings for the test suite: the real settings with test-only backends.

The database is whatever ``DATABASE_URL`` says (SQLite file by default,
PostgreSQL in CI). SMS messages go to an in-memory outbox, as Django's
locmem e-mail backend does, and tasks run at once unless a test asks for
the database queue.
"""

import os

os.environ.setdefault("WENMING_TESTING", "1")

from wenming.settings import *  # noqa: F403
from wenming.settings import CACHES as _CACHES

SMS_BACKEND = "wenming.accounts.sms.MemorySmsBackend"
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if "DatabaseCache" in _CACHES["default"]["BACKEND"]:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
PII_ENCRYPTION_KEYS = ["jBdh2sHnIRcM_4kZ7kGX5nKdxHzv2Z2l2o4zN0tE0Yo="]
PII_LOOKUP_KEYS = ["test-lookup-key"]
SMS_CODE_MIN_INTERVAL_SECONDS = 60
