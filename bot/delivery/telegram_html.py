"""Safe Telegram HTML: escaping untrusted text, links, length in UTF-16 units, cutting and packing.

Telegram counts a message's length in UTF-16 code units and accepts a small HTML subset. Every
function here returns markup that stays inside that subset, keeps tags balanced and entities whole.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from html.parser import HTMLParser
from urllib.parse import urlsplit

MAX_MESSAGE_UNITS = 4096
"""Telegram's limit on one text message, in UTF-16 code units."""

MAX_LINK_CHARS = 2048

ELLIPSIS = "…"

_SPACES = re.compile(r"\s+")


def utf16_units(text: str) -> int:
    """Length of text as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def clean_text(text: str, *, strip: bool = True) -> str:
    """One line of displayable text: control characters and lone surrogates out, spaces collapsed.

    ``strip=False`` keeps one space at either end (for text that continues a neighbour's).
    """
    kept = "".join(
        " " if ch in "\t\n\r\x0b\x0c" else ch
        for ch in text
        if ch in "\t\n\r\x0b\x0c" or unicodedata.category(ch) not in ("Cc", "Cs")
    )
    collapsed = _SPACES.sub(" ", kept)
    return collapsed.strip() if strip else collapsed


def cut_words(text: str, max_chars: int) -> str:
    """Text cut to at most max_chars characters, at a word boundary where one is near, with "…"."""
    if len(text) <= max_chars:
        return text
    if max_chars <= 1:
        return ELLIPSIS if max_chars == 1 else ""
    cut = text[: max_chars - 1]
    space = cut.rfind(" ")
    if space >= max_chars // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + ELLIPSIS


def escape_text(text: str) -> str:
    """Text escaped for an HTML message body."""
    return html.escape(text, quote=False)


def safe_link(url: str | None) -> str | None:
    """The URL when it is a plain http(s) address fit to put in href, else None."""
    if not url:
        return None
    url = url.strip()
    if len(url) > MAX_LINK_CHARS or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def link(text_html: str, url: str | None) -> str:
    """Already-escaped text wrapped in a link when the URL is safe, else left as it is."""
    href = safe_link(url)
    if href is None:
        return text_html
    return f'<a href="{html.escape(href, quote=True)}">{text_html}</a>'


class _Tokens(HTMLParser):
    """Our own markup as (kind, value, tag name) tokens; kind is "start", "end" or "text"."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tokens.append(("start", self.get_starttag_text() or f"<{tag}>", tag))

    def handle_endtag(self, tag: str) -> None:
        self.tokens.append(("end", f"</{tag}>", tag))

    def handle_data(self, data: str) -> None:
        self.tokens.append(("text", data, ""))


def _tokens(markup: str) -> list[tuple[str, str, str]]:
    parser = _Tokens()
    parser.feed(markup)
    parser.close()
    return parser.tokens


def to_plain_text(markup: str) -> str:
    """What a reader sees of the markup: tags dropped, entities decoded."""
    return "".join(value for kind, value, _ in _tokens(markup) if kind == "text")


def fit_markup(markup: str, max_units: int = MAX_MESSAGE_UNITS) -> str:
    """Markup cut to max_units UTF-16 units: text shortened at a word with "…", open tags closed."""
    if utf16_units(markup) <= max_units:
        return markup
    out: list[str] = []
    open_tags: list[str] = []
    used = 0
    reserve = utf16_units(ELLIPSIS)

    def closing_units() -> int:
        return sum(len(tag) + 3 for tag in open_tags)

    cut_done = False
    for kind, value, name in _tokens(markup):
        if kind == "start":
            cost = utf16_units(value) + len(name) + 3
            if used + cost + closing_units() + reserve > max_units:
                break
            out.append(value)
            open_tags.append(name)
            used += utf16_units(value)
        elif kind == "end":
            if open_tags and open_tags[-1] == name:
                open_tags.pop()
                out.append(value)
                used += utf16_units(value)
        else:
            escaped = escape_text(value)
            room = max_units - used - closing_units()
            if utf16_units(escaped) + reserve <= room:
                out.append(escaped)
                used += utf16_units(escaped)
                continue
            shortened = _longest_fitting_cut(value, room)
            out.append(shortened)
            used += utf16_units(shortened)
            cut_done = True
            break
    if not cut_done and used + reserve + closing_units() <= max_units:
        out.append(ELLIPSIS)
    out.extend(f"</{tag}>" for tag in reversed(open_tags))
    return "".join(out)


def _longest_fitting_cut(text: str, room_units: int) -> str:
    low, high, best = 1, len(text), ""
    while low <= high:
        middle = (low + high) // 2
        candidate = escape_text(cut_words(text, middle))
        if utf16_units(candidate) <= room_units:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    return best


def pack_messages(
    blocks: Iterable[str], *, max_units: int = MAX_MESSAGE_UNITS, separator: str = "\n\n"
) -> list[str]:
    """Blocks joined into as few messages as fit, split only between blocks.

    A block longer than a message on its own is cut with ``fit_markup`` first.
    """
    messages: list[str] = []
    current: list[str] = []
    current_units = 0
    separator_units = utf16_units(separator)
    for block in blocks:
        block = fit_markup(block, max_units)
        units = utf16_units(block)
        extra = units + (separator_units if current else 0)
        if current and current_units + extra > max_units:
            messages.append(separator.join(current))
            current, current_units = [], 0
            extra = units
        current.append(block)
        current_units += extra
    if current:
        messages.append(separator.join(current))
    return messages
