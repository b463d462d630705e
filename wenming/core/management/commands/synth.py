"""manage.py synth: synthetic data at street, district or city scale (see wenming/demo/synth.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wenming.demo import synth


class Command(BaseCommand):
    help = "生成压测用的合成数据（阵地编码前缀 SYN<seed>-，可与演示数据共存）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=sorted(synth.SCALES), default="street")
        parser.add_argument("--seed", type=int, default=1, help="随机种子，也决定阵地编码前缀（默认 1）")

    def handle(self, *args: Any, **options: Any) -> None:
        scale = synth.SCALES[options["scale"]]
        seed = options["seed"]
        if seed < 0:
            raise CommandError("--seed 不能为负数。")
        plan = scale.planned()
        self.stdout.write(
            f"合成数据 {scale.name}（种子 {seed}）：约 {plan['sites']:,} 个阵地、{plan['volunteers']:,} 名志愿者、"
            f"{plan['residents']:,} 名居民、{plan['ledger']:,} 条服务时长记录"
        )
        try:
            stats = synth.generate(scale, seed=seed, progress=self.stdout.write)
        except synth.AlreadyGenerated as exc:
            raise CommandError(f"种子 {seed} 的合成数据（编码前缀 {exc}）已存在；请换一个 --seed。") from exc
        width = max(len(t) for t in stats.rows)
        for table, count in stats.rows.items():
            self.stdout.write(f"  {table:<{width}}  {count:>12,}  {synth.TABLE_LABELS[table]}")
        self.stdout.write(
            self.style.SUCCESS(
                f"inserted {stats.total:,} rows in {stats.seconds:.2f} s: {stats.rows_per_second:,.0f} rows/s"
            )
        )
