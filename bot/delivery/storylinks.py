"""Single-linkage groups of alike word sets, without comparing every pair (pure).

``link_alike`` finds every pair of sets whose Jaccard index reaches a threshold with at least
``min_shared`` words in common, and joins their groups; the groups are exactly those that
comparing every pair would give, at a cost near the number of truly alike pairs.

Prefix filtering (Chaudhuri et al. 2006; Bayardo et al., "All pairs similarity search",
2007): order each set's words rarest first (by how many sets hold them). Two sets ``x`` and
``y`` that reach Jaccard ``t`` share at least ``ceil(t·|x|)`` words (and ``min_shared``): call
that ``α(x)``. The rarest of their shared words then lies among the first ``|x| − α(x) + 1``
words of ``x``, and likewise of ``y``: so only sets whose *prefixes* share a word are
candidates, found through an inverted index of prefix words. Rare words have short posting
lists, which is why news stories (named people, places, numbers) cost little.

Groups only need connecting, so a candidate already in the set's group is never compared, and
a posting list is kept per group: when a set joins a group, one comparison per group suffices
however many of its members are candidates (a burst of copies of one story stays linear).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

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
) -> None:
    """Join the groups of every pair of ``sets`` that reaches ``threshold`` Jaccard with at
    least ``min_shared`` shared words and passes ``is_linked`` (an empty set links nothing).

    ``is_linked`` is the exact test; it is called only on candidates that may pass."""
    frequency: dict[str, int] = {}
    for words in sets:
        for word in words:
            frequency[word] = frequency.get(word, 0) + 1
    postings: dict[str, dict[int, list[int]]] = {}  # word -> group -> indexed members
    prefixes: dict[int, list[str]] = {}

    def join(a: int, b: int) -> None:
        kept, absorbed, moved = groups.join(a, b)
        for word in {w for item in moved for w in prefixes.get(item, ())}:
            by_group = postings[word]
            indexed = by_group.pop(absorbed, [])
            if indexed:
                by_group.setdefault(kept, []).extend(indexed)

    for i, words in enumerate(sets):
        size = len(words)
        if size < min_shared:
            continue
        needed = max(min_shared, math.ceil(threshold * size - 1e-9))
        prefix = sorted(words, key=lambda w: (frequency[w], w))[: size - needed + 1]
        candidates: dict[int, list[list[int]]] = {}
        for word in prefix:
            for group, indexed in postings.get(word, {}).items():
                candidates.setdefault(group, []).append(indexed)
        for lists in candidates.values():
            other = groups.of[lists[0][0]]
            if other != groups.of[i] and _any_linked(lists, i, is_linked):
                join(groups.of[i], other)
        prefixes[i] = prefix
        for word in prefix:
            postings.setdefault(word, {}).setdefault(groups.of[i], []).append(i)


def _any_linked(lists: list[list[int]], i: int, is_linked: Linked) -> bool:
    tried: set[int] = set()
    for indexed in lists:
        for j in indexed:
            if j not in tried:
                tried.add(j)
                if is_linked(j, i):
                    return True
    return False
