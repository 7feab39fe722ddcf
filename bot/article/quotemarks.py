"""Direct quotes in articles written in languages other than English, by their own marks.

Each language closes its quotes with its own mark, and some use as a closer what English
uses as an opener: German „so“ and ‚so‘, French « ainsi » with spaces inside, Russian
«так» with „так“ inside, Japanese 「こう」 with 『こう』 inside, Swedish and Finnish ”så”.
The scanner reads a paragraph with the marks of the article's language only, nesting inner
quotes, so a quote stops at its own closing mark and never runs into the next sentence; a
quote still open at the end of its paragraph goes on only into a paragraph that opens with
the same mark (the news convention for a quote over several paragraphs). Speakers come from
``bot.article.attribution``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.article.attribution import Attribution, find_attribution, is_attribution_clause
from bot.article.languages import count_words
from bot.models import Quote

# (opening mark, closing mark), outer pairs first. A pair whose marks are equal toggles.
_GUILLEMETS = (("«", "»"), ("“", "”"), ('"', '"'))
QUOTE_PAIRS: dict[str, tuple[tuple[str, str], ...]] = {
    "de": (("„", "“"), ("»", "«"), ("‚", "‘"), ("“", "”"), ('"', '"')),
    "cs": (("„", "“"), ("‚", "‘"), ("»", "«"), ('"', '"')),
    "pl": (("„", "”"), ("«", "»"), ("»", "«"), ('"', '"')),
    "sk": (("„", "“"), ("‚", "‘"), ('"', '"')),
    "hu": (("„", "”"), ("»", "«"), ('"', '"')),
    "ru": (("«", "»"), ("„", "“"), ('"', '"')),
    "uk": (("«", "»"), ("„", "“"), ('"', '"')),
    "fr": _GUILLEMETS,
    "es": _GUILLEMETS,
    "pt": _GUILLEMETS,
    "it": _GUILLEMETS,
    "ca": _GUILLEMETS,
    "ar": _GUILLEMETS,
    "fa": _GUILLEMETS,
    "ur": (("“", "”"), ("«", "»"), ("’", "‘"), ('"', '"')),
    "hi": (("“", "”"), ('"', '"'), ("‘", "’")),
    "ja": (("「", "」"), ("『", "』"), ("“", "”")),
    "zh": (("“", "”"), ("「", "」"), ("『", "』"), ("‘", "’")),
    "sv": (("”", "”"), ("»", "»"), ("’", "’"), ('"', '"')),
    "fi": (("”", "”"), ("»", "»"), ("’", "’"), ('"', '"')),
    "nl": (("“", "”"), ("„", "”"), ("‘", "’"), ('"', '"')),
}
_DEFAULT_PAIRS = (("“", "”"), ("«", "»"), ("„", "“"), ("「", "」"), ('"', '"'))

# A key quote is a reported statement of five words or more; in Chinese and Japanese, where
# a character is a word, of eight characters or more.
MIN_WORDS = 5
MIN_CJK_CHARS = 8
# Without an attribution a quote must be this long to be a statement rather than a name,
# a title or a scare quote.
UNATTRIBUTED_WORDS = 8
_CJK_LANGUAGES = frozenset({"ja", "zh", "ko"})
# News in Arabic script and Devanagari typed on a Latin keyboard writes the double quotation
# mark as two apostrophes (''یہ نئی سروس…''). They are read as the " they stand for; the
# second apostrophe becomes a zero-width non-joiner, so every offset into the text holds.
_DOUBLED_APOSTROPHE_LANGUAGES = frozenset({"ur", "hi", "ar", "fa"})
_JOINER = "\u200c"
_DOUBLED_APOSTROPHE_AS = '"' + _JOINER
_SENTENCE_ENDS = ".!?…。！？۔।؟"
_PARAGRAPH = re.compile(r"\n\s*\n")


@dataclass(slots=True)
class _Span:
    pieces: list[tuple[int, int]]
    opener: str

    @property
    def start(self) -> int:
        return self.pieces[0][0]

    @property
    def end(self) -> int:
        return self.pieces[-1][1]


def quote_pairs(language: str | None) -> tuple[tuple[str, str], ...]:
    """The quotation marks of ``language``, outer pairs first."""
    return QUOTE_PAIRS.get(language or "", _DEFAULT_PAIRS)


def find_marked_quotes(text: str, language: str | None) -> list[Quote]:
    """Every key direct quote of a non-English body, most important first."""
    if language in _DOUBLED_APOSTROPHE_LANGUAGES:
        text = text.replace("''", _DOUBLED_APOSTROPHE_AS)
    spans = _join_interrupted(text, _scan(text, quote_pairs(language)), language)
    found: list[tuple[tuple[int, ...], Quote]] = []
    last: tuple[int, str] | None = None  # where the last attributed quote ends, its speaker
    for span in spans:
        quote_text = " ".join(
            re.sub(r"\s+", " ", text[b:e]).strip(_JOINER + " \n") for b, e in span.pieces
        )
        attribution = find_attribution(text, span.start - 1, span.end + 1, language)
        if not _is_key(text, span, quote_text, attribution, language):
            continue
        speaker = attribution.speaker if attribution is not None else None
        if speaker is None and last is not None and _follows_directly(text, last[0], span):
            # A quote paragraph right after an attributed quote goes on in the same voice.
            speaker = last[1]
        if speaker is not None:
            last = (span.end, speaker)
        long_enough = _size(quote_text, language) >= 2 * _min_size(language)
        rank = (speaker is None, not long_enough, span.start)
        found.append((rank, Quote(text=quote_text, speaker=speaker)))
    return [quote for _, quote in sorted(found, key=lambda pair: pair[0])]


def _paragraphs(text: str) -> list[tuple[int, int]]:
    bounds: list[tuple[int, int]] = []
    start = 0
    for match in _PARAGRAPH.finditer(text):
        bounds.append((start, match.start()))
        start = match.end()
    bounds.append((start, len(text)))
    return [(s, e) for s, e in bounds if text[s:e].strip()]


def _scan(text: str, pairs: tuple[tuple[str, str], ...]) -> list[_Span]:
    """Quoted spans, paragraph by paragraph, with the given marks only."""
    closers = dict(reversed(pairs))  # the first pair of a mark wins
    spans: list[_Span] = []
    carried: _Span | None = None  # a quote left open at the end of the last paragraph
    for p_start, p_end in _paragraphs(text):
        i = p_start
        stack: list[tuple[str, int]] = []  # (opening mark, where its text starts)
        current: _Span | None = None
        if carried is not None:
            if text[i] == carried.opener:
                current, stack = carried, [(carried.opener, i + 1)]
                i += 1
            carried = None
        while i < p_end:
            ch = text[i]
            if stack and ch == closers[stack[-1][0]] and _may_close(text, i, ch):
                opener, begin = stack.pop()
                if not stack:
                    span = current or _Span([], opener)
                    span.pieces.append((begin, i))
                    spans.append(span)
                    current = None
            elif ch in closers and _may_open(text, i, ch, closers[ch]):
                stack.append((ch, i + 1))
            i += 1
        if stack:
            opener, begin = stack[0]
            span = current or _Span([], opener)
            span.pieces.append((begin, p_end))
            carried = span
    return [s for s in spans if any(e > b for b, e in s.pieces)]


def _may_open(text: str, i: int, mark: str, closer: str) -> bool:
    """An opening mark opens a quote when text follows it (a lone mark is a typo or a
    unit: 5" or ' alone)."""
    after = text[i + 1 : i + 2]
    if not after or after == "\n":
        return False
    if mark == closer:
        # A mark that both opens and closes ("…", ”…”): opening when not glued to a word before.
        before = text[i - 1 : i]
        return not (before.isalnum() and not after.isalnum()) and not after.isspace()
    return True


def _may_close(text: str, i: int, mark: str) -> bool:
    """A closing mark that is also an apostrophe (’) closes only after a word's end."""
    if mark not in "’'":
        return True
    after = text[i + 1 : i + 2]
    return not after.isalpha()


def _join_interrupted(text: str, spans: list[_Span], language: str | None) -> list[_Span]:
    """„A“, sagte sie. „B.“ and „A“ „B“ (nothing between) are one quote."""
    joined: list[_Span] = []
    for span in spans:
        if joined:
            previous = joined[-1]
            between = text[previous.end + 1 : span.start - 1]
            if "\n" not in between and (
                not between.strip() or _is_attribution_only(between, language)
            ):
                previous.pieces.extend(span.pieces)
                continue
        joined.append(span)
    return joined


def _is_attribution_only(between: str, language: str | None) -> bool:
    if count_words(between) > 8 or between.rstrip()[-1:] not in ",.:;—–":
        return False
    return is_attribution_clause(between, language)


def _size(quote_text: str, language: str | None) -> int:
    return count_words(quote_text)


def _min_size(language: str | None) -> int:
    return MIN_CJK_CHARS if language in _CJK_LANGUAGES else MIN_WORDS


def _is_key(
    text: str,
    span: _Span,
    quote_text: str,
    attribution: Attribution | None,
    language: str | None,
) -> bool:
    """A reported statement long enough to show; without a speaker, a long one that reads
    as a sentence (a name, a title or a scare quote has no final mark and no speaker)."""
    size = _size(quote_text, language)
    if size < _min_size(language):
        return False
    if attribution is not None:
        return True
    is_sentence = quote_text.rstrip()[-1:] in _SENTENCE_ENDS or _is_whole_sentence(text, span)
    scale = 2 if language in _CJK_LANGUAGES else 1
    return is_sentence and size >= UNATTRIBUTED_WORDS * scale


def _is_whole_sentence(text: str, span: _Span) -> bool:
    """A quote that is a sentence of its own, its full stop after the closing mark
    (''…''۔, “…”.): it opens a paragraph or follows a sentence end."""
    after = text[span.end + 1 : span.end + 3].lstrip(_JOINER)[:1]
    before = text[: max(span.start - 1, 0)].rstrip(" ")
    return after in _SENTENCE_ENDS and (not before or before[-1] in "\n" + _SENTENCE_ENDS)


def _follows_directly(text: str, previous_end: int, span: _Span) -> bool:
    """Whether ``span`` opens the paragraph right after the one where a quote ended, or
    follows it in the same paragraph with nothing but its closing punctuation between."""
    between = text[previous_end + 1 : max(span.start - 1, previous_end + 1)]
    between = between.replace(_JOINER, "")
    breaks = between.count("\n\n")
    if breaks == 0:
        return not re.search(r"\w", between)
    return breaks == 1 and not between.rsplit("\n\n", 1)[1].strip()
