"""Story folding past a thousand articles: MinHash/LSH candidates, the exact rule after them."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.delivery.storylinks import Groups
from bot.delivery.storylsh import BANDS, ROWS, Encoded, link_by_bands, signatures

ROOT = Path(__file__).resolve().parents[2]
THRESHOLD = 0.35
MIN_SHARED = 3
VOCABULARY = [f"w{n}" for n in range(24)]


def _passes(a: frozenset[str], b: frozenset[str]) -> bool:
    shared = len(a & b)
    return shared >= MIN_SHARED and shared / (len(a) + len(b) - shared) >= THRESHOLD


def _partition(groups: Groups) -> set[frozenset[int]]:
    """The groups as sets of item numbers."""
    found: dict[int, set[int]] = {}
    for item, group in enumerate(groups.of):
        found.setdefault(group, set()).add(item)
    return {frozenset(members) for members in found.values()}


Drawn = tuple[list[frozenset[str]], list[bool], list[int]]


def _link(drawn: Drawn, *, big_bucket: int = 256) -> set[frozenset[int]]:
    sets, apart, kinds = drawn
    groups = Groups(len(sets))

    def is_linked(j: int, i: int) -> bool:
        assert j < i
        assert kinds[j] != kinds[i], "items of one kind are never candidates"
        return _passes(sets[j], sets[i])

    link_by_bands(
        sets, THRESHOLD, MIN_SHARED, is_linked, groups, apart, kinds=kinds, big_bucket=big_bucket
    )
    return _partition(groups)


def _components_over_candidates(drawn: Drawn) -> set[frozenset[int]]:
    """Single linkage by the rule over every pair that agrees on a band, found the slow way."""
    sets, apart, kinds = drawn
    bands = signatures(Encoded(sets)).reshape(len(sets), BANDS, ROWS)
    groups = Groups(len(sets))
    for i in range(len(sets)):
        for j in range(i):
            is_candidate = bool((bands[i] == bands[j]).all(axis=1).any())
            if (
                is_candidate
                and not (apart[i] and apart[j])
                and kinds[i] != kinds[j]
                and _passes(sets[j], sets[i])
                and groups.of[i] != groups.of[j]
            ):
                groups.join(groups.of[i], groups.of[j])
    return _partition(groups)


@st.composite
def _word_sets(draw: st.DrawFn) -> Drawn:
    """Sets from a small vocabulary (many alike), some marked apart, of a few kinds (feeds)."""
    count = draw(st.integers(0, 30))
    sets = [
        frozenset(draw(st.lists(st.sampled_from(VOCABULARY), max_size=10))) for _ in range(count)
    ]
    apart = draw(st.lists(st.booleans(), min_size=count, max_size=count))
    return sets, apart, draw(st.lists(st.integers(0, 3), min_size=count, max_size=count))


@settings(max_examples=60, deadline=None)
@given(_word_sets())
def test_groups_are_the_rule_over_the_candidate_pairs(drawn: Drawn) -> None:
    """Every candidate pair the rule passes is folded, and nothing else: listing the pairs of
    each bucket and walking large buckets group by group give those same groups."""
    expected = _components_over_candidates(drawn)
    assert _link(drawn) == expected
    assert _link(drawn, big_bucket=2) == expected


@settings(max_examples=40, deadline=None)
@given(_word_sets(), st.randoms(use_true_random=False))
def test_groups_do_not_depend_on_the_order_of_the_articles(
    drawn: Drawn, rng: random.Random
) -> None:
    """The same sets in another order fold into the same groups, each set in exactly one."""
    sets, apart, kinds = drawn
    order = list(range(len(sets)))
    rng.shuffle(order)
    shuffled = ([sets[n] for n in order], [apart[n] for n in order], [kinds[n] for n in order])
    found = _link(shuffled)
    reordered = {frozenset(order[n] for n in group) for group in found}
    assert reordered == _link(drawn)
    assert sorted(n for group in reordered for n in group) == list(range(len(sets)))
    assert sorted(n for group in reordered for n in group) == list(range(len(sets)))


def test_a_burst_of_one_story_folds_through_a_large_bucket() -> None:
    """Three hundred copies of one story (a few words changed each) are one group when large
    buckets are walked group by group, as when their pairs are listed."""
    base = [f"w{n}" for n in range(20)]
    sets = [frozenset([*base[: 16 + n % 4], f"copy{n}"]) for n in range(300)]
    drawn = (sets, [False] * len(sets), [n % 5 for n in range(300)])
    assert _link(drawn, big_bucket=8) == {frozenset(range(300))}
    assert _link(drawn, big_bucket=300) == {frozenset(range(300))}


def test_one_feed_repeating_a_title_is_never_compared_with_itself() -> None:
    """A thousand entries of one feed with one title (its daily briefing) stay a thousand
    items, and the exact test is never asked about two of them."""
    sets = [frozenset({"morning", "briefing", "news", "need", "today"})] * 1000
    assert len(_link((sets, [False] * 1000, [0] * 1000))) == 1000


def test_signatures_are_the_same_in_every_process() -> None:
    """Digests are reproducible: the MinHash signatures do not depend on Python's per-process
    string hashing."""
    sets = [frozenset({"harbour", "ferry", "budget"}), frozenset({"quake", "afghanistan"})]
    script = (
        "import json, sys; from bot.delivery.storylsh import Encoded, signatures; "
        "sets = [frozenset(s) for s in json.loads(sys.argv[1])]; "
        "print(json.dumps(signatures(Encoded(sets)).tolist()))"
    )
    argument = json.dumps([sorted(s) for s in sets])
    found = []
    for seed in ("1", "2"):
        environment = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        result = subprocess.run(
            [sys.executable, "-c", script, argument],
            capture_output=True,
            text=True,
            check=True,
            env=environment,
        )
        found.append(json.loads(result.stdout))
    assert found[0] == found[1] == signatures(Encoded(sets)).tolist()


def test_alike_sets_agree_on_a_band_far_more_often_than_unlike_ones() -> None:
    """The hash functions behave as MinHash: the share of equal values estimates Jaccard."""
    base = [f"w{n}" for n in range(40)]
    a, b = frozenset(base[:30]), frozenset(base[10:40])  # Jaccard 20/40 = 0.5
    rows = signatures(Encoded([a, b]))
    assert abs(float(np.mean(rows[0] == rows[1])) - 0.5) < 0.15
