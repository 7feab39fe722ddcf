"""OPML: export and import give the same feeds; other readers' files; hostile XML refused."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import FeedConfig, parse_feeds
from bot.errors import OpmlError
from bot.feedconfig.opml import OpmlFeed, feeds_to_opml, plan_import, read_opml
from bot.feedconfig.text import add_feeds_text

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = parse_feeds((ROOT / "config" / "feeds.toml").read_text("utf-8"))

words = (
    st.text(
        alphabet=st.characters(
            blacklist_categories=("Cc", "Cs", "Co", "Cn", "Zl", "Zp"), blacklist_characters="\x7f"
        ),
        min_size=1,
        max_size=20,
    )
    .map(lambda s: " ".join(s.split()))
    .filter(bool)
)


@st.composite
def feed_lists(draw: st.DrawFn) -> tuple[FeedConfig, ...]:
    names = draw(st.lists(words, min_size=0, max_size=8, unique_by=str.casefold))
    topics = st.none() | st.sampled_from(["world", "pakistan", "Tech & Science", "<é>"])
    return tuple(
        FeedConfig(
            name=name,
            url=f"https://feed{i}.example/rss?q={i}&x=1",
            topic=draw(topics),
            tags=tuple(draw(st.lists(words, max_size=3))),
            interval_minutes=draw(st.none() | st.integers(1, 10080)),
            enabled=draw(st.booleans()),
        )
        for i, name in enumerate(names)
    )


@given(feeds=feed_lists())
def test_export_then_import_gives_the_same_feeds(feeds: tuple[FeedConfig, ...]) -> None:
    """Names, addresses, topics, tags, intervals, paused flags and the order survive."""
    document = feeds_to_opml(feeds, now=datetime(2026, 11, 28, tzinfo=UTC))
    plan = plan_import([], read_opml(document.encode("utf-8")))
    assert plan.to_add == feeds
    assert plan.invalid == ()


@given(feeds=feed_lists())
def test_importing_our_own_export_again_adds_nothing(feeds: tuple[FeedConfig, ...]) -> None:
    """Every feed of the file is already present."""
    plan = plan_import(feeds, read_opml(feeds_to_opml(feeds).encode("utf-8")))
    assert plan.to_add == ()
    assert [name for _, name in plan.present] == [f.name for f in feeds]


def test_the_example_config_round_trips_through_opml_and_feeds_toml() -> None:
    """Export, import into an empty file, and the file lists the example's feeds."""
    plan = plan_import([], read_opml(feeds_to_opml(EXAMPLE).encode("utf-8")))
    assert parse_feeds(add_feeds_text("", plan.to_add).text) == EXAMPLE


def test_export_writes_opml_2_with_folders_by_topic() -> None:
    """Readers see one folder per topic run; site addresses go in htmlUrl where known."""
    document = feeds_to_opml(EXAMPLE, site_urls={"Dawn": "https://www.dawn.com/"})
    assert document.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<opml ')
    assert 'version="2.0"' in document
    assert document.count('<outline text="world" title="world">') == 1
    assert 'htmlUrl="https://www.dawn.com/"' in document
    assert 'newsbot:enabled="false"' in document


OTHER_READER = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<opml version="1.0">
  <head><title>Subscriptions</title></head>
  <body>
    <outline title="News" text="News">
      <outline text="Europe">
        <outline type="rss" text="Le Monde \xe9dition" xmlUrl="https://lemonde.example/rss"
                 htmlUrl="https://lemonde.example/"/>
      </outline>
      <outline type="rss" text="BBC World" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml"/>
    </outline>
    <outline type="rss" title="Only a title" xmlUrl="https://t.example/feed" category="/Tech/AI"/>
    <outline type="rss" xmlUrl="https://no-name.example/feed"/>
    <outline type="rss" text="FTP" xmlUrl="ftp://files.example/feed"/>
    <outline type="rss" text="Dup" xmlUrl="https://lemonde.example/rss#again"/>
    <outline type="rss" text="Bad interval" xmlUrl="https://b.example/"
             xmlns:n="https://github.com/newsbot/newsbot/opml" n:interval_minutes="soon"/>
  </body>
</opml>
"""


def test_another_readers_opml_is_previewed_as_add_present_and_invalid() -> None:
    """Nested folders give the topic, names come from text/title/host, bad ones are listed."""
    plan = plan_import(EXAMPLE, read_opml(OTHER_READER))

    assert [(f.name, f.url, f.topic) for f in plan.to_add] == [
        ("Le Monde édition", "https://lemonde.example/rss", "Europe"),
        ("Only a title", "https://t.example/feed", "AI"),
        ("no-name.example", "https://no-name.example/feed", None),
    ]
    assert [(o.name, name) for o, name in plan.present] == [
        ("BBC World", "BBC World"),
        ("Dup", "Le Monde édition"),
    ]
    assert [(o.name, reason) for o, reason in plan.invalid] == [
        (
            "FTP",
            "url: must be an http:// or https:// address with a host name, got "
            "'ftp://files.example/feed'",
        ),
        ("Bad interval", "interval_minutes must be a whole number, got 'soon'"),
    ]


def test_an_imported_name_already_taken_gets_a_number() -> None:
    """Two different feeds with one name both come in, the second renamed."""
    outlines = [
        OpmlFeed("https://a.example/rss", name="News"),
        OpmlFeed("https://b.example/rss", name="news"),
    ]
    plan = plan_import([FeedConfig("NEWS", "https://c.example/")], outlines)
    assert [f.name for f in plan.to_add] == ["News 2", "news 3"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><opml><body>&lol2;</body></opml>',
            "declares a document type or entities",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<opml><body><outline text="&x;" xmlUrl="https://a.example/"/></body></opml>',
            "declares a document type or entities",
        ),
        (b'<!DOCTYPE opml SYSTEM "http://127.0.0.1/opml.dtd"><opml/>', "document type"),
        (b"<opml><body><outline", "not well-formed XML"),
        (b"", "not well-formed XML"),
        (b"<rss><channel/></rss>", "not OPML"),
        (b"<opml version='2.0'><head/></opml>", "no <body>"),
        (b"<opml><body>" + b" " * 3_000_000 + b"</body></opml>", "at most"),
    ],
)
def test_hostile_or_broken_files_are_refused_with_a_reason(data: bytes, message: str) -> None:
    """Entity bombs, external entities and DTDs are refused before any expansion."""
    with pytest.raises(OpmlError, match=message):
        read_opml(data)


def test_a_utf16_file_is_read() -> None:
    """The XML declaration's encoding is honoured (expat decodes)."""
    data = '<opml><body><outline text="اردو" xmlUrl="https://u.example/"/></body></opml>'
    assert read_opml(data.encode("utf-16")) == [OpmlFeed("https://u.example/", name="اردو")]


@given(st.binary(max_size=300))
def test_no_input_crashes_the_reader(data: bytes) -> None:
    """Anything either reads or is an OpmlError."""
    with contextlib.suppress(OpmlError):
        read_opml(b"<opml><body>" + data + b"</body></opml>")
