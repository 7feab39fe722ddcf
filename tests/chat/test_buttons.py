"""Button data from clients, feed toggles and digest splitting: invariants over any input."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.chat.buttons import (
    ITEM_PRESETS,
    MAX_DATA_BYTES,
    TIME_PRESETS,
    ZONE_PRESETS,
    AddChannel,
    AllFeeds,
    Button,
    ChannelMenu,
    CloseMenu,
    RemoveAlert,
    ResumeChannel,
    SearchMore,
    SetEmpty,
    SetItems,
    SetTimes,
    SetZone,
    ShowScreen,
    ToggleFeed,
    encode_button,
    for_channel,
    name_key,
    parse_button,
    search_more,
    split_channel,
)
from bot.chat.settings_ui import toggle
from bot.delivery.digests import plan_digest
from bot.delivery.prefs import EmptyDigest, PrefsDefaults, new_chat_prefs, reads
from bot.errors import PrefsError
from tests.support.botharness import FEEDS, NOW, article

BUTTONS: list[Button] = [
    *(ShowScreen(s) for s in ("main", "times", "zone", "items", "feeds", "empty")),
    *(SetTimes(k) for k in TIME_PRESETS),
    *(SetZone(z) for z in ZONE_PRESETS),
    *(SetItems(n) for n in ITEM_PRESETS),
    *(SetEmpty(e) for e in EmptyDigest),
    ToggleFeed(False, name_key("World Wire")),
    ToggleFeed(True, name_key("world")),
    AllFeeds(),
    RemoveAlert(7),
    CloseMenu(),
    SearchMore(10, query="flood relief"),
    SearchMore(5, ref="1f"),
    ChannelMenu(-1001234567890),
    AddChannel(),
    ResumeChannel(-1009999999999999),
]


@given(st.text(max_size=100))
def test_any_callback_data_parses_to_a_button_or_none(data: str) -> None:
    """Whatever a client sends as callback data, parsing never fails."""
    parsed = parse_button(data)
    assert parsed is None or encode_button(parsed)


def test_every_button_fits_telegram_and_reads_back_as_itself() -> None:
    """Each button's data is at most 64 bytes and parses back to the same button."""
    for button in BUTTONS:
        data = encode_button(button)
        assert len(data.encode("utf-8")) <= MAX_DATA_BYTES
        assert parse_button(data) == button


@given(st.one_of(st.sampled_from(["#1f", "=x", "a:b", "#"]), st.text(min_size=1, max_size=300)),
       st.integers(0, 10_000))  # fmt: skip
def test_the_more_button_keeps_a_query_or_its_reference(query: str, offset: int) -> None:
    """Long queries go by reference; short ones travel in the button itself."""
    data = search_more(offset, query, "2a")
    assert len(data.encode("utf-8", "surrogatepass")) <= MAX_DATA_BYTES
    parsed = parse_button(data)
    assert isinstance(parsed, SearchMore)
    assert parsed.offset == offset
    assert parsed.query == query or parsed.ref == "2a"


NAMES = [(f.name, False) for f in FEEDS] + [("world", True), ("sport", True)]


@given(st.lists(st.sampled_from(NAMES), max_size=12))
def test_feed_toggles_never_leave_a_chat_reading_nothing(presses: list[tuple[str, bool]]) -> None:
    """Any sequence of toggles leaves at least one feed read; a refused one changes nothing,
    an accepted one flips exactly what was pressed."""
    prefs = new_chat_prefs(1, NOW, PrefsDefaults())
    for name, is_topic in presses:
        members = {f.name for f in FEEDS if (f.topic == name if is_topic else f.name == name)}
        before = {f.name for f in FEEDS if reads(prefs, f.name, f.topic)}
        try:
            prefs = toggle(prefs, name, is_topic=is_topic, feeds=FEEDS, now=NOW)
        except PrefsError:
            assert before <= members
            continue
        after = {f.name for f in FEEDS if reads(prefs, f.name, f.topic)}
        assert after
        assert after - members == before - members
        assert after & members in (set(), members)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40), st.integers(1, 50), st.integers(0, 2000))
def test_a_digest_delivers_each_new_article_in_exactly_one_message(
    count: int, items: int, padding: int
) -> None:
    """However the digest splits into messages, every article is delivered in one message or
    held back for the next digest, never both, never dropped."""
    news = [
        article(
            f"n{i}",
            f"Story {i} " + "about the harbour " * (padding // 20),
            f"Text {i}. " + "More words. " * (padding // 12),
            feed=FEEDS[i % 3].name,
            fetched=NOW - timedelta(minutes=i),
        )
        for i in range(count)
    ]
    prefs = new_chat_prefs(1, NOW, PrefsDefaults()).changed(NOW, items_per_digest=items)
    plan = plan_digest(prefs, news, batch="b", since=None, now=NOW)
    messages = plan.messages
    delivered = [i for m in messages for i in m.article_ids]
    assert not set(delivered) & plan.held
    assert sorted([*delivered, *plan.held]) == sorted(a.id for a in news)
    assert delivered
    assert len({m.key for m in messages}) == len(messages)


def test_settings_buttons_bound_to_a_channel_fit_and_read_back() -> None:
    """Every settings button bound to the longest channel id fits Telegram's 64 bytes and
    splits back into the channel and the button."""
    for button in BUTTONS:
        if isinstance(button, SearchMore | ChannelMenu | AddChannel | ResumeChannel):
            continue
        data = for_channel(-1009999999999999, encode_button(button))
        assert len(data.encode()) <= MAX_DATA_BYTES
        chat_id, inner = split_channel(data)
        assert chat_id == -1009999999999999
        assert parse_button(inner) == button


@given(st.text(max_size=80))
def test_forged_channel_bindings_never_name_a_chat_that_is_not_a_channel(data: str) -> None:
    """Whatever a client sends, a binding is a -100… id with a button, or nothing."""
    chat_id, _ = split_channel("@" + data)
    assert chat_id is None or str(chat_id).startswith("-100")
