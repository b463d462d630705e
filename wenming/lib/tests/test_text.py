"""The service-type classifier: jieba words, a keyword model, and the reasons it gives."""

from __future__ import annotations

import os
import stat
import statistics
import threading
import time
from pathlib import Path

import pytest
from django.utils import translation

from wenming.lib import text
from wenming.lib.text import Category, Classifier, explain, segment

CATALOGUE = (
    Category("haircut", "爱心理发", ("理发", "剪头发", "头发", "上门理发"), "志愿者为行动不便的老人上门理发"),
    Category(
        "counselling",
        "心理辅导",
        ("心理", "情绪", "焦虑", "失眠", "抑郁", "孤独", "心情", "压力", "谈心", "聊聊"),
        "专业人员倾听、疏导烦恼",
    ),
    Category(
        "legal",
        "法律援助",
        ("律师", "法律", "合同", "押金", "纠纷", "欠薪", "工资", "维权", "起诉", "遗嘱", "赡养", "离婚", "退钱"),
        "律师免费解答法律问题",
    ),
    Category(
        "clinic",
        "健康义诊",
        ("义诊", "血压", "血糖", "体检", "量血压", "医生", "看病", "头晕"),
        "医生进社区测血压、血糖",
    ),
    Category(
        "repair",
        "家电维修",
        ("洗衣机", "冰箱", "空调", "电视", "热水器", "维修", "不制冷", "不转", "油烟机"),
        "志愿者上门修理常用家电",
    ),
    Category(
        "meals",
        "助餐",
        ("吃饭", "送餐", "做饭", "午饭", "饭菜", "老年食堂", "食堂", "老年餐"),
        "为老人提供午餐、送餐上门",
    ),
    Category(
        "escort", "陪诊", ("陪同", "医院", "复查", "挂号", "陪同就医", "就医", "取药"), "陪老人去医院看病、挂号、取药"
    ),
    Category(
        "errands", "代购", ("买菜", "买药", "代买", "超市", "跑腿", "买东西", "药店"), "为行动不便的居民代买生活用品"
    ),
    Category("cleaning", "卫生清洁", ("打扫", "清洁", "卫生", "保洁", "擦窗", "大扫除"), "上门打扫居室卫生"),
)


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(CATALOGUE)


# What 王阿姨 and her neighbours write, and the service they mean.
REQUESTS = [
    ("家里洗衣机不转了，能不能派人来看看", "repair"),
    ("冰箱不制冷了，师傅能上门修一下吗", "repair"),
    ("空调漏水还不制冷", "repair"),
    ("电视机没有图像了", "repair"),
    ("老伴腿脚不便，想找人理个发", "haircut"),
    ("老人头发太长了，行动不便出不了门", "haircut"),
    ("帮我剪个头", "haircut"),
    ("房东不退押金怎么办", "legal"),
    ("公司拖欠工资三个月了，想咨询律师", "legal"),
    ("签了租房合同，中介不退钱", "legal"),
    ("明天要去医院复查，子女不在身边，想找人陪同", "escort"),
    ("需要有人陪我去医院挂号看病", "escort"),
    ("我最近老是失眠，心情很差，想找人聊聊", "counselling"),
    ("孩子中考压力大，情绪焦虑", "counselling"),
    ("社区什么时候有义诊，想量个血压", "clinic"),
    ("最近血糖有点高，想找医生看看", "clinic"),
    ("一个人住，不会做饭，能不能每天送餐", "meals"),
    ("社区食堂有没有老年餐，中午想去吃饭", "meals"),
    ("腿脚不好，下不了楼，麻烦帮我买点菜", "errands"),
    ("想请人帮忙去药店买药", "errands"),
    ("家里很久没打扫了，想请志愿者帮忙做做卫生", "cleaning"),
]


# --- segment ----------------------------------------------------------------------------------------


def test_segment_drops_stopwords_punctuation_and_numbers() -> None:
    words = segment("我们家的洗衣机坏了，请帮忙修一下吗？3 楼 2024")
    assert "洗衣机" in words
    assert "楼" in words
    for dropped in ("我们", "家", "的", "了", "请", "帮忙", "一下", "吗", "，", "？", "3", "2024", " "):
        assert dropped not in words


def test_segment_lowercases_and_folds_full_width() -> None:
    assert segment("ＷｉＦｉ坏了") == ["wifi", "坏"]


@pytest.mark.parametrize("word", ["飞线充电", "不文明养犬", "乱搭乱建", "垃圾分类", "爱心理发", "家电维修", "陪诊"])
def test_domain_words_stay_whole(word: str) -> None:
    assert word in segment(f"楼下有人{word}")


def test_segment_of_nothing() -> None:
    assert segment("") == []
    assert segment("  \n\t ") == []
    assert segment("，。！？") == []


# --- classify ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("request_text", "expected"), REQUESTS)
def test_resident_requests(classifier: Classifier, request_text: str, expected: str) -> None:
    result = classifier.classify(request_text)
    assert result.best is not None, explain(result)
    assert result.best.key == expected, explain(result)
    assert result.ranked[0] == (result.best, result.confidence)
    assert 0.35 <= result.confidence <= 1


@pytest.mark.parametrize("request_text", [*(r for r, _ in REQUESTS), "有没有爱心理发服务", "孩子心理发展有问题"])
def test_evidence_is_words_of_the_text(classifier: Classifier, request_text: str) -> None:
    result = classifier.classify(request_text)
    assert result.evidence
    tokens = set(segment(request_text))
    top = result.ranked[0][0]
    for ev in result.evidence:
        assert ev.word in tokens or ev.word in request_text
        assert ev.category_key == top.key
        assert ev.weight > 0
        assert ev.terms


@pytest.mark.parametrize(
    "nonsense", ["今天天气不错", "哈哈哈哈", "asdfghjkl", "1234567", "。。。！！！", "楼道里有人飞线充电"]
)
def test_unrelated_text_has_no_answer(classifier: Classifier, nonsense: str) -> None:
    result = classifier.classify(nonsense)
    assert result.best is None
    assert result.confidence < 0.35


@pytest.mark.parametrize("blank", ["", "   ", "\n\t", "\u3000"])
def test_blank_text(classifier: Classifier, blank: str) -> None:
    result = classifier.classify(blank)
    assert result.best is None
    assert result.confidence == 0
    assert result.ranked == []
    assert result.evidence == []


def test_more_matching_words_are_at_least_as_confident(classifier: Classifier) -> None:
    texts = ["冰箱有问题", "冰箱坏了", "冰箱坏了，空调也不制冷", "冰箱坏了，空调也不制冷，洗衣机不转，要上门维修"]
    confidences = [classifier.classify(t).confidence for t in texts]
    assert confidences == sorted(confidences)
    assert confidences[0] < confidences[-1]
    assert all(classifier.classify(t).best == CATALOGUE[4] for t in texts)


def test_a_word_two_categories_share_counts_for_both(classifier: Classifier) -> None:
    # 看病 is a keyword of 健康义诊 only, but 陪诊's description mentions it too.
    result = classifier.classify("想看病")
    keys = [c.key for c, _ in result.ranked]
    assert keys[:2] == ["clinic", "escort"]
    assert result.ranked[1][1] < result.ranked[0][1]


def test_a_tie_is_left_to_staff() -> None:
    both = Classifier(
        [
            Category("clinic", "健康义诊", ("看病", "医生")),
            Category("escort", "陪诊", ("看病", "医生")),
            Category("meals", "助餐", ("吃饭",)),
        ]
    )
    result = both.classify("想找医生看病")
    assert result.best is None
    assert [c.key for c, _ in result.ranked] == ["clinic", "escort"]
    assert result.ranked[0][1] == result.ranked[1][1] == result.confidence
    assert result.confidence > 0.35  # confident enough otherwise, but there is no one answer


def test_keyword_as_substring() -> None:
    only = Classifier([Category(1, "家电", ("冰箱", "理发"))])
    head = only.classify("冰箱门关不上")  # 冰箱 is the head of one word
    assert head.evidence[0].word == "冰箱"
    assert head.best is not None
    # 理发 straddles 心理|发展: counted at a reduced weight, not enough on its own.
    straddled = only.classify("心理发展")
    assert straddled.evidence[0].word == "理发"
    assert straddled.evidence[0].weight == pytest.approx(head.evidence[0].weight * text.STRADDLE)
    assert 0 < straddled.confidence < head.confidence
    assert straddled.best is None


def test_keyword_inside_another_word_does_not_count(classifier: Classifier) -> None:
    result = classifier.classify("有没有爱心理发服务")
    assert result.best == CATALOGUE[0]
    assert "counselling" not in [c.key for c, _ in result.ranked]  # 心理 sits inside 爱心理发


def test_synonyms_and_separable_verbs(classifier: Classifier) -> None:
    fixed = classifier.classify("电视坏了")
    assert fixed.best == CATALOGUE[4]
    assert any(ev.word == "坏" and "维修" in ev.terms for ev in fixed.evidence)
    bought = classifier.classify("帮我买点菜")
    assert bought.best == CATALOGUE[7]
    assert bought.words == ["买点菜"]


def test_a_category_named_by_its_compound_is_found_by_its_parts(classifier: Classifier) -> None:
    result = classifier.classify("家电出了毛病")
    assert result.best == CATALOGUE[4]
    assert result.words == ["家电"]


def test_very_long_text(classifier: Classifier) -> None:
    long_text = ("今天天气不错，我们出去走走。" * 800)[: 10_000 - 6] + "洗衣机不转了"
    assert len(long_text) == 10_000
    result = classifier.classify(long_text)
    assert result.best == CATALOGUE[4]
    assert len(Classifier(CATALOGUE).classify("冰箱" * 5000).evidence) == 1


def test_building_twice_gives_the_same_answers() -> None:
    first, second = Classifier(CATALOGUE), Classifier(CATALOGUE)
    for request_text, _ in REQUESTS:
        assert first.classify(request_text) == second.classify(request_text)


def test_catalogue_order_does_not_change_the_winner() -> None:
    forward, backward = Classifier(CATALOGUE), Classifier(reversed(CATALOGUE))
    for request_text, _ in REQUESTS:
        a, b = forward.classify(request_text), backward.classify(request_text)
        assert a.best == b.best
        assert a.confidence == pytest.approx(b.confidence)


def test_threshold_is_the_callers() -> None:
    strict = Classifier(CATALOGUE, threshold=0.99)
    result = strict.classify("房东不退押金怎么办")
    assert result.best is None
    assert result.ranked[0][0].key == "legal"


def test_catalogue_checks() -> None:
    with pytest.raises(ValueError, match="unique"):
        Classifier([Category(1, "助餐"), Category(1, "陪诊")])
    assert Classifier([]).classify("洗衣机坏了").best is None
    listed = Category(7, "代购", ["买菜"])  # type: ignore[arg-type]  # a list from a JSON field
    assert listed.keywords == ("买菜",)
    assert hash(listed)


def test_fast_enough_with_thirty_categories(classifier: Classifier) -> None:
    words = ["水管", "门锁", "电脑", "手机", "快递", "停车", "路灯", "噪音", "宠物", "书法", "象棋", "广场舞"]
    extra = [
        Category(f"extra{i}", f"服务{i}", tuple(words[i % 12 :] + words[: i % 12])[:6], "上门服务") for i in range(21)
    ]
    big = Classifier([*CATALOGUE, *extra])
    sample = ("我家住在三楼，老伴前两天摔了一跤，腿脚不方便，家里的洗衣机又不转了，冰箱也不太制冷，" * 4)[:200]
    big.classify(sample)
    runs = []
    for _ in range(30):
        start = time.perf_counter()
        big.classify(sample)
        runs.append(time.perf_counter() - start)
    assert statistics.median(runs) < 0.005


# --- explain ----------------------------------------------------------------------------------------


def test_explain_names_words_and_confidence(classifier: Classifier) -> None:
    with translation.override("zh-hans"):
        sentence = explain(classifier.classify("家里洗衣机不转了，能不能派人来看看"))
    assert sentence.startswith("依据词语：洗衣机、不转；置信度 ")
    assert sentence.endswith("%")


def test_explain_without_an_answer(classifier: Classifier) -> None:
    with translation.override("zh-hans"):
        assert "人工" in explain(classifier.classify("今天天气不错"))
        weak = explain(Classifier(CATALOGUE, threshold=0.99).classify("房东不退押金怎么办"))
    assert "法律援助" in weak
    assert "押金" in weak


# --- loading jieba ----------------------------------------------------------------------------------


def test_jieba_loads_once_quietly_into_a_private_cache(capfd: pytest.CaptureFixture[str]) -> None:
    saved = text._tokenizer
    text._tokenizer = None
    loaded: list[object] = []
    barrier = threading.Barrier(6)

    def first_use() -> None:
        barrier.wait()
        segment("飞线充电")
        loaded.append(text._tokenizer)

    try:
        threads = [threading.Thread(target=first_use) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(loaded) == 6
        assert len({id(t) for t in loaded}) == 1
        captured = capfd.readouterr()
        assert captured.err == ""
        assert captured.out == ""
        cache_dir = Path(text._load().tmp_dir)
        mode = cache_dir.stat().st_mode
        assert stat.S_IMODE(mode) & 0o077 == 0
        assert cache_dir.stat().st_uid == os.getuid()
        assert any(cache_dir.glob("jieba-*.cache"))
    finally:
        text._tokenizer = saved
