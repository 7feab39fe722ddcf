"""Direct quotes in an article and who said them.

Longer than ~300 lines: finding, joining and ranking quotes share one pass.

``find_quotes`` reads the body (paragraphs separated by blank lines): it finds the text between
double quotation marks (curly, straight or guillemets), joins a quote interrupted by its
attribution ("A," she said. "B.") and a quote that runs over several paragraphs, keeps the key
quotes (reported statements of five words or more, not epithets, scare quotes or titles), names
their speakers, and ranks them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.article.names import NameBook, find_mentions
from bot.article.quotemarks import find_marked_quotes
from bot.article.speakers import (
    NAMING_VERBS,
    PRONOUNS,
    SPEECH_VERBS,
    Attribution,
    is_group,
    sentence_end,
    sentence_start,
    sentence_subject,
    speaker_after,
    speaker_before,
)
from bot.models import Quote

_OPENERS = "“«„"
_CLOSERS = "”»"
_MARKS = re.compile(f'[{_OPENERS}{_CLOSERS}"]')
_MIN_WORDS = 5
_SUBSTANTIAL_WORDS = 8
_WORD = re.compile(r"\w+")
# Words before a quote that say a title of a work follows ("the book “...”", "headlined").
_TITLE_CUES_TEXT = """
book books film movie show series song album novel memoir article op-ed essay column
    editorial headline headlined titled entitled called dubbed named poem play episode
    documentary report slogan motto hashtag banner sign signs t-shirt shirt hat hats"""
_TITLE_CUES = frozenset(_TITLE_CUES_TEXT.split())


@dataclass(slots=True)
class _Span:
    """One quote: its pieces (start, end) of quoted text, without the marks."""

    pieces: list[tuple[int, int]] = field(default_factory=list)
    closed: bool = True

    @property
    def start(self) -> int:
        return self.pieces[0][0]

    @property
    def end(self) -> int:
        return self.pieces[-1][1]


def find_quotes(text: str, language: str | None = None) -> list[Quote]:
    """Every key direct quote in the body (five words or more), most important first.
    An article in another language than English is read by its own quotation marks and
    attribution patterns (``bot.article.quotemarks``)."""
    if language not in (None, "en"):
        return find_marked_quotes(text, language)
    spans = _join_interrupted(text, _scan(text))
    book = NameBook(text)
    found: list[tuple[tuple[int, ...], Quote, bool]] = []
    previous: tuple[int, str | None] | None = None  # (paragraph end, speaker) of the last quote
    for span in spans:
        quote_text = _quote_text(text, span)
        candidates = _attributions(text, span)
        attribution = candidates[0] if candidates else None
        speaker = _first_speaker(book, candidates, span.start)
        if attribution is None and previous is not None and _continues(text, previous[0], span):
            speaker = previous[1]
        elif attribution is None and _starts_paragraph(text, span.start):
            subject = _previous_subject(text, span)
            speaker = _resolve(book, subject, span.start) if subject else None
        if speaker is not None or attribution is not None:
            previous = (_paragraph_end(text, span.end), speaker)
        elif _starts_paragraph(text, span.start):
            previous = (_paragraph_end(text, span.end), None)
        if not _is_key(text, span, quote_text, attribution):
            continue
        words = len(_WORD.findall(quote_text))
        # An unnamed source ("a resident said") is credited but ranks with the uncredited:
        # the digest shows a named speaker's words first.
        is_unnamed = speaker is None or speaker.split()[0].lower() in _INDEFINITE
        rank = (is_unnamed, words < _SUBSTANTIAL_WORDS, span.start)
        found.append((rank, Quote(text=quote_text, speaker=speaker), bool(candidates)))
    found.sort(key=lambda item: item[0])
    return _without_repeats([(quote, attributed) for _, quote, attributed in found])


def _without_repeats(quotes: list[tuple[Quote, bool]]) -> list[Quote]:
    """Each quote once: a pull-quote or caption that repeats a quote of the story word for
    word, with no attribution of its own, is not a second quote."""
    kept: list[Quote] = []
    seen: set[str] = set()
    for quote, attributed in quotes:
        words = " ".join(_WORD.findall(quote.text.lower()))
        if words in seen and not attributed:
            continue
        kept.append(quote)
        seen.add(words)
    return kept


# --- finding the quoted text ------------------------------------------------------------------


def _paragraphs(text: str) -> list[tuple[int, int]]:
    bounds: list[tuple[int, int]] = []
    start = 0
    for match in re.finditer(r"\n\s*\n", text):
        bounds.append((start, match.start()))
        start = match.end()
    bounds.append((start, len(text)))
    return [(s, e) for s, e in bounds if text[s:e].strip()]


def _opens(text: str, i: int) -> bool:
    ch = text[i]
    if ch in _OPENERS:
        return True
    if ch == '"':
        before = text[i - 1] if i > 0 else " "
        after = text[i + 1] if i + 1 < len(text) else " "
        return not after.isspace() and not (before.isalnum() and not after.isalnum())
    return ch == "”" and (i == 0 or text[i - 1].isspace()) and text[i + 1 : i + 2].isalnum()


def _closes(text: str, i: int) -> bool:
    ch = text[i]
    if ch in _CLOSERS or ch == '"':
        return True
    # A curly opener used as a closer: after a word, before a space or the end.
    after = text[i + 1 : i + 2]
    return ch == "“" and i > 0 and not text[i - 1].isspace() and (not after or after.isspace())


def _scan(text: str) -> list[_Span]:
    """Quoted spans, paragraph by paragraph; an open quote continues into a paragraph that opens
    with a quotation mark (news convention), else it ends with its paragraph."""
    spans: list[_Span] = []
    current: _Span | None = None
    piece_start = 0
    for p_start, p_end in _paragraphs(text):
        i = p_start
        while i < p_end and text[i].isspace():
            i += 1
        if current is not None:
            if i < p_end and text[i] in _OPENERS + '"':
                piece_start = i + 1
                i += 1
            else:
                current.closed = False
                spans.append(current)
                current = None
        depth = 0
        for mark in _MARKS.finditer(text, i, p_end):  # only the marks matter
            i = mark.start()
            if current is None:
                if _opens(text, i):
                    current = _Span()
                    piece_start = i + 1
            elif text[i] in "“«" and _opens(text, i) and not _closes(text, i):
                depth += 1
            elif _closes(text, i):
                if depth:
                    depth -= 1
                else:
                    current.pieces.append((piece_start, i))
                    spans.append(current)
                    current = None
        if current is not None:
            current.pieces.append((piece_start, p_end))
    # A quote still open when the article ends was never delimited: drop it.
    return [s for s in spans if s.pieces and any(e > b for b, e in s.pieces)]


def _join_interrupted(text: str, spans: list[_Span]) -> list[_Span]:
    """Join “A,” she said. “B.” (and two quotes with nothing between) into one quote."""
    joined: list[_Span] = []
    for span in spans:
        if joined and _is_interruption(text, joined[-1], span):
            joined[-1].pieces.extend(span.pieces)
            continue
        joined.append(span)
    return joined


def _is_interruption(text: str, first: _Span, second: _Span) -> bool:
    between = text[first.end + 1 : second.start - 1]
    if "\n" in between or not first.closed:
        return False
    if not between.strip(" \u00a0"):
        return True
    if between.rstrip()[-1:] not in ",.:;—–":
        # “A,” she said of the plan that “B” — the second quote is part of her sentence.
        return False
    words = _WORD.findall(between)
    if len(words) > 40 or sentence_end(between.strip(), 0) < len(between.strip()):
        return False
    if speaker_after(between, 0) is None:
        return False
    # The second part must not carry an attribution of its own (“A,” he said. “B,” she replied.)
    return _after_attribution(text, second) is None


# --- attributing ------------------------------------------------------------------------------


def _after_attribution(text: str, span: _Span) -> Attribution | None:
    close = span.end + 1
    end = min(sentence_end(text, close), _paragraph_end(text, close))
    tail = text[close:end]
    nxt = re.search(r"[“\"«]", tail)
    if nxt:
        tail = tail[: nxt.start()]
    if text[span.end - 1 : span.end] == "." and not _is_bare_attribution(tail):
        # A full stop inside the closing mark ends the sentence (“…,” takes a comma where an
        # attribution follows): the next sentence is a new statement ("O’Malley’s move was
        # first reported by MSNBC."), unless it is nothing but an attribution ("Trump said.").
        return None
    return speaker_after(tail, close) if tail.strip() else None


def _is_bare_attribution(sentence: str) -> bool:
    """A short sentence that only says who spoke: "Trump said.", "said the senator, a
    Democrat.", "he added in an interview." (a name or pronoun, then the verb)."""
    words = sentence.split()
    if words and words[0][:1] in "—–―-":
        return True  # “…” ― Adriana Rodarte: the dash credits who said it
    if not words or len(words) > 10:
        return False
    for i, word in enumerate(words):
        bare = word.strip(",.;:").lower()
        if bare in SPEECH_VERBS:
            before = [w.strip(",") for w in words[:i]]
            if len(before) == 1 and before[0].lower() in PRONOUNS:
                return True
            # a name alone ("South Carolina, he said, was" is a new statement)
            return all(w[:1].isupper() for w in before) and not words[i - 1].endswith(",")
    return False


def _attributions(text: str, span: _Span) -> list[Attribution]:
    """The attributions beside a quote, most telling first: the one after it, between its
    pieces, then the one leading into it."""
    found = [_after_attribution(text, span)]
    for (_, end), (start, _) in zip(span.pieces, span.pieces[1:], strict=False):
        between = text[end + 1 : start - 1]
        if "\n" not in between and between.strip():
            found.append(speaker_after(between, end + 1))
    found.append(_before_attribution(text, span))
    return [a for a in found if a is not None]


def _first_speaker(book: NameBook, candidates: list[Attribution], position: int) -> str | None:
    """The first attribution that names someone: a clause after a quote may name no one
    (“…,” suggesting that …), and then the one leading into the quote tells who spoke."""
    for attribution in candidates:
        speaker = _resolve(book, attribution, position)
        if speaker is not None:
            return speaker
    return None


def _before_attribution(text: str, span: _Span) -> Attribution | None:
    opening = span.start - 1
    p_start = _paragraph_start(text, opening)
    begin = p_start + sentence_start(text[p_start:opening], opening - p_start)
    head = _mask_quoted(text[begin:opening])
    found = speaker_before(head, begin) if head.strip() else None
    if found is None:
        found = _named_by_colon(head, begin)
    if found is None and head.rstrip().endswith(":"):
        # A sentence ending in a colon introduces the quote: its subject is the speaker
        # ("Kaine has adopted the stance common among Catholics: “…”").
        found = sentence_subject(head, begin)
    if found is None and not head.strip() and p_start < opening - 1:
        return None
    if found is None and not head.strip():
        # A paragraph that is all quote: an attribution introducing it ends the paragraph before.
        prev_end = p_start
        while prev_end > 0 and text[prev_end - 1].isspace():
            prev_end -= 1
        if prev_end > 0 and text[prev_end - 1] == ":":
            prev_start = _paragraph_start(text, prev_end - 1)
            line_begin = prev_start + sentence_start(
                text[prev_start : prev_end - 1], prev_end - 1 - prev_start
            )
            return speaker_before(text[line_begin : prev_end - 1], line_begin)
    return found


# A name and a colon right before a quote ("Bush: “…”", "Round-up - HuffPollster: “…”"): how
# transcripts, round-ups and Q&As credit who speaks.
_NAME_COLON = re.compile(
    r"(?:^|[.;]\s+|\s[-—–]\s+)((?:[A-Z][\w.’'-]*\s+){0,3}[A-Z][\w’'-]*)\s*:\s*$"
)


def _named_by_colon(head: str, offset: int) -> Attribution | None:
    match = _NAME_COLON.search(head)
    if match is None:
        return None
    return Attribution(match.group(1), offset + match.start(1), ":")


def _previous_subject(text: str, span: _Span) -> Attribution | None:
    """The subject of the last sentence of the paragraph before, when that paragraph holds no
    quote: the person a quote-only paragraph that follows is about ("X is upbeat. / “...”")."""
    p_start = _paragraph_start(text, span.start - 1)
    if p_start < 2:
        return None
    prev_start = _paragraph_start(text, p_start - 2)
    previous = text[prev_start:p_start].rstrip()
    if re.search(r"[“”\"«»]", previous):
        return None
    begin = sentence_start(previous, len(previous))
    return sentence_subject(previous[begin:], prev_start + begin)


def _resolve(book: NameBook, attribution: Attribution, position: int) -> str | None:
    """The speaker's fullest name, a pronoun's person, or None for a description."""
    speaker = attribution.speaker
    lowered = speaker.lower()
    if lowered in PRONOUNS:
        if lowered in {"he", "she"}:
            gender = "m" if lowered == "he" else "f"
            # someone named before the quote: a name the speaker says inside it (“We love
            # Pizza Express,” she said) is who the quote speaks of, not who speaks
            return book.person_before(min(attribution.position, position), gender, skip=set())
        return None
    if is_group(speaker) and not any(w.lower() in PRONOUNS | _POSSESSIVES for w in speaker.split()):
        # "Rubio’s campaign said", "the Trump campaign said": the campaign, the office or the
        # family speaks as a body, not the person it is named after.
        return speaker
    mentions = [m for m in find_mentions(speaker) if book.is_name(m.name)]
    if mentions:
        name = book.fullest(mentions[-1].name, before=position)
        if lowered.startswith("the ") and len(words := speaker.split()) == 2 and name == words[1]:
            # "the Times", "the Pentagon": "the" before one capitalised word marks an outlet or
            # an institution (a person is never "the Smith").
            return speaker
        return name
    words = speaker.split()
    if any(w.lower() in PRONOUNS | _POSSESSIVES for w in words):
        return None
    if lowered.startswith("the ") and 1 < len(words) <= 6:
        # "said the judge": the person the article introduced with that title or role
        # ("U.S. District Judge Gonzalo Curiel", "Cross, a GOP speechwriter,"), else the
        # description is who the article credits ("the commission", "the White House").
        return book.person_titled(speaker, position) or speaker
    if lowered.split()[0] in _INDEFINITE and (1 < len(words) <= 6 or lowered in _ELLIPTIC):
        # "said one district GOP leader", "another commenter wrote", "Another said": an
        # unnamed source is credited as the article describes them.
        return speaker
    if is_group(speaker) and not any(w in PRONOUNS for w in words):
        return speaker  # "officials", "two senior officials", "a ministry spokesman"
    return None


_POSSESSIVES = frozenset({"his", "her", "their", "its", "our", "my", "your"})
_INDEFINITE = frozenset({"a", "an", "one", "another"})
_ELLIPTIC = frozenset({"one", "another"})


def _continues(text: str, previous_end: int, span: _Span) -> bool:
    """A quote that goes on from the last one: a new sentence in the same paragraph, or a
    paragraph that opens with it right after the last quote's paragraph."""
    if span.start < previous_end:
        return _starts_sentence(text, span.start - 1)
    if not _starts_paragraph(text, span.start):
        return False
    p_start = _paragraph_start(text, span.start - 1)
    between = text[previous_end:p_start]
    return not between.strip()


# --- key quotes -------------------------------------------------------------------------------


def _is_key(text: str, span: _Span, quote_text: str, attribution: Attribution | None) -> bool:
    """A reported statement of five words or more; not an epithet, scare quote or title."""
    words = _WORD.findall(quote_text)
    if len(words) < _MIN_WORDS:
        return False
    head = text[_paragraph_start(text, span.start - 1) : span.start - 1]
    previous_word = head.split()[-1].lower().strip(",:") if head.split() else ""
    if previous_word in _TITLE_CUES:
        return False
    raw = text[span.start : span.end]
    if _is_title_case(raw) and not _starts_sentence(text, span.start - 1):
        return False
    if attribution is not None:
        return attribution.verb not in NAMING_VERBS or len(words) >= _SUBSTANTIAL_WORDS
    return _starts_sentence(text, span.start - 1) or len(words) >= _SUBSTANTIAL_WORDS


def _is_title_case(quote: str) -> bool:
    words = [w for w in re.findall(r"[A-Za-z][\w’'-]*", quote) if len(w) > 3]
    if len(words) < 3 or quote.rstrip()[-1:] in ".!?,":
        return False
    capitalised = sum(1 for w in words if w[0].isupper())
    return capitalised >= 0.75 * len(words)


def _starts_sentence(text: str, opening: int) -> bool:
    head = text[_paragraph_start(text, opening) : opening].rstrip()
    return not head or head[-1] in ".!?:—" or head.endswith(("”", '"'))


def _starts_paragraph(text: str, start: int) -> bool:
    return not text[_paragraph_start(text, start - 1) : start - 1].strip()


def _paragraph_start(text: str, i: int) -> int:
    found = text.rfind("\n\n", 0, max(i, 0))
    return 0 if found < 0 else found + 2


def _paragraph_end(text: str, i: int) -> int:
    found = text.find("\n\n", i)
    return len(text) if found < 0 else found


def _mask_quoted(head: str) -> str:
    """The text with every closed quotation inside it blanked out (same length)."""
    return re.sub(r"[“\"«][^“”\"«»]*[”\"»]", lambda m: " " * len(m.group(0)), head)


def _quote_text(text: str, span: _Span) -> str:
    """The quote's words; the comma before an interrupting attribution (“A,” she said, “b.”)
    becomes the punctuation the quote itself calls for."""
    parts = [re.sub(r"\s+", " ", text[b:e]).strip() for b, e in span.pieces]
    parts = [p for p in parts if p]
    joined = ""
    for part in parts:
        if joined:
            joined = joined.rstrip(" ,")
            if joined[-1:] not in ".!?…—-:;":
                joined += "," if part[:1].islower() else "."
            joined += " "
        joined += part
    return joined.rstrip(" ,")
