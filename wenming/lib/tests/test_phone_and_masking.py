import pytest

from wenming.lib import phone
from wenming.lib.masking import mask_id_number, mask_name, mask_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("13800000000", "13800000000"), ("+86 138-0000-0000", "13800000000"), ("0086 19912345678", "19912345678")],
)
def test_mainland_mobiles(raw: str, expected: str) -> None:
    assert phone.normalize(raw) == expected


@pytest.mark.parametrize("raw", ["", "1380000000", "138000000000", "12800000000", "02112345678", "abc", "1380000000x"])
def test_not_mainland_mobiles(raw: str) -> None:
    with pytest.raises(phone.InvalidPhone):
        phone.normalize(raw)


def test_masks() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_name("王秀英") == "王**"
    assert mask_phone("") == ""


def test_full_width_phone_is_normalised() -> None:
    assert phone.normalize("１３８００００００００") == "13800000000"
    with pytest.raises(phone.InvalidPhone):
        phone.normalize("138٠٠٠٠٠٠٠٠")
