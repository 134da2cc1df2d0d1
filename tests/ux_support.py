"""What a person sees: the painted screen as rows of text, for pilot tests that check the
screen at 80x24 (and 160x48) rather than widget state."""

from __future__ import annotations

import html
import re
from typing import Any

from textual.app import App

_TEXT = re.compile(
    r'<text [^>]*?x="([\d.]+)"[^>]*?clip-path="url\(#[\w-]+-line-(\d+)\)"[^>]*>(.*?)</text>'
)
_FONT_ASPECT = 0.61
"""Rich's SVG export: a cell is 20 px high and 20 * 0.61 px wide."""


def screen_lines(app: App[Any]) -> list[str]:
    """The screen as painted, one string per terminal row (from the SVG screenshot, each
    chunk of text put back at its column)."""
    width, height = app.size
    rows = [[" "] * width for _ in range(height)]
    for x, number, chunk in _TEXT.findall(app.export_screenshot()):
        row, column = int(number), round(float(x) / (20 * _FONT_ASPECT))
        text = html.unescape(chunk).replace("\xa0", " ")
        if 0 <= row < height:
            for offset, char in enumerate(text):
                if column + offset < width:
                    rows[row][column + offset] = char
    return ["".join(row).rstrip() for row in rows]


def screen_text(app: App[Any]) -> str:
    """The painted screen as one string, rows joined by newlines."""
    return "\n".join(screen_lines(app))


def flowing_text(app: App[Any]) -> str:
    """The screen's words as one line: pane borders dropped and rows joined by a space, so a
    sentence wrapped over several rows can be found whole."""
    rows = [row.strip().strip("│┃█▌▐").strip() for row in screen_lines(app)]
    return " ".join(" ".join(row.split()) for row in rows if row)
