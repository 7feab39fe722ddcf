"""Where each ``[[feeds]]`` block of a ``feeds.toml`` text lies, line by line (pure).

tomlkit keeps values and their comments, but it files a comment above a ``[[feeds]]`` header
under the block before it, so removing a feed through tomlkit would take its neighbour's
heading comment and leave its own. Here the text is cut by lines instead: a block runs from
the comment lines directly above its header to its last key line and the comment lines
directly after it; blank-line-separated comments between blocks belong to nobody and stay, and
so do the comments that open the file.

Lines are classified by a small TOML string scanner (basic, literal and multi-line strings,
escapes), so a ``#`` or a ``'''`` inside a string never passes for a comment or a header.
"""

from __future__ import annotations

import re
from enum import Enum

_FEEDS_HEADER = re.compile(r"^\s*\[\[\s*feeds\s*\]\]")


class Kind(Enum):
    BLANK = "blank"
    COMMENT = "comment"
    CONTENT = "content"
    HEADER = "header"


def split_lines(text: str) -> list[str]:
    """The lines of a text with their ends, split at newlines only (TOML's line breaks; a
    U+2028 inside a string is not one)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def classify(text: str) -> list[Kind]:
    """The kind of every line of ``split_lines(text)``; a line that starts inside a
    multi-line string is content."""
    kinds = []
    inside = False  # in a multi-line string at the start of the line
    delimiter = ""
    for line in (raw.rstrip("\r\n") for raw in split_lines(text)):
        if inside:
            kinds.append(Kind.CONTENT)
        elif not line.strip():
            kinds.append(Kind.BLANK)
        elif line.lstrip().startswith("#"):
            kinds.append(Kind.COMMENT)
        elif _FEEDS_HEADER.match(line):
            kinds.append(Kind.HEADER)
        else:
            kinds.append(Kind.CONTENT)
        inside, delimiter = _scan(line, inside, delimiter)
    return kinds


def _scan(line: str, inside: bool, delimiter: str) -> tuple[bool, str]:
    """Whether the next line starts inside a multi-line string (and which)."""
    i = 0
    while i < len(line):
        if inside:
            if delimiter == '"""' and line[i] == "\\":
                i += 2
                continue
            if line.startswith(delimiter, i):
                i += 3
                while i < len(line) and line[i] == delimiter[0]:
                    i += 1  # up to two quotes right before the closing ones are content
                inside = False
                continue
            i += 1
            continue
        char = line[i]
        if char == "#":
            break
        if line.startswith('"""', i) or line.startswith("'''", i):
            inside, delimiter = True, line[i : i + 3]
            i += 3
        elif char == '"':
            i = _end_of_basic(line, i + 1)
        elif char == "'":
            end = line.find("'", i + 1)
            i = len(line) if end < 0 else end + 1
        else:
            i += 1
    return inside, delimiter


def _end_of_basic(line: str, i: int) -> int:
    while i < len(line):
        if line[i] == "\\":
            i += 2
        elif line[i] == '"':
            return i + 1
        else:
            i += 1
    return i


def headers(kinds: list[Kind]) -> list[int]:
    """0-based line numbers of the ``[[feeds]]`` headers."""
    return [i for i, kind in enumerate(kinds) if kind is Kind.HEADER]


def cut_block(text: str, index: int) -> str | None:
    """The text without feed ``index``'s block and its own comments; None when the lines
    do not show that block's header."""
    lines = split_lines(text)
    kinds = classify(text)
    starts = headers(kinds)
    if index >= len(starts):
        return None
    start = _lead_start(kinds, starts[index])
    if start == 0:
        start = starts[index]  # comments opening the file are about the file
    limit = _lead_start(kinds, starts[index + 1]) if index + 1 < len(starts) else len(lines)
    end = starts[index] + 1
    for i in range(starts[index] + 1, limit):
        if kinds[i] is Kind.CONTENT:
            end = i + 1
    while end < limit and kinds[end] is Kind.COMMENT:
        end += 1
    kept = lines[:start] + lines[end:]
    joint = start  # collapse the blank lines meeting at the cut into one
    while 0 < joint < len(kept) and not kept[joint].strip() and not kept[joint - 1].strip():
        del kept[joint]
    if start == 0:
        while kept and not kept[0].strip():
            del kept[0]
    return "".join(kept)


def key_line(text: str, index: int, key: str) -> int | None:
    """The 0-based line of ``key = ...`` in feed ``index``'s block, or None."""
    kinds = classify(text)
    starts = headers(kinds)
    if index >= len(starts):
        return None
    limit = starts[index + 1] if index + 1 < len(starts) else len(kinds)
    pattern = re.compile(rf"^\s*(?:{re.escape(key)}|\"{re.escape(key)}\")\s*=")
    lines = split_lines(text)
    for i in range(starts[index] + 1, limit):
        if kinds[i] is Kind.CONTENT and pattern.match(lines[i]):
            return i
    return None


def _lead_start(kinds: list[Kind], header: int) -> int:
    start = header
    while start > 0 and kinds[start - 1] is Kind.COMMENT:
        start -= 1
    return start
