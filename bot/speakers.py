"""Who said a quote: the attribution clause beside it ("X said", "said X", "according to X").

These functions read the words of one sentence around a quote; names are resolved afterwards
against the whole article (bot.names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.names import FUNCTION_WORDS, find_mentions

# Reporting verbs, every form a news sentence uses ("said", "says", "told", "tweeted" ...).
_SPEECH_STEMS = """
say:said:says:saying tell:told:tells:telling add:added:adds:adding
write:wrote:writes:writing:written
tweet:tweeted:tweets:tweeting state:stated:states explain:explained:explains:explaining
continue:continued:continues note:noted:notes:noting argue:argued:argues:arguing
ask:asked:asks:asking answer:answered:answers reply:replied:replies respond:responded:responds
declare:declared:declares insist:insisted:insists:insisting claim:claimed:claims:claiming
warn:warned:warns:warning urge:urged:urges recall:recalled:recalls:recalling
acknowledge:acknowledged:acknowledges admit:admitted:admits announce:announced:announces
boast:boasted:boasts complain:complained:complains concede:conceded:concedes
suggest:suggested:suggests predict:predicted:predicts joke:joked:jokes quip:quipped:quips
remark:remarked:remarks post:posted:posts report:reported:reports testify:testified:testifies
observe:observed:observes emphasize:emphasized:emphasizes emphasise:emphasised:emphasises
stress:stressed:stresses counter:countered:counters charge:charged:charges
shout:shouted:shouts yell:yelled:yells chant:chanted:chants conclude:concluded:concludes
muse:mused:muses lament:lamented:laments vow:vowed:vows promise:promised:promises
pledge:pledged:pledges contend:contended:contends maintain:maintained:maintains
assert:asserted:asserts agree:agreed:agrees caution:cautioned:cautions
thunder:thundered:thunders retort:retorted:retorts exclaim:exclaimed:exclaims
interject:interjected:interjects blast:blasted:blasts slam:slammed:slams crack:cracked:cracks
describe:described:describes:describing call:called:calls:calling
tout:touted:touts mock:mocked:mocks criticize:criticized:criticizes criticise:criticised
accuse:accused:accuses:accusing praise:praised:praises deny:denied:denies
point:pointed confirm:confirmed:confirms reveal:revealed:reveals
read:reads recount:recounted:recounts whisper:whispered:whispers scream:screamed
cry:cried:cries sigh:sighed plead:pleaded:pleads demand:demanded:demands
message:messaged email:emailed:emails text:texted write:penned:pens
tout:touting declare:declaring announce:announcing ask:asking respond:responding
"""
SPEECH_VERBS = frozenset(w for stem in _SPEECH_STEMS.split() for w in stem.split(":"))

# Verbs that name or label rather than report speech: with a short quote they mark an epithet.
_NAMING_TEXT = """
call called calls calling dub dubbed dubs label labeled labelled labels brand
branded brands nickname nicknamed titled entitled headlined named describe described"""
NAMING_VERBS = frozenset(_NAMING_TEXT.split())

PRONOUNS = frozenset({"he", "she", "they", "i", "we", "you", "it"})

_WORD = re.compile(r"(?:[A-Za-z]\.){2,}|[\w’'-]+\.?|[,;:—–()!?.]")
_SENTENCE_END = re.compile(r"[.!?](?:[\"”’)]+)?\s+(?=[\"“‘(]?[A-Z0-9])")
_ABBREVIATIONS_TEXT = """
mr mrs ms dr sen rep gov gen col lt sgt st jr sr inc corp co ltd vs no prof rev
    u.s u.k u.n d.c a.m p.m jan feb mar apr jun jul aug sep sept oct nov dec mt ft"""
_ABBREVIATIONS = frozenset(_ABBREVIATIONS_TEXT.split())


@dataclass(frozen=True, slots=True)
class Attribution:
    """A speaker as written beside a quote ("Muttaqi", "he", "the Trump campaign"), its position
    in the article, and the reporting verb."""

    speaker: str
    position: int
    verb: str


def sentence_end(text: str, start: int) -> int:
    """The index just past the sentence that runs on from ``start`` (skipping abbreviations)."""
    for match in _SENTENCE_END.finditer(text, start):
        words = text[start : match.start() + 1].split()
        last = words[-1].lower().rstrip(".") if words else ""
        if text[match.start()] == "." and (last in _ABBREVIATIONS or re.fullmatch(r"\w", last)):
            continue
        return match.start() + 1 + len(match.group(0)) - len(match.group(0).lstrip(".!?"))
    return len(text)


def sentence_start(text: str, end: int) -> int:
    """The index where the sentence holding ``end`` begins."""
    begin = 0
    while True:
        nxt = sentence_end(text, begin)
        if nxt >= end or nxt <= begin:
            return begin
        begin = nxt


def _tokens(text: str, offset: int) -> list[tuple[str, int]]:
    """Words and punctuation with their positions; a full stop is its own token unless it ends
    an abbreviation or an initial."""
    tokens: list[tuple[str, int]] = []
    for m in _WORD.finditer(text):
        word, pos = m.group(0), offset + m.start()
        bare = word.rstrip(".").lower()
        is_abbreviation = bare in _ABBREVIATIONS or len(bare) <= 1 or "." in bare
        if word.endswith(".") and len(word) > 1 and not is_abbreviation:
            tokens += [(word[:-1], pos), (".", pos + len(word) - 1)]
            continue
        tokens.append((word, pos))
    return tokens


def _is_verb(word: str) -> bool:
    return word.lower() in SPEECH_VERBS


def _without_asides(tokens: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Tokens without parenthetical asides such as a party and state: 'Sen. X (D-Mo.) said'."""
    out: list[tuple[str, int]] = []
    depth = 0
    for word, pos in tokens:
        if word == "(":
            depth += 1
        elif word == ")" and depth:
            depth -= 1
        elif not depth:
            out.append((word, pos))
    return out


_DASHES = {"—", "–", "―", "-", "--"}
_SKIPPABLE_TEXT = """
also then later again once has had have was is would will did does not
reportedly previously recently repeatedly simply just further"""
_SKIPPABLE = frozenset(_SKIPPABLE_TEXT.split())


def speaker_after(text: str, offset: int) -> Attribution | None:
    """An attribution that follows a quote: ', Muttaqi said in the video.' or ', said Trump.'"""
    tokens = _without_asides(_tokens(text.replace("―", "—"), offset))
    dashed = bool(tokens) and tokens[0][0] in _DASHES
    while tokens and tokens[0][0] in _DASHES | {",", ":", ";"}:
        tokens.pop(0)
    lowered = [w.lower() for w, _ in tokens]
    if lowered[:2] == ["according", "to"]:
        return _noun_phrase_after(tokens[2:], "according to")
    for i, word in enumerate(lowered[:40]):
        if word in {".", "!", "?"}:
            break
        if not _is_verb(word) or (word in NAMING_VERBS and i > 0):
            continue
        if all(w.endswith("ly") or w in _SKIPPABLE for w in lowered[:i]):
            return _noun_phrase_after(tokens[i + 1 :], word)
        return _leading_subject(tokens[:i], word)
    if dashed and len(tokens) <= 12:
        return _noun_phrase_after(tokens, "—")
    return None


def speaker_before(text: str, offset: int) -> Attribution | None:
    """An attribution leading into a quote: 'Muttaqi said:', 'According to X,', 'X told me that'."""
    tokens = _without_asides(_tokens(text, offset))
    lowered = [w.lower() for w, _ in tokens]
    for i in range(len(tokens) - 1, -1, -1):
        word = lowered[i]
        if word == "according" and i + 1 < len(lowered) and lowered[i + 1] == "to":
            return _noun_phrase_after(tokens[i + 2 :], "according to")
        if not _is_verb(word):
            continue
        found = _subject_before(tokens[:i], word)
        if found is None and i + 1 < len(tokens) and tokens[i][0][:1].isupper():
            found = _noun_phrase_after(tokens[i + 1 :], word)
        if found is None:
            found = _leading_subject(tokens[:i], word)
        if found is not None:
            return found
    return None


def _leading_subject(tokens: list[tuple[str, int]], verb: str) -> Attribution | None:
    """The clause's first noun phrase: 'Scott Pruitt, the attorney general of Oklahoma, said'."""
    chunks: list[list[tuple[str, int]]] = [[]]
    for word, pos in tokens:
        if word in {",", ";", ":", "—", "–"}:
            chunks.append([])
        else:
            chunks[-1].append((word, pos))
    for chunk in chunks:
        if not chunk:
            continue
        first = chunk[0][0].lower()
        if first in {
            "in",
            "on",
            "at",
            "during",
            "after",
            "before",
            "speaking",
            "asked",
            "when",
            "while",
            "with",
            "from",
            "for",
            "earlier",
            "later",
            "meanwhile",
            "but",
            "and",
            "still",
            "however",
            "instead",
            "then",
            "as",
            "by",
            "since",
            "under",
        }:
            continue
        phrase = []
        for word, pos in chunk:
            if _is_verb(word) or word.lower() in {"who", "which", "that"}:
                break
            phrase.append((word, pos))
        if not phrase or len(phrase) > 10:
            return None
        if phrase[0][0].lower() in PRONOUNS:
            return Attribution(phrase[0][0], phrase[0][1], verb)
        return _name_in(" ".join(w for w, _ in phrase), phrase[0][1], verb)
    return None


def _subject_before(tokens: list[tuple[str, int]], verb: str) -> Attribution | None:
    """The subject right before a reporting verb, skipping an appositive ('X, a scholar, said')."""
    tokens = tokens[-30:]
    while tokens and (tokens[-1][0].lower().endswith("ly") or tokens[-1][0].lower() in _SKIPPABLE):
        tokens = tokens[:-1]
    if not tokens:
        return None
    if tokens[-1][0] == ",":
        inner = tokens[:-1]
        j = len(inner) - 1
        while j >= 0 and inner[j][0] != ",":
            j -= 1
        if j <= 0:
            return _leading_subject(inner, verb)
        tokens = inner[:j]
    last_word, last_pos = tokens[-1]
    if last_word.lower() in PRONOUNS:
        return Attribution(last_word, last_pos, verb)
    phrase = _trailing_phrase(tokens)
    if not phrase:
        return None
    return _name_in(" ".join(w for w, _ in phrase), phrase[0][1], verb)


def _trailing_phrase(tokens: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """The noun phrase that ends the token list (back to a comma, a clause word or a verb)."""
    stop = {
        ",",
        ";",
        ":",
        "—",
        "–",
        "(",
        ")",
        "that",
        "and",
        "but",
        "or",
        "which",
        "who",
        "when",
        "while",
        "as",
        "because",
        "if",
    }
    out: list[tuple[str, int]] = []
    for word, pos in reversed(tokens):
        if word.lower() in stop or _is_verb(word) or len(out) >= 8:
            break
        out.insert(0, (word, pos))
    return out


def _noun_phrase_after(tokens: list[tuple[str, int]], verb: str) -> Attribution | None:
    """The speaker after the verb: 'said Jason Miller, a spokesman' -> Jason Miller."""
    phrase: list[tuple[str, int]] = []
    for word, pos in tokens:
        if word in {",", ".", ";", ":", "—", "–", "(", "!", "?"} or (
            word.lower() in {"in", "on", "at", "during", "after", "before", "that", "who", "as"}
            and phrase
        ):
            break
        phrase.append((word, pos))
        if len(phrase) >= 8:
            break
    if not phrase:
        return None
    if phrase[0][0].lower() in PRONOUNS:
        return Attribution(phrase[0][0], phrase[0][1], verb)
    return _name_in(" ".join(w for w, _ in phrase), phrase[0][1], verb)


def _name_in(phrase: str, start: int, verb: str) -> Attribution | None:
    """The name a phrase holds (its last capitalised run), or a description like 'the campaign'."""
    phrase = phrase.rstrip(".")
    mentions = [m for m in find_mentions(phrase) if m.name]
    if mentions:
        last = mentions[-1]
        return Attribution(last.written, start + last.start, verb)
    words = phrase.split()
    if words and words[0].lower() in FUNCTION_WORDS | {"the", "a", "an"}:
        return Attribution(phrase, start, verb)
    return None
