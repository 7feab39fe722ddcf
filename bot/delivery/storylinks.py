"""Single-linkage groups of alike word sets, without comparing every pair (pure).

``link_alike`` finds every pair of sets whose Jaccard index reaches a threshold with at least
``min_shared`` words in common, and joins their groups; the groups are exactly those that
comparing every pair would give, at a cost near the number of truly alike pairs.

Prefix filtering (Chaudhuri et al. 2006; Bayardo et al., "All pairs similarity search",
2007; Xiao et al., "PPJoin", 2008): order each set's words rarest first (by how many sets hold
them). Two sets that reach Jaccard ``t`` share at least ``o = t/(1+t)·(|x|+|y|)`` words, so
at least ``t·|x|``, and at least ``2t/(1+t)·|y|`` when ``|y| <= |x|``. The rarest shared word
then lies among the first ``|x| − ceil(t·|x|) + 1`` words of ``x`` (the probing prefix) and
the first ``|y| − ceil(2t/(1+t)·|y|) + 1`` of the smaller ``y`` (the indexed prefix). Sets are
taken smallest first, each probes an inverted index of the indexed prefixes before it, and a
candidate whose shared words so far plus what both have left cannot reach ``o`` is dropped
(the positional filter). Rare words have short posting lists, which is why news stories
(named people, places, numbers) cost little.

Groups only need connecting, so a candidate already in the set's group is never compared, and
postings are kept per group: a large group's latest members are tried first, so a burst of
copies of one story costs one comparison each, not one per pair.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

BIG_GROUP = 16
"""Postings from one group past which its newest members are tried before any filtering."""
TRY_FIRST = 3

Linked = Callable[[int, int], bool]
"""Whether the sets at two indexes (the earlier first) belong together: the exact test."""


class Groups:
    """Which group each of ``count`` items is in (quick-find, the smaller group relabelled)."""

    def __init__(self, count: int) -> None:
        self.of = list(range(count))
        self.members: list[list[int]] = [[i] for i in range(count)]

    def join(self, a: int, b: int) -> tuple[int, int, list[int]]:
        """Merge the groups ``a`` and ``b``; returns the group kept, the group absorbed and
        the items that moved."""
        if len(self.members[a]) < len(self.members[b]):
            a, b = b, a
        moved = self.members[b]
        for item in moved:
            self.of[item] = a
        self.members[a].extend(moved)
        self.members[b] = []
        return a, b, moved


def link_alike(
    sets: Sequence[frozenset[str]],
    threshold: float,
    min_shared: int,
    is_linked: Linked,
    groups: Groups,
    apart: Sequence[bool] = (),
    kinds: Sequence[int] = (),
) -> None:
    """Join the groups of every pair of ``sets`` that reaches ``threshold`` Jaccard with at
    least ``min_shared`` shared words and passes ``is_linked`` (an empty set links nothing).

    ``is_linked`` is the exact test; it is called only on candidates that may pass. Two items
    both marked in ``apart`` are never candidates (their pairs are judged elsewhere), nor two of
    one kind in ``kinds`` (one feed's articles)."""
    kind = kinds or range(len(sets))
    frequency: dict[str, int] = {}
    for words in sets:
        for word in words:
            frequency[word] = frequency.get(word, 0) + 1
    # word -> group -> (item, position in its prefix); items marked apart in their own index
    postings: dict[str, dict[int, list[tuple[int, int]]]] = {}
    apart_postings: dict[str, dict[int, list[tuple[int, int]]]] = {}
    prefixes: dict[int, list[str]] = {}
    ratio = threshold / (1 + threshold)

    def join(a: int, b: int) -> None:
        kept, absorbed, moved = groups.join(a, b)
        for word in {w for item in moved for w in prefixes.get(item, ())}:
            for index in (postings, apart_postings):
                by_group = index.get(word, {})
                indexed = by_group.pop(absorbed, [])
                if indexed:
                    by_group.setdefault(kept, []).extend(indexed)

    def needed(size_a: int, size_b: int) -> int:
        """Shared words two sets of these sizes need to reach the threshold."""
        return max(min_shared, math.ceil(ratio * (size_a + size_b) - 1e-9))

    def linked_in(hits: list[tuple[int, list[tuple[int, int]]]], i: int, size: int) -> bool:
        """Whether ``i`` links to a member of one group, given the group's postings met at
        each prefix position of ``i``: the positional filter (Xiao et al., PPJoin, 2008)
        drops members that cannot share enough words, then the exact test decides."""
        if sum(len(entries) for _, entries in hits) >= BIG_GROUP:
            # a large group is likely the story: try its newest members first
            latest = {entries[-1][0]: len(entries) for _, entries in hits}
            tried = sorted(latest, key=latest.__getitem__, reverse=True)[:TRY_FIRST]
            if any(is_linked(*sorted((j, i))) for j in tried):
                return True
        shared: dict[int, int] = {}
        for position, entries in hits:
            for j, other_position in entries:
                if kind[j] == kind[i]:
                    continue
                count = shared.get(j, 0)
                if count < 0:
                    continue
                other = len(sets[j])
                bound = count + 1 + min(size - position - 1, other - other_position - 1)
                shared[j] = count + 1 if bound >= needed(size, other) else -1
        return any(count > 0 and is_linked(*sorted((j, i))) for j, count in shared.items())

    for i in sorted(range(len(sets)), key=lambda item: len(sets[item])):
        words = sets[i]
        size = len(words)
        if size < min_shared:
            continue
        ordered = sorted(words, key=lambda w: (frequency[w], w))
        probe = max(min_shared, math.ceil(threshold * size - 1e-9))
        prefix = ordered[: size - probe + 1]
        is_apart = i < len(apart) and apart[i]
        by_group: dict[int, list[tuple[int, list[tuple[int, int]]]]] = {}
        for index in (postings,) if is_apart else (postings, apart_postings):
            for position, word in enumerate(prefix):
                for group, entries in index.get(word, {}).items():
                    by_group.setdefault(group, []).append((position, entries))
        for hits in by_group.values():
            other_group = groups.of[hits[0][1][0][0]]
            if other_group != groups.of[i] and linked_in(hits, i, size):
                join(groups.of[i], other_group)
        indexed = max(min_shared, math.ceil(2 * ratio * size - 1e-9))
        prefixes[i] = prefix = ordered[: size - indexed + 1]
        own_index = apart_postings if is_apart else postings
        for position, word in enumerate(prefix):
            own_index.setdefault(word, {}).setdefault(groups.of[i], []).append((i, position))
