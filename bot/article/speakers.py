"""Who said a quote: the attribution clause beside it ("X said", "said X", "according to X").

Longer than ~300 lines: one attribution grammar whose patterns read best side by side.

These functions read the words of one sentence around a quote; names are resolved afterwards
against the whole article (bot.article.names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.article.names import FUNCTION_WORDS, find_mentions, is_time_or_manner, is_title_only

# Reporting verbs ("say", "tweet"); every regular form is derived, irregular ones are listed.
_SPEECH_BASES = """
say tell add write tweet state explain continue note argue ask answer reply respond declare
insist claim warn urge recall acknowledge admit announce boast complain concede suggest predict
joke quip remark post report testify observe emphasize emphasise stress counter charge shout
yell chant conclude muse lament vow promise pledge contend maintain assert agree caution thunder
retort exclaim interject blast slam crack describe call tout mock criticize criticise accuse
praise deny confirm reveal recount whisper scream cry sigh plead demand message email text
assure boom quote cite tell thank inform instruct advise propose predict reason marvel gush
rail fume scoff snap sneer shrug wonder worry fret protest object affirm allege reiterate repeat
question query inquire concur echo summarize summarise declare proclaim opine posit
"""
_IRREGULAR_FORMS = """
said says saying told wrote written writing read reads spoke speaks speaking penned pens
quipped quipping admitted admitting snapped snapping regretted went
"""


def _forms(base: str) -> set[str]:
    """A regular verb's forms: base, -s, -ed and -ing ("quip", "quips", "quipped", "quipping")."""
    stem = base[:-1] if base.endswith("e") else base
    doubled = base + base[-1] if re.fullmatch(r"[^aeiou]*[aeiou][bdgmnpt]", base) else base
    third = base + "es" if base.endswith(("s", "sh", "ch", "x")) else base + "s"
    if base.endswith("y") and base[-2] not in "aeiou":
        return {base, base[:-1] + "ies", base[:-1] + "ied", base + "ing"}
    past = base + "d" if base.endswith("e") else doubled + "ed"
    return {base, third, past, (doubled if doubled != base else stem) + "ing"}


SPEECH_VERBS = frozenset(
    {form for base in _SPEECH_BASES.split() for form in _forms(base)}
    | set(_IRREGULAR_FORMS.split())
)

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
# No sentence worth attributing runs longer; the bound keeps hostile texts linear.
_MAX_SENTENCE_CHARS = 3000


@dataclass(frozen=True, slots=True)
class Attribution:
    """A speaker as written beside a quote ("Muttaqi", "he", "the Trump campaign"), its position
    in the article, and the reporting verb."""

    speaker: str
    position: int
    verb: str


def sentence_end(text: str, start: int) -> int:
    """The index just past the sentence that runs on from ``start`` (skipping abbreviations);
    the end of the text when no sentence ends within ``_MAX_SENTENCE_CHARS``."""
    for match in _SENTENCE_END.finditer(text, start, start + _MAX_SENTENCE_CHARS):
        # The word before the stop: a bounded look-back keeps a run of abbreviations linear.
        words = text[max(start, match.start() - 64) : match.start() + 1].split()
        last = words[-1].lower().rstrip(".") if words else ""
        is_initials = re.fullmatch(r"(?:\w\.)*\w", last) is not None
        if text[match.start()] == "." and (last in _ABBREVIATIONS or is_initials):
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


def _is_adverb(word: str) -> bool:
    """A word that may sit between a speaker and the verb ('later', 'reportedly', 'has')."""
    return word in _SKIPPABLE or (word.islower() and word.endswith("ly"))


def _is_verb(word: str) -> bool:
    """A reporting verb: lowercase ('States' in 'United States' is no verb)."""
    return word.islower() and word in SPEECH_VERBS


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
reportedly previously recently repeatedly simply just further now"""
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
        if not _is_reporting_at(tokens, i) or (word in NAMING_VERBS and i > 0):
            continue
        if i == 0 and word in _CLAUSE_OPENERS and not tokens[0][0].islower():
            continue  # "Asked if …, Trump replied": a participle opening the sentence
        if all(_is_adverb(w) for w, _ in tokens[:i]):
            return _noun_phrase_after(tokens[i + 1 :], word)
        opener = tokens[0][0]
        if not opener.islower() or opener in PRONOUNS | _DETERMINERS:
            return _leading_subject(tokens[:i], word)
        # The quote runs on in its sentence ("“…” to back her campaign while adding, “…”"):
        if word.endswith("ing") or lowered[i - 1] in _MODALS:
            # a participle or an infinitive has no subject of its own here; the clause
            # leading into the quote names the speaker.
            return None
        if "," in lowered[:i]:
            # The quote runs on in the sentence and the attribution closes it: "“…” is held
            # accountable, Warren said." / "“…” if she loses, said David Wasserman, an analyst."
            last = max(j for j in range(i) if lowered[j] == ",")
            tail = tokens[last + 1 : i]
            if not tail or all(_is_adverb(w) for w, _ in tail):
                found = _noun_phrase_after(tokens[i + 1 :], word)
            else:
                found = _subject_before(tokens[:i], word)
            if found is not None:
                return found
        return _leading_subject(tokens[:i], word)
    if dashed and len(tokens) <= 12:
        return _noun_phrase_after(tokens, "—")
    return None


# Before these a reporting word is a noun ("her state", "the report", "his answer").
_DETERMINERS_TEXT = "a an the his her their its our my your this that whose"
_DETERMINERS = frozenset(_DETERMINERS_TEXT.split())
_MODALS_TEXT = "to will would could should may might must can"
_MODALS = frozenset(_MODALS_TEXT.split())
_COORDINATORS = frozenset({"and", "but", "then", "before", "after", "while"})


def _is_reporting_at(tokens: list[tuple[str, int]], i: int) -> bool:
    """Whether the word at ``i`` is a reporting verb here: lowercase, or capitalised only
    where it opens the sentence ("Said one aide:"; "States" in "the United States" is part of
    a name), and not a noun after a determiner ("voters in her state")."""
    word = tokens[i][0]
    if not _is_verb(word.lower()) or (i > 0 and not word.islower()):
        return False
    return i == 0 or tokens[i - 1][0].lower() not in _DETERMINERS


def speaker_before(text: str, offset: int) -> Attribution | None:
    """An attribution leading into a quote: 'Muttaqi said:', 'According to X,', 'X told me that'."""
    tokens = _without_asides(_tokens(text, offset))
    lowered = [w.lower() for w, _ in tokens]
    dependent: int | None = None  # the last infinitive, modal or participle verb seen
    for i in range(len(tokens) - 1, -1, -1):
        word = lowered[i]
        if word == "according" and i + 1 < len(lowered) and lowered[i + 1] == "to":
            return _noun_phrase_after(tokens[i + 2 :], "according to")
        if not _is_reporting_at(tokens, i):
            continue
        previous = lowered[i - 1] if i else ""
        if word.endswith("ing"):
            # "with Trump reportedly yelling:", "with Gorka noting": the absolute construction
            # names the participle's own subject right before it.
            j = i - 1
            while j > 0 and _is_adverb(lowered[j]):
                j -= 1
            k = j
            while k >= 0 and tokens[k][0][:1].isupper():
                k -= 1
            if k >= 0 and k < j and lowered[k] == "with":
                found = _name_in(
                    " ".join(w for w, _ in tokens[k + 1 : j + 1]), tokens[k + 1][1], word
                )
                if found is not None:
                    return found
        if previous in _MODALS or word.endswith("ing"):
            # "would like Trump to explain", "Rubio will continue to be": a verb in the
            # infinitive, after a modal or a participle (", adding that") has no subject of
            # its own; the speaker is the subject of the finite verb before it.
            dependent = i if dependent is None else dependent
            continue
        if previous in _COORDINATORS:
            # "Lazar said he welcomed it and added, “…”": the subject of the verb it joins.
            dependent = i if dependent is None else dependent
            continue
        found = _subject_before(tokens[:i], word)
        if found is None and i + 1 < len(tokens) and tokens[i][0][:1].isupper():
            found = _noun_phrase_after(tokens[i + 1 :], word)
        if found is None:
            found = _leading_subject(tokens[:i], word)
        if found is not None:
            return found
    if dependent is not None:
        return _leading_subject(tokens[:dependent], lowered[dependent])
    return None


_CLAUSE_OPENERS_TEXT = """
in on at during after before speaking asked when while with from for earlier later meanwhile
but and still however instead then as by since under also yet so though although of like
unlike despite amid following here"""
# A chunk ending so is a time adverbial ("Hours later, Trump said"), not the subject.
_TIME_ENDINGS = frozenset({"later", "earlier", "ago", "afterward", "afterwards"})
_CLAUSE_OPENERS = frozenset(_CLAUSE_OPENERS_TEXT.split())
_PUNCTUATION = frozenset({",", ";", ":", "—", "–"})


def _chunks(tokens: list[tuple[str, int]]) -> list[list[tuple[str, int]]]:
    chunks: list[list[tuple[str, int]]] = [[]]
    for word, pos in tokens:
        if word in _PUNCTUATION:
            chunks.append([])
        else:
            chunks[-1].append((word, pos))
    return chunks


def sentence_subject(text: str, offset: int) -> Attribution | None:
    """The subject that opens a sentence, when it is a name or a pronoun."""
    found = _leading_subject(_without_asides(_tokens(text, offset)), "")
    return found if found is not None and found.speaker[:1].isupper() else None


def _leading_subject(tokens: list[tuple[str, int]], verb: str) -> Attribution | None:
    """The clause's first noun phrase: 'Scott Pruitt, the attorney general of Oklahoma, said'."""
    for chunk in _chunks(tokens):
        if not chunk or chunk[0][0].lower() in _CLAUSE_OPENERS:
            continue
        if chunk[-1][0].lower() in _TIME_ENDINGS:
            continue
        phrase = []
        for word, pos in chunk:
            if _is_verb(word) or word.lower() in {"who", "which", "that"}:
                break
            phrase.append((word, pos))
        if not phrase:
            return None
        if phrase[0][0].lower() in PRONOUNS:
            return Attribution(phrase[0][0], phrase[0][1], verb)
        return _name_in(" ".join(w for w, _ in phrase[:6]), phrase[0][1], verb, first=True)
    return None


def _subject_before(tokens: list[tuple[str, int]], verb: str) -> Attribution | None:
    """The subject right before a reporting verb, skipping an appositive ('X, a scholar, said')."""
    tokens = tokens[-40:]
    while tokens and _is_adverb(tokens[-1][0]):
        tokens = tokens[:-1]
    if not tokens:
        return None
    if tokens[-1][0] == ",":
        inner = tokens[:-1]
        if inner and _is_verb(inner[-1][0]):
            # 'Spicer said, adding, "..."': the subject of the first reporting verb.
            return _subject_before(inner[:-1], verb)
        chunks = _chunks(inner)
        if len(chunks) < 2:
            return _leading_subject(inner, verb)
        last = chunks[-1]
        if last and _is_name_only(last):
            # 'her senior policy adviser, Jake Sullivan, said'
            return Attribution(" ".join(w for w, _ in last), last[0][1], verb)
        # 'Michael Mulgrew, president of the union, which represents teachers, said'
        return _leading_subject(inner, verb)
    last_word, last_pos = tokens[-1]
    if last_word.lower() in PRONOUNS:
        return Attribution(last_word, last_pos, verb)
    phrase = _trailing_phrase(tokens)
    if not phrase:
        return None
    return _name_in(" ".join(w for w, _ in phrase), phrase[0][1], verb)


def _is_name_only(chunk: list[tuple[str, int]]) -> bool:
    words = [w for w, _ in chunk]
    return 1 < len(words) <= 5 and all(w[:1].isupper() for w in words)


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


def _name_in(phrase: str, start: int, verb: str, first: bool = False) -> Attribution | None:
    """The name a phrase holds (its last capitalised run, or its first when ``first``), or a
    description like 'the campaign'."""
    phrase = phrase.rstrip(".")
    mentions = [
        m
        for m in find_mentions(phrase)
        if m.name and not is_time_or_manner(m.name) and not is_title_only(m.name)
    ]
    if mentions:
        chosen = mentions[0] if first else mentions[-1]
        following = [m for m in mentions if m.start > chosen.start]
        is_possessive = chosen.written.endswith(("’s", "'s", "s’", "s'"))
        if is_possessive and following and following[0].start <= chosen.end + 1:
            # "Fox's Chris Wallace", "RealClearPolitics’ David Byler": the outlet is the
            # affiliation, the person after it speaks.
            chosen = following[0]
        rest = phrase[chosen.end :].split()
        if chosen.written.endswith(("’s", "'s")) and rest and is_group(" ".join(rest[:2])):
            # "Rubio’s campaign", "Scott's family": a body named after a person
            return Attribution(phrase[chosen.start :], start + chosen.start, verb)
        if phrase[: chosen.start].lower().endswith("the "):
            # "the Times", "the Post": a title of an outlet or a body keeps its article, so a
            # capitalised common word ("Times") is still credited as the institution.
            return Attribution("the " + chosen.written, start + chosen.start - 4, verb)
        return Attribution(chosen.written, start + chosen.start, verb)
    words = phrase.split()
    if words and (words[0].lower() in FUNCTION_WORDS | {"the", "a", "an"} or is_group(phrase)):
        return Attribution(" ".join(_description(words)), start, verb)
    return None


def _description(words: list[str]) -> list[str]:
    """A description up to its head noun: "the judge pointed to" -> "the judge", "the star
    then" -> "the star" (a verb, an auxiliary or an adverb ends the noun phrase)."""
    for i, word in enumerate(words[2:], start=2):
        key = word.lower()
        if key in _SKIPPABLE or key.endswith(("ly", "ed")) or _is_verb(key):
            return words[:i]
    return words


# Who speaks as a group or for an institution in news English: "officials said", "police
# said", "the ministry said" credit a speaker as surely as a name does.
_GROUP_NOUNS_TEXT = """
officials aides sources analysts experts police authorities lawmakers legislators residents
    witnesses organizers organisers protesters prosecutors investigators researchers economists
    scientists doctors officers diplomats critics supporters opponents activists spokesman
    spokeswoman spokesperson spokespeople ministry government department agency commission
    campaign company administration office embassy army military council committee family"""
GROUP_NOUNS = frozenset(_GROUP_NOUNS_TEXT.split())


def is_group(phrase: str) -> bool:
    """A short description whose head noun is a group or an institution ('officials',
    'senior officials', 'the foreign ministry')."""
    words = phrase.lower().split()
    return 0 < len(words) <= 6 and words[-1].strip(".,") in GROUP_NOUNS
