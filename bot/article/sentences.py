"""Sentence splitting for news text: abbreviations, initials, decimals, quotes, tokenised text.

The splitter works on whitespace-separated tokens and decides after each token that ends in
``.``, ``!``, ``?`` or an ellipsis whether a sentence ends there, by looking at the word before
the mark and at the token that follows. It needs no trained model: the knowledge it uses is a
list of abbreviations (titles never end a sentence; the others only before a word that usually
starts one) and the case of the next word. Every sentence is an exact slice of the text, so the
sentences appear in the text in order and together hold all of its non-space characters.

Given the article's language, other languages written in Latin or Cyrillic letters add their
own abbreviations, and scripts this splitter has no rules for (Urdu, Hindi, Arabic, Chinese,
Japanese …) go to a multilingual segmenter (``bot.article.segmenter``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.article.segmenter import is_abbreviation, is_ordinal, segment_spans, segmenter_language


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Titles and other abbreviations that never end a sentence: a name or number always follows.
_TITLES = _word_set(
    """mr mrs ms messrs mmes dr prof sen sens rep reps gov govs gen lt col maj capt cmdr
    cmdt adm sgt cpl pvt brig supt insp det rev hon pres fr mt ft ste mme mlle"""
)
# Lower-case abbreviations (a capitalised word is looked up in the other two lists).
_LOWER = _word_set(
    """vs v cf nr op fig figs vol vols ch pp p approx viz etc al est ed eds mr mrs ms dr prof
    sr sra srta dra bzw ca ggf inkl usw vgl evtl sog bspw hrsg env aprox pág núm"""
)

# Abbreviations that may also end a sentence: they end one only before a word that usually
# starts a sentence ("... in the U.S. The" but "U.S. Rep. Omar", "Sept. 11", "Apple Inc. shares").
_AMBIGUOUS = _word_set(
    """jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat
    sun inc corp co cos ltd llc plc bros assn dept univ st ave blvd rd hwy jr sr
    no nos ala ariz ark calif colo conn del fla ga ill ind kan kans ky la md
    mass mich minn miss mo mont neb nev okla ore pa penn tenn tex vt va wash wis wyo"""
)

# Words that usually start a sentence (compared lower-cased), after an ambiguous abbreviation.
_STARTERS = _word_set(
    """the a an he she it they we i you this that these those there here his her its their
    our my your in on at but and or so yet if when while as after before since for with by
    from to of what who whom whose why how where which some many most all not one two both
    each every other such however meanwhile also still then now last according despite
    although though because police officials authorities critics experts analysts
    yesterday today tomorrow earlier later during under over until unless once instead
    nor neither either nothing no none no-one nobody everyone someone people"""
)

_ENDERS = ".!?…。！？"
_CLOSERS = "”’\"')]}»›」』）"
_OPENERS = "“‘\"'([{«‹「『（`¿¡"
_DASHES = frozenset({"-", "--", "—", "–", "―"})
# Marks that end a sentence inside a token in scripts written without spaces (Chinese, Japanese).
_CJK_END = re.compile(r"[。！？]+[」』”’）)]*(?=\S)")
_TOKEN = re.compile(r"\S+")
_HARD_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*|\n(?=[ \t]*[^\s])")


def split_sentences(text: str, language: str | None = None) -> list[str]:
    """Split text into sentences, in order; each is an exact slice of ``text``. ``language``
    is the article's ISO 639-1 code when known."""
    return [text[start:end] for start, end in sentence_spans(text, language)]


def sentence_spans(text: str, language: str | None = None) -> list[tuple[int, int]]:
    """The ``(start, end)`` offsets of each sentence in ``text``, in order."""
    spans: list[tuple[int, int]] = []
    segmenter = segmenter_language(text, language)
    for block_start, block_end in _blocks(text):
        if segmenter is not None:
            spans.extend(segment_spans(text, block_start, block_end, segmenter))
            continue
        tokens = list(_tokens(text, block_start, block_end))
        spans.extend(_split_tokens(text, tokens, language))
    return spans


def _blocks(text: str) -> Iterator[tuple[int, int]]:
    """Paragraphs and lines: a blank line always ends a sentence; a single line break does
    too, unless the next line starts with a lower-case letter (a hard-wrapped sentence)."""
    start = 0
    for match in _HARD_BREAK.finditer(text):
        if "\n\n" not in re.sub(r"[ \t\r\f\v]", "", match.group(0)):
            following = text[match.end() :].lstrip(" \t")
            if following[:1].islower():
                continue
        yield start, match.start()
        start = match.end()
    yield start, len(text)


def _tokens(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    if not _CJK_END.search(text, start, end):
        for match in _TOKEN.finditer(text, start, end):
            yield match.span()
        return
    for match in _TOKEN.finditer(text, start, end):
        token_start = match.start()
        for cjk in _CJK_END.finditer(match.group(0)):
            yield token_start, match.start() + cjk.end()
            token_start = match.start() + cjk.end()
        yield token_start, match.end()


def _split_tokens(
    text: str, tokens: list[tuple[int, int]], language: str | None = None
) -> Iterator[tuple[int, int]]:
    first = 0
    i = 0
    while i < len(tokens):
        token = text[tokens[i][0] : tokens[i][1]]
        last = i
        if _ends_sentence_mark(token):
            # Closing quotes and brackets after the mark belong to the sentence it ends.
            quotes_open = _open_quote_parity(text, tokens[first][0], tokens[i][1])
            while last + 1 < len(tokens):
                nxt = text[tokens[last + 1][0] : tokens[last + 1][1]]
                if _is_closer(nxt, quotes_open):
                    last += 1
                    quotes_open = False
                else:
                    break
            following = _following_word(text, tokens, last + 1)
            if _is_boundary(token, following, is_first=i == first, language=language):
                yield tokens[first][0], tokens[last][1]
                first = last + 1
        i = last + 1
    if first < len(tokens):
        yield tokens[first][0], tokens[-1][1]


def _ends_sentence_mark(token: str) -> bool:
    core = token.rstrip(_CLOSERS)
    return bool(core) and core[-1] in _ENDERS


def _open_quote_parity(text: str, start: int, end: int) -> bool:
    """Whether a straight quote is left open in the sentence so far (tokenised text spaces
    its quotes: ``' very lucky '``), so that the next lone quote closes it."""
    span = text[start:end]
    lone_single = len(re.findall(r"(?:(?<=\s)|^)'(?=\s|$)", span))
    return span.count('"') % 2 == 1 or lone_single % 2 == 1


def _is_closer(token: str, quotes_open: bool) -> bool:
    if token in ("''", "”", "’", ")", "]", "»", "」", "』", "）"):
        return True
    return token in ('"', "'") and quotes_open


def _following_word(text: str, tokens: list[tuple[int, int]], index: int) -> str | None:
    """The next token with its opening quotes and brackets removed (skipping lone openers);
    "" when the next token is other punctuation (a dash, a lone full stop); None at the end."""
    while index < len(tokens):
        token = text[tokens[index][0] : tokens[index][1]]
        bare = token.lstrip(_OPENERS)
        if bare:
            if token in _DASHES or not any(ch.isalnum() for ch in bare):
                return ""
            return bare
        index += 1
    return None


def _is_boundary(
    token: str, following: str | None, *, is_first: bool, language: str | None = None
) -> bool:
    """Whether the sentence ends after ``token`` (which ends in a mark), given the next word."""
    if following is None:
        return True
    if following == "":
        return False
    core = token.rstrip(_CLOSERS)
    word = core.rstrip(_ENDERS).lstrip(_OPENERS)
    next_char = following[0]
    if core in (".", "。"):
        return True  # a lone full stop: tokenised text, where "U.S. ." ends a sentence
    if core[-1] in "!?。！？" or core.endswith(("…", "..")):
        return not next_char.islower()
    if next_char.islower():
        return False
    key = word.lower() if word[:1].isupper() else ""
    next_key = following.rstrip(_CLOSERS + ",;:.!?").lower()
    if key in _TITLES or word in _LOWER:
        return False
    if language not in (None, "en") and (
        is_abbreviation(word, language) or is_ordinal(word, following, language)
    ):
        return False
    if key in _AMBIGUOUS or _is_initial(word) or _is_dotted_acronym(word):
        return next_key in _STARTERS
    return not (is_first and _is_list_marker(word))


def _is_initial(word: str) -> bool:
    return len(word) == 1 and word.isalpha()


def _is_dotted_acronym(word: str) -> bool:
    """U.S, U.K, D.C, a.m, e.g, Ph.D: letters joined by full stops."""
    return bool(re.fullmatch(r"(?:[^\W\d_]{1,2}\.)+[^\W\d_]{1,2}", word))


def _is_list_marker(word: str) -> bool:
    return bool(re.fullmatch(r"\d{1,2}|[a-zA-Z]|[ivxIVX]{1,4}", word))
