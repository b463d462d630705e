"""manage.py load_demo: load the demo street once (see wenming/demo/street.py)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from wenming.demo import street


class Command(BaseCommand):
    help = "载入演示街道（嘉禾路街道）。已载入时不做任何改动。"

    def handle(self, *args: Any, **options: Any) -> None:
        if not street.is_loaded():
            taken = street.staff_phones_taken()
            if taken:
                raise CommandError(
                    "演示账号的手机号已被占用，无法载入演示数据：" + "、".join(taken) + "。请在空数据库中载入演示数据。"
                )
        started = time.perf_counter()
        result = street.load()
        if not result.created:
            self.stdout.write("演示数据已存在（嘉禾路街道），未做任何改动。")
        else:
            elapsed = time.perf_counter() - started
            counts = "，".join(f"{key} {value}" for key, value in result.counts.items())
            self.stdout.write(self.style.SUCCESS(f"已载入演示街道：{counts}（用时 {elapsed:.1f} 秒）。"))
        self.stdout.write("")
        password = settings.DEMO_PASSWORD
        self.stdout.write(f"演示账号（手机号 / 角色 / 密码；生成的志愿者和居民也用同一密码 {password}）：")
        for login in result.logins:
            self.stdout.write(
                f"  {login.phone}  {login.role}  {password}  {login.name}（{login.persona}）· {login.site}"
            )
