"""What the ledger remembers each chat was sent, in little memory.

A month of digests to 10 000 chats is millions of (chat, article) pairs: kept as Python
dicts of article ids they took about 250 MB. Here every article id is stored once, as a small
number (``ArticleNumbers``), and a chat's delivered articles are two parallel arrays of 4-byte
numbers (``Delivered``: article numbers in ascending order, and the UTC day each was planned),
about 8 bytes a pair. Membership is a binary search.

``encode_numbers``/``decode_numbers`` give a chat's articles of one day as base64 text for
the ledger's snapshot, one chat a line.
"""

from __future__ import annotations

import base64
import sys
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator

_TYPECODE = "I"  # unsigned, 4 bytes on every platform newsbot runs on


class ArticleNumbers:
    """Article ids as numbers 0, 1, 2...: each id held once, whichever chats got it."""

    def __init__(self, ids: Iterable[str] = ()) -> None:
        self.ids: list[str] = []
        self._numbers: dict[str, int] = {}
        for article_id in ids:
            self.number(article_id)

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
        used: set[int] = set()
        for chat in chats:
            used.update(chat.numbers)
        kept = sorted(used)
        new_of = array("l", [-1]) * len(self.ids)
        for new, old in enumerate(kept):
            new_of[old] = new
        for chat in chats:
            chat.numbers = array(_TYPECODE, [new_of[n] for n in chat.numbers])
        self.ids = [self.ids[n] for n in kept]
        self._numbers = {article_id: n for n, article_id in enumerate(self.ids)}


class Delivered:
    """One chat's delivered articles: numbers ascending, and the day each was planned."""

    __slots__ = ("days", "numbers")

    def __init__(self) -> None:
        self.numbers = array(_TYPECODE)
        self.days = array(_TYPECODE)  # UTC day ordinals

    @classmethod
    def from_days(cls, days: Iterable[tuple[int, Iterable[int]]]) -> Delivered:
        """The chat that got these article numbers on these days."""
        planned = {number: day for day, numbers in days for number in numbers}
        chat = cls()
        chat.numbers = array(_TYPECODE, sorted(planned))
        chat.days = array(_TYPECODE, [planned[n] for n in chat.numbers])
        return chat

    def __contains__(self, number: object) -> bool:
        if not isinstance(number, int):
            return False
        at = bisect_left(self.numbers, number)
        return at < len(self.numbers) and self.numbers[at] == number

    def __len__(self) -> int:
        return len(self.numbers)

    def mark(self, number: int, day: int) -> None:
        """Record the article as planned on ``day`` (a later mark of it replaces the day)."""
        at = bisect_left(self.numbers, number)
        if at < len(self.numbers) and self.numbers[at] == number:
            self.days[at] = day
        else:
            self.numbers.insert(at, number)
            self.days.insert(at, day)

    def update(self, other: Delivered) -> None:
        """Take every article of ``other`` (its days win)."""
        for number, day in zip(other.numbers, other.days, strict=True):
            self.mark(number, day)

    def forget_before(self, day: int) -> None:
        """Drop the articles planned before ``day``."""
        kept = [i for i, planned in enumerate(self.days) if planned >= day]
        if len(kept) < len(self.days):
            self.numbers = array(_TYPECODE, [self.numbers[i] for i in kept])
            self.days = array(_TYPECODE, [self.days[i] for i in kept])

    def by_day(self) -> dict[int, list[int]]:
        """Article numbers by the day they were planned."""
        found: dict[int, list[int]] = {}
        for number, day in zip(self.numbers, self.days, strict=True):
            found.setdefault(day, []).append(number)
        return found


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
