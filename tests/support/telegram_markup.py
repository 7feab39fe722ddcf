"""Telegram's HTML parse mode as the Bot API applies it: allowed tags and attributes, entities.

The loopback Bot API server refuses what Telegram would refuse, and render tests check their
output with the same rules.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

TELEGRAM_TAGS: dict[str, frozenset[str]] = {
    **{
        tag: frozenset()
        for tag in ["b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "pre", "tg-spoiler"]
    },
    "a": frozenset({"href"}),
    "code": frozenset({"class"}),
    "blockquote": frozenset({"expandable"}),
    "span": frozenset({"class"}),
    "tg-emoji": frozenset({"emoji-id"}),
}
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


class _TelegramHTML(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open_tags: list[str] = []
        self.problems: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS:
            self.problems.append(f'Unsupported start tag "{tag}"')
        for name, value in attrs:
            if name not in TELEGRAM_TAGS.get(tag, frozenset()):
                self.problems.append(f'Unsupported attribute "{name}" in tag "{tag}"')
            if tag == "a" and not (value or "").startswith(("http://", "https://", "tg://")):
                self.problems.append(f"Wrong HTTP URL {value!r}")
        self.open_tags.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems.append(f'Unsupported self-closing tag "{tag}"')

    def handle_endtag(self, tag: str) -> None:
        if not self.open_tags or self.open_tags.pop() != tag:
            self.problems.append(f'Unmatched end tag "{tag}"')

    def handle_data(self, data: str) -> None:
        if any(ch in data for ch in "<>&"):
            self.problems.append(f"Unescaped character in {data[:20]!r}")
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in ("lt", "gt", "amp", "quot"):
            self.problems.append(f'Unsupported HTML entity "&{name};"')
        self.text.append({"lt": "<", "gt": ">", "amp": "&", "quot": '"'}.get(name, ""))

    def handle_charref(self, name: str) -> None:
        code = int(name[1:], 16) if name[:1] in "xX" else int(name)
        self.text.append(chr(code) if 0 < code < 0x110000 else "")

    def handle_comment(self, data: str) -> None:
        self.problems.append("Comments are not supported")

    def handle_decl(self, decl: str) -> None:
        self.problems.append("Declarations are not supported")


def parse_telegram_html(markup: str) -> tuple[str, list[str]]:
    """The plain text Telegram would show for HTML markup, and what it would reject in it."""
    parser = _TelegramHTML()
    parser.feed(markup)
    parser.close()
    problems = list(parser.problems)
    if parser.open_tags:
        problems.append(f'Can\'t find end tag corresponding to start tag "{parser.open_tags[-1]}"')
    for match in re.finditer(r"&[^&]{0,12}", markup):
        if not _ENTITY.match(match.group(0)):
            problems.append(f"Bad entity {match.group(0)[:8]!r}")
    return "".join(parser.text), problems


def utf16_units(text: str) -> int:
    """Length as Telegram counts it."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2
