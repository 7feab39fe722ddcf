"""Search snippets: a short window of an article's text with the matched words marked.

A snippet is a tuple of segments ``(text, is_match)``: the caller escapes every text part for
its medium (Telegram HTML, a terminal) and marks the matched ones as it likes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

Segment = tuple[str, bool]
Span = tuple[int, int]

ELLIPSIS = "…"
_WHITESPACE = re.compile(r"\s+")


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Sorted, non-overlapping spans covering the same characters."""
    merged: list[Span] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def spans_from_marked(marked: str, open_mark: str, close_mark: str) -> tuple[str, list[Span]]:
    """Strip ``open_mark``…``close_mark`` pairs from a highlighted text; return the plain text
    and the spans that were marked. The plain text must contain neither mark."""
    pieces = marked.split(open_mark)
    plain = [pieces[0]]
    spans: list[Span] = []
    length = len(pieces[0])
    for piece in pieces[1:]:
        match, _, rest = piece.partition(close_mark)
        spans.append((length, length + len(match)))
        plain += (match, rest)
        length += len(match) + len(rest)
    return "".join(plain), spans


def make_snippet(text: str, spans: Sequence[Span], max_chars: int = 200) -> tuple[Segment, ...]:
    """The window of ``text`` (about ``max_chars`` long) holding the most distinct matched
    words, cut at word boundaries, with an ellipsis where it was cut."""
    spans = merge_spans(spans)
    if len(text) <= max_chars:
        start, end = 0, len(text)
    else:
        start = _best_window_start(text, spans, max_chars)
        end = min(len(text), start + max_chars)
        if start > 0:
            start = _word_start(text, start)
        if end < len(text):
            end = _word_end(text, end, start)
    segments: list[Segment] = []
    if start > 0:
        segments.append((ELLIPSIS, False))
    pos = start
    for s, e in spans:
        s, e = max(s, start), min(e, end)
        if s >= e:
            continue
        if s > pos:
            segments.append((text[pos:s], False))
        segments.append((text[s:e], True))
        pos = e
    if pos < end:
        segments.append((text[pos:end], False))
    if end < len(text):
        segments.append((ELLIPSIS, False))
    return _tidy(segments)


def render_snippet(
    segments: Iterable[Segment],
    markers: tuple[str, str] = ("**", "**"),
    escape: Callable[[str], str] = lambda text: text,
) -> str:
    """Join segments, escaping every text part and wrapping matches in ``markers``."""
    open_mark, close_mark = markers
    return "".join(
        f"{open_mark}{escape(text)}{close_mark}" if is_match else escape(text)
        for text, is_match in segments
    )


def _best_window_start(text: str, spans: Sequence[Span], max_chars: int) -> int:
    """Start so that the window shows the most distinct matched words, with some context
    before the first of them (a sliding window over the spans)."""
    if not spans:
        return 0
    lead_in = max_chars // 5
    words = [text[s:e].casefold() for s, e in spans]
    counts: Counter[str] = Counter()
    best_start, best_score = 0, -1
    j = 0
    for i, (first, _) in enumerate(spans):
        window_end = first + max_chars - lead_in
        while j < len(spans) and spans[j][1] <= window_end:
            counts[words[j]] += 1
            j += 1
        if len(counts) > best_score:
            best_start, best_score = max(0, first - lead_in), len(counts)
        if j > i:
            counts[words[i]] -= 1
            if not counts[words[i]]:
                del counts[words[i]]
        else:
            j = i + 1
    return best_start


def _word_start(text: str, pos: int) -> int:
    """Move ``pos`` forward to the start of the next word (unless that skips too far)."""
    limit = min(len(text), pos + 30)
    for i in range(pos, limit):
        if text[i].isspace():
            return i + 1
    return pos


def _word_end(text: str, pos: int, floor: int) -> int:
    """Move ``pos`` back to the end of the previous word (unless that cuts too much)."""
    for i in range(pos, max(floor, pos - 30), -1):
        if text[i - 1].isspace():
            return i - 1
    return pos


def _tidy(segments: list[Segment]) -> tuple[Segment, ...]:
    """Collapse runs of whitespace (paragraph breaks) to one space; drop empty parts."""
    tidy: list[Segment] = []
    previous_space = True
    for text, is_match in segments:
        part = _WHITESPACE.sub(" ", text)
        if previous_space and part.startswith(" "):
            part = part[1:]
        if part:
            tidy.append((part, is_match))
            previous_space = part.endswith(" ")
    if tidy and not tidy[-1][1] and tidy[-1][0].endswith(" "):
        tidy[-1] = (tidy[-1][0].rstrip(), False)
        if not tidy[-1][0]:
            tidy.pop()
    return tuple(tidy)
