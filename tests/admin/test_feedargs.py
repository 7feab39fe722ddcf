"""Admin command arguments as typed in chat: names with spaces, topics, arrows, usage lines."""

from __future__ import annotations

import re

import pytest

from bot.admin.args import (
    AddFeedArgs,
    parse_addfeed,
    parse_feed,
    parse_interval,
    parse_rename,
)
from bot.config import FeedConfig
from bot.errors import InputError, UnknownFeedError

FEEDS = (
    FeedConfig("BBC World", "https://bbc.example/world"),
    FeedConfig("BBC Urdu", "https://bbc.example/urdu"),
    FeedConfig("Dawn", "https://dawn.example/"),
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://a.example/rss", AddFeedArgs("https://a.example/rss")),
        (
            "<https://a.example/rss> Le Monde #europe",
            AddFeedArgs("https://a.example/rss", "Le Monde", "europe"),
        ),
        ("https://a.example/rss #tech", AddFeedArgs("https://a.example/rss", None, "tech")),
        ("https://a.example/rss C# Weekly", AddFeedArgs("https://a.example/rss", "C# Weekly")),
    ],
)
def test_addfeed_takes_an_address_a_name_and_a_topic(text: str, expected: AddFeedArgs) -> None:
    """The first word is the address, #word the topic, the rest the name."""
    assert parse_addfeed(text) == expected


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: parse_addfeed("  "), "Usage: /addfeed <url> [name] [#topic]"),
        (lambda: parse_addfeed("https://a.example #a #b"), "one #topic only"),
        (lambda: parse_feed("", FEEDS, "pausefeed"), "Usage: /pausefeed <feed>"),
        (lambda: parse_interval("Dawn", FEEDS), "Usage: /setinterval"),
        (lambda: parse_interval("Dawn soon", FEEDS), "'soon' is not a number of minutes"),
        (lambda: parse_interval("Dawn 0", FEEDS), "must be 1 to 10080 minutes, got 0"),
        (lambda: parse_rename("Dawn", FEEDS), "Usage: /renamefeed <feed> -> <new name>"),
        (lambda: parse_rename("Dawn ->", FEEDS), "Usage: /renamefeed"),
    ],
)
def test_malformed_arguments_get_the_usage_line(call: object, message: str) -> None:
    """Each parser answers bad input with what to type."""
    with pytest.raises(InputError, match=re.escape(message)):
        call()  # type: ignore[operator]


def test_feed_arguments_accept_any_case_and_a_unique_start() -> None:
    """'dawn', 'bbc u' and 'BBC WORLD' find their feeds; 'bbc' is ambiguous."""
    assert parse_feed("dawn", FEEDS, "pausefeed").name == "Dawn"
    assert parse_feed("bbc u", FEEDS, "pausefeed").name == "BBC Urdu"
    with pytest.raises(UnknownFeedError, match="could be BBC World, BBC Urdu"):
        parse_feed("bbc", FEEDS, "pausefeed")


@pytest.mark.parametrize(
    ("text", "minutes"), [("BBC World 15", 15), ("bbc w 90m", 90), ("Dawn default", None)]
)
def test_interval_is_the_last_word(text: str, minutes: int | None) -> None:
    """A feed name with spaces, then minutes or 'default'."""
    assert parse_interval(text, FEEDS).minutes == minutes


@pytest.mark.parametrize(
    ("text", "old", "new"),
    [
        ("BBC World -> BBC News", "BBC World", "BBC News"),
        ("bbc u | BBC اردو", "BBC Urdu", "BBC اردو"),
        ('"BBC World" "World Service"', "BBC World", "World Service"),
        ("bbc world World Service", "BBC World", "World Service"),
        ("dawn Dawn.com", "Dawn", "Dawn.com"),
    ],
)
def test_rename_finds_where_the_feed_ends_and_the_new_name_starts(
    text: str, old: str, new: str
) -> None:
    """An arrow, quotes, or the feed's full name mark the split."""
    args = parse_rename(text, FEEDS)
    assert (args.feed.name, args.new_name) == (old, new)
