"""Single-linkage groups of alike word sets through MinHash/LSH candidates (pure, deterministic).

``link_by_bands`` has the same contract as ``bot.delivery.storylinks.link_alike``, but its
candidates come from locality-sensitive hashing instead of an index of rare words, so their
number does not grow with how much vocabulary the sets share (one country's politics, where
the rarest two thirds of a lead still holds "trump" or "campaign").

MinHash (Broder, "On the resemblance and containment of documents", 1997): for each of
``HASHES`` seeded hash functions, a set keeps the least hash of its words; two sets keep the
same value with probability equal to their Jaccard index. Banding (Leskovec, Rajaraman and
Ullman, "Mining of Massive Datasets", ch. 3): the values are cut into ``BANDS`` bands of
``ROWS``; sets that agree on a whole band are candidates, which happens with probability
``1 − (1 − J^ROWS)^BANDS``: 0.99977 at J = 0.35 (the story threshold), 0.99999 at 0.4, 0.15 at
0.05. Every candidate then meets the exact test, so nothing is folded that the rule would not
fold; a pair the rule would fold is missed only when no band agrees, and single linkage joins
a story's versions through any of its pairs, so a group splits only when all of them miss.

Candidates are many where sets share common words (a band of two values agrees for one pair
in seven at J = 0.1), so before the exact test a pair must pass a bound computed in bulk: the
words shared cannot exceed the sum, over ``BINS`` hash bins, of the smaller of the two sets'
counts in the bin. The bound never drops a pair that reaches the threshold.

The hash functions are fixed (splitmix64 over a keyed BLAKE2b of the word, constant seeds):
the same articles give the same groups in every process. Memory is the signatures (``HASHES``
32-bit values a set), the bin counts (``BINS`` bytes a set) and the pairs of ``BANDS_AT_ONCE``
bands at a time, from buckets of at most ``BIG_BUCKET`` sets.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.delivery.storylinks import Groups, Linked

ROWS = 2
BANDS = 64
HASHES = ROWS * BANDS
BANDS_AT_ONCE = 8
"""Bands bucketed together; between batches, buckets already in one group are skipped."""
BIG_BUCKET = 256
"""Buckets past this many sets (bursts of one story) are walked group by group, not by pairs."""
TRY_NEWEST_FROM = 8
"""A group with this many members in a large bucket is first tried through its newest one."""
BINS = 128
"""Bins of the shared-word bound (``bin_counts``): few pairs under the threshold pass it."""
PAIRS_AT_ONCE = 100_000
"""About how many pairs are listed from small buckets at once (a few megabytes)."""
CHUNK_PAIRS = 20_000
"""Pairs bounded at once: the bound's working memory stays a few megabytes."""

_U64 = npt.NDArray[np.uint64]


def _mix(values: _U64) -> _U64:
    """splitmix64's finaliser, element-wise (wrapping 64-bit arithmetic)."""
    values = values ^ (values >> np.uint64(30))
    values = values * np.uint64(0xBF58476D1CE4E5B9)
    values = values ^ (values >> np.uint64(27))
    values = values * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))


_SEEDS = _mix(np.arange(1, HASHES + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15))


@lru_cache(maxsize=65536)
def _word_hash(word: str) -> int:
    """A 64-bit hash of a word, the same in every process (``hash()`` is salted per process)."""
    digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8, key=b"newsbot-stories")
    return int.from_bytes(digest.digest(), "little")


class Encoded:
    """The sets as arrays: each set's word numbers, one after another, and each word's hash."""

    def __init__(self, sets: Sequence[frozenset[str]]) -> None:
        vocabulary = {word: n for n, word in enumerate(frozenset[str]().union(*sets))}
        number = vocabulary.__getitem__
        self.words = np.fromiter(chain.from_iterable(map(number, s) for s in sets), np.intp)
        self.sizes = np.fromiter(map(len, sets), dtype=np.intp, count=len(sets))
        self.ends = np.cumsum(self.sizes)
        self.hashes = np.fromiter(map(_word_hash, vocabulary), dtype=np.uint64)


def signatures(encoded: Encoded) -> npt.NDArray[np.uint32]:
    """The MinHash signature of each set, one row of ``HASHES`` values (an empty set: all max)."""
    table = (_mix(encoded.hashes[:, None] ^ _SEEDS[None, :]) >> np.uint64(32)).astype(np.uint32)
    result = np.full((len(encoded.sizes), HASHES), np.iinfo(np.uint32).max, dtype=np.uint32)
    start = 0
    for i, end in enumerate(encoded.ends.tolist()):
        if end > start:
            result[i] = table[encoded.words[start:end]].min(axis=0)
        start = end
    return result


def bin_counts(encoded: Encoded) -> npt.NDArray[np.unsignedinteger[Any]]:
    """How many words of each set fall in each of ``BINS`` bins (by word hash): two sets share
    at most the sum over bins of the smaller count, a bound computed for many pairs at once."""
    count = len(encoded.sizes)
    items = np.repeat(np.arange(count, dtype=np.intp), encoded.sizes)
    bins = (encoded.hashes % np.uint64(BINS)).astype(np.intp)[encoded.words]
    flat = np.bincount(items * BINS + bins, minlength=count * BINS)
    if flat.max(initial=0) <= np.iinfo(np.uint8).max:  # half the bytes to read per pair
        return flat.reshape(count, BINS).astype(np.uint8)
    return flat.reshape(count, BINS).astype(np.uint16)


def _buckets(
    rows: npt.NDArray[np.uint64], bands: range
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """The sets that agree on one of ``bands``, in buckets of two or more: the positions in
    ``rows`` sorted by band and bucket, and each bucket's start and length in that order."""
    keys = np.concatenate(
        [(rows[:, band * ROWS] << np.uint64(32)) | rows[:, band * ROWS + 1] for band in bands]
    )
    band_of = np.repeat(np.arange(len(bands)), len(rows))
    order = np.lexsort((keys, band_of))
    keys, band_of = keys[order], band_of[order]
    changes = (keys[1:] != keys[:-1]) | (band_of[1:] != band_of[:-1])
    starts = np.flatnonzero(np.r_[True, changes])
    lengths = np.diff(np.r_[starts, len(keys)])
    shared = lengths > 1
    return order % len(rows), starts[shared], lengths[shared]


def _pairs_within(
    starts: npt.NDArray[np.intp], lengths: npt.NDArray[np.intp]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Every pair of positions inside each bucket: position p meets positions p+1 … end−1."""
    first = np.repeat(starts, lengths) + _ranks(lengths)
    partners = np.repeat(starts + lengths, lengths) - first - 1
    left = np.repeat(first, partners)
    return left, left + 1 + _ranks(partners)


def _ranks(lengths: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """0, 1, … length−1 for each of ``lengths``, one after another."""
    total = int(lengths.sum())
    return np.arange(total, dtype=np.intp) - np.repeat(np.cumsum(lengths) - lengths, lengths)


def link_by_bands(
    sets: Sequence[frozenset[str]],
    threshold: float,
    min_shared: int,
    is_linked: Linked,
    groups: Groups,
    apart: Sequence[bool] = (),
    *,
    kinds: Sequence[int] = (),
    big_bucket: int = BIG_BUCKET,
) -> None:
    """Join the groups of every candidate pair of ``sets`` (sets sharing a band) that reaches
    ``threshold`` Jaccard with at least ``min_shared`` shared words and passes ``is_linked``,
    the exact test (called with the earlier index first, only on pairs that may pass).

    Two items both marked in ``apart`` are never candidates (their pairs are judged elsewhere),
    nor two of one kind in ``kinds`` (one feed's articles; no kinds: every item its own).
    The groups are the connected components of the exact test over the candidate pairs, so
    they do not depend on the order of ``sets``. ``BANDS_AT_ONCE`` bands at a time, buckets
    whose sets are all in one group already are skipped, so a burst of one story costs little
    after the first bands."""
    chosen = np.flatnonzero(np.fromiter((len(w) >= min_shared for w in sets), dtype=bool))
    if len(chosen) < 2:
        return
    encoded = Encoded(sets)
    rows = signatures(encoded)[chosen].astype(np.uint64)
    linker = _Linker(encoded, threshold, min_shared, is_linked, groups, apart, kinds)
    for first_band in range(0, BANDS, BANDS_AT_ONCE):
        bands = range(first_band, min(first_band + BANDS_AT_ONCE, BANDS))
        order, starts, lengths = _buckets(rows, bands)
        if not len(starts):
            continue
        items = chosen[order]
        labels = linker.labels()[items]
        mixed = np.minimum.reduceat(labels, starts) != np.maximum.reduceat(labels, starts)
        mixed &= np.logical_or.reduceat(~linker.is_apart[items], starts)  # not all kept apart
        kind = linker.kinds[items]  # a feed posting one title all day: nothing to compare
        mixed &= np.minimum.reduceat(kind, starts) != np.maximum.reduceat(kind, starts)
        big = mixed & (lengths > big_bucket)
        walked: set[tuple[int, ...]] = set()  # one bucket of identical sets in every band
        for start, length in zip(starts[big].tolist(), lengths[big].tolist(), strict=True):
            members = tuple(sorted(items[start : start + length].tolist()))
            if members not in walked:
                walked.add(members)
                linker.walk(list(members))
        small = mixed & (lengths <= big_bucket)
        starts, lengths = starts[small], lengths[small]
        # the pairs of a few buckets at a time: bounded memory, and fresher groups to skip
        share = np.cumsum(lengths * (lengths - 1) // 2) // PAIRS_AT_ONCE
        for part in np.split(np.arange(len(starts)), np.flatnonzero(np.diff(share)) + 1):
            left, right = _pairs_within(starts[part], lengths[part])
            linker.link_pairs(items[left], items[right])


class _Linker:
    """The groups being joined, and the two cheap tests a pair meets before the exact one."""

    def __init__(
        self,
        encoded: Encoded,
        threshold: float,
        min_shared: int,
        is_linked: Linked,
        groups: Groups,
        apart: Sequence[bool],
        kinds: Sequence[int],
    ) -> None:
        self.counts, self.sizes = bin_counts(encoded), encoded.sizes.astype(np.int64)
        self.threshold, self.min_shared = threshold, min_shared
        self.is_linked, self.groups = is_linked, groups
        self.is_apart = np.zeros(len(encoded.sizes), dtype=bool)
        self.is_apart[: len(apart)] = np.asarray(apart, dtype=bool)[: len(self.is_apart)]
        count = len(self.is_apart)
        self.kinds = np.asarray(kinds, dtype=np.intp) if len(kinds) else np.arange(count)
        self.failed: set[tuple[int, int]] = set()

    def labels(self) -> npt.NDArray[np.intp]:
        """Each item's group now."""
        return np.asarray(self.groups.of, dtype=np.intp)

    def may_reach(
        self, low: npt.NDArray[np.intp], high: npt.NDArray[np.intp]
    ) -> npt.NDArray[np.bool_]:
        """Which pairs may reach the threshold, by the bin bound (never drops one that does);
        pairs of two items kept apart or of one kind are dropped."""
        keep: npt.NDArray[np.bool_] = ~(self.is_apart[low] & self.is_apart[high])
        keep &= self.kinds[low] != self.kinds[high]
        for start in range(0, len(low), CHUNK_PAIRS):
            part = slice(start, start + CHUNK_PAIRS)
            a, b = low[part], high[part]
            bound = np.minimum(self.counts[a], self.counts[b]).sum(axis=1, dtype=np.int64)
            union = self.sizes[a] + self.sizes[b] - bound
            keep[part] &= (bound >= self.min_shared) & (bound / union >= self.threshold)
        return keep

    def try_pair(self, j: int, i: int) -> bool:
        """Join the groups of ``j`` and ``i`` (``j < i``) if the exact test links them;
        whether they are together now."""
        of = self.groups.of
        if of[j] == of[i]:
            return True
        if (self.is_apart[j] and self.is_apart[i]) or self.kinds[j] == self.kinds[i]:
            return False
        if (j, i) in self.failed:
            return False
        if not self.is_linked(j, i):
            self.failed.add((j, i))
            return False
        self.groups.join(of[j], of[i])
        return True

    def link_pairs(self, a: npt.NDArray[np.intp], b: npt.NDArray[np.intp]) -> None:
        """Try every pair ``a[k]``, ``b[k]`` of items in different groups that may link."""
        low, high = np.minimum(a, b), np.maximum(a, b)
        labels = self.labels()
        across = labels[low] != labels[high]
        low, high = low[across], high[across]
        keep = self.may_reach(low, high)
        for j, i in zip(low[keep].tolist(), high[keep].tolist(), strict=True):
            self.try_pair(j, i)

    def walk(self, members: list[int]) -> None:
        """Link each member of a large bucket to the earlier members of other groups, as if
        every pair were listed, without listing them: a large group (a burst of one story) is
        tried through its newest member first, the rest through the bin bound, all at once."""
        of = self.groups.of
        if len({of[i] for i in members}) == 1:  # another band joined them already
            return
        by_group: dict[int, list[int]] = {}  # group when filed -> its members here, newest last
        for i in members:
            unsure: list[int] = []
            for others in by_group.values():
                if of[others[-1]] == of[i]:
                    continue
                if len(others) >= TRY_NEWEST_FROM:
                    if self.try_pair(others[-1], i):
                        continue
                    unsure.extend(others[:-1])
                else:
                    unsure.extend(others)
            if unsure:
                candidates = np.array(unsure, dtype=np.intp)
                passed = candidates[self.may_reach(candidates, np.full_like(candidates, i))]
                for j in sorted(passed.tolist(), reverse=True):  # the newest first
                    self.try_pair(j, i)
            merged: list[int] = []
            for group in [g for g, others in by_group.items() if of[others[0]] == of[i]]:
                others = by_group.pop(group)
                merged, others = (others, merged) if len(others) > len(merged) else (merged, others)
                merged.extend(others)
            merged.append(i)  # the newest last
            by_group[of[i]] = merged
