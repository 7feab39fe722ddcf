"""The corpus metrics, as the corpus README defines them; independent of newsbot's own code."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


# --- extraction (Zyte's benchmark metric) ------------------------------------------------


@dataclass(frozen=True)
class PageScore:
    tp: float
    fp: float
    fn: float


def shingle_score(truth: str, predicted: str, n: int = 4) -> PageScore:
    """Per-page tp/fp/fn of token 4-gram shingles, normalised to sum to 1."""
    true_sh = _shingles(_WORD.findall(truth), n)
    pred_sh = _shingles(_WORD.findall(predicted), n)
    tp = sum((true_sh & pred_sh).values())
    fp = sum((pred_sh - true_sh).values())
    fn = sum((true_sh - pred_sh).values())
    total = tp + fp + fn
    if total == 0:
        return PageScore(1.0, 0.0, 0.0)
    return PageScore(tp / total, fp / total, fn / total)


def _shingles(tokens: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    if len(tokens) < n:
        return Counter([tuple(tokens)]) if tokens else Counter()
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def extraction_prf(scores: Iterable[PageScore]) -> tuple[float, float, float]:
    """Precision and recall as means over pages, F1 from the two means."""
    precisions: list[float] = []
    recalls: list[float] = []
    for s in scores:
        if s.fp == 0 and s.fn == 0:
            precisions.append(1.0)
            recalls.append(1.0)
            continue
        if s.tp + s.fp > 0:
            precisions.append(s.tp / (s.tp + s.fp))
        else:
            precisions.append(0.0)
        if s.tp + s.fn > 0:
            recalls.append(s.tp / (s.tp + s.fn))
    p = sum(precisions) / len(precisions) if precisions else 0.0
    r = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return f1, p, r


# --- lead accuracy ----------------------------------------------------------------------

_ABBREV = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "sen",
    "rep",
    "gov",
    "gen",
    "col",
    "lt",
    "sgt",
    "st",
    "jr",
    "sr",
    "inc",
    "corp",
    "co",
    "ltd",
    "vs",
    "no",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "u.s",
    "u.k",
    "u.n",
    "d.c",
    "a.m",
    "p.m",
    "e.g",
    "i.e",
    "etc",
    "mt",
    "ft",
    "ave",
    "dept",
    "univ",
    "rev",
    "hon",
    "pres",
}
_CANDIDATE = re.compile(r"[.!?]+[\"”’')\]]*\s+")


def reference_sentences(text: str) -> list[str]:
    """A plain reference splitter for the annotated truth (not newsbot's)."""
    out: list[str] = []
    for paragraph in re.split(r"\n+", text):
        start = 0
        for m in _CANDIDATE.finditer(paragraph):
            before = paragraph[start : m.start()].split()
            last = before[-1].lower().rstrip(".") if before else ""
            nxt = paragraph[m.end() : m.end() + 1]
            if last in _ABBREV or re.fullmatch(r"[a-z]", last) or not nxt or nxt.islower():
                continue
            out.append(paragraph[start : m.end()].strip())
            start = m.end()
        if paragraph[start:].strip():
            out.append(paragraph[start:].strip())
    return out


def true_lead(article_body: str) -> str | None:
    """The first sentence of the annotated body with eight words or more."""
    for sentence in reference_sentences(article_body):
        if len(words(sentence)) >= 8:
            return sentence
    return None


# --- lead accuracy v2 ----------------------------------------------------------------------

# Scripts written without spaces between words: each character is a token of its own.
_CJK = "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"


def _mark_ranges() -> str:
    """Combining marks (categories Mn, Mc, Me) of the Basic Multilingual Plane, as a character
    class body, plus the zero-width joiners: Devanagari vowel signs and virama, Arabic and
    Hebrew points sit inside a word, and ``\\w`` alone cuts "हिंदी" into "ह", "द"."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x300, 0x10000):
        if unicodedata.category(chr(code)) in ("Mn", "Mc", "Me"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    body = "".join(f"\\u{a:04x}-\\u{b:04x}" if a != b else f"\\u{a:04x}" for a, b in ranges)
    return body + "\\u200c\\u200d"


_MARKS = _mark_ranges()
_TOKEN_V2 = re.compile(rf"[{_CJK}]|(?:[^\W{_CJK}]|[{_MARKS}])+")
# An agency dateline in front of a lead: "ST. JOSEPH, Mich. (AP) —", "Hong Kong (CNN Business)",
# "(CNN) --", "KABUL:", "NEW YORK —".
_AGENCY_DATELINE = re.compile(
    r"""^(?:
        (?:[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,4}(?:\s*,\s*[\w.]+(?:\s+[\w.]+){0,3}?)?\s*)?
        \((?:[A-Z]{2,}|Reuters|Bloomberg|Xinhua|Kyodo|Yonhap)[^()]{0,30}\)\s*(?:[—–:]|-{1,2})?\s*
      | [A-Z][A-Z.'’-]+(?:\s+[A-Z][A-Z.'’-]*){0,3}(?:\s*,\s*[\w.]+(?:\s+[\w.]+){0,3}?)?
        \s*(?::|[—–]|-{1,2})\s+
      | [A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,2}(?:\s*,\s*[A-Z][\w.]*(?:\s+[A-Z][\w.]*){0,2}){1,2}
        \s*:\s+
    )(?=\S)""",
    re.VERBOSE,
)


def tokens_v2(text: str) -> list[str]:
    """``\\w+`` runs (combining marks kept inside the word), lower-cased, with each CJK, kana or
    hangul character a token of its own."""
    return _TOKEN_V2.findall(text.lower())


# A dateline as news in other languages writes it: "Saint Petersburg (Vereinigte Staaten),
# 14.03.2006 –", "نیویارک —", "VOA.-", "华盛顿 —": a short lead-in (a place, an agency, a date;
# at most eight tokens, no sentence end inside it) closed by a dash.
_DASH_DATELINE = re.compile(
    r"^((?:[^—–.!?。！？\n]|(?<=\w)\.(?=\w)){1,80}?)(?:\s*[—–]\s+|\s*--\s+|\.-\s*)"
)
_DATELINE_MAX_TOKENS = 8


def strip_dateline_v2(sentence: str) -> str:
    """``sentence`` without a leading dateline: the agency forms of lead accuracy v2, and the
    dash-closed lead-in above in any script."""
    match = _AGENCY_DATELINE.match(sentence)
    if match:
        return sentence[match.end() :]
    match = _DASH_DATELINE.match(sentence)
    if match and len(tokens_v2(match.group(1))) <= _DATELINE_MAX_TOKENS:
        return sentence[match.end() :]
    return sentence


def _pysbd_sentences(text: str) -> list[str]:
    import pysbd

    segmenter = pysbd.Segmenter(language="en", clean=False)
    out: list[str] = []
    for paragraph in re.split(r"\n+", text):
        if paragraph.strip():
            out += [s.strip() for s in segmenter.segment(paragraph) if s.strip()]
    return out


def true_lead_v2(article_body: str) -> str | None:
    """The first sentence (pysbd, English rules) of the annotated body with eight tokens or
    more, without a leading agency dateline."""
    for sentence in _pysbd_sentences(article_body):
        if len(tokens_v2(sentence)) >= 8:
            match = _AGENCY_DATELINE.match(sentence)
            return sentence[match.end() :] if match else sentence
    return None


def lead_matches_v2(
    predicted: str, truth: str, threshold: float = 0.8, *, hand_marked: bool = False
) -> bool:
    """Right when it holds 80% of the true lead's tokens and 80% of its own tokens are in it;
    or when the true lead is its opening (the reference splitter cut at "R-W.Va."); or when it
    is the true lead's opening with eight tokens or more (the annotated text lacked the space
    after a full stop, gluing two sentences into one true lead).

    ``hand_marked``: the true lead was marked by hand, not cut by the reference splitter, so a
    prediction that runs on past it (a whole paragraph taken as one sentence) is wrong."""
    pred, true = tokens_v2(predicted), tokens_v2(truth)
    if not pred or not true:
        return False
    common = sum((Counter(pred) & Counter(true)).values())
    if common >= threshold * len(true) and common >= threshold * len(pred):
        return True
    if not hand_marked and pred[: len(true)] == true:
        return True
    return len(pred) >= 8 and true[: len(pred)] == pred


def lead_matches(predicted: str, truth: str, threshold: float = 0.8) -> bool:
    """Token overlap, normalised by the longer side, at least ``threshold``."""
    a, b = Counter(words(predicted)), Counter(words(truth))
    longer = max(sum(a.values()), sum(b.values()))
    return longer > 0 and sum((a & b).values()) / longer >= threshold


# --- quotes -----------------------------------------------------------------------------

_PRONOUNS = {
    "he",
    "she",
    "they",
    "it",
    "we",
    "i",
    "you",
    "him",
    "her",
    "them",
    "his",
    "hers",
    "their",
    "its",
    "this",
    "that",
    "these",
    "those",
    "who",
    "the",
    "a",
    "an",
    "and",
    "of",
}


def name_words(text: str | None) -> set[str]:
    """Capitalised words of three letters or more that are not pronouns or articles."""
    if not text:
        return set()
    found = re.findall(r"\b[A-Z][\w'’.-]{2,}", text)
    return {w.lower().strip(".'’") for w in found if w.lower().strip(".'’") not in _PRONOUNS}


_OPEN = '“"«'
_CLOSE = '”"»'


def quoted_parts(span: str) -> list[str]:
    """The text inside quotation marks in an annotated content span (outermost quotes)."""
    parts: list[str] = []
    depth_open: int | None = None
    i = 0
    n = len(span)
    first_close = _first_unopened_close(span)
    if first_close is not None:
        parts.append(span[:first_close])
        i = first_close + 1
    while i < n:
        ch = span[i]
        if depth_open is None and ch in _OPEN:
            depth_open = i + 1
        elif depth_open is not None and ch in _CLOSE and _closes(span, i):
            parts.append(span[depth_open:i])
            depth_open = None
        i += 1
    if depth_open is not None:
        parts.append(span[depth_open:])
    return [p.strip() for p in parts if p.strip()]


def _closes(span: str, i: int) -> bool:
    if span[i] != '"':
        return True
    nxt = span[i + 1 : i + 2]
    return not nxt or not nxt.isalnum()


def _first_unopened_close(span: str) -> int | None:
    """A span that starts inside a quote: the index of its first close mark, if it comes first."""
    for i, ch in enumerate(span):
        if ch in "“«":
            return None
        if ch in "”»":
            return i
    return None


@dataclass(frozen=True)
class GoldQuote:
    text: str
    source: str

    @property
    def is_key(self) -> bool:
        return len(words(self.text)) >= 5


def gold_quotes(article: dict[str, object]) -> list[GoldQuote]:
    """One gold quote per direct-quote attribution: all its quoted text, with its source."""
    golds: list[GoldQuote] = []
    for q in article["quotes"]:  # type: ignore[attr-defined]
        if not q["has_quotation_marks"]:
            continue
        inside = [part for c in q["contents"] for part in quoted_parts(c["text"])]
        if not inside:
            continue
        source = " ".join(s["text"] for s in q["sources"])
        golds.append(GoldQuote(" ".join(inside), source))
    return golds


def quote_overlap(a: str, b: str, tokens: Callable[[str], list[str]] = words) -> float:
    """Token overlap normalised by the shorter side (``tokens_v2`` for text in any script)."""
    ca, cb = Counter(tokens(a)), Counter(tokens(b))
    shorter = min(sum(ca.values()), sum(cb.values()))
    return sum((ca & cb).values()) / shorter if shorter else 0.0


@dataclass
class QuoteTally:
    predicted: int = 0
    predicted_neutral: int = 0
    matched_predictions: int = 0
    gold_key: int = 0
    gold_key_found: int = 0
    speaker_scored: int = 0
    speaker_right: int = 0

    def add(self, other: QuoteTally) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def precision(self) -> float:
        scored = self.predicted - self.predicted_neutral
        return self.matched_predictions / scored if scored else 0.0

    @property
    def recall(self) -> float:
        return self.gold_key_found / self.gold_key if self.gold_key else 0.0

    @property
    def speaker_accuracy(self) -> float:
        return self.speaker_right / self.speaker_scored if self.speaker_scored else 0.0


def score_quotes(
    predicted: Sequence[tuple[str, str | None]], golds: Sequence[GoldQuote], threshold: float = 0.6
) -> QuoteTally:
    """One-to-one greedy matching, best overlaps first; quotes under five words are optional."""
    tally = QuoteTally(predicted=len(predicted), gold_key=sum(g.is_key for g in golds))
    pairs = sorted(
        (
            (quote_overlap(p[0], g.text), pi, gi)
            for pi, p in enumerate(predicted)
            for gi, g in enumerate(golds)
        ),
        reverse=True,
    )
    used_p: set[int] = set()
    used_g: set[int] = set()
    for overlap, pi, gi in pairs:
        if overlap < threshold or pi in used_p or gi in used_g:
            continue
        used_p.add(pi)
        used_g.add(gi)
        gold = golds[gi]
        if not gold.is_key:
            tally.predicted_neutral += 1
            continue
        tally.matched_predictions += 1
        tally.gold_key_found += 1
        source_names = name_words(gold.source)
        if source_names:
            tally.speaker_scored += 1
            if source_names & name_words(predicted[pi][1]):
                tally.speaker_right += 1
    return tally
