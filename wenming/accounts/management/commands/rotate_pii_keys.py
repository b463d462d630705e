"""Re-encrypt and re-hash personal data under the first configured keys.

Rotation: prepend a new key to PII_ENCRYPTION_KEYS (and/or PII_LOOKUP_KEYS),
restart the app, run this command, then drop the old keys.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from wenming.accounts.services import rotate_pii_keys


class Command(BaseCommand):
    help = "Re-encrypt ID numbers and recompute look-up hashes under the primary keys."

    def handle(self, *args: Any, **options: Any) -> None:
        count = rotate_pii_keys(actor=None)
        self.stdout.write(self.style.SUCCESS(f"re-encrypted {count} profiles"))
