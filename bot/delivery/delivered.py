"""What the ledger remembers each chat was sent, in little memory.

A month of digests to 10 000 chats is millions of (chat, article) pairs: kept as Python
dicts of article ids they took about 250 MB. Here every article id is stored once, as a small
number (``ArticleNumbers``), and a chat's delivered articles are two parallel arrays
(``Delivered``: 4-byte article numbers in ascending order, and the UTC day each was planned in
2 bytes), 6 bytes a pair. Membership is a binary search.

A message that delivers many articles at once (a story folded from many feeds) marks them as
one *bundle*: a sorted array of their numbers, interned by ``ArticleNumbers.bundle`` so that
every chat given the same message (the morning rush: thousands of chats, one digest) shares
one array and keeps only a reference to it. An article is delivered while any of its marks,
single or in a bundle, is within the retention.

``encode_numbers``/``decode_numbers`` give a chat's articles of one day as base64 text for
the ledger's snapshot, one chat a line.
"""

from __future__ import annotations

import base64
import sys
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from datetime import date

_TYPECODE = "I"  # unsigned, 4 bytes on every platform newsbot runs on
_DAY_TYPECODE = "H"  # unsigned, 2 bytes: days since DAY_EPOCH
DAY_EPOCH = date(2000, 1, 1).toordinal()
"""Days are kept as days since this one (in 2 bytes: until 2179)."""


class ArticleNumbers:
    """Article ids as numbers 0, 1, 2...: each id held once, whichever chats got it; and
    bundles of numbers, each held once, whichever chats got it."""

    def __init__(self, ids: Iterable[str] = ()) -> None:
        self.ids: list[str] = []
        self._numbers: dict[str, int] = {}
        self._bundles: dict[int, array[int]] = {}  # hash of the packed numbers -> the bundle
        for article_id in ids:
            self.number(article_id)

    def bundle(self, numbers: Iterable[int]) -> array[int]:
        """These numbers as a sorted array, the same array for the same numbers (read-only:
        chats share it)."""
        packed = array(_TYPECODE, sorted(set(numbers)))
        key = hash(packed.tobytes())
        known = self._bundles.setdefault(key, packed)
        return known if known == packed else packed  # a hash collision stays unshared

    def number(self, article_id: str) -> int:
        """The id's number, given a new one the first time."""
        number = self._numbers.get(article_id)
        if number is None:
            number = self._numbers[article_id] = len(self.ids)
            self.ids.append(article_id)
        return number

    def find(self, article_id: str) -> int | None:
        return self._numbers.get(article_id)

    def keep_only(self, chats: Iterable[Delivered]) -> None:
        """Forget the ids no chat holds any more, renumbering the rest (in the same order, so
        every chat's numbers stay sorted)."""
        chats = list(chats)
        bundles = {id(b): b for chat in chats for b in chat.bundles}
        used: set[int] = set()
        for chat in chats:
            used.update(chat.numbers)
        for bundle in bundles.values():
            used.update(bundle)
        kept = sorted(used)
        new_of = array("l", [-1]) * len(self.ids)
        for new, old in enumerate(kept):
            new_of[old] = new
        self._bundles = {}
        renumbered = {key: self.bundle(new_of[n] for n in b) for key, b in bundles.items()}
        for chat in chats:
            chat.numbers = array(_TYPECODE, [new_of[n] for n in chat.numbers])
            chat.bundles = [renumbered[id(b)] for b in chat.bundles]
        self.ids = [self.ids[n] for n in kept]
        self._numbers = {article_id: n for n, article_id in enumerate(self.ids)}


class Delivered:
    """One chat's delivered articles: numbers ascending, and the day each was planned; and
    the bundles it was given (shared arrays, see ``ArticleNumbers.bundle``) with their days."""

    __slots__ = ("_days", "bundle_days", "bundles", "numbers")

    def __init__(self) -> None:
        self.numbers = array(_TYPECODE)
        self._days = array(_DAY_TYPECODE)  # UTC day ordinals - DAY_EPOCH
        self.bundles: list[array[int]] = []
        self.bundle_days = array(_TYPECODE)

    @classmethod
    def from_days(cls, days: Iterable[tuple[int, Iterable[int]]]) -> Delivered:
        """The chat that got these article numbers on these days."""
        planned = {number: day for day, numbers in days for number in numbers}
        chat = cls()
        chat.numbers = array(_TYPECODE, sorted(planned))
        chat._days = array(_DAY_TYPECODE, [planned[n] - DAY_EPOCH for n in chat.numbers])
        return chat

    @property
    def days(self) -> array[int]:
        """The UTC day ordinal each of ``numbers`` was planned on."""
        return array(_TYPECODE, [day + DAY_EPOCH for day in self._days])

    def __contains__(self, number: object) -> bool:
        if not isinstance(number, int):
            return False
        return _holds(self.numbers, number) or any(_holds(b, number) for b in self.bundles)

    def __len__(self) -> int:
        """How many different articles."""
        if not self.bundles:
            return len(self.numbers)
        return len(set(self.all_numbers()))

    def all_numbers(self) -> Iterator[int]:
        """Every article number, single or in a bundle (one may come more than once)."""
        yield from self.numbers
        for bundle in self.bundles:
            yield from bundle

    def mark(self, number: int, day: int) -> None:
        """Record the article as planned on ``day`` (a later mark of it replaces the day)."""
        at = bisect_left(self.numbers, number)
        if at < len(self.numbers) and self.numbers[at] == number:
            self._days[at] = day - DAY_EPOCH
        else:
            self.numbers.insert(at, number)
            self._days.insert(at, day - DAY_EPOCH)

    def mark_bundle(self, bundle: array[int], day: int) -> None:
        """Record a bundle's articles as planned on ``day`` (a later mark of the same bundle
        replaces the day)."""
        for at, held in enumerate(self.bundles):
            if held is bundle:
                self.bundle_days[at] = day
                return
        self.bundles.append(bundle)
        self.bundle_days.append(day)

    def update(self, other: Delivered) -> None:
        """Take every article of ``other`` (its days win)."""
        for number, day in zip(other.numbers, other.days, strict=True):
            self.mark(number, day)
        for bundle, day in zip(other.bundles, other.bundle_days, strict=True):
            self.mark_bundle(bundle, day)

    def forget_before(self, day: int) -> None:
        """Drop the articles planned before ``day``."""
        kept = [i for i, planned in enumerate(self._days) if planned + DAY_EPOCH >= day]
        if len(kept) < len(self._days):
            self.numbers = array(_TYPECODE, [self.numbers[i] for i in kept])
            self._days = array(_DAY_TYPECODE, [self._days[i] for i in kept])
        kept = [i for i, planned in enumerate(self.bundle_days) if planned >= day]
        if len(kept) < len(self.bundle_days):
            self.bundles = [self.bundles[i] for i in kept]
            self.bundle_days = array(_TYPECODE, [self.bundle_days[i] for i in kept])

    def by_day(self) -> dict[int, list[int]]:
        """Article numbers marked one by one, by the day they were planned."""
        found: dict[int, list[int]] = {}
        for number, day in zip(self.numbers, self._days, strict=True):
            found.setdefault(day + DAY_EPOCH, []).append(number)
        return found

    def bundles_by_day(self) -> dict[int, list[array[int]]]:
        """The bundles, by the day they were planned."""
        found: dict[int, list[array[int]]] = {}
        for bundle, day in zip(self.bundles, self.bundle_days, strict=True):
            found.setdefault(day, []).append(bundle)
        return found


def _holds(numbers: array[int], number: int) -> bool:
    at = bisect_left(numbers, number)
    return at < len(numbers) and numbers[at] == number


def encode_numbers(numbers: Iterable[int]) -> str:
    """Numbers as base64 text of little-endian 4-byte integers."""
    packed = array(_TYPECODE, numbers)
    if sys.byteorder == "big":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


def decode_numbers(text: str) -> Iterator[int]:
    packed = array(_TYPECODE)
    packed.frombytes(base64.b64decode(text, validate=True))
    if sys.byteorder == "big":
        packed.byteswap()
    return iter(packed)
