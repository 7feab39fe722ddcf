"""The ledger's compact record of what each chat was sent behaves like a dict of ids."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.delivery.delivered import ArticleNumbers, Delivered, decode_numbers, encode_numbers

operations = st.lists(
    st.tuples(
        st.sampled_from(["mark", "forget"]),
        st.integers(0, 2),  # which chat
        st.sampled_from([f"a{n}" for n in range(12)]),
        st.integers(738_000, 738_010),  # a day ordinal
    ),
    max_size=60,
)


@settings(max_examples=80, deadline=None)
@given(operations=operations)
def test_delivered_articles_behave_like_a_dict_of_ids_to_days(
    operations: list[tuple[str, int, str, int]],
) -> None:
    """Marks, forgetting old days and renumbering keep exactly what a dict per chat keeps."""
    numbers = ArticleNumbers()
    chats = [Delivered() for _ in range(3)]
    model: list[dict[str, int]] = [{} for _ in range(3)]
    for op, chat, article_id, day in operations:
        if op == "mark":
            chats[chat].mark(numbers.number(article_id), day)
            model[chat][article_id] = day
        else:
            chats[chat].forget_before(day)
            model[chat] = {a: d for a, d in model[chat].items() if d >= day}
            numbers.keep_only(chats)
    for delivered, expected in zip(chats, model, strict=True):
        pairs = zip(delivered.numbers, delivered.days, strict=True)
        assert {numbers.ids[n]: d for n, d in pairs} == expected
        assert list(delivered.numbers) == sorted(delivered.numbers)
        for article_id in [f"a{n}" for n in range(12)]:
            assert (numbers.find(article_id) in delivered) is (article_id in expected)
        restored = Delivered.from_days(
            (day, decode_numbers(encode_numbers(ids))) for day, ids in delivered.by_day().items()
        )
        assert (restored.numbers, restored.days) == (delivered.numbers, delivered.days)


bundle_operations = st.lists(
    st.tuples(
        st.sampled_from(["mark", "bundle", "forget"]),
        st.integers(0, 2),  # which chat
        st.lists(st.sampled_from([f"a{n}" for n in range(12)]), min_size=1, max_size=6),
        st.integers(0, 2),  # days since the previous operation
    ),
    max_size=40,
)


@settings(max_examples=80, deadline=None)
@given(operations=bundle_operations)
def test_bundles_deliver_their_articles_as_long_as_single_marks_would(
    operations: list[tuple[str, int, list[str], int]],
) -> None:
    """Articles marked as a shared bundle are delivered, forgotten and renumbered exactly as
    if each had been marked alone (days only move forward, as the ledger's clock does)."""
    numbers = ArticleNumbers()
    chats = [Delivered() for _ in range(3)]
    model: list[dict[str, int]] = [{} for _ in range(3)]
    day = 738_000
    for op, chat, article_ids, step in operations:
        day += step
        if op == "mark":
            chats[chat].mark(numbers.number(article_ids[0]), day)
            model[chat][article_ids[0]] = day
        elif op == "bundle":
            chats[chat].mark_bundle(numbers.bundle(numbers.number(a) for a in article_ids), day)
            model[chat].update(dict.fromkeys(article_ids, day))
        else:
            chats[chat].forget_before(day - 2)
            model[chat] = {a: d for a, d in model[chat].items() if d >= day - 2}
            numbers.keep_only(chats)
    for delivered, expected in zip(chats, model, strict=True):
        assert {numbers.ids[n] for n in delivered.all_numbers()} == set(expected)
        assert len(delivered) == len(expected)
        for article_id in [f"a{n}" for n in range(12)]:
            assert (numbers.find(article_id) in delivered) is (article_id in expected)


def test_the_same_articles_make_one_bundle_whichever_chats_get_them() -> None:
    """Chats given the same articles share one array, also after renumbering."""
    numbers = ArticleNumbers()
    chats = [Delivered() for _ in range(3)]
    for n, chat in enumerate(chats):
        ids = [f"a{i}" for i in range(40)]
        chat.mark_bundle(numbers.bundle(numbers.number(a) for a in ids[n:] + ids[:n]), 738_000)
    chats[0].mark(numbers.number("old"), 737_000)
    chats[0].forget_before(738_000)
    numbers.keep_only(chats)
    assert chats[0].bundles[0] is chats[1].bundles[0] is chats[2].bundles[0]
    assert numbers.find("old") is None
    assert numbers.find("a39") == 39
