"""Generated Chinese personal names for demo and synthetic data.

A name is a family name drawn by rough frequency and one or two given-name
characters suited to the person's gender. Everything comes from the
``random.Random`` passed in, so a seed always gives the same names. Names of
real people that appear in the seed reports are never produced.
"""

from __future__ import annotations

import random
from itertools import accumulate

# Common family names, most frequent first, with rough relative weights.
_SURNAMES: list[tuple[str, int]] = [
    ("王", 72),
    ("李", 71),
    ("张", 68),
    ("刘", 54),
    ("陈", 46),
    ("杨", 33),
    ("黄", 25),
    ("赵", 22),
    ("吴", 21),
    ("周", 21),
    ("徐", 16),
    ("孙", 16),
    ("马", 15),
    ("朱", 14),
    ("胡", 13),
    ("郭", 12),
    ("何", 12),
    ("高", 11),
    ("林", 11),
    ("罗", 10),
    ("郑", 10),
    ("梁", 9),
    ("谢", 8),
    ("宋", 7),
    ("唐", 7),
    ("许", 7),
    ("韩", 6),
    ("冯", 6),
    ("邓", 6),
    ("曹", 6),
    ("彭", 6),
    ("曾", 5),
    ("肖", 5),
    ("田", 5),
    ("董", 5),
    ("袁", 5),
    ("潘", 5),
    ("于", 4),
    ("蒋", 4),
    ("蔡", 4),
    ("余", 4),
    ("杜", 4),
    ("叶", 4),
    ("程", 4),
    ("苏", 4),
    ("魏", 4),
    ("吕", 4),
    ("丁", 4),
    ("任", 4),
    ("沈", 4),
    ("姚", 3),
    ("卢", 3),
    ("姜", 3),
    ("崔", 3),
    ("钟", 3),
    ("谭", 3),
    ("陆", 3),
    ("汪", 3),
    ("范", 3),
    ("金", 3),
    ("石", 3),
    ("廖", 3),
    ("贾", 3),
    ("夏", 3),
    ("韦", 2),
    ("方", 2),
    ("白", 2),
    ("邹", 2),
    ("孟", 2),
    ("熊", 2),
    ("秦", 2),
    ("邱", 2),
    ("江", 2),
    ("尹", 2),
    ("薛", 2),
    ("段", 2),
    ("雷", 2),
    ("侯", 2),
    ("龙", 2),
    ("史", 2),
    ("陶", 2),
    ("黎", 2),
    ("贺", 2),
    ("顾", 2),
    ("毛", 2),
    ("郝", 2),
    ("龚", 2),
    ("邵", 2),
    ("万", 2),
    ("钱", 2),
    ("严", 2),
    ("武", 2),
    ("戴", 2),
    ("莫", 1),
    ("孔", 1),
    ("汤", 1),
    ("欧阳", 1),
    ("司马", 1),
    ("上官", 1),
    ("诸葛", 1),
]
SURNAMES = [s for s, _ in _SURNAMES]
_SURNAME_CUM = list(accumulate(w for _, w in _SURNAMES))

MALE_CHARS = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳建国志峰海东文博晨睿轩宏亮成康"
FEMALE_CHARS = "芳娜敏静丽艳娟霞燕玲桂英秀兰萍红梅琳雪婷颖慧洁琴倩瑶怡欣悦佳蓉晶月莉云凤珍华丹"
NEUTRAL_CHARS = "晓小子文嘉思雨一心明安永春新立建家德玉彦宏清若天学佳"

# People named in the seed reports; the generator never produces these.
_EXCLUDED_TEXT = (
    "臧云 余海虹 赵子平 马莉莎 沈瑶琴 李蕾 王维芳 王伟 顾春源 马嘉槟 周惠珍 王颉鸣 姚沁艺 施宇婷 金玉苹 王雅芸 刘畅 "
    "陈振鹏 姜鸣 周晴华 姚掌宏 马嘉祺 柯琪 马士威 李斌 谭洁群 江天熙 陈旦平 陈芬 许海芳 李英 滕迪克 胡晓虹 邢光 "
    "徐英淦 沈山州 左轶梅 杨东升 徐树杰 沈建平"
)
EXCLUDED = frozenset(_EXCLUDED_TEXT.split())


def surname(rng: random.Random) -> str:
    pick = rng.randrange(_SURNAME_CUM[-1])
    lo, hi = 0, len(_SURNAME_CUM) - 1
    while lo < hi:  # first cumulative weight above ``pick``
        mid = (lo + hi) // 2
        if _SURNAME_CUM[mid] > pick:
            hi = mid
        else:
            lo = mid + 1
    return SURNAMES[lo]


def given_name(rng: random.Random, gender: str | None = None) -> str:
    """One or two characters; ``gender`` is "M", "F" or None."""
    pool = MALE_CHARS if gender == "M" else FEMALE_CHARS if gender == "F" else MALE_CHARS + FEMALE_CHARS
    if rng.random() < 0.25:
        return rng.choice(pool)
    first = rng.choice(NEUTRAL_CHARS + pool) if rng.random() < 0.5 else rng.choice(pool)
    second = rng.choice(pool)
    while second == first:
        second = rng.choice(pool)
    return first + second


def full_name(rng: random.Random, gender: str | None = None) -> str:
    while True:
        name = surname(rng) + given_name(rng, gender)
        if name not in EXCLUDED:
            return name


def names(seed: int, count: int, gender: str | None = None) -> list[str]:
    """``count`` names from a fresh generator seeded with ``seed``."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not a secret
    return [full_name(rng, gender) for _ in range(count)]


def is_cjk(text: str) -> bool:
    """Every character is a CJK unified ideograph (no Latin, digits, spaces or punctuation)."""
    return bool(text) and all("\u4e00" <= ch <= "\u9fff" for ch in text)
