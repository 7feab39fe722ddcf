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
