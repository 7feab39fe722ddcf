"""Names in an article: who is mentioned where, and the fullest form of a name.

A mention is a run of capitalised words ("Foreign Minister Amir Khan Muttaqi", "the White House")
with its position. Titles are stripped from the front ("Amir Khan Muttaqi"), a surname is
resolved to the fullest name the article introduced ("Muttaqi" -> "Amir Khan Muttaqi"), a
pronoun to the nearest fitting person named before it (never a name the article writes as a
place: "in South Carolina"), and a description ("the judge") to the person introduced with it.

Longer than ~300 lines: the name book's lookups share one index of the article's mentions.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass

# A name word: initials ("G.K."), a capitalised word ("McCaskill", "O’Rourke", "al-Assad"-style
# hyphenated words), or an all-capital acronym ("CNN", "NATO").
_NAME_WORD = r"(?:[A-Z]\.){1,3}(?![A-Za-z])|[A-Z][\w’'-]*\.?"
# Lowercase words that may sit inside a name ("Council on Foreign Relations", "Ludwig van Gogh").
_CONNECTOR = r"(?:of|for|on|de|da|del|der|van|von|bin|al|la|le|du|the)"
_GAP = rf"[ \u00a0](?:{_CONNECTOR}[ \u00a0](?=[A-Z]))?"
_MENTION = re.compile(rf"(?<![\w’'])(?:{_NAME_WORD})(?:{_GAP}(?:{_NAME_WORD}))*")
_POSSESSIVE = re.compile(r"[’']s?$")

# Capitalised words that start a sentence but are not names.
_FUNCTION_WORDS_TEXT = """
a an the and but or nor so yet for in on at to of by from with without about after before
    as if when while where since until though although because however meanwhile still then
    this that these those there here it its he she they we i you his her their our my your
    also even instead indeed later earlier now today yesterday tomorrow last next no not one
    some many most all both each every several such what who whom whose which why how another
    mr mrs ms miss dr sir madam during despite under over between among against amid
    asked said says told according is was are were will would could should can may might"""
FUNCTION_WORDS = frozenset(_FUNCTION_WORDS_TEXT.split())

# Words that are titles or roles when they stand before a name.
_TITLE_WORDS_TEXT = """
president vice prime minister foreign defense defence interior finance secretary state
    sen senator rep representative congressman congresswoman gov governor lt lieutenant mayor
    gen general adm admiral col colonel maj major capt captain sgt dr mr mrs ms miss prof professor
    judge justice chief attorney speaker leader majority minority whip chairman chairwoman chair
    director ceo executive press spokesman spokeswoman spokesperson former u.s us
    homeland security ambassador commissioner rev reverend father pope king queen prince
    princess sheikh emir ayatollah sir dame lord lady deputy assistant acting general's
    gop democratic republican candidate nominee presidential senate house
    commander officer minister's coach manager adviser advisor sheriff detective officer
    district circuit appeals"""
TITLE_WORDS = frozenset(_TITLE_WORDS_TEXT.split())

# Words that make a mention an organisation or a place rather than a person.
_ORG_WORDS_TEXT = """
house committee party post times news journal department university college school
    campaign council center centre institute association foundation court senate congress
    network service agency bureau office ministry government commission administration
    council group inc corp co company corporation bank fund union league club church
    network channel magazine press review tribune herald gazette daily weekly radio tv
    television reuters cnn fox msnbc abc nbc cbs npr ap afp bbc twitter facebook instagram
    youtube google street city county state states valley river mountain island province
    republic kingdom nation nations army navy force forces police guard caucus project
    organization organisation coalition front movement alliance council initiative
    tower hall square airport hospital museum library"""
ORG_WORDS = frozenset(_ORG_WORDS_TEXT.split())

_CALENDAR_TEXT = """
monday tuesday wednesday thursday friday saturday sunday january february march april may june
july august september october november december christmas easter thanksgiving"""
CALENDAR_WORDS = frozenset(_CALENDAR_TEXT.split())
# The unions the per-word checks below use, built once (not once per word).
_JOINERS = frozenset({"of", "the", "for"})
_TITLE_OR_JOINER = TITLE_WORDS | _JOINERS
_TITLE_ORG_OR_JOINER = TITLE_WORDS | ORG_WORDS | _JOINERS
_NO_PERSON_WORDS = ORG_WORDS | FUNCTION_WORDS | CALENDAR_WORDS
_POSSESSIVE_GAP = re.compile(r"(?<=[’']s)[ \u00a0]|(?<=s[’'])[ \u00a0]")

FEMALE_MARKERS = frozenset(
    {
        "mrs",
        "ms",
        "miss",
        "madam",
        "dame",
        "lady",
        "queen",
        "princess",
        "congresswoman",
        "chairwoman",
        "spokeswoman",
    }
)
MALE_MARKERS = frozenset(
    {"mr", "sir", "lord", "king", "prince", "congressman", "chairman", "spokesman", "father"}
)


# AP style abbreviates titles before a name ("Sen. Tim Kaine"); "the senator" refers back.
_ROLE_ABBREVIATIONS = {
    "sen": "senator",
    "rep": "representative",
    "gov": "governor",
    "gen": "general",
    "lt": "lieutenant",
    "col": "colonel",
    "sgt": "sergeant",
    "prof": "professor",
    "rev": "reverend",
    "atty": "attorney",
    "supt": "superintendent",
}
# An appositive right after a name, up to its head noun: ", a GOP speechwriter," /
# ", the president of the union" (the head is the last word before "of", "at", "for" …).
_APPOSITIVE = re.compile(
    r",\s+(?:a|an|the)\s+((?:[\w’'-]+\s+){0,4}?[\w’'-]+)(?=\s*(?:,|\s(?:of|at|for|in|on|with|who)\b|\.))"
)


# A place follows these ("in South Carolina", "from Columbia", "across the United States").
_PLACE_BEFORE = re.compile(r"\b(?:in|from|at|across|near|outside|inside)\s+(?:the\s+)?$")
_SPEECH_AFTER = re.compile(r"\s+(?:\w+ly\s+)?(?:said|says|told|tells|added|wrote|asked)\b")


def _places(text: str, mentions: list[Mention]) -> frozenset[str]:
    """Names the article writes as places: after "in", "from", "at" … somewhere, and never
    with a title or a gender marker ("Mr.", "Sen."), never as the subject of "said"."""
    placed: set[str] = set()
    personal: set[str] = set()  # last words of names written as a person's somewhere
    for m in mentions:
        if m.written != m.name and not m.written.startswith(("the ", "The ")):
            personal.add(m.words[-1])  # a title was stripped: "Sen. Tim Scott"
        elif _SPEECH_AFTER.match(text, m.end):
            personal.add(m.words[-1])
        elif _PLACE_BEFORE.search(text, max(0, m.start - 16), m.start):
            placed.add(m.name)
    return frozenset(name for name in placed if name.split()[-1] not in personal)


def _role(word: str) -> str:
    key = _key(word)
    return _ROLE_ABBREVIATIONS.get(key, key)


# How many person mentions back "the judge" may reach for the judge.
_ROLE_LOOKBACK = 200


@dataclass(frozen=True, slots=True)
class Mention:
    """A name as written at ``start`` in the text, its title-free form and the gender it signals."""

    start: int
    end: int
    written: str
    name: str
    gender: str | None = None

    @property
    def words(self) -> list[str]:
        return self.name.split()

    @property
    def is_person(self) -> bool:
        return looks_like_person(self.name)


def _key(word: str) -> str:
    return word.lower().strip(".’'")


def strip_title(name: str) -> tuple[str, str | None]:
    """The name without leading function words and titles, and the gender a title signals."""
    words = name.replace("\u00a0", " ").split()
    gender: str | None = None
    while words and _key(words[0]) in FUNCTION_WORDS and _key(words[0]) not in TITLE_WORDS:
        words.pop(0)
    while len(words) > 1 and _key(words[0]) in _TITLE_OR_JOINER:
        rest = words[1:]
        if all(_key(w) in _TITLE_ORG_OR_JOINER for w in rest):
            break
        key = _key(words.pop(0))
        if key in FEMALE_MARKERS:
            gender = "f"
        elif key in MALE_MARKERS:
            gender = "m"
    while words and _key(words[-1]) in {"of", "the", "for", "on"}:
        words.pop()
    if words:
        words[-1] = _POSSESSIVE.sub("", words[-1]) or words[-1]
    return " ".join(words), gender


_ADVERB_ENDINGS = (
    "ally",
    "ingly",
    "edly",
    "ously",
    "fully",
    "ively",
    "ately",
    "ently",
    "antly",
    "ably",
    "ibly",
    "lessly",
    "ctly",
    "ularly",
    "wise",
)


def is_time_or_manner(name: str) -> bool:
    """A capitalised word that names no one: a day or month, or a sentence-initial adverb."""
    words = name.split()
    return all(_key(w) in CALENDAR_WORDS or w.lower().endswith(_ADVERB_ENDINGS) for w in words)


def is_title_only(name: str) -> bool:
    """A run of title and party words with no name in it ("Former Republican", "GOP"): in
    "Former Republican presidential candidate Jeb Bush" the person is the run after it."""
    return all(_key(w) in TITLE_WORDS for w in name.split())


def looks_like_person(name: str) -> bool:
    """A title-free name that could be a person's: no organisation or place word, no acronym."""
    words = name.split()
    if not words or len(words) > 5:
        return False
    if any(_key(w) in _NO_PERSON_WORDS for w in words):
        return False
    if any(w.isupper() and len(w) > 1 and "." not in w for w in words):
        return False
    return all(w[:1].isupper() for w in words if w not in {"de", "van", "von", "bin", "al"})


def find_mentions(text: str) -> list[Mention]:
    """Every capitalised name run in the text, in order, split at possessives."""
    mentions: list[Mention] = []
    for match in _MENTION.finditer(text):
        start = match.start()
        for part in _POSSESSIVE_GAP.split(match.group(0)):
            written = part.strip()
            name, gender = strip_title(written)
            if name and not (len(name.split()) == 1 and _key(name) in FUNCTION_WORDS):
                mentions.append(Mention(start, start + len(part), written, name, gender))
            start += len(part) + 1
    return mentions


class NameBook:
    """The names an article introduces, to expand a surname or resolve a pronoun.

    Built once per article and indexed, so each lookup costs O(log n) in mentions: the speaker
    of every quote is looked up here, and a text of n quotes must not cost n³.
    """

    def __init__(self, text: str) -> None:
        self.mentions = [m for m in find_mentions(text) if m.name]
        people = [m for m in self.mentions if m.is_person]
        self._counts = Counter(m.name for m in people)
        self._lower_words = frozenset(re.findall(r"(?<![\w’'-])[a-z]+(?![\w’'-])", text))
        self._gender: dict[str, str] = {}
        for m in self.mentions:
            if m.gender:
                self._gender.setdefault(m.words[-1], m.gender)
        # Longer person names by last word, in text order: the candidates of ``fullest``.
        self._by_last: dict[str, list[Mention]] = {}
        for m in people:
            if len(m.words) > 1:
                self._by_last.setdefault(m.words[-1], []).append(m)
        self._best: dict[tuple[str, int], tuple[list[int], list[str]]] = {}
        self._people = people
        self._text = text
        self._places = _places(text, self.mentions)
        self._eligible: dict[str | None, tuple[list[int], list[Mention]]] = {}

    def is_name(self, name: str) -> bool:
        """Whether a capitalised run names someone: not a day, an adverb, a headline in capitals,
        or a common word capitalised at a sentence start ("Pollsters", "Hours")."""
        words = name.split()
        if not words or is_time_or_manner(name) or (len(words) > 2 and name.isupper()):
            return False
        if len(words) == 1 and _key(name) in FUNCTION_WORDS | TITLE_WORDS:
            return False
        if len(words) == 1 and _key(name) in self._lower_words:
            return self.fullest(name) != name  # "Small" is a name where "Marty Small" is
        return True

    def fullest(self, name: str, before: int | None = None) -> str:
        """The fullest person name in the article whose last word is ``name``'s last word: the
        most frequent of the longer ones (the earliest on a tie), among those before ``before``
        when there are any."""
        words = name.split()
        if not words:
            return name
        starts, best = self._best_longer(words[-1], len(words))
        if not starts:
            return name
        if before is not None:
            i = bisect_left(starts, before)
            if i:
                return best[i - 1]
        return best[-1]

    def _best_longer(self, last: str, shorter_than: int) -> tuple[list[int], list[str]]:
        """For the person names ending in ``last`` with more than ``shorter_than`` words, in
        text order: their starts, and the best name among each prefix of them."""
        key = (last, shorter_than)
        found = self._best.get(key)
        if found is None:
            starts: list[int] = []
            best: list[str] = []
            top: tuple[int, int] | None = None
            for m in self._by_last.get(last, ()):
                if len(m.words) <= shorter_than:
                    continue
                rank = (self._counts[m.name], -m.start)
                if top is None or rank > top:
                    top = rank
                    best.append(m.name)
                else:
                    best.append(best[-1])
                starts.append(m.start)
            found = self._best[key] = (starts, best)
        return found

    def person_titled(self, description: str, position: int) -> str | None:
        """The nearest person before ``position`` introduced with every word of
        ``description`` ("the Republican nominee") in a title before the name ("Republican
        presidential nominee Donald Trump", "Judge Gonzalo Curiel") or in an appositive after
        it ("Cross, a GOP speechwriter,"): whom "the judge" or "the speechwriter" stands for.
        None when nobody was, or when the head is an institution ("the campaign")."""
        wanted = {_role(w) for w in description.split()} - {"the", "former"}
        if not wanted or any(not w.isalpha() or w in ORG_WORDS for w in wanted):
            return None
        i = bisect_left([m.start for m in self._people], position)
        for m in reversed(self._people[max(0, i - _ROLE_LOOKBACK) : i]):
            words = m.written.split()
            for word in reversed(self._text[max(0, m.start - 60) : m.start].split()):
                # the title run right before the name: "Republican presidential nominee"
                if word[-1] in ",.;:)" or _key(word) in FUNCTION_WORDS - TITLE_WORDS:
                    break
                words.append(word)
            appositive = _APPOSITIVE.match(self._text, m.end)
            if appositive:
                words += appositive.group(1).split()
            if wanted <= {_role(w) for w in words}:
                return self.fullest(m.name, before=position)
        return None

    def gender_of(self, name: str) -> str | None:
        words = name.split()
        return self._gender.get(words[-1]) if words else None

    def person_before(self, position: int, gender: str | None, skip: set[str]) -> str | None:
        """The nearest person named before ``position`` who fits ``gender`` (f/m/None)."""
        starts, people = self._fitting(gender)
        for i in range(bisect_left(starts, position) - 1, -1, -1):
            if people[i].name not in skip:
                return self.fullest(people[i].name, before=position)
        return None

    def _fitting(self, gender: str | None) -> tuple[list[int], list[Mention]]:
        """The person mentions ``person_before`` may return for ``gender``, in text order.

        Whether a mention fits does not depend on the position asked about: its fullest form
        ends in the same word (so has the same known gender), and has two words or more exactly
        when the mention has, or a longer name with its last word is somewhere in the text.
        """
        found = self._eligible.get(gender)
        if found is None:
            starts: list[int] = []
            people: list[Mention] = []
            for m in self._people:
                last = m.words[-1]
                known = self._gender.get(last)
                has_full_name = len(m.words) > 1 or last in self._by_last
                if not has_full_name and not known:
                    continue
                if gender and known and known != gender:
                    continue
                if not known and m.name in self._places:
                    continue
                starts.append(m.start)
                people.append(m)
            found = self._eligible[gender] = (starts, people)
        return found
