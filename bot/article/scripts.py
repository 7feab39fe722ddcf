"""What a text's letters tell of its language without the detector's model: the script
(only Korean is written in Hangul), and for the languages most feeds are in, their commonest
words. ``detect_language`` uses this to answer without loading the model when it can, and to
check the language a page or feed declares (``<html lang>``, og:locale, Content-Language,
RSS ``<language>``), which is sometimes a site-wide template's and not the article's.

The convention: a declared language is taken when the text bears it out, else the
detector decides:
- a language with a script of its own (Korean, Japanese, Greek, Hebrew, Thai, Georgian,
  Armenian, Tamil …) holds when that script is most of the opening's letters;
- a language we know the commonest words of (en, de, fr, es, pt, it, nl, ru, uk, bg) holds when its
  words are at least ``MIN_COMMON_SHARE`` of the opening's words and more than any other
  such language's (a German article on a site whose template says lang="en" is German);
- any other declaration is not checked, and the detector decides.
"""

from __future__ import annotations

import re
from collections import Counter

# Unicode ranges of the scripts that one language of the detector's writes alone.
_OWN_SCRIPT = {
    "ko": "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af",
    "ja": "\u3040-\u30ff",  # kana: Japanese writes its grammar in kana among the Han characters
    "el": "\u0370-\u03ff\u1f00-\u1fff",
    "he": "\u0590-\u05ff",
    "th": "\u0e00-\u0e7f",
    "ka": "\u10a0-\u10ff",
    "hy": "\u0530-\u058f",
    "lo": "\u0e80-\u0eff",
    "km": "\u1780-\u17ff",
    "my": "\u1000-\u109f",
    "si": "\u0d80-\u0dff",
    "ta": "\u0b80-\u0bff",
    "te": "\u0c00-\u0c7f",
    "kn": "\u0c80-\u0cff",
    "ml": "\u0d00-\u0d7f",
    "gu": "\u0a80-\u0aff",
    "pa": "\u0a00-\u0a7f",
    "or": "\u0b00-\u0b7f",
}
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SCRIPT_OF = re.compile("|".join(f"(?P<{code}>[{chars}])" for code, chars in _OWN_SCRIPT.items()))
_HAN_CHAR = re.compile(f"[{_HAN}]")
_LETTER = re.compile(r"[^\W\d_]")
# Most of the letters: a Korean article quoting an English name is still Korean.
MIN_SCRIPT_SHARE = 0.5
# Kana among Japanese text's letters runs from a third to two thirds; a Chinese text has none.
MIN_KANA_SHARE = 0.15

_COMMON_WORDS = {
    "en": "the of and to in a is that for on was with said he it as at by his from has be are"
    " have an not this but were who will they after had their been which or its",
    "de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als"
    " auch es an er hat aus bei sie nach wie wird sind einer um am über vor zum zur",
    "fr": "de la le et les des en un une du est que pour dans qui au sur par pas plus ne se"
    " ce il avec sont son aux été ont mais elle ou leur a",
    "es": "de la que el en y a los del se las por un para con una su al lo como más es pero"
    " sus le ha sin sobre este ya entre cuando también fue han dijo",
    "pt": "de a o que e do da em um para é com não uma os no se na por mais as dos como mas"
    " foi ao ele das tem à seu sua ou ser quando também pelo pela disse",
    "it": "di e il la che a per in un è del non una le della si da con i al sono dei nel"
    " anche come alla più ha ma gli lo delle questo nella dopo ai sul",
    "nl": "de het een en van in is op te dat die voor met zijn niet aan er om ook als bij"
    " door naar heeft maar werd over nog uit worden tot wordt wel zij hij",
    "ru": "и в не на что с по он как это о из к за от его для но то был она так же все у"
    " бы при уже также после было были",
    # Cyrillic neighbours, so that Russian must outscore them
    "uk": "і в на не що з у до та за як це від про й його для але він так ще вже її їх є",
    "bg": "и в на да се от за с не е са че по това като му ще до през който която които",
}
_COMMON = {code: frozenset(words.split()) for code, words in _COMMON_WORDS.items()}
_WORD = re.compile(r"[^\W\d_]+")
# News runs at a quarter to two fifths of these words in its own language (Russian, which has
# no articles, at a tenth and more), and at a few percent in others.
MIN_COMMON_SHARE = 0.15
_MIN_SHARE_OF = {"ru": 0.08, "uk": 0.08, "bg": 0.08}
MIN_WORDS = 20


def script_language(sample: str) -> str | None:
    """The language that alone writes most of ``sample``'s letters in its script (Korean in
    Hangul, Greek, Thai …; Japanese by its kana; Chinese in Han characters without kana),
    or None."""
    letters = len(_LETTER.findall(sample))
    if not letters:
        return None
    counts = Counter(match.lastgroup for match in _SCRIPT_OF.finditer(sample))
    kana = counts.pop("ja", 0)
    han = len(_HAN_CHAR.findall(sample))
    if kana >= MIN_KANA_SHARE * letters and kana + han >= MIN_SCRIPT_SHARE * letters:
        return "ja"
    if counts:
        code, count = counts.most_common(1)[0]
        if count >= MIN_SCRIPT_SHARE * letters:
            return code
    if not kana and han >= MIN_SCRIPT_SHARE * letters:
        return "zh"
    return None


def declared_holds(code: str, sample: str) -> bool:
    """Whether ``sample`` bears out the declared language ``code`` (the module's convention);
    False when it cannot tell."""
    if code in _OWN_SCRIPT or code == "zh":
        return script_language(sample) == code
    if code not in _COMMON:
        return False
    words = [w.lower() for w in _WORD.findall(sample)]
    if len(words) < MIN_WORDS:
        return False
    shares = {
        lang: sum(w in common for w in words) / len(words) for lang, common in _COMMON.items()
    }
    best = max(shares.values())
    return shares[code] >= _MIN_SHARE_OF.get(code, MIN_COMMON_SHARE) and shares[code] == best


_TAG = re.compile(r"([a-z]{2,3})(?:[-_][a-z0-9]{1,8})*", re.I)
# Codes ISO 639 has since replaced, still seen in old pages and feeds.
_RENAMED = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv"}


def language_code(tag: str | None) -> str | None:
    """The ISO 639-1 code of a declared language tag ("en-US", "pt_BR", "DE"), or None for
    none, several ("de, en") or a tag that names no language ("x-default", "und")."""
    if not tag:
        return None
    found = _TAG.fullmatch(tag.strip())
    if not found:
        return None
    primary = found.group(1).lower()
    primary = _RENAMED.get(primary, primary)
    return primary if len(primary) == 2 else None
