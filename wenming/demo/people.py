"""Generated personal details: phones, ID numbers, skills, availability.

Everything is drawn from the ``random.Random`` passed in. Phones and ID
numbers are unique within one ``Identities`` generator; the demo and the
scale generator use disjoint number spaces so that they can share a
database (see ``SYNTH_PHONE_PREFIX``).
"""

from __future__ import annotations

import datetime as dt
import random

from wenming.lib import cn_id
from wenming.volunteers.models import DAY_PARTS, WEEKDAYS, PoliticalStatus, ServiceSource

# Mainland mobile prefixes that wenming.lib.phone.normalize accepts. 199 is
# kept for the scale generator, and 13800000xxx for the demo's staff.
DEMO_PHONE_PREFIXES = (
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "173",
    "175",
    "176",
    "177",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "193",
    "195",
    "198",
)
SYNTH_PHONE_PREFIX = "199"

# District codes (GB/T 2260) of Shanghai's central districts, for the demo.
DEMO_REGIONS = ("310101", "310104", "310105", "310106", "310107", "310109", "310110", "310115")

# (skill, category): the catalogue the demo and the scale generator share.
SKILLS: tuple[tuple[str, str], ...] = (
    ("理发", "生活服务"),
    ("助餐", "生活服务"),
    ("家电维修", "生活服务"),
    ("保洁", "生活服务"),
    ("陪诊", "医疗健康"),
    ("医疗", "医疗健康"),
    ("护理", "医疗健康"),
    ("心理咨询", "医疗健康"),
    ("法律", "专业服务"),
    ("财务", "专业服务"),
    ("计算机", "专业服务"),
    ("外语", "专业服务"),
    ("书法", "文化艺术"),
    ("摄影", "文化艺术"),
    ("声乐", "文化艺术"),
    ("舞蹈", "文化艺术"),
    ("剪纸", "文化艺术"),
    ("理论宣讲", "宣传教育"),
    ("课业辅导", "宣传教育"),
    ("科普讲解", "宣传教育"),
    ("垃圾分类指导", "文明创建"),
    ("交通文明劝导", "文明创建"),
    ("应急救护", "应急安全"),
    ("消防安全", "应急安全"),
)

# (status, share in percent) of volunteers; party members are a large share,
# as in the seeds' 双报到 figures.
POLITICAL_MIX: tuple[tuple[str, int], ...] = (
    (PoliticalStatus.PARTY_MEMBER, 38),
    (PoliticalStatus.PROBATIONARY, 3),
    (PoliticalStatus.LEAGUE_MEMBER, 14),
    (PoliticalStatus.MASSES, 44),
    (PoliticalStatus.OTHER, 1),
)


def political_status(rng: random.Random) -> str:
    pick = rng.randrange(100)
    for status, share in POLITICAL_MIX:
        if pick < share:
            return str(status)
        pick -= share
    return str(PoliticalStatus.MASSES)


def availability(rng: random.Random) -> dict[str, list[str]]:
    """A plausible weekly pattern in the shape volunteers.services.clean_availability keeps."""
    days = sorted(rng.sample(WEEKDAYS, rng.randint(1, 4)), key=WEEKDAYS.index)
    return {day: sorted(rng.sample(DAY_PARTS, rng.randint(1, 2)), key=DAY_PARTS.index) for day in days}


def birth_date(rng: random.Random, *, min_age: int = 18, max_age: int = 82, today: dt.date) -> dt.date:
    oldest = today.replace(year=today.year - max_age)
    span = (today.replace(year=today.year - min_age) - oldest).days
    return oldest + dt.timedelta(days=rng.randrange(span))


class Identities:
    """Unique phones and ID numbers from one seeded generator."""

    def __init__(self, rng: random.Random, *, taken_phones: set[str] | None = None) -> None:
        self.rng = rng
        self.phones: set[str] = set(taken_phones or ())
        self.id_numbers: set[str] = set()

    def phone(self) -> str:
        while True:
            number = self.rng.choice(DEMO_PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number.startswith("13800000"):
                continue
            if number not in self.phones:
                self.phones.add(number)
                return number

    def id_number(self, *, born: dt.date, gender: str) -> str:
        while True:
            value = cn_id.generate(self.rng, region=self.rng.choice(DEMO_REGIONS), birth_date=born, gender=gender)
            if value not in self.id_numbers:
                self.id_numbers.add(value)
                return value


# Services volunteers give, for ledger entries: (description, minutes low, minutes high, source).
SERVICES: tuple[tuple[str, int, int, str], ...] = (
    ("爱心理发", 90, 180, ServiceSource.ACTIVITY),
    ("健康义诊", 120, 240, ServiceSource.ACTIVITY),
    ("法律援助咨询", 60, 180, ServiceSource.ORDER),
    ("心理辅导", 60, 120, ServiceSource.ORDER),
    ("卫生清洁", 60, 180, ServiceSource.ACTIVITY),
    ("长者食堂助餐", 90, 150, ServiceSource.ACTIVITY),
    ("独居老人上门探访", 60, 120, ServiceSource.ORDER),
    ("陪诊服务", 120, 300, ServiceSource.ORDER),
    ("家电维修", 60, 150, ServiceSource.ORDER),
    ("垃圾分类指导", 60, 120, ServiceSource.ACTIVITY),
    ("交通文明岗", 60, 120, ServiceSource.ACTIVITY),
    ("理论宣讲", 60, 120, ServiceSource.ACTIVITY),
    ("四点半课堂课业辅导", 90, 120, ServiceSource.ACTIVITY),
    ("活动现场保障", 120, 240, ServiceSource.MANUAL),
)
