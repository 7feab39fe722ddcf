"""Sentence boundaries where our English splitter has no rules, and the abbreviations and
numbers that end no sentence in the other languages it serves.

Scripts whose sentences end with marks the English splitter does not know (Urdu ``۔``,
Hindi ``।``, Arabic ``؟``, Burmese ``။``, Chinese and Japanese ``。`` with quotes that close
after it) go to sentencex, a maintained rule-based segmenter for about 300 languages that
needs no data download. Languages written in Latin or Cyrillic letters stay with our
splitter, which measured better on them (sentencex cuts "am 1. Weihnachtstag" and
"a déclaré M. Dupont"); they only add their own abbreviations here.
"""

from __future__ import annotations

import re

# The share of letters in a script the English splitter has no rules for that sends an
# untagged text to the segmenter.
_FOREIGN_SHARE = 0.5
_SAMPLE_CHARS = 600

# Script ranges, each with the language sentencex should apply when the text is untagged.
_SCRIPTS: tuple[tuple[str, str], ...] = (
    ("\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff", "ar"),
    ("\u0900-\u097f", "hi"),
    ("\u0980-\u09ff", "bn"),
    ("\u0a00-\u0a7f", "pa"),
    ("\u0a80-\u0aff", "gu"),
    ("\u0b80-\u0bff", "ta"),
    ("\u0c00-\u0c7f", "te"),
    ("\u0c80-\u0cff", "kn"),
    ("\u0d00-\u0d7f", "ml"),
    ("\u0d80-\u0dff", "si"),
    ("\u0e00-\u0e7f", "th"),
    ("\u1000-\u109f", "my"),
    ("\u1200-\u137f", "am"),
    ("\u3040-\u30ff", "ja"),
    ("\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff", "zh"),
    ("\uac00-\ud7af", "ko"),
)
_SCRIPT_PATTERNS = tuple((re.compile(f"[{chars}]"), code) for chars, code in _SCRIPTS)
_URDU_MARKS = re.compile(r"[\u06d2\u06ba\u0679\u0688\u0691\u06d3\u06d4]")
_LETTER = re.compile(r"[^\W\d_]")


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Languages whose text goes to sentencex when the article says which it is.
SEGMENTED = _set(
    "ar fa ur ps sd ug hi mr ne sa bn as pa gu or ta te kn ml si th lo km my am ti ja zh ko"
)

# Abbreviations that end no sentence, by language (compared lower-cased, without the stop).
_ABBREVIATIONS: dict[str, frozenset[str]] = {
    "de": _set("""bzw ca dr evtl ggf hr hrn inkl nr prof sog str usw vgl z.b u.a d.h o.ä s.o
        jh jhd mio mrd abs abt bd geb gest ehem"""),
    "fr": _set("m mm mme mlle me mgr dr pr st ste cf env p.ex av apr n°"),
    "es": _set("sr sra srta dr dra d dña lic ing av avda núm pág aprox etc ee.uu"),
    "pt": _set("sr sra dr dra av nº pág aprox etc"),
    "it": _set("sig sigg dott dr prof avv ing on sen"),
    "ru": _set("г гг т.е т.д т.п им ул пр проф акад млн млрд тыс руб см др"),
}
# In German a number with a full stop before a noun is an ordinal ("am 1. Weihnachtstag",
# "am 29. Februar"); these words still start a new sentence after one.
_GERMAN_STARTERS = _set("""der die das dem den des ein eine einer er sie es wir ich ihr man
    im in am an auf aus
    bei mit nach von vor zu zum zur nun dann doch aber und oder so als wie wenn da dies
    diese dieser dieses damit danach zudem auch""")


def segmenter_language(text: str, language: str | None) -> str | None:
    """The language sentencex should segment ``text`` in, or None for our own splitter."""
    if language is not None:
        return language if language in SEGMENTED else None
    sample = text[:_SAMPLE_CHARS]
    letters = len(_LETTER.findall(sample))
    if not letters:
        return None
    counts = {code: len(pattern.findall(sample)) for pattern, code in _SCRIPT_PATTERNS}
    kana = counts.pop("ja")
    counts["zh"] += kana
    code, count = max(counts.items(), key=lambda item: item[1])
    if count / letters < _FOREIGN_SHARE:
        return None
    if code == "zh" and kana >= 0.05 * letters:
        return "ja"
    if code == "ar" and _URDU_MARKS.search(sample):
        return "ur"
    return code


def segment_spans(text: str, start: int, end: int, language: str) -> list[tuple[int, int]]:
    """The sentences of ``text[start:end]`` as sentencex finds them, as exact offsets."""
    from sentencex import segment

    spans: list[tuple[int, int]] = []
    cursor = start
    for piece in segment(language, text[start:end]):
        stripped = piece.strip()
        if not stripped:
            continue
        found = text.find(stripped, cursor, end)
        if found < 0:  # the segmenter changed the text: keep the rest whole
            break
        spans.append((found, found + len(stripped)))
        cursor = found + len(stripped)
    rest = text[cursor:end]
    if rest.strip():
        offset = cursor + len(rest) - len(rest.lstrip())
        spans.append((offset, cursor + len(rest.rstrip())))
    return spans


def is_abbreviation(word: str, language: str | None) -> bool:
    """Whether ``word`` (without its final stop) is an abbreviation in ``language``."""
    extra = _ABBREVIATIONS.get(language or "")
    return extra is not None and word.lower() in extra


def is_ordinal(word: str, following: str, language: str | None) -> bool:
    """A German ordinal: "1." before a noun, not before a word that starts a sentence."""
    if language != "de" or not word.isdigit() or len(word) > 2:
        return False
    return following[:1].isupper() and following.lower() not in _GERMAN_STARTERS
