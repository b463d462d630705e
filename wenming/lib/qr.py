"""QR codes (segno): the module matrix, an inline SVG for pages, vector squares for PDFs.

Nothing here is an image file: a page gets an ``<svg>`` element it can put
inline (no request for an image, works offline in WeChat's browser), and a
PDF gets the dark modules as filled rectangles, sharp at any print size.
"""

from __future__ import annotations

from typing import Protocol

import segno

# Level M recovers from about 15% damage: enough for a printed poster on a
# notice board, and keeps a short URL at version 3 (29 × 29 modules).
ERROR_LEVEL = "m"
QUIET_ZONE = 4  # modules of white border the standard asks for


class Canvas(Protocol):
    """The part of reportlab's canvas the drawing needs."""

    def rect(self, x: float, y: float, width: float, height: float, stroke: int = ..., fill: int = ...) -> None: ...


def make(data: str) -> segno.QRCode:
    """A (non-micro) QR code for ``data``."""
    return segno.make(data, error=ERROR_LEVEL, micro=False)


def matrix(data: str) -> list[list[bool]]:
    """The modules of ``data``'s QR code, row by row from the top, without quiet zone; True is dark."""
    return [[bool(cell) for cell in row] for row in make(data).matrix]


def dark_runs(modules: list[list[bool]]) -> list[tuple[int, int, int]]:
    """Horizontal runs of dark modules as (row, first column, length).

    Drawing a run as one rectangle instead of one square per module keeps
    the PDF small and leaves no hairline seams between neighbours.
    """
    runs: list[tuple[int, int, int]] = []
    for r, row in enumerate(modules):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                runs.append((r, start, c - start))
            else:
                c += 1
    return runs


def draw(canvas: Canvas, data: str, x: float, y: float, size: float, *, quiet_zone: int = QUIET_ZONE) -> None:
    """Draw ``data``'s QR code as vector squares in the square of side ``size`` whose lower-left is (x, y).

    The quiet zone is left blank inside ``size``. The caller sets the fill
    colour (black by default).
    """
    modules = matrix(data)
    count = len(modules) + 2 * quiet_zone
    unit = size / count
    top = y + size - quiet_zone * unit
    for row, col, length in dark_runs(modules):
        canvas.rect(x + (quiet_zone + col) * unit, top - (row + 1) * unit, length * unit, unit, stroke=0, fill=1)


def svg(data: str, *, title: str = "", css_class: str = "wm-qr") -> str:
    """An inline ``<svg>`` of ``data``'s QR code that scales to its box (viewBox, no fixed size)."""
    return str(
        make(data).svg_inline(
            scale=1,
            border=QUIET_ZONE,
            dark="#000",
            light="#fff",
            omitsize=True,
            title=title or None,
            svgclass=css_class,
            lineclass=None,
        )
    )
