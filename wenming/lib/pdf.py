"""PDF helpers (reportlab): Chinese text with a built-in CID font, A4 paragraph styles.

Chinese is set in STSong-Light, one of the Adobe Asian fonts reportlab knows
as a CID font: nothing is downloaded or embedded, and PDF readers show it
with their own Song typeface. Text stays text (Unicode via the UniGB-UCS2-H
encoding), so it can be searched, copied and read back in tests.
"""

from __future__ import annotations

from functools import cache

from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont

CHINESE_FONT = "STSong-Light"


@cache
def chinese_font() -> str:
    """Register the Chinese CID font once per process and return its name."""
    pdfmetrics.registerFont(UnicodeCIDFont(CHINESE_FONT))
    return CHINESE_FONT


def printable(text: str) -> str:
    """``text`` as the font can set it: control characters and characters beyond the BMP dropped.

    UCS-2 (the font's encoding) has no room for emoji and other astral
    characters; they would come out as garbage.
    """
    return "".join(ch for ch in text if ch.isprintable() and ord(ch) <= 0xFFFF)


def style(
    name: str, *, size: float, leading: float | None = None, colour: str = "#000000", **extra: object
) -> ParagraphStyle:
    """A paragraph style in the Chinese font that wraps anywhere between CJK characters."""
    return ParagraphStyle(
        name,
        fontName=chinese_font(),
        fontSize=size,
        leading=leading or size * 1.35,
        textColor=colour,
        wordWrap="CJK",
        **extra,
    )
