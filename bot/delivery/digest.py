"""Which articles a digest shows, in what order, and which feeds' copies of a story fold together.

Pure functions over ``StoredArticle`` records: no clock, no store, no Telegram.

Same story: two articles from *different* feeds are one story when their normalised word sets
(title plus lead; titles alone when either has no lead or text) overlap with a Jaccard index of
at least ``SAME_STORY_JACCARD`` and share at least ``MIN_SHARED_WORDS`` words. Articles of one
feed are never folded together: a feed's own entries are distinct posts (episodes, parts,
follow-ups) even when their titles look alike. Stories are grouped by single linkage, so a story
told by three feeds stays one item even when only neighbouring versions look alike. Up to
``EXACT_UP_TO`` articles, only pairs that share a rare word are compared
(bot.delivery.storylinks), with the very same groups as comparing every pair; past it, MinHash/LSH
picks the pairs to compare (bot.delivery.storylsh), which misses a pair at the threshold about
once in 4 000 and a clearer one far more rarely (bench.stories measures both).

The version a story keeps: the most complete one (it has a lead, then a quote), the earliest
among equals, then the longest text (up to ``DIGEST_TEXT_CHARS``). The others are named in
``also_in``.

Order (recency and source diversity): stories are dealt round-robin by feed. Each feed's stories
are sorted newest first; round one takes every feed's newest story, round two every feed's
second, and so on; within a round the newer story goes first. A prolific feed therefore gets its
second slot only after every other feed with news has had its first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from bot.delivery.storylinks import Groups, link_alike
from bot.delivery.storylsh import link_by_bands
from bot.models import StoredArticle

SAME_STORY_JACCARD = 0.35
"""Between the most alike different stories seen in real news (0.30) and rewrites of one (0.37+).

Validated on real multi-publisher news: tests/test_digest.py, tests/data/story_pairs.json. A
false fold hides a story, a missed fold shows one twice, so the threshold errs towards missing.
"""

MIN_SHARED_WORDS = 3
EXACT_UP_TO = 500
"""Up to this many articles every pair the rule folds is found (prefix filtering); past it,
MinHash/LSH finds the candidates (bot.delivery.storylsh), the exact rule still decides."""
OPENING_CHARS = 300
"""Without a lead, this much of the text's start stands in for it."""

DIGEST_TEXT_CHARS = 1_000
"""A digest uses only a text's opening (the lead's stand-in, shown at most 480 characters; the
story's fingerprint) and, to pick a story's version, its length: past this many characters every
copy is a whole article and length no longer tells them apart. A digest tick keeps this much of
each text, not the day's whole texts."""


def for_digest(article: StoredArticle) -> StoredArticle:
    """The article with its text cut to what a digest uses (``DIGEST_TEXT_CHARS``)."""
    if len(article.text) <= DIGEST_TEXT_CHARS:
        return article
    return replace(article, text=article.text[:DIGEST_TEXT_CHARS])


_WORD = re.compile(r"\w+(?:[.,'’]\w+)*")
_STOP_WORDS = frozenset(
    """a an the and or but nor of to in on at for from by with as is are was were be been being
    it its this that these those he she they we you i his her their our your them him us not no
    has have had do does did will would can could should may might must shall said says say
    than then there here who whom which what when where why how all any some more most other
    into over after before about up down out also just new mr mrs ms dr s t""".split()  # noqa: SIM905
)


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One story: the version shown, and the other feeds that carried it (oldest first)."""

    article: StoredArticle
    also_in: tuple[str, ...] = ()
    article_ids: tuple[str, ...] = ()
    """Every article folded into this item, the shown one first: all of them count as delivered."""


@dataclass(frozen=True, slots=True)
class Digest:
    """The stories a chat gets now, in reading order, and how many more did not fit."""

    items: tuple[DigestItem, ...]
    left_out: tuple[DigestItem, ...] = ()
    """Stories beyond max_items, in the same order: the caller decides whether they wait."""

    @property
    def more(self) -> int:
        """How many stories did not fit."""
        return len(self.left_out)

    @property
    def total(self) -> int:
        """Stories found, shown or not."""
        return len(self.items) + len(self.left_out)


@lru_cache(maxsize=4096)
def normalise_words(text: str) -> frozenset[str]:
    """Content words of a text: NFKC, case-folded, stop words out, plural and possessive trimmed."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    words = set()
    for word in _WORD.findall(folded):
        if len(word) < 2 or word in _STOP_WORDS:
            continue
        if word.endswith(("'s", "’s")):
            word = word[:-2]
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.add(word)
    return frozenset(words)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    shared = len(a & b)
    if shared < MIN_SHARED_WORDS:
        return 0.0
    return shared / (len(a) + len(b) - shared)


@dataclass(frozen=True, slots=True)
class _Fingerprint:
    title: frozenset[str]
    full: frozenset[str]


def _fingerprint(title: str, lead: Iterable[str], text: str = "") -> _Fingerprint:
    """Words of the title, and of title plus lead (the text's opening when there is no lead)."""
    title_words = normalise_words(title)
    opening = " ".join(lead) or text[:OPENING_CHARS]
    return _Fingerprint(title_words, title_words | normalise_words(opening))


def story_similarity(title_a: str, lead_a: str, title_b: str, lead_b: str) -> float:
    """How alike two versions of a story are, 0..1 (at least SAME_STORY_JACCARD: the same story)."""
    a = _fingerprint(title_a, [lead_a])
    b = _fingerprint(title_b, [lead_b])
    return _similarity(a, b)


def _similarity(a: _Fingerprint, b: _Fingerprint) -> float:
    if a.full == a.title or b.full == b.title:
        return _jaccard(a.title, b.title)
    return _jaccard(a.full, b.full)


def is_same_story(a: StoredArticle, b: StoredArticle) -> bool:
    """Whether two articles from different feeds tell the same story."""
    if a.feed == b.feed:
        return False
    fa = _fingerprint(a.title, a.lead, a.text)
    fb = _fingerprint(b.title, b.lead, b.text)
    return _similarity(fa, fb) >= SAME_STORY_JACCARD


def _completeness(article: StoredArticle) -> tuple[bool, bool]:
    return (bool(article.lead), bool(article.quotes))


def _representative(group: Sequence[StoredArticle]) -> StoredArticle:
    def rank(article: StoredArticle) -> tuple[int, int, float, int, str]:
        has_lead, has_quote = _completeness(article)
        return (
            -int(has_lead),
            -int(has_quote),
            article.published.timestamp(),
            -len(article.text),
            article.id,
        )

    return min(group, key=rank)


def group_stories(
    articles: Iterable[StoredArticle], *, exact_up_to: int = EXACT_UP_TO
) -> list[DigestItem]:
    """Fold articles from several feeds that tell one story into one item each.

    Duplicate ids count once. Items come back oldest story first. Past ``exact_up_to``
    articles, candidates come from MinHash/LSH (see EXACT_UP_TO).
    """
    unique: dict[str, StoredArticle] = {}
    for article in articles:
        unique.setdefault(article.id, article)
    ordered = sorted(unique.values(), key=lambda a: (a.published, a.id))
    prints = [_fingerprint(a.title, a.lead, a.text) for a in ordered]
    found = _story_groups(ordered, prints, is_exact=len(ordered) <= exact_up_to)
    groups: dict[int, list[StoredArticle]] = {}
    for i, article in enumerate(ordered):
        groups.setdefault(found.of[i], []).append(article)

    items = []
    for members in groups.values():
        shown = _representative(members)
        others = [a for a in members if a is not shown]
        also_in: list[str] = []
        for other in others:
            if other.feed != shown.feed and other.feed not in also_in:
                also_in.append(other.feed)
        items.append(
            DigestItem(
                article=shown,
                also_in=tuple(also_in),
                article_ids=(shown.id, *(a.id for a in others)),
            )
        )
    return items


def _story_groups(
    ordered: Sequence[StoredArticle], prints: Sequence[_Fingerprint], *, is_exact: bool
) -> Groups:
    """Single linkage over the same-story rule, through an index of rare words
    (bot.delivery.storylinks, ``is_exact``) or MinHash/LSH candidates (bot.delivery.storylsh)
    instead of every pair: title-and-lead sets where both versions have a lead, title sets
    where either has none."""
    groups = Groups(len(ordered))
    has_lead = [p.full != p.title for p in prints]

    def is_linked(j: int, i: int) -> bool:
        return ordered[i].feed != ordered[j].feed and (
            _similarity(prints[i], prints[j]) >= SAME_STORY_JACCARD
        )

    def both_led(j: int, i: int) -> bool:
        return has_lead[i] and has_lead[j] and is_linked(j, i)

    def not_both_led(j: int, i: int) -> bool:
        return not (has_lead[i] and has_lead[j]) and is_linked(j, i)

    full = [p.full if led else frozenset() for p, led in zip(prints, has_lead, strict=True)]
    titles = [p.title for p in prints]
    numbers: dict[str, int] = {}
    feeds = [numbers.setdefault(a.feed, len(numbers)) for a in ordered]
    if is_exact:
        link_alike(full, SAME_STORY_JACCARD, MIN_SHARED_WORDS, both_led, groups, kinds=feeds)
        link_alike(titles, SAME_STORY_JACCARD, MIN_SHARED_WORDS, not_both_led, groups, has_lead,
                   kinds=feeds)  # fmt: skip
    else:
        link_by_bands(full, SAME_STORY_JACCARD, MIN_SHARED_WORDS, both_led, groups, kinds=feeds)
        link_by_bands(titles, SAME_STORY_JACCARD, MIN_SHARED_WORDS, not_both_led, groups,
                      has_lead, kinds=feeds)  # fmt: skip
    return groups


def order_by_recency_and_feed(items: Iterable[DigestItem]) -> list[DigestItem]:
    """Deal stories round-robin by feed, each feed's newest first (see the module docstring)."""
    by_feed: dict[str, list[DigestItem]] = {}
    for item in items:
        by_feed.setdefault(item.article.feed, []).append(item)
    for queue in by_feed.values():
        queue.sort(key=lambda it: (it.article.published, it.article.id), reverse=True)

    ordered: list[DigestItem] = []
    depth = 0
    while True:
        round_items = [queue[depth] for queue in by_feed.values() if depth < len(queue)]
        if not round_items:
            return ordered
        round_items.sort(key=lambda it: (it.article.published, it.article.id), reverse=True)
        ordered.extend(round_items)
        depth += 1


def compose_digest(articles: Iterable[StoredArticle], *, max_items: int) -> Digest:
    """The digest for a chat's unseen articles: stories folded, ordered, capped at max_items."""
    if max_items < 1:
        raise ValueError(f"max_items must be at least 1, got {max_items}")
    ordered = order_by_recency_and_feed(group_stories(articles))
    return Digest(items=tuple(ordered[:max_items]), left_out=tuple(ordered[max_items:]))
