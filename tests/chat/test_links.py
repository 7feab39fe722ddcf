"""Subscribe links and search payloads: pure, checked over any input."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.chat.inline import search_payload, words_of_payload
from bot.chat.links import (
    PAYLOAD_CHARS,
    LinkTarget,
    parse_payload,
    payload_for,
    slug,
    subscribe_links,
)
from bot.config import FeedConfig

FEEDS = (
    FeedConfig("Dawn (Pakistan)", "https://example.org/dawn.xml", topic="Pakistan"),
    FeedConfig("BBC World", "https://example.org/bbc.xml", topic="World news"),
    FeedConfig("Off Feed", "https://example.org/off.xml", topic="Hidden", enabled=False),
)


def test_slugs_are_lower_case_with_each_run_of_other_characters_one_dash() -> None:
    """The issue's rule: lower-cased, every run of other characters as one '-'."""
    assert slug("Dawn (Pakistan)") == "dawn-pakistan"
    assert slug("BBC  World!") == "bbc-world"
    assert payload_for(LinkTarget(True, "World news")) == "topic-world-news"


def test_every_offered_link_reads_back_as_its_topic_or_feed() -> None:
    """Each link /help offers subscribes to what it names; disabled feeds get none."""
    links = subscribe_links("newsbot", FEEDS)
    assert [label for label, _ in links] == [
        "topic Pakistan", "topic World news", "Dawn (Pakistan)", "BBC World"
    ]  # fmt: skip
    for label, url in links:
        payload = url.split("?start=", 1)[1]
        assert PAYLOAD_CHARS.fullmatch(payload)
        found = parse_payload(payload, FEEDS)
        assert found is not None
        assert label.removeprefix("topic ") == found.name
    assert parse_payload("topic-hidden", FEEDS) is None
    assert parse_payload("feed-off-feed", FEEDS) is None


@given(st.text(max_size=80))
def test_a_forged_payload_names_an_offered_topic_or_feed_or_nothing(payload: str) -> None:
    """Whatever a link carries, parsing never fails and never invents a name."""
    found = parse_payload(payload, FEEDS)
    offered = {f.name for f in FEEDS if f.enabled} | {f.topic for f in FEEDS if f.enabled}
    assert found is None or found.name in offered


@given(st.text(min_size=1, max_size=60).map(lambda t: " ".join(t.split())).filter(str.isprintable))
def test_search_payloads_carry_the_words_when_they_fit(words: str) -> None:
    """The inline button's payload is valid for Telegram and gives the words back, or is the
    plain 'search' when they do not fit."""
    payload = search_payload(words)
    assert PAYLOAD_CHARS.fullmatch(payload)
    assert words_of_payload(payload) in (words or None, None)
    if payload != "search":
        assert words_of_payload(payload) == (words or None)
