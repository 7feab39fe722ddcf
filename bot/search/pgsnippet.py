"""Where a query's terms are in the texts of a page of PostgreSQL hits, found without
``ts_headline``: it parses and stems every word of every text shown (about as costly as
indexing the ten articles again, most of a search's time). Here the words are found in Python
and only the few that may hold a query lexeme are stemmed, in one statement, by the
database's own configurations; a word is marked when its lexemes meet the query's (as
``ts_headline`` with ``HighlightAll`` marks them).

The window read is the embedded index's (bot.search.highlight): a text's first
``FIRST_CHARS``, and the rest of ``SCAN_CHARS`` only when they hold no term. Words are runs of
letters, digits and combining marks after ASCII punctuation became spaces (what
``newsbot_words`` does before PostgreSQL's parser splits at the rest). A word is a candidate
when its folded form (lower case, accents off) begins as a query lexeme does: stemmers rewrite
endings, so a word's stem keeps its first letters; for the languages whose stemmers also
strip prefixes (Arabic, Indonesian, Irish) every word is a candidate.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.search.snippet import Span
from bot.store.pgschema import EXACT_CONFIG, WORD_SEPARATORS

_LEXEME = re.compile(r"'((?:[^']|'')*)'(:\*)?")
_PREFIX_CHARS = 3
_PREFIX_STRIPPING = frozenset(
    {"newsbot_stemmed_arabic", "newsbot_stemmed_indonesian", "newsbot_stemmed_irish"}
)
# letters unaccent folds that have no decomposition
_FOLD = str.maketrans({"ł": "l", "đ": "d", "ø": "o", "æ": "ae", "œ": "oe", "ħ": "h", "ı": "i"})


@dataclass(frozen=True, slots=True)
class Lexemes:
    """A query's positive lexemes under one configuration: whole ones and prefixes."""

    whole: frozenset[str]
    prefixes: tuple[str, ...]

    @classmethod
    def of(cls, tsquery: str | None) -> Lexemes:
        """The lexemes of a tsquery's text (``'elect' & 'vote':*``)."""
        whole: set[str] = set()
        prefixes: list[str] = []
        for quoted, star in _LEXEME.findall(tsquery or ""):
            lexeme = quoted.replace("''", "'")
            if star:
                prefixes.append(lexeme)
            else:
                whole.add(lexeme)
        return cls(frozenset(whole), tuple(prefixes))

    def meet(self, lexemes: Sequence[str]) -> bool:
        return any(x in self.whole or x.startswith(self.prefixes) for x in lexemes)

    def starts(self) -> tuple[str, ...]:
        """How a word that may stem to one of these lexemes begins (stemmers keep it)."""
        return tuple(sorted({x[:_PREFIX_CHARS] for x in (*self.whole, *self.prefixes) if x}))


@dataclass(frozen=True, slots=True)
class Piece:
    """A window of one hit's text to mark: its words' spans are offset by ``offset``."""

    key: int
    offset: int
    text: str
    config: str


def find_spans(
    conn: Any, pieces: Sequence[Piece], words: dict[str, Lexemes], exact: Lexemes | None
) -> dict[int, list[Span]]:
    """The spans of the query's words in each piece (by key): ``words`` are the lexemes of its
    plain words by configuration, ``exact`` those of its phrases and prefixes."""
    candidates: dict[tuple[str, str], list[tuple[int, Span]]] = {}
    for piece in pieces:
        folded = piece.text.translate(_folding())
        sides = [(EXACT_CONFIG, exact)] if exact is not None else []
        if piece.config in words:
            sides.append((piece.config, words[piece.config]))
        for config, lexemes in sides:
            if config in _PREFIX_STRIPPING:
                found = _word().finditer(folded)
            else:
                found = _candidates(lexemes.starts()).finditer(folded)
            for match in found:
                token = piece.text[match.start() : match.end()]
                span = (piece.offset + match.start(), piece.offset + match.end())
                candidates.setdefault((config, token), []).append((piece.key, span))
    spans: dict[int, list[Span]] = {piece.key: [] for piece in pieces}
    if not candidates:
        return spans
    keys = list(candidates)
    rows = conn.execute(
        "SELECT tsvector_to_array(to_tsvector(c::regconfig, w)) "
        "FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS x (c, w, n) ORDER BY n",
        [[config for config, _ in keys], [token for _, token in keys]],
    ).fetchall()
    for (config, token), (stems,) in zip(keys, rows, strict=True):
        wanted = exact if config == EXACT_CONFIG else words.get(config)
        if wanted is not None and wanted.meet(stems or ()):
            for key, span in candidates[(config, token)]:
                spans[key].append(span)
    return spans


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_FOLD)


# Word characters: \w and the combining marks of the scripts news is written in (Latin
# accents, Cyrillic, Hebrew, Arabic and Urdu, the Indic scripts but their full stops, Thai).
_WORD_CLASS = (
    "\\w\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670"
    "\u06d6-\u06ed\u0900-\u0963\u0966-\u0dff\u0e31-\u0e4e\u1ab0-\u1aff\u1dc0-\u1dff"
    "\u20d0-\u20ff\ufe20-\ufe2f"
)


@functools.cache
def _word() -> re.Pattern[str]:
    """Runs of word characters and combining marks."""
    return re.compile(f"[{_WORD_CLASS}]+")


@functools.cache
def _folding() -> dict[int, str]:
    """ASCII punctuation to spaces (as ``newsbot_words``) and each letter to its folded form
    where that is one letter (À → a, ą → a, Ж → ж), so offsets hold."""
    table: dict[int, str] = {ord(c): " " for c in WORD_SEPARATORS}
    for code in range(0x41, 0x3000):
        folded = _fold(chr(code))
        if len(folded) == 1 and folded != chr(code) and code not in table:
            table[code] = folded
    return table


@functools.lru_cache(maxsize=256)
def _candidates(starts: tuple[str, ...]) -> re.Pattern[str]:
    """Whole words of a folded text beginning with one of ``starts``."""
    alternatives = "|".join(map(re.escape, starts)) or "(?!)"
    return re.compile(f"(?<![{_WORD_CLASS}])(?:{alternatives})[{_WORD_CLASS}]*")
