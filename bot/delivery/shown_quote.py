"""Which key quote a story shows, and whether its speaker is fit to show: pure, display side.

The summariser (bot.article) picks quotes and attributes them; this module only guards what
a reader sees:

- a quote whose words are already in the lead shown is not shown again: the next quote
  that is not in the lead is, if any;
- a speaker is shown only when it reads as a person's or an organisation's name ("Jack
  Buser", "Dr. Ana Ruiz", "NASA", "Bank of England", "The Associated Press") or is a group
  the article credits ("officials", "the ministry", "a spokesman for the ministry", as
  ``bot.article.speakers.is_group`` reads them); a sentence fragment glued to a name
  ("Aspects. Beth Meacham"), a description of one person ("The 56-year-old", "the
  official") or a pronoun is dropped and the quote is shown without a speaker;
- a speaker whose words stand inside the quote is who the quote speaks of ("We love Pizza
  Express"), not who spoke, and is not shown.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from bot.article.speakers import is_group
from bot.models import Quote

QUOTE_PREFIX_WORDS = 8
"""A quote whose first this many words (all of a shorter one) appear in the lead is in it."""

MAX_SPEAKER_WORDS = 7

_WORD = re.compile(r"\w+(?:['’]\w+)*")
# Words that may stand lowercase inside a name: "Bank of England", "Ursula von der Leyen".
_PARTICLES_TEXT = (
    "of the and for de del della der di da das dos du la le van von den ter bin ibn al el y e"
    " do af zu"
)
_PARTICLES = frozenset(_PARTICLES_TEXT.split())
# Abbreviations a name may carry with a full stop: "Dr. Ana Ruiz", "Martin Luther King Jr.".
_ABBREVIATIONS_TEXT = (
    "dr mr mrs ms mx prof gen sen rep gov lt col capt sgt rev st jr sr inc co corp ltd mt ft"
    " hon maj adm cmdr supt insp det pres"
)
_ABBREVIATIONS = frozenset(_ABBREVIATIONS_TEXT.split())
# First words that make a description or a pronoun, not a name.
_NOT_NAMES_TEXT = (
    "a an this that these those he she they it we i you his her their its our one some another"
    " officials official police experts sources source"
)
_NOT_NAMES = frozenset(_NOT_NAMES_TEXT.split())


def _words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def is_in_lead(quote: str, lead: str) -> bool:
    """Whether the quote's words (its first QUOTE_PREFIX_WORDS) already stand in the lead."""
    quoted = _words(quote)[:QUOTE_PREFIX_WORDS]
    if not quoted:
        return False
    told = _words(lead)
    n = len(quoted)
    return any(told[i : i + n] == quoted for i in range(len(told) - n + 1))


def shown_quote(quotes: Sequence[Quote], lead: str) -> Quote | None:
    """The first quote not already in the lead shown, or None."""
    return next((q for q in quotes if q.text.strip() and not is_in_lead(q.text, lead)), None)


def _is_cased(word: str) -> bool:
    """Whether the word's script has capitals (names in Arabic or Chinese script do not)."""
    return any(c.upper() != c.lower() for c in word)


def _is_name_word(word: str) -> bool:
    letters = word.strip("'’.,-&")
    if not letters:
        return word == "&"
    if not _is_cased(letters):
        return True
    if letters.lower() in _PARTICLES:
        return True
    head = letters.split("-", 1)
    if len(head) == 2 and head[0].lower() in _PARTICLES:  # al-Assad, bin-Salman
        return head[1][:1].isupper() or not _is_cased(head[1])
    return letters[0].isupper()


def speaker_to_show(speaker: str | None, quote: str = "") -> str | None:
    """The speaker when it reads as a name or a credited group, else None (see the module
    docstring). A role after a comma is left out: "Jack Buser, director for games" shows as
    "Jack Buser"."""
    name = " ".join((speaker or "").split()).split(",", 1)[0].strip(" ;:—–-")
    if not name or any(c.isdigit() for c in name) or re.search(r"[!?;:()\[\]\"“”]", name):
        return None
    if quote and _is_inside(name, quote):
        return None
    if is_group(name):
        return name
    words = name.split(" ")
    first = words[0].lower()
    if len(words) > MAX_SPEAKER_WORDS or first.strip(".") in _NOT_NAMES:
        return None
    for word in words[:-1]:
        # A full stop inside the speaker ends a sentence unless it closes an initial or a title.
        stem = word.rstrip(".")
        is_word = len(stem) > 1 and "." not in stem
        if word.endswith(".") and is_word and stem.lower() not in _ABBREVIATIONS:
            return None
    body = words[1:] if first == "the" else words
    if not body or (words[0][:1].islower() and first != "the"):
        return None
    if not all(_is_name_word(word) for word in body):
        return None
    if all(w.strip("'’.,-&").lower() in _PARTICLES for w in body):
        return None
    return name


def _is_inside(name: str, quote: str) -> bool:
    """Whether the speaker's words stand together inside the quote."""
    named = [w for w in _words(name) if w not in ("the", "a", "an")]
    said = _words(quote)
    n = len(named)
    return bool(named) and any(said[i : i + n] == named for i in range(len(said) - n + 1))
