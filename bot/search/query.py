"""The search query language: user text in, a checked Query out, and its safe FTS5 form.

What a user may type (every other character is literal text, never engine syntax)::

    climate summit        both words (AND), English words stemmed: "runs" finds "running"
    "sea level rise"      the exact phrase (not stemmed; case and accents still ignored)
    -opinion  -"op ed"    leave out articles with this word or phrase (also − or – before it)
    elect*                words starting with "elect" (at least three letters before the *)

Curly quotes (“ ” „ « ») count as quotes, as phones type them. An unclosed quote runs to the
end of the text. Very common English words ("the", "of", ...) are ignored outside quotes.
Words are matched case- and accent-insensitively in any script.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import Enum

from bot.errors import QueryError

MAX_QUERY_CHARS = 500
MAX_TERMS = 30
MIN_PREFIX_CHARS = 3

_QUOTES = frozenset('"“”„‟«»＂')
_MINUSES = frozenset("-−–")
_SPACES = frozenset("\t\n\r")
_JOINERS = frozenset("-‐'’._/&@")

# Function words only: words that are also names or topics ("us", "it", "who", "may", "will")
# stay searchable.
STOP_WORDS = frozenset(
    """a about above after again against all an and any are as at be because been before being
    below between both but by could did does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is its itself just me
    more most my myself nor not of off on once only or other our ours ourselves out over own same
    she should so some such than that the their theirs them themselves then there these they this
    those through to too under until up very was we were what when where which while whom why
    with would you your yours yourself yourselves""".split()  # noqa: SIM905
)


class TermKind(Enum):
    """How a term is matched."""

    WORD = "word"  # stemmed (English), all of its tokens adjacent
    PHRASE = "phrase"  # exact tokens, adjacent, in order
    PREFIX = "prefix"  # exact tokens, the last one a prefix


@dataclass(frozen=True, slots=True)
class Term:
    """One thing to look for (or to exclude), as the user wrote it."""

    text: str
    kind: TermKind
    is_excluded: bool = False

    def __str__(self) -> str:
        body = {
            TermKind.WORD: self.text,
            TermKind.PHRASE: f'"{self.text}"',
            TermKind.PREFIX: f"{self.text}*",
        }[self.kind]
        return f"-{body}" if self.is_excluded else body


@dataclass(frozen=True, slots=True)
class Query:
    """A checked query: at least one term to look for; ``ignored`` lists dropped stop words."""

    terms: tuple[Term, ...]
    ignored: tuple[str, ...] = ()

    def __str__(self) -> str:
        return " ".join(str(term) for term in self.terms)

    @property
    def is_stemmed(self) -> bool:
        return any(t.kind is TermKind.WORD and not t.is_excluded for t in self.terms)


@dataclass(frozen=True, slots=True)
class Fts5Side:
    """The MATCH expressions for one of the two full-text tables (stemmed or exact).

    ``match`` selects (positive terms, with this side's exclusions applied); when this side has
    exclusions but nothing positive, ``excluded`` is the expression of rows to leave out.
    """

    match: str | None = None
    excluded: str | None = None


@dataclass(frozen=True, slots=True)
class Fts5Query:
    """A query as FTS5 expressions: words go to the stemmed table, phrases and prefixes to the
    exact one. Every user string inside is an FTS5 string literal."""

    stemmed: Fts5Side
    exact: Fts5Side


def parse_query(text: str) -> Query:
    """Check and parse what a user typed; raise QueryError with a message fit for a chat."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(
            f"That search is too long ({len(text)} characters); "
            f"keep it under {MAX_QUERY_CHARS} characters."
        )
    if any(_is_control(ch) for ch in text):
        raise QueryError("That search contains control or invalid characters; type plain words.")
    if not text.strip():
        raise QueryError('Type some words to search for, e.g. climate summit or "sea level".')

    terms: list[Term] = []
    ignored: list[str] = []
    has_symbols_only = False
    for raw in _split_terms(text):
        if not tokenize(raw.text):
            has_symbols_only = True
            continue
        if raw.kind is TermKind.WORD and all(token in STOP_WORDS for token in tokenize(raw.text)):
            ignored.append(raw.text)
            continue
        last = tokenize(raw.text)[-1]
        if raw.kind is TermKind.PREFIX and len(last) < _min_prefix_chars(last):
            raise QueryError(
                f"“{raw.text}*” is too short to search by its start; "
                f"give at least {MIN_PREFIX_CHARS} letters before the *."
            )
        if raw not in terms:
            terms.append(raw)

    positive = [t for t in terms if not t.is_excluded]
    if len(terms) > MAX_TERMS:
        raise QueryError(
            f"That search has {len(terms)} words and phrases; use at most {MAX_TERMS}."
        )
    if not positive:
        if any(t.is_excluded for t in terms):
            raise QueryError(
                "That search only leaves words out (-word); "
                "add a word to look for, e.g. election -opinion."
            )
        if ignored:
            listed = ", ".join(f"“{w}”" for w in ignored[:5])
            raise QueryError(
                f"{listed} {'is' if len(ignored) == 1 else 'are'} too common to search for "
                "on its own; add a more specific word, or put the words in quotes to find "
                "that exact phrase."
            )
        if has_symbols_only:
            raise QueryError("That search has no words in it, only symbols; type some words.")
        raise QueryError('Type some words to search for, e.g. climate summit or "sea level".')
    return Query(terms=tuple(terms), ignored=tuple(ignored))


def to_fts5(query: Query) -> Fts5Query:
    """The query's FTS5 expressions: user text only ever appears inside string literals."""
    stemmed = [t for t in query.terms if t.kind is TermKind.WORD]
    exact = [t for t in query.terms if t.kind is not TermKind.WORD]
    return Fts5Query(stemmed=_side(stemmed), exact=_side(exact))


def highlight_fts5(query: Query) -> Fts5Query:
    """Expressions that find any looked-for term (OR, no exclusions): for marking the terms in
    a text, where the search itself needs all of them."""
    words = [_literal(t) for t in query.terms if t.kind is TermKind.WORD and not t.is_excluded]
    other = [_literal(t) for t in query.terms if t.kind is not TermKind.WORD and not t.is_excluded]
    return Fts5Query(
        stemmed=Fts5Side(match=" OR ".join(words) or None),
        exact=Fts5Side(match=" OR ".join(other) or None),
    )


def tokenize(text: str) -> list[str]:
    """The words FTS5's unicode61 tokenizer (with marks as word characters) finds, lowercased.

    Used to tell words from symbols and to spot stop words; FTS5 itself tokenises the index.
    """
    tokens: list[str] = []
    current: list[str] = []
    for ch in text:
        if _is_token_char(ch):
            current.append(ch)
        elif current:
            tokens.append("".join(current).lower())
            current = []
    if current:
        tokens.append("".join(current).lower())
    return tokens


def _side(terms: list[Term]) -> Fts5Side:
    if not terms:
        return Fts5Side()
    positive = [_literal(t) for t in terms if not t.is_excluded]
    negative = [_literal(t) for t in terms if t.is_excluded]
    excluded = " OR ".join(negative) if negative else None
    if not positive:
        return Fts5Side(excluded=excluded)
    match = " AND ".join(positive)
    if excluded:
        match = f"({match}) NOT ({excluded})"
    return Fts5Side(match=match)


def _literal(term: Term) -> str:
    quoted = '"' + term.text.replace('"', '""') + '"'
    return f"{quoted} *" if term.kind is TermKind.PREFIX else quoted


def _split_terms(text: str) -> list[Term]:
    """Scan words, quoted phrases, leading minuses and trailing stars."""
    terms: list[Term] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        starts_chunk = i == 0 or _ends_word(text[i - 1])
        is_minus = ch in _MINUSES and starts_chunk and i + 1 < n and not text[i + 1].isspace()
        if _ends_word(ch) and ch not in _QUOTES and not is_minus:
            i += 1
            continue
        is_excluded = False
        if is_minus:
            is_excluded = True
            i += 1
            while i < n and text[i] in _MINUSES:
                i += 1
            if i >= n:
                break
        if text[i] in _QUOTES:
            end = i + 1
            while end < n and text[end] not in _QUOTES:
                end += 1
            phrase = " ".join(text[i + 1 : end].split())
            terms.append(Term(phrase, TermKind.PHRASE, is_excluded))
            i = end + 1
            continue
        end = i
        while end < n and not _ends_word(text[end]):
            end += 1
        word = text[i:end]
        i = max(end, i + 1)
        if not word:
            continue
        if word.endswith("*"):
            terms.append(Term(word.rstrip("*"), TermKind.PREFIX, is_excluded))
        else:
            terms.append(Term(word, TermKind.WORD, is_excluded))
    return terms


def _ends_word(ch: str) -> bool:
    """Whitespace, quotes and punctuation end a word; letters, digits, marks, the star and
    joiners inside words (covid-19, U.S., don't, AT&T) do not."""
    return not (_is_token_char(ch) or ch in _JOINERS or ch == "*") or ch.isspace()


def _min_prefix_chars(token: str) -> int:
    """Three letters, or one ideograph or syllable (Chinese, Japanese, Korean words are short)."""
    wide = any(unicodedata.east_asian_width(ch) in ("W", "F") for ch in token)
    return 1 if wide else MIN_PREFIX_CHARS


def _is_token_char(ch: str) -> bool:
    """As unicode61 with ``categories 'L* N* Co M*'``, which also keeps code points its
    (older) Unicode tables do not know inside words."""
    category = unicodedata.category(ch)
    return category[0] in "LNM" or category in ("Co", "Cn")


def _is_control(ch: str) -> bool:
    if ch in _SPACES:
        return False
    return unicodedata.category(ch) in ("Cc", "Cs") or ch in ("\ufffe", "\uffff")
