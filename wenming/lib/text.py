"""Which service a resident is asking for, from what they wrote.

A keyword model small enough to explain to the staff who check it:

* ``segment`` cuts Chinese text into words with jieba (precise mode), drops
  punctuation, bare numbers and a short list of stopwords.
* ``Classifier`` turns each category's name, keywords and description into
  weighted terms. A resident's text scores every category by the terms it
  contains; ``Classification`` carries the winner, a confidence, the runners-up
  and the words it relied on (``Evidence``), and ``explain`` puts that in one
  sentence. Staff can always override the guess: nothing here is final.

Terms and weights. A category's name and each of its keywords weigh
``STRONG`` (3.0) when they are one word; a name or keyword of several words
gives each word ``STRONG × PART`` (1.8), and so does each part of a known
compound (家电维修 → 家电, 维修). Description words weigh ``WEAK`` (1.0).
A term shared by several categories tells them apart less, so every weight is
multiplied by a normalised inverse category frequency,
``idf(t) = ln(1 + N / df(t)) / ln(1 + N)`` (1 for a term only one of the N
categories uses). A few synonyms are folded first (修 → 维修, 剪头发 → 理发), and separable
verbs are joined (理个发 → 理发, 买点菜 → 买菜).

Matching. A term matches when it is one of the text's words. A keyword of two
or more characters also matches as a substring of the text, so 洗衣机 is found
in 洗衣机门 and 工资 in 拖欠工资: fully when the occurrence starts and ends on
word boundaries or is the head or tail of a single word, at 0.4 of its weight
(``STRADDLE``) when it straddles a boundary jieba drew elsewhere, and not at all
when it sits in the middle of one word (心理 inside 爱心理发). Each term counts
once, however often it occurs.

Confidence is a softmax over the categories that matched anything and a
"none of these" option with the fixed score ``BASELINE``:

    p(c) = exp((s_c - B) / T) / (1 + Σ_k exp((s_k - B) / T)),  B = 2.0, T = 1.0

where s_c is the category's score and the sum runs over matched categories
only (so a long catalogue does not dilute an answer). One strong keyword alone
gives about 0.73, two about 0.98, a lone description word about 0.27; text that
matches nothing gives 0. Two categories matched equally share the probability.
``best`` is the top category when its p reaches the threshold (0.35) and no
other category ties with it, else ``None``.
"""

from __future__ import annotations

import logging
import math
import os
import re
import tempfile
import threading
import unicodedata
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

# Words that say nothing about which service is wanted.
_STOPWORD_TEXT = """
的 地 得 了 着 过 之 所 以 而 与 及 或 和 跟 同 并 且 把 被 给 让 对 从 向 往 到 在 于 为 由
就 都 也 还 又 再 才 很 太 挺 更 最 非常 比较 特别 真 已经 马上
我 我们 你 你们 您 他 她 它 他们 她们 咱们 大家 自己 人家 别人
这 那 这个 那个 这些 那些 这里 那里 这边 那边 这样 那样
什么 怎么 怎么办 怎样 如何 为什么 哪 哪里 哪儿 谁 多少 几 吗 呢 啊 吧 呀 哦 嗯 哈 啦 嘛 么 呗 喔 哎 唉
是 有 没 没有 不 别 能 能不能 可以 可不可以 会 要 想 想要 需要 希望 请 请问 麻烦 帮 帮忙 帮帮
一下 一些 有点 一点 一个 个 些 点 下 家 家里 谢谢 您好 你好 老师 同志 现在 今天 明天 时候
就是 但是 因为 所以 如果 然后 还是 或者 可能 应该 一直 总是 老是 有没有 是不是
好 行 来 去 做 弄 搞 找 看看 问问 问 说
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

# Compound words jieba should keep whole, with the parts each one stands for.
DOMAIN_WORDS: dict[str, tuple[str, ...]] = {
    "飞线充电": ("飞线", "充电"),
    "不文明养犬": ("不文明", "养犬"),
    "乱搭乱建": ("违建",),
    "高空抛物": ("抛物",),
    "垃圾分类": ("垃圾", "分类"),
    "爱心理发": ("爱心", "理发"),
    "心理辅导": ("心理", "辅导"),
    "心理咨询": ("心理", "咨询"),
    "法律援助": ("法律", "援助"),
    "法律咨询": ("法律", "咨询"),
    "健康义诊": ("健康", "义诊"),
    "家电维修": ("家电", "维修"),
    "卫生清洁": ("卫生", "清洁"),
    "适老化改造": ("适老化", "改造"),
    "陪诊": (),
    "代购": (),
    "助餐": (),
    "助浴": (),
    "助洁": (),
    "上门": (),
    "义诊": (),
}

# A word → the word a catalogue is likely to use for it.
SYNONYMS: dict[str, str] = {
    "修": "维修",
    "修理": "维修",
    "修修": "维修",
    "报修": "维修",
    "坏": "维修",
    "坏掉": "维修",
    "坏了": "维修",
    "剪发": "理发",
    "剪头": "理发",
    "剪头发": "理发",
    "推头": "理发",
    "送饭": "助餐",
    "送餐": "助餐",
    "代买": "代购",
    "帮买": "代购",
    "洗澡": "助浴",
    "违章建筑": "违建",
}

# Separable verbs (离合词): residents write 理个发, 买点菜, 洗个澡, and jieba cuts them
# apart (人理|个发). A verb, a short filler, then the object is read as the joined word.
SEPARABLE = frozenset({"理发", "剪发", "剪头", "洗澡", "买菜", "买药", "取药", "看病", "做饭", "送饭", "挂号", "打针"})
_SEPARATED = re.compile(
    "([{verbs}])(?:点儿|一点|一下|一次|个|点|些|了|过|次|完)([{objects}])".format(
        verbs="".join(sorted({w[0] for w in SEPARABLE})), objects="".join(sorted({w[1] for w in SEPARABLE}))
    )
)

STRONG = 3.0
WEAK = 1.0
PART = 0.6
STRADDLE = 0.4
BASELINE = 2.0
TEMPERATURE = 1.0
THRESHOLD = 0.35

_NUMBER = re.compile(r"[\d.,:%+\-/]+")

_lock = threading.Lock()
_tokenizer: Any = None


def _cache_dir() -> str:
    """A directory only this user can write, for jieba's dictionary cache."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    path = Path(tempfile.gettempdir()) / f"wenming-jieba-{uid}"
    try:
        path.mkdir(mode=0o700, exist_ok=True)
        st = path.stat()
        if (hasattr(os, "getuid") and st.st_uid != uid) or st.st_mode & 0o022:
            raise PermissionError(path)
    except OSError:
        # Someone else's or a shared directory: its cache must not be trusted.
        return tempfile.mkdtemp(prefix="wenming-jieba-")
    return str(path)


def _load() -> Any:
    """The one jieba tokenizer of this process, built on first use."""
    global _tokenizer
    if _tokenizer is not None:
        return _tokenizer
    with _lock:
        if _tokenizer is None:
            with warnings.catch_warnings():
                # jieba 0.42 trips SyntaxWarning (old regex escapes) and pkg_resources' deprecation.
                warnings.simplefilter("ignore")
                import jieba

            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            tokenizer.tmp_dir = _cache_dir()
            tokenizer.cache_file = f"jieba-{jieba.__version__}.cache"
            tokenizer.initialize()
            for word in DOMAIN_WORDS:
                tokenizer.add_word(word)
            _tokenizer = tokenizer
    return _tokenizer


def warm_up() -> None:
    """Load the dictionary now (about half a second) rather than on the first request."""
    _load()


def normalize(text: str) -> str:
    """Full-width letters and digits to half-width (NFKC), lower case."""
    return unicodedata.normalize("NFKC", text or "").lower()


def _is_text(token: str) -> bool:
    """Not punctuation, space or a bare number."""
    return any(unicodedata.category(ch)[0] not in "PSZC" for ch in token) and not _NUMBER.fullmatch(token)


def _is_word(token: str) -> bool:
    return token not in STOPWORDS and _is_text(token)


def _cut(norm: str) -> list[tuple[str, int, int]]:
    """Every token of normalised text with its offsets, punctuation included."""
    if not norm.strip():
        return []
    return [(w, start, end) for w, start, end in _load().tokenize(norm)]


def segment(text: str) -> list[str]:
    """The words of ``text`` (jieba precise mode), lower case, without punctuation, numbers or stopwords."""
    words = (token.strip() for token, _start, _end in _cut(normalize(text)))
    return [w for w in words if _is_word(w)]


def _features(word: str) -> list[tuple[str, bool]]:
    """The terms one word stands for: itself (synonyms folded) and, for a compound, its parts."""
    canon = SYNONYMS.get(word, word)
    return [(canon, False)] + [(SYNONYMS.get(p, p), True) for p in DOMAIN_WORDS.get(canon, ())]


@dataclass(frozen=True)
class Category:
    """A service type as the caller's catalogue has it; ``key`` is the caller's id."""

    key: str | int
    name: str
    keywords: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "keywords", tuple(self.keywords))


@dataclass(frozen=True)
class Evidence:
    """A word of the text that counted for a category: ``terms`` are the catalogue's terms it matched."""

    word: str
    category_key: str | int
    weight: float
    terms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Classification:
    """``ranked`` holds (category, p) for the top matched categories, best first; ``confidence`` is the top p.

    ``evidence`` explains the top candidate, which is ``best`` when it reaches the threshold.
    """

    best: Category | None
    confidence: float
    ranked: list[tuple[Category, float]] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def words(self) -> list[str]:
        return [e.word for e in self.evidence]


class Classifier:
    """A keyword model over a fixed catalogue; build once, classify many times (thread-safe)."""

    def __init__(self, categories: Iterable[Category], *, threshold: float = THRESHOLD) -> None:
        self.categories: tuple[Category, ...] = tuple(categories)
        self.threshold = threshold
        keys = [c.key for c in self.categories]
        if len(set(keys)) != len(keys):
            raise ValueError("category keys must be unique")

        raw: list[dict[str, float]] = []  # per category: term → weight before idf
        raw_phrases: list[dict[str, float]] = []  # per category: keyword → weight, for substring matches
        for category in self.categories:
            terms: dict[str, float] = {}
            phrases: dict[str, float] = {}
            self._add_source(terms, category.name, STRONG)
            for keyword in category.keywords:
                self._add_source(terms, keyword, STRONG)
                phrase = "".join(normalize(keyword).split())
                if len(phrase) >= 2:
                    phrases[phrase] = STRONG
            for word in segment(category.description):
                for term, is_part in _features(word):
                    self._add(terms, term, WEAK * (PART if is_part else 1.0))
            raw.append(terms)
            raw_phrases.append(phrases)

        n = len(self.categories)
        df: dict[str, int] = {}
        for terms, phrases in zip(raw, raw_phrases, strict=True):
            for term in terms.keys() | phrases.keys():
                df[term] = df.get(term, 0) + 1
        norm = math.log(1 + n) if n else 1.0

        def idf(term: str) -> float:
            return math.log(1 + n / df[term]) / norm

        # Inverted indexes: term → [(category index, weight)], in catalogue order.
        self._terms: dict[str, list[tuple[int, float]]] = {}
        self._phrases: dict[str, list[tuple[int, float]]] = {}
        for i, (terms, phrases) in enumerate(zip(raw, raw_phrases, strict=True)):
            for term, weight in terms.items():
                self._terms.setdefault(term, []).append((i, weight * idf(term)))
            for phrase, weight in phrases.items():
                self._phrases.setdefault(phrase, []).append((i, weight * idf(phrase)))

    @staticmethod
    def _add(terms: dict[str, float], term: str, weight: float) -> None:
        terms[term] = max(terms.get(term, 0.0), weight)

    def _add_source(self, terms: dict[str, float], source: str, weight: float) -> None:
        pieces = [w for w in (t.strip() for t, _start, _end in _cut(normalize(source))) if _is_text(w)]
        whole = len(pieces) == 1  # 不制冷 is two words (不|制冷) even though 不 is a stopword
        for word in pieces:
            if word in STOPWORDS:
                continue
            for term, is_part in _features(word):
                self._add(terms, term, weight * (PART if is_part or not whole else 1.0))

    def classify(self, text: str, *, top: int = 5) -> Classification:
        """Score ``text`` against the catalogue; ``ranked`` keeps the ``top`` candidates."""
        norm = normalize(text)
        tokens = _cut(norm)
        if not tokens:
            return Classification(best=None, confidence=0.0)

        # term → the word of the text it came from (first occurrence wins).
        found: dict[str, str] = {}
        seen: set[str] = set()
        for token, _start, _end in tokens:
            word = token.strip()
            if _is_word(word):
                seen.add(word)
                for term, _is_part in _features(word):
                    found.setdefault(term, word)
        for match in _SEPARATED.finditer(norm):
            joined = match[1] + match[2]
            if joined in SEPARABLE:
                for term, _is_part in _features(joined):
                    found.setdefault(term, match[0])

        # category index → word → [weight, terms]
        hits: dict[int, dict[str, list[Any]]] = {}

        def credit(i: int, word: str, term: str, weight: float) -> None:
            entry = hits.setdefault(i, {}).setdefault(word, [0.0, []])
            entry[0] += weight
            entry[1].append(term)

        for term, word in found.items():
            for i, weight in self._terms.get(term, ()):
                credit(i, word, term, weight)

        # Keywords the words above did not already match (修理 folds to 维修 but is matched once).
        candidates = [p for p in self._phrases if p not in found and p not in seen and p in norm]
        if candidates:
            quality = _Substrings(norm, tokens)
            for phrase in candidates:
                q = quality(phrase)
                if q:
                    for i, weight in self._phrases[phrase]:
                        credit(i, phrase, phrase, weight * q)

        if not hits:
            return Classification(best=None, confidence=0.0)
        scores = {i: sum(e[0] for e in words.values()) for i, words in hits.items()}
        z = {i: (s - BASELINE) / TEMPERATURE for i, s in scores.items()}
        peak = max(0.0, *z.values())
        total = math.exp(-peak) + sum(math.exp(v - peak) for v in z.values())
        probs = {i: math.exp(v - peak) / total for i, v in z.items()}
        order = sorted(probs, key=lambda i: (-probs[i], i))

        first = order[0]
        confidence = probs[first]
        evidence = sorted(
            (
                Evidence(word=w, category_key=self.categories[first].key, weight=round(e[0], 4), terms=tuple(e[1]))
                for w, e in hits[first].items()
            ),
            key=lambda ev: -ev.weight,
        )
        # A tie between the first two is for staff to settle, not for the catalogue order.
        tied = len(order) > 1 and math.isclose(probs[order[1]], confidence)
        return Classification(
            best=self.categories[first] if confidence >= self.threshold and not tied else None,
            confidence=confidence,
            ranked=[(self.categories[i], probs[i]) for i in order[:top]],
            evidence=evidence,
        )


class _Substrings:
    """How well a keyword found inside the text lines up with the words jieba cut."""

    def __init__(self, norm: str, tokens: list[tuple[str, int, int]]) -> None:
        self.norm = norm
        self.starts = {start for _w, start, _end in tokens}
        self.ends = {end for _w, _start, end in tokens}
        self.owner = [0] * len(norm)  # character offset → index of its token
        self.spans = [(start, end) for _w, start, end in tokens]
        for k, (start, end) in enumerate(self.spans):
            self.owner[start:end] = [k] * (end - start)

    def __call__(self, phrase: str) -> float:
        best = 0.0
        at = self.norm.find(phrase)
        while at != -1:
            end = at + len(phrase)
            if at in self.starts and end in self.ends:
                return 1.0
            k = self.owner[at]
            if k == self.owner[end - 1]:
                start, stop = self.spans[k]
                if at == start or end == stop:
                    return 1.0  # the head or tail of one word: 冰箱 in 冰箱门, 工资 in 拖欠工资
                # strictly inside one word (心理 in 爱心理发): not this keyword
            else:
                best = STRADDLE
            at = self.norm.find(phrase, at + 1)
        return best


def explain(classification: Classification) -> str:
    """One sentence for staff: the words relied on and the confidence."""
    percent = round(classification.confidence * 100)
    # Translators: the separator between listed words.
    words = _("、").join(classification.words)
    if classification.best is not None:
        return _("依据词语：%(words)s；置信度 %(percent)d%%") % {"words": words, "percent": percent}
    if classification.ranked:
        return _("把握不足，请人工选择服务类型；最接近“%(name)s”（依据词语：%(words)s；置信度 %(percent)d%%）") % {
            "name": classification.ranked[0][0].name,
            "words": words,
            "percent": percent,
        }
    return _("没有找到可依据的词语，请人工选择服务类型")
