"""The seen registry's compact in-memory form answers exactly as a dict of marks would."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.store.marks import Mark, Marks

FEEDS = ["BBC", "Le Monde", "feed:3"]
HASHES = [hashlib.sha256(b"a").hexdigest(), hashlib.sha256(b"b").hexdigest(), "not-a-sha", ""]

operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("put"),
            st.sampled_from(FEEDS),
            st.sampled_from(["e1", "e2", "https://x.example/3"]),
            st.tuples(
                st.sampled_from([None, "a1", "a2"]),
                st.sampled_from(HASHES),
                st.sampled_from(["2026-01-01.000", "2026-01-02.000"]),
            ),
        ),
        st.tuples(st.just("rename"), st.sampled_from(FEEDS), st.sampled_from(FEEDS), st.none()),
        st.tuples(st.just("drop"), st.sampled_from(["2026-01-01.000"]), st.none(), st.none()),
    ),
    max_size=40,
)


@settings(max_examples=100, deadline=None)
@given(operations=operations)
def test_marks_answer_like_a_dict_of_marks(operations: list[tuple[str, str, str, Mark]]) -> None:
    """Putting, renaming a feed and dropping a shard's marks give the same marks, hashes
    (hex or not) unchanged, as a plain dict keyed by (feed, identity)."""
    marks = Marks()
    model: dict[tuple[str, str], Mark] = {}
    for op, a, b, mark in operations:
        if op == "put":
            marks.put(a, b, mark)
            model[a, b] = mark
        elif op == "rename" and a != b:
            marks.rename_feed(a, b)
            for (feed, identity), value in list(model.items()):
                if feed == a:
                    del model[feed, identity]
                    model[b, identity] = value
        elif op == "drop":
            marks.drop_shards([a])
            model = {k: v for k, v in model.items() if v[2] != a}
    assert {(f, i): m for f, i, m in marks.items()} == model
    assert len(marks) == len(model)
    for feed in FEEDS:
        for identity in ["e1", "e2", "https://x.example/3", "missing"]:
            assert marks.get(feed, identity) == model.get((feed, identity))
