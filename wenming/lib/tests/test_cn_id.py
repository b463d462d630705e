import datetime as dt
import random

import pytest

from wenming.lib import cn_id


@pytest.mark.parametrize(
    "value",
    ["11010519491231002X", "310109195506120025", "440524198001010013"],
)
def test_valid_numbers(value: str) -> None:
    assert cn_id.parse(value).value == value


def test_lowercase_x_and_spaces_are_normalised() -> None:
    assert cn_id.parse(" 11010519491231002x ").value == "11010519491231002X"


def test_gender_and_birth_date() -> None:
    ident = cn_id.parse("11010519491231002X")
    assert ident.birth_date == dt.date(1949, 12, 31)
    assert ident.gender == "F"
    assert cn_id.parse("310109194811030013").gender == "M"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "18位"),
        ("1101051949123100", "18位"),
        ("11010519491231002Y", "数字"),
        ("110105194912310021", "校验位"),
        ("110105194913310020", "出生日期"),
        ("110105299912310020", "出生日期"),
        ("010105194912310025", "地区码"),
    ],
)
def test_invalid_numbers_have_chinese_messages(value: str, fragment: str) -> None:
    with pytest.raises(cn_id.InvalidIdNumber, match=fragment):
        cn_id.parse(value)


def test_generated_numbers_are_valid() -> None:
    rng = random.Random(7)
    for _ in range(500):
        assert cn_id.is_valid(cn_id.generate(rng))
    assert cn_id.parse(cn_id.generate(rng, gender="M")).gender == "M"
    assert cn_id.parse(cn_id.generate(rng, gender="F")).gender == "F"


def test_every_wrong_check_character_is_refused() -> None:
    first17 = "11010519491231002"
    right = cn_id.check_char(first17)
    for ch in "0123456789X":
        assert cn_id.is_valid(first17 + ch) is (ch == right)


def test_agrees_with_an_independent_implementation() -> None:
    """python-stdnum's cn.ric as an oracle, on valid numbers and on every one-character change."""
    from stdnum.cn import ric

    rng = random.Random(11)
    for _ in range(200):
        value = cn_id.generate(rng, region="110105")
        assert ric.is_valid(value)
        assert cn_id.is_valid(value)
        pos = rng.randrange(14, 18)  # sequence digits and the check character
        mutated = value[:pos] + rng.choice("0123456789X".replace(value[pos], "")) + value[pos + 1 :]
        if not mutated[:17].isdigit():
            continue
        assert cn_id.is_valid(mutated) == ric.is_valid(mutated), mutated


def test_full_width_digits_are_normalised_and_other_digits_refused() -> None:
    assert cn_id.parse("３１０１０９１９５５０６１２００２５").value == "310109195506120025"
    # Superscripts are compatibility forms of ASCII digits; other scripts' digits are refused.
    assert cn_id.parse("11010119900307²²1X").value == "11010119900307221X"
    with pytest.raises(cn_id.InvalidIdNumber):
        cn_id.parse("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X")
