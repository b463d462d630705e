import random

import pytest

from wenming.demo import names


def test_a_seed_always_gives_the_same_names():
    assert names.names(7, 200) == names.names(7, 200)
    assert names.names(7, 200) != names.names(8, 200)


def test_names_are_chinese_characters_only():
    rng = random.Random(1)
    produced = [names.full_name(rng, rng.choice(["M", "F", None])) for _ in range(20_000)]
    assert all(names.is_cjk(name) for name in produced)
    assert all(2 <= len(name) <= 4 for name in produced)
    # A realistic spread: many distinct names, and the common family names on top.
    assert len(set(produced)) > 8_000
    top = max(names.SURNAMES, key=lambda s: sum(n.startswith(s) for n in produced[:2000]))
    assert top in {"王", "李", "张"}


def test_no_name_from_the_seed_reports_is_ever_produced():
    rng = random.Random(3)
    produced = {names.full_name(rng, rng.choice("MF")) for _ in range(50_000)}
    assert not produced & names.EXCLUDED


@pytest.mark.parametrize("text", ["", "王A", "李 明", "张·三", "陈1", "刘。", "Ｗ王"])
def test_is_cjk_refuses_anything_else(text):
    assert not names.is_cjk(text)


def test_every_character_in_the_pools_is_cjk():
    pools = "".join(names.SURNAMES) + names.MALE_CHARS + names.FEMALE_CHARS + names.NEUTRAL_CHARS
    assert names.is_cjk(pools)
