"""The language an article is written in, and what differs by language: how words are
counted (a Chinese or Japanese character is a word of its own) and how datelines look.

``detect_language`` uses py3langid (a maintained fork of langid.py: a small model shipped
inside the package, loaded once on first use, no download; ``langmodel`` loads it fast).
It answers with an ISO 639-1 code ("de", "ur", "zh") or None when the text is too short to
tell.
"""

from __future__ import annotations

import re

from bot.article import langmodel
from bot.article.scripts import declared_holds, script_language

# Enough letters to tell a language apart; shorter texts (a headline) get None.
MIN_LETTERS = 20
# The detector reads the opening of the text: the language of a page does not change in
# its middle, and the cost stays flat however long the article is.
SAMPLE_CHARS = 600

# Han, kana and hangul: each character is a word (the corpus's lead metric v2 counts so).
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
_LETTER = re.compile(r"[^\W\d_]")
_ARABIC_SCRIPT = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
# Letters and the full stop Urdu uses and Arabic and Persian do not (ے ں ٹ ڈ ڑ ۓ ۔).
_URDU_ONLY = re.compile(r"[\u06d2\u06ba\u0679\u0688\u0691\u06d3\u06d4]")


# A dateline in front of a first sentence, as news outside English writes it: a place with
# its country or agency in brackets, maybe a second place and a date, then a dash
# ("Lyon (Frankreich), 29.02.2012 – ", "MADRID, 12 mar (EFE).- ", "دمشق، سوريا (CNN) -- ");
# in scripts without capitals, a place with its agency or desk in brackets, or a colon
# ("واشنگٹن (ویب ڈیسک) ", "کوئٹہ (اے پی پی)", "اسلام آباد: ");
# or a short place and a spaced dash ("نیویارک — "); or, in Spanish-language news, a place
# or agency in capitals closed by ".-" ("LA PAZ.- ", "VOA.- ").
_PLACE = r"[^\W\d_][^\n()–—:.!?؟۔।。]{0,60}?"
_BRACKETS = r"\([^()\n]{1,60}\)"
_CAPITALISED = r"[A-ZÀ-ÖØ-ÞĀ-Ž\u0400-\u042f][\w'’.-]*"
_CASELESS = r"[\u0600-\u06ff\u0750-\u077f\u0900-\u0dff][^\s—–]*"
_FOREIGN_DATELINE = re.compile(
    rf"""^(?:
        {_PLACE}(?:\s*,\s*[^\W\d_][\w ]{{0,25}}?)?\s*{_BRACKETS}
        (?:\s*/\s*{_PLACE}\s*{_BRACKETS})?
        (?:\s*,\s*[\w .]{{1,25}}?)?
        \s*(?:[—–:]|-{{1,2}}|\.-|\.?\s*-)\s+
      | {_CASELESS}(?:\s+{_CASELESS}){{0,2}}\s*(?:{_BRACKETS}|:)\s*
      | (?:{_CAPITALISED}(?:\s+{_CAPITALISED}){{0,2}}|{_CASELESS}(?:\s+{_CASELESS}){{0,2}})
        \s+[—–]\s+
      | [A-ZÀ-ÖØ-Þ]{{2,}}(?:\s+[A-ZÀ-ÖØ-Þ]{{2,}}){{0,2}}\.-\s+
    )""",
    re.VERBOSE,
)
MAX_DATELINE_WORDS = 16


def strip_dateline(sentence: str) -> str:
    """The sentence without a dateline in front, in the forms news outside English uses."""
    match = _FOREIGN_DATELINE.match(sentence)
    if not match or count_words(match.group(0)) > MAX_DATELINE_WORDS:
        return sentence
    rest = sentence[match.end() :]
    return rest if count_words(rest) >= 3 else sentence


def count_words(text: str) -> int:
    """Words in ``text``: runs of letters and digits, and each CJK character on its own."""
    return len(_TOKEN.findall(text))


def words(text: str) -> list[str]:
    """The words ``count_words`` counts, lower-cased."""
    return [w.lower() for w in _TOKEN.findall(text)]


def detect_language(text: str, declared: str | None = None) -> str | None:
    """The ISO 639-1 code of the language ``text`` is written in, or None if it is too short
    to tell. ``declared`` (the code a page or feed declares) is the answer when the text bears
    it out (the convention is in ``bot.article.scripts``) or is too short to tell; a script
    only one language writes answers without the model."""
    sample = text[:SAMPLE_CHARS]
    if len(_LETTER.findall(sample)) < MIN_LETTERS:
        return declared
    if declared and declared_holds(declared, sample):
        return declared
    code = script_language(sample) or _classify(sample)
    if code in {"ar", "fa", "ur"} and _ARABIC_SCRIPT.search(sample):
        # The model confuses the three on short news text; Urdu's own letters settle it.
        urdu_letters = len(_URDU_ONLY.findall(sample))
        if urdu_letters >= 3:
            return "ur"
    return code


def _classify(text: str) -> str:
    return langmodel.classify(text)
